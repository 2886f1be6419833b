"""Second factors: codes work once, wrong codes slow down, nothing is stored
in clear, and resets end every session."""

import base64
import hashlib
import re
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import OTPMiddleware
from accounts.models import (
    BackupCode,
    BackupCodeDevice,
    SecondFactorReset,
    TotpDevice,
    User,
)
from accounts.tests.factories import UserFactory, actor
from accounts.tests.second_factors import totp_code, totp_device_for
from accounts.two_factor import (
    backup_code_attempt,
    backup_code_verify,
    backup_codes_generate,
    backup_codes_left,
    device_from_persistent_id,
    second_factors_reset,
    totp_attempt,
    totp_confirm,
    totp_device_create,
    totp_verify,
    user_security_stamp_rotate,
)
from audit.models import AccessAction, AccessEvent, Outcome

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def app(user) -> tuple[TotpDevice, str]:
    return totp_device_for(user)


def _events(action: str) -> list[tuple[str, str]]:
    return list(
        AccessEvent.objects.filter(action=action)
        .order_by("occurred_at")
        .values_list("outcome", "reason")
    )


# --- TOTP -----------------------------------------------------------------------


def test_a_totp_code_is_accepted_once(clock, user, app):
    device, secret = app
    code = totp_code(secret)

    assert totp_verify(user=user, code=code) == device
    assert totp_verify(user=user, code=code) is None

    assert _events(AccessAction.SECOND_FACTOR) == [
        (Outcome.ALLOWED, "totp_ok"),
        (Outcome.DENIED, "totp_replayed"),
    ]


def test_an_earlier_code_is_refused_after_a_later_one(clock, user, app):
    _device, secret = app

    assert totp_verify(user=user, code=totp_code(secret, steps=1)) is not None
    assert totp_verify(user=user, code=totp_code(secret)) is None


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_codes_one_step_either_side_are_accepted(clock, user, app, steps):
    _device, secret = app

    assert totp_verify(user=user, code=totp_code(secret, steps=steps)) is not None


@pytest.mark.parametrize("steps", [-2, 2])
def test_codes_two_steps_away_are_refused(clock, user, app, steps):
    _device, secret = app

    attempt = totp_attempt(user=user, code=totp_code(secret, steps=steps))

    assert attempt.device is None
    assert attempt.reason == "totp_wrong"


def test_codes_with_spaces_are_accepted(clock, user, app):
    _device, secret = app
    code = totp_code(secret)

    assert totp_verify(user=user, code=f" {code[:3]} {code[3:]} ") is not None


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_wrong_codes(clock, user, app, code):
    assert totp_attempt(user=user, code=code).reason == "totp_wrong"


def test_wrong_codes_slow_the_next_attempt_down(clock, user, app):
    device, secret = app

    assert totp_attempt(user=user, code="000000").reason == "totp_wrong"
    throttled = totp_attempt(user=user, code=totp_code(secret))
    assert throttled.reason == "totp_throttled"
    assert throttled.retry_at is not None

    clock.shift(1.5)
    assert totp_attempt(user=user, code="000000").reason == "totp_wrong"
    clock.shift(1.5)  # the second failure asks for two seconds
    assert totp_attempt(user=user, code=totp_code(secret)).reason == "totp_throttled"
    clock.shift(1)
    assert totp_verify(user=user, code=totp_code(secret)) == device

    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_user_without_an_app_has_nothing_to_verify(user):
    assert totp_attempt(user=user, code="123456").reason == "totp_not_enrolled"


def test_an_unconfirmed_app_signs_nobody_in(clock, user):
    enrolment = totp_device_create(user)

    assert totp_verify(user=user, code=totp_code(enrolment.secret)) is None


def test_enrolment_is_confirmed_by_the_first_good_code_which_is_then_spent(clock, user):
    enrolment = totp_device_create(user)
    code = totp_code(enrolment.secret)

    assert not totp_confirm(enrolment.device, "000000").ok
    clock.shift(2)
    assert totp_confirm(enrolment.device, code).ok

    enrolment.device.refresh_from_db()
    assert enrolment.device.confirmed
    assert totp_verify(user=user, code=code) is None
    assert _events(AccessAction.SECOND_FACTOR_ENROL) == [
        (Outcome.DENIED, "totp_wrong"),
        (Outcome.ALLOWED, "totp_enrolled"),
    ]


