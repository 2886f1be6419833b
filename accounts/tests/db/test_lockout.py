"""Lockout after repeated failures (django-axes), per account and per IP
address, and the administrator's unlock."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import account_is_locked
from accounts.models import User
from accounts.selectors import user_detail
from accounts.services import account_unlock
from accounts.tests.admin_world import World, admin_world
from accounts.tests.second_factors import totp_code, totp_device_for
from audit.models import AccessAction, AccessEvent

pytestmark = pytest.mark.django_db

PASSWORD = "plum orchard lantern 42"
LOCKED = "You cannot sign in at the moment"
SECOND_FACTOR = reverse("accounts:second-factor")


@pytest.fixture
def world() -> World:
    return admin_world()


@pytest.fixture
def user(world: World) -> User:
    user = world.practitioner
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _sign_in(client: Client, username: str, password: str = PASSWORD, ip: str = ""):
    return client.post(
        reverse("accounts:sign-in"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip or "127.0.0.1",
    )


def _fail_passwords(username: str, times: int, ip: str = "192.0.2.1") -> None:
    for _ in range(times):
        _sign_in(Client(), username, "not the password", ip=ip)


def _main(response) -> str:
    """The page's <main> element: what differs between pages, without tokens."""
    page: str = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def _is_lockout_page(response) -> bool:
    return response.status_code == 429 and LOCKED in response.content.decode()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(user):
    client = Client()
    for attempt in range(1, 5):
        response = _sign_in(client, user.username, "not the password")
        assert response.status_code == 200, attempt
    fifth = _sign_in(client, user.username, "not the password")
    assert _is_lockout_page(fifth)

    sixth = _sign_in(client, user.username)

    assert _is_lockout_page(sixth)
    assert "_auth_user_id" not in client.session
    assert "contact the administrator" in sixth.content.decode().lower()


def test_the_lockout_is_audited_without_what_was_typed(user):
    _fail_passwords(user.username, 5)

    event = AccessEvent.objects.get(action=AccessAction.LOCKED_OUT)
    assert (event.outcome, event.reason, event.subject_user_id, event.actor_id) == (
        "denied",
        "failure_limit_reached",
        user.pk,
        None,
    )
    _sign_in(Client(), user.username, ip="192.0.2.1")
    assert AccessEvent.objects.filter(
        action=AccessAction.LOCKED_OUT, reason="attempt_while_locked_out"
    ).exists()


def test_nothing_typed_is_kept_in_the_lockout_records(user):
    _fail_passwords(user.username, 1)

    attempt = AccessAttempt.objects.get()
    assert "not the password" not in attempt.post_data
    assert "csrfmiddlewaretoken=" not in attempt.post_data.replace("*", "")


def test_an_unknown_username_gets_the_same_lockout_page(user):
    known = Client()
    unknown = Client()
    for _ in range(5):
        known_response = _sign_in(known, user.username, "wrong", ip="192.0.2.1")
        unknown_response = _sign_in(unknown, "nobody.here", "wrong", ip="192.0.2.2")

    assert _is_lockout_page(known_response)
    assert _is_lockout_page(unknown_response)
    assert _main(known_response) == _main(unknown_response)
    assert "nobody.here" not in unknown_response.content.decode()


def test_wrong_second_factor_codes_count_towards_the_lockout(user):
    _device, secret = totp_device_for(user)
    client = Client()
    _sign_in(client, user.username)
    for _ in range(4):
        response = client.post(SECOND_FACTOR, {"code": "000000"})
        assert response.status_code == 200
        # django-otp's own throttle would slow the next code down.
        user.totpdevice_set.update(throttling_failure_count=0)

    fifth = client.post(SECOND_FACTOR, {"code": "000000"})
    assert _is_lockout_page(fifth)

    # The right code now is refused, and the half-signed-in session ends.
    refused = client.post(SECOND_FACTOR, {"code": totp_code(secret)})
    assert _is_lockout_page(refused)
    assert "_auth_user_id" not in client.session
    assert _is_lockout_page(_sign_in(Client(), user.username))


def test_a_correct_password_alone_does_not_forgive_wrong_codes(user):
    totp_device_for(user)
    client = Client()
    _sign_in(client, user.username)
    for _ in range(3):
        client.post(SECOND_FACTOR, {"code": "000000"})
        user.totpdevice_set.update(throttling_failure_count=0)

    _sign_in(Client(), user.username)

    assert account_is_locked(user) is False
    _fail_passwords(user.username, 2)
    assert account_is_locked(user) is True


def test_a_complete_sign_in_forgives_earlier_failures(user):
    _device, secret = totp_device_for(user)
    _fail_passwords(user.username, 4)
    client = Client()
    _sign_in(client, user.username)

    response = client.post(SECOND_FACTOR, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert AccessAttempt.objects.filter(username=user.username).count() == 0


def test_one_ip_address_is_locked_across_usernames(user, world):
    for name in ("a.one", "b.two", "c.three", "d.four", "e.five"):
        _sign_in(Client(), name, "wrong", ip="198.51.100.7")

    from_that_address = _sign_in(Client(), user.username, ip="198.51.100.7")
    from_elsewhere = _sign_in(Client(), user.username, ip="198.51.100.8")

    assert _is_lockout_page(from_that_address)
    assert from_elsewhere.status_code == 302
    assert account_is_locked(user) is False


def test_the_lock_lifts_an_hour_after_the_last_attempt(user):
    _fail_passwords(user.username, 5)
    later = timezone.now() + timedelta(minutes=61)

    with time_machine.travel(later, tick=False):
        response = _sign_in(Client(), user.username, ip="192.0.2.1")

    assert response.status_code == 302


def test_an_administrator_unlock_restores_sign_in_and_is_audited(user, world):
    _fail_passwords(user.username, 5)
    assert user_detail(actor=world.actor, user_id=user.pk).is_locked_out is True

    account_unlock(user=user, unlocked_by=world.actor, reason="Phoned the user")

    assert user_detail(actor=world.actor, user_id=user.pk).is_locked_out is False
    response = _sign_in(Client(), user.username, ip="192.0.2.1")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))
    event = AccessEvent.objects.get(action=AccessAction.ACCOUNT_UNLOCK)
    assert (event.outcome, event.actor_id, event.subject_user_id) == (
        "allowed",
        world.admin.pk,
        user.pk,
    )
    assert event.detail.endswith("Reason: Phoned the user")


def test_the_user_page_shows_a_locked_account(user, world, verified_client):
    _fail_passwords(user.username, 5)
    client = verified_client(world.admin)

    page = client.get(reverse("manage:user-detail", args=[user.pk]))

    assert page.status_code == 200
    assert 'govuk-tag--orange">Locked' in page.content.decode()
