"""Feed systems authenticate to the API with revocable bearer tokens."""

import secrets

import pytest
from django.utils import timezone

from accounts.models import ApiToken, RoleAssignment
from accounts.roles import Role
from accounts.services import api_token_hash
from accounts.tests.factories import LocalAuthorityFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/accounts/me/"


@pytest.fixture
def feed_system():
    authority = LocalAuthorityFactory()
    user = UserFactory(username="leeds-feed")
    user.set_unusable_password()
    user.save()
    RoleAssignment.objects.create(
        user=user, organisation=authority, role=Role.FEED_SYSTEM, reason="nightly feed"
    )
    return user


def _issue(user) -> tuple[ApiToken, str]:
    prefix = secrets.token_hex(4)
    raw = f"{prefix}.{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name="nightly",
        prefix=prefix,
        token_hash=api_token_hash(raw),
        created_by_id=user.pk,
    )
    return token, raw


def test_a_valid_token_authenticates_the_feed_system(client, feed_system):
    token, raw = _issue(feed_system)

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 200
    assert response.json()["roles"] == ["feed_system"]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", "with one space"),
        ("Bearer a b", "with one space"),
        ("Bearer not-a-token", "not in the form issued"),
        ("Bearer 1234567g.aaaaaaaaaaaaaaaaaaaaaaaa", "not in the form issued"),
        (
            "Bearer 12345678.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "Ask your administrator for a new one",
        ),
    ],
)
def test_malformed_or_unknown_tokens_are_refused_clearly(client, header, message):
    response = client.get(ME, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_with_a_real_prefix_is_refused(client, feed_system):
    token, raw = _issue(feed_system)
    forged = f"{token.prefix}.{secrets.token_urlsafe(32)}"

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert response.status_code == 401
    assert raw not in response.content.decode()


def test_a_revoked_token_stops_working_at_once(client, feed_system):
    token, raw = _issue(feed_system)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_suspended_feed_system_is_refused(client, feed_system):
    _, raw = _issue(feed_system)
    feed_system.suspended_at = timezone.now()
    feed_system.save(update_fields=["suspended_at"])

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert "suspended" in response.json()["detail"]


def test_a_token_of_a_person_who_is_not_a_feed_system_is_refused(client):
    person = UserFactory()
    _, raw = _issue(person)

    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert response.status_code == 401
    assert "no longer a feed system" in response.json()["detail"]


def test_no_credentials_get_401(client):
    assert client.get(ME).status_code == 401


def test_a_person_with_both_factors_uses_their_session(verified_client):
    person = UserFactory()

    response = verified_client(person).get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == person.username


def test_the_database_holds_no_usable_token(feed_system):
    token, raw = _issue(feed_system)
    stored = ApiToken.objects.filter(pk=token.pk).values_list("token_hash", flat=True)
    assert raw not in list(stored)
    assert raw.split(".")[1] not in "".join(stored)
