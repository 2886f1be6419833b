"""Sessions end 15 minutes after the last request and 10 hours after signing
in; sensitive pages ask for a second factor again after 5 minutes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts.decorators import fresh_second_factor_required
from accounts.middleware import SECOND_FACTOR_AT
from accounts.tests.factories import UserFactory
from accounts.tests.second_factors import totp_code, totp_device_for
from audit.models import AccessAction, AccessEvent

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
SIGN_IN = reverse("accounts:sign-in")
HOME = reverse("home")
IDLE_MESSAGE = (
    "You have been signed out because you have not done anything for 15 minutes."
)
ABSOLUTE_MESSAGE = (
    "You have been signed out because you have been signed in for 10 hours."
)


@pytest.fixture
def clock():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def secret(user) -> str:
    _device, secret = totp_device_for(user)
    return secret


def _follow_home(client):
    return client.get(HOME, follow=True)


def _signed_out_with(response, message: str) -> bool:
    return (
        response.redirect_chain[-1][0] == f"{SIGN_IN}?next=/"
        and message in response.content.decode()
    )


def test_activity_keeps_a_session_alive(clock, user, verified_client):
    client = verified_client(user)

    for _ in range(6):
        clock.shift(timedelta(minutes=14))
        assert client.get(HOME).status_code == 200


def test_the_session_row_is_written_at_most_once_a_minute(clock, user, verified_client):
    """A page view refreshes the idle clock, and so writes the session row,
    only when the last refresh is a minute old: not once per request."""
    client = verified_client(user)
    key = client.session.session_key

    def stored_expiry() -> datetime:
        return Session.objects.get(session_key=key).expire_date

    clock.shift(timedelta(minutes=2))
    assert client.get(HOME).status_code == 200  # refreshed: written
    written = stored_expiry()
    assert written == MORNING + timedelta(minutes=2 + 15)

    clock.shift(timedelta(seconds=30))
    assert client.get(HOME).status_code == 200
    assert stored_expiry() == written

    clock.shift(timedelta(seconds=31))
    assert client.get(HOME).status_code == 200
    assert stored_expiry() == written + timedelta(seconds=61)


def test_a_session_ends_after_15_idle_minutes(clock, user, verified_client):
    client = verified_client(user)
    clock.shift(timedelta(minutes=14, seconds=59))
    assert client.get(HOME).status_code == 200

    clock.shift(timedelta(minutes=15, seconds=1))
    response = _follow_home(client)

    assert _signed_out_with(response, IDLE_MESSAGE)
    assert client.get(HOME).status_code == 302


def test_the_idle_limit_holds_even_if_the_session_store_keeps_the_session(
    clock, user, verified_client
):
    client = verified_client(user)
    session = client.session
    session.set_expiry(3600)  # a store that would keep it for an hour
    session.save()

    clock.shift(timedelta(minutes=16))
    response = _follow_home(client)

    assert _signed_out_with(response, IDLE_MESSAGE)
    event = AccessEvent.objects.get(action=AccessAction.SIGN_OUT)
    assert (event.reason, event.subject_user_id) == ("session_idle", user.pk)
    assert not SessionStore().exists(session.session_key)


def test_a_session_ends_10_hours_after_signing_in_however_busy(
    clock, user, verified_client
):
    client = verified_client(user)
    for _ in range(42):  # 42 × 14 minutes = 9 h 48 min
        clock.shift(timedelta(minutes=14))
        assert client.get(HOME).status_code == 200

    clock.shift(timedelta(minutes=13))  # 10 h 1 min
    response = _follow_home(client)

    assert _signed_out_with(response, ABSOLUTE_MESSAGE)
    assert AccessEvent.objects.get(action=AccessAction.SIGN_OUT).reason == (
        "session_absolute"
    )


def test_the_10_hours_start_when_the_second_factor_passes(clock, client, user, secret):
    client.post(
        SIGN_IN, {"username": user.username, "password": "correct horse battery"}
    )
    clock.shift(timedelta(minutes=10))
    client.post(reverse("accounts:second-factor"), {"code": totp_code(secret)})
    for _ in range(42):
        clock.shift(timedelta(minutes=14))
        assert client.get(HOME).status_code == 200

    clock.shift(timedelta(minutes=11))  # 9 h 59 min after the second factor
    assert client.get(HOME).status_code == 200


def test_a_verified_session_that_never_recorded_its_sign_in_is_ended(
    clock, user, verified_client
):
    client = verified_client(user)
    session = client.session
    del session["cp_signed_in_at"]
    session.save()

    assert _signed_out_with(_follow_home(client), ABSOLUTE_MESSAGE)


def test_a_password_only_session_also_ends_when_idle(clock, client, user, secret):
    client.post(
        SIGN_IN, {"username": user.username, "password": "correct horse battery"}
    )
    clock.shift(timedelta(minutes=16))

    response = client.get(reverse("accounts:second-factor"), follow=True)

    assert response.redirect_chain[-1][0] == SIGN_IN
    assert IDLE_MESSAGE in response.content.decode()


def test_signing_out_is_not_mistaken_for_an_idle_session(clock, user, verified_client):
    client = verified_client(user)

    client.post(reverse("accounts:sign-out"))
    clock.shift(timedelta(minutes=16))
    response = _follow_home(client)

    assert IDLE_MESSAGE not in response.content.decode()


# --- A fresh second factor ---------------------------------------------------


BACKUP_CODES = reverse("accounts:backup-codes")
CONFIRM = reverse("accounts:confirm-identity")


def test_a_recent_second_factor_is_fresh_enough(clock, user, verified_client):
    client = verified_client(user)
    clock.shift(timedelta(minutes=4))

    response = client.post(BACKUP_CODES)

    assert response.status_code == 200
    assert "Save your backup codes" in response.content.decode()


def test_a_stale_second_factor_is_asked_for_again_then_the_form_comes_back(
    clock, user, secret, verified_client
):
    client = verified_client(user)
    clock.shift(timedelta(minutes=5, seconds=1))

    refused = client.post(BACKUP_CODES)
    assert refused.status_code == 302
    assert refused["Location"] == f"{CONFIRM}?next=%2Faccounts%2Fbackup-codes%2F"
    page = client.get(refused["Location"]).content.decode()
    assert "Confirm it’s you" in page
    assert "Use a backup code instead" in page

    confirmed = client.post(refused["Location"], {"code": totp_code(secret)})
    assert confirmed["Location"] == BACKUP_CODES
    assert client.post(BACKUP_CODES).status_code == 200


def test_confirming_with_a_wrong_code_keeps_the_page_closed(
    clock, user, secret, verified_client
):
    client = verified_client(user)
    clock.shift(timedelta(minutes=6))

    response = client.post(f"{CONFIRM}?next={BACKUP_CODES}", {"code": "000000"})

    assert response.status_code == 200
    assert "The code is not correct" in response.content.decode()
    assert client.post(BACKUP_CODES).status_code == 302


def test_confirm_page_needs_a_signed_in_verified_user(client, user):
    assert client.get(CONFIRM)["Location"].startswith(SIGN_IN)
    client.force_login(user)
    assert client.get(CONFIRM)["Location"].startswith(reverse("accounts:second-factor"))


def _request(session_data: dict[str, object], method: str = "GET") -> HttpRequest:
    request = HttpRequest()
    request.method = method
    request.path = "/exports/"
    request.META["QUERY_STRING"] = "year=2026"
    request.session = SessionStore()
    request.session.update(session_data)
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def test_the_decorator_sends_get_requests_back_to_the_page_asked_for(clock):
    @fresh_second_factor_required(timedelta(minutes=5))
    def export(request: HttpRequest) -> HttpResponse:
        return HttpResponse("exported")

    response = export(_request({SECOND_FACTOR_AT: MORNING.timestamp()}))

    assert response["Location"] == f"{CONFIRM}?next=%2Fexports%2F%3Fyear%3D2026"


def test_the_decorator_sends_posts_back_to_their_form_page(clock):
    @fresh_second_factor_required(return_to="accounts:account")
    def export(request: HttpRequest) -> HttpResponse:
        return HttpResponse("exported")

    response = export(_request({}, method="POST"))

    assert response["Location"] == f"{CONFIRM}?next=%2Faccounts%2F"