def test_starting_enrolment_again_replaces_the_unconfirmed_app(clock, user):
    first = totp_device_create(user)
    second = totp_device_create(user)

    assert list(TotpDevice.objects.filter(user=user)) == [second.device]
    assert not totp_confirm(first.device, totp_code(first.secret)).ok


def test_a_user_with_an_app_cannot_start_another(user, app):
    with pytest.raises(ValueError, match="already has"):
        totp_device_create(user)


def test_the_database_holds_no_totp_secret_in_clear(user):
    enrolment = totp_device_create(user)
    secret_bytes = base64.b32decode(enrolment.secret)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret FROM accounts_totpdevice WHERE id = %s",
            [enrolment.device.pk],
        )
        (raw,) = cursor.fetchone()
    raw = bytes(raw)

    assert enrolment.secret.encode() not in raw
    assert enrolment.secret.lower().encode() not in raw
    assert secret_bytes not in raw
    assert enrolment.otpauth_uri.startswith("otpauth://totp/")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri


# --- Backup codes ---------------------------------------------------------------


def test_a_backup_code_works_once(user):
    codes = backup_codes_generate(user)

    assert backup_code_verify(user=user, code=codes[0]) is not None
    assert backup_code_verify(user=user, code=codes[0]) is None
    assert backup_codes_left(user) == 9
    assert _events(AccessAction.SECOND_FACTOR) == [
        (Outcome.ALLOWED, "backup_code_ok"),
        (Outcome.DENIED, "backup_code_wrong"),
    ]


def test_backup_codes_ignore_case_spaces_and_hyphens(user):
    codes = backup_codes_generate(user)
    shouted = codes[3].upper().replace("-", " ")

    assert backup_code_verify(user=user, code=shouted) is not None


def test_ten_backup_codes_of_ten_characters_are_made(user):
    codes = backup_codes_generate(user)

    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[2-9a-z]{5}-[2-9a-z]{5}", code) for code in codes)
    assert backup_codes_left(user) == 10
    assert _events(AccessAction.SECOND_FACTOR_ENROL) == [
        (Outcome.ALLOWED, "backup_codes_generated")
    ]


def test_new_backup_codes_replace_the_old_ones(user):
    old = backup_codes_generate(user)
    new = backup_codes_generate(user)

    assert backup_code_verify(user=user, code=new[0]) is not None
    assert backup_code_verify(user=user, code=old[0]) is None
    assert BackupCodeDevice.objects.filter(user=user).count() == 1


def test_one_users_backup_code_is_no_use_to_another(user):
    codes = backup_codes_generate(user)
    other = User.objects.get(pk=UserFactory().pk)
    backup_codes_generate(other)

    assert backup_code_verify(user=other, code=codes[0]) is None
    assert backup_code_verify(user=user, code=codes[0]) is not None


def test_wrong_backup_codes_slow_the_next_attempt_down(clock, user):
    codes = backup_codes_generate(user)

    assert backup_code_attempt(user=user, code="2222222222").reason == (
        "backup_code_wrong"
    )
    assert backup_code_attempt(user=user, code=codes[0]).reason == (
        "backup_code_throttled"
    )
    clock.shift(1.5)
    assert backup_code_attempt(user=user, code=codes[0]).ok


def test_the_database_holds_only_keyed_hashes_of_backup_codes(user):
    codes = backup_codes_generate(user)
    plain = {code.replace("-", "") for code in codes} | set(codes)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT code_hash FROM accounts_backupcode bc "
            "JOIN accounts_backupcodedevice d ON d.id = bc.device_id "
            "WHERE d.user_id = %s",
            [user.pk],
        )
        stored = [row[0] for row in cursor.fetchall()]

    assert len(stored) == 10
    for value in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", value)
        assert not any(code in value for code in plain)
    # A plain SHA-256 of a code would let a dump be tested offline: not that.
    unkeyed = {hashlib.sha256(code.encode()).hexdigest() for code in plain}
    assert unkeyed.isdisjoint(stored)


