"""What a signed-in page costs, and that the savings keep every check live.

The session is read from the cache (``cached_db``) and the user comes with
their current grants in one query (``accounts.backends.AccountBackend``).
Nothing about the account is kept between requests: each test below changes
the account behind the session's back (bulk updates and deletes, which no
save() hook or signal sees) and the very next request obeys the change.
"""

from typing import cast

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.actors import actor_for_user
from accounts.backends import AccountBackend
from accounts.models import Organisation, RoleAssignment, TotpDevice, User
from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH = reverse("directory:search")
SIGN_IN = reverse("accounts:sign-in")
SECOND_FACTOR = reverse("accounts:second-factor")
#: A search specific enough to be allowed (it finds nobody here).
SEARCH_TERMS = {
    "family_name": "Climbie",
    "date_of_birth_day": "2",
    "date_of_birth_month": "11",
    "date_of_birth_year": "2015",
}


@pytest.fixture
def school() -> Organisation:
    return cast(Organisation, SchoolFactory(parent_authority=LocalAuthorityFactory()))


@pytest.fixture
def practitioner(school: Organisation) -> User:
    user = cast(User, UserFactory())
    RoleAssignment.objects.create(
        user=user, organisation=school, role=Role.PRACTITIONER, reason="test"
    )
    return user


@pytest.fixture
def client_of(practitioner: User, verified_client) -> Client:
    client: Client = verified_client(practitioner)
    assert client.post(SEARCH, SEARCH_TERMS).status_code == 200
    return client


# --- Cost ---------------------------------------------------------------------


def test_the_session_engine_reads_the_cache_before_the_database():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"


def test_a_signed_in_page_costs_three_queries(
    practitioner, verified_client, django_assert_num_queries
):
    """User with grants, second-factor device, inbox count: the session comes
    from the cache and the roles ride on the user's row."""
    client = verified_client(practitioner)
    client.get(SEARCH)  # the session is cached from here on

    with django_assert_num_queries(3):
        response = client.get(SEARCH)

    assert response.status_code == 200
    assert "Search for a child" in response.content.decode()


def test_the_backend_reads_the_grants_the_query_would(
    practitioner, school, django_assert_num_queries
):
    authority = LocalAuthorityFactory()
    closed = SchoolFactory(parent_authority=authority, is_active=False)
    RoleAssignment.objects.create(
        user=practitioner, organisation=authority, role=Role.AUDITOR, reason="test"
    )
    RoleAssignment.objects.create(
        user=practitioner, organisation=closed, role=Role.PRACTITIONER, reason="test"
    )
    RoleAssignment.objects.create(
        user=practitioner,
        organisation=school,
        role=Role.DATA_MANAGER,
        reason="test",
        revoked_at=timezone.now(),
    )
    queried = actor_for_user(
        get_user_model().objects.get(pk=practitioner.pk), second_factor_verified=True
    )

    with django_assert_num_queries(1):
        loaded = AccountBackend().get_user(practitioner.pk)
        assert loaded is not None
        actor = actor_for_user(loaded, second_factor_verified=True)

    assert actor == queried
    assert {(g.role, g.organisation_id, g.authority_id) for g in actor.grants} == {
        (Role.PRACTITIONER, school.pk, school.parent_authority_id),
        (Role.AUDITOR, authority.pk, authority.pk),
    }


def test_a_user_without_roles_has_no_grants(django_assert_num_queries):
    user = UserFactory()

    with django_assert_num_queries(1):
        loaded = AccountBackend().get_user(user.pk)
        assert loaded is not None
        assert actor_for_user(loaded, second_factor_verified=True).grants == frozenset()


def test_the_backend_refuses_inactive_and_unknown_accounts(practitioner):
    User.objects.filter(pk=practitioner.pk).update(is_active=False)

    assert AccountBackend().get_user(practitioner.pk) is None
    assert AccountBackend().get_user("00000000-0000-0000-0000-000000000000") is None


# --- Every change still counts on the very next request ------------------------


def test_a_revoked_role_stops_searching_on_the_next_request(client_of, practitioner):
    RoleAssignment.objects.filter(user=practitioner).update(revoked_at=timezone.now())

    assert client_of.post(SEARCH, SEARCH_TERMS).status_code == 403


def test_a_closed_organisation_stops_searching_on_the_next_request(client_of, school):
    Organisation.objects.filter(pk=school.pk).update(is_active=False)

    assert client_of.post(SEARCH, SEARCH_TERMS).status_code == 403


def test_a_suspended_account_is_signed_out_on_the_next_request(client_of, practitioner):
    User.objects.filter(pk=practitioner.pk).update(suspended_at=timezone.now())

    response = client_of.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_a_deactivated_account_is_signed_out_on_the_next_request(
    client_of, practitioner
):
    User.objects.filter(pk=practitioner.pk).update(is_active=False)

    response = client_of.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_a_removed_second_factor_counts_on_the_next_request(client_of, practitioner):
    TotpDevice.objects.filter(user=practitioner).delete()

    response = client_of.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SECOND_FACTOR)


def test_an_unconfirmed_second_factor_counts_on_the_next_request(
    client_of, practitioner
):
    TotpDevice.objects.filter(user=practitioner).update(confirmed=False)

    response = client_of.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SECOND_FACTOR)


def test_a_security_stamp_change_ends_the_cached_session(client_of, practitioner):
    """A password change or second-factor reset rotates the stamp."""
    User.objects.filter(pk=practitioner.pk).update(
        security_stamp="00000000-0000-0000-0000-000000000001"
    )

    response = client_of.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_signing_out_removes_the_cached_session_too(client_of):
    cookie = client_of.cookies[settings.SESSION_COOKIE_NAME].value

    client_of.post(reverse("accounts:sign-out"))
    replayed = Client()
    replayed.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = replayed.get(SEARCH)

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)