def test_no_code_reaches_the_access_log(clock, user, app):
    _device, secret = app
    codes = backup_codes_generate(user)
    code = totp_code(secret)
    totp_verify(user=user, code=code)
    backup_code_verify(user=user, code=codes[0])

    for event in AccessEvent.objects.all():
        text = f"{event.reason} {event.detail}"
        assert code not in text
        assert codes[0] not in text


# --- Django-otp integration ---------------------------------------------------


def test_devices_with_uuid_keys_are_found_from_the_session(user, app):
    device, _secret = app

    assert device_from_persistent_id(device.persistent_id) == device
    assert device_from_persistent_id("accounts.totpdevice/not-a-uuid") is None
    assert device_from_persistent_id(f"accounts.totpdevice/{uuid.uuid4()}") is None
    assert device_from_persistent_id(f"accounts.user/{user.pk}") is None
    assert device_from_persistent_id("nonsense") is None
    assert (
        OTPMiddleware(lambda r: None)._device_from_persistent_id(device.persistent_id)
        == device
    )


# --- Resets and the end of sessions --------------------------------------------


def _is_signed_in(client):
    response = client.get(reverse("home"))
    return response.status_code == 200


def test_resetting_second_factors_removes_them_and_signs_the_user_out_everywhere(
    user, app, verified_client
):
    backup_codes_generate(user)
    administrator = actor(user_id=uuid.uuid4())
    laptop, phone = verified_client(user), verified_client(user)
    assert _is_signed_in(laptop)
    assert _is_signed_in(phone)

    reset = second_factors_reset(
        user=user, reset_by=administrator, reason="Lost their phone"
    )

    assert not TotpDevice.objects.filter(user=user).exists()
    assert not BackupCodeDevice.objects.filter(user=user).exists()
    assert not BackupCode.objects.filter(device__user=user).exists()
    assert SecondFactorReset.objects.get() == reset
    assert reset.reset_by_id == administrator.user_id
    for client in (laptop, phone):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:sign-in"))
    event = AccessEvent.objects.get(action=AccessAction.SECOND_FACTOR_RESET)
    assert (event.outcome, event.reason) == (Outcome.ALLOWED, "second_factors_reset")
    assert event.actor_id == administrator.user_id
    assert event.subject_user_id == user.pk
    assert "Lost their phone" in event.detail


def test_nobody_resets_their_own_second_factors(user, app):
    with pytest.raises(PermissionError):
        second_factors_reset(user=user, reset_by=actor(user_id=user.pk), reason="Me")

    assert TotpDevice.objects.filter(user=user).exists()
    assert not SecondFactorReset.objects.exists()
    assert _events(AccessAction.SECOND_FACTOR_RESET) == [
        (Outcome.DENIED, "own_second_factors")
    ]


def test_rotating_the_security_stamp_ends_every_session(user, verified_client):
    first, second = verified_client(user), verified_client(user)

    user_security_stamp_rotate(user)

    assert not _is_signed_in(first)
    assert not _is_signed_in(second)


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    user, verified_client
):
    here, elsewhere = verified_client(user), verified_client(user)
    stamp = user.security_stamp

    response = here.post(
        reverse("accounts:password-change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "a brand new passphrase for me",
            "new_password2": "a brand new passphrase for me",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:account")
    user.refresh_from_db()
    assert user.security_stamp != stamp
    assert user.check_password("a brand new passphrase for me")
    assert _is_signed_in(here)
    assert here.session[DEVICE_ID_SESSION_KEY]
    assert not _is_signed_in(elsewhere)
    event = AccessEvent.objects.get(action="password_change")
    assert (event.subject_user_id, event.outcome) == (user.pk, "allowed")


def test_a_wrong_current_password_changes_nothing(user, verified_client):
    client = verified_client(user)

    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": "not my password",
            "new_password1": "a brand new passphrase for me",
            "new_password2": "a brand new passphrase for me",
        },
    )

    assert response.status_code == 200
    assert "Your current password is not correct" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("correct horse battery")
