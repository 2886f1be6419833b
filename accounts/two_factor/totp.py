"""Authenticator apps (TOTP): enrolment and verification, each code accepted once."""

from contextlib import suppress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import (
    TotpDevice,
    User,
)
from accounts.two_factor.codes import (
    totp_code_is_well_formed,
    totp_code_normalise,
    totp_secret_bytes,
    totp_secret_generate,
    totp_step_matching,
    totp_uri,
)
from accounts.two_factor.devices import (
    Attempt,
    TotpEnrolment,
    device_attempt,
    second_factor_event_record,
    throttled_until,
)
from audit.models import AccessAction
from contactpoint.crypto.fields import seal, unseal


def totp_device_create(user: User) -> TotpEnrolment:
    """Start enrolling an authenticator app for ``user``.

    The device stays unconfirmed (and cannot sign anyone in) until the first
    good code (``totp_confirm``). Any earlier unconfirmed device of the user
    is removed, so only the QR code shown last works.
    """
    secret = totp_secret_generate()
    with transaction.atomic():
        if TotpDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValueError("This user already has an authenticator app.")
        TotpDevice.objects.filter(user=user, confirmed=False).delete()
        device = TotpDevice(user=user, name="Authenticator app", confirmed=False)
        seal(device, "secret", secret)
        device.save(force_insert=True)
    return TotpEnrolment(device, secret, _otpauth_uri(user, secret))


def totp_enrolment_get(*, user: User, device_id: object) -> TotpEnrolment | None:
    """The unconfirmed device ``device_id`` of ``user``, to show its QR again."""
    with suppress(ValueError, ValidationError):
        device = TotpDevice.objects.filter(
            pk=device_id, user=user, confirmed=False
        ).first()
        if device is not None:
            secret = _secret_of(device)
            return TotpEnrolment(device, secret, _otpauth_uri(user, secret))
    return None


def _secret_of(device: TotpDevice) -> str:
    """The device's secret. An empty one would make every code guessable."""
    secret = unseal(device, "secret")
    if not secret:
        raise ValueError(f"Authenticator app {device.pk} has no secret.")
    return secret


def _otpauth_uri(user: User, secret: str) -> str:
    return totp_uri(
        issuer=settings.SERVICE_NAME,
        account=user.email or user.get_username(),
        secret=secret,
    )


def totp_confirm(device: TotpDevice, code: str) -> Attempt:
    """Confirm a new authenticator app with its first good code.

    The code is spent like any other (it cannot be used again to sign in),
    and a user ends with at most one confirmed app: enrolments are
    serialised on the user's row.
    """
    user = device.user
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        locked = TotpDevice.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None or locked.confirmed:
            attempt = Attempt(None, "totp_enrolment_gone")
        elif TotpDevice.objects.filter(user=user, confirmed=True).exists():
            attempt = Attempt(None, "totp_already_enrolled")
        else:
            attempt = _totp_check(locked, code)
            if attempt.ok:
                locked.confirmed = True
                locked.save(update_fields=["confirmed"])
    second_factor_event_record(
        user,
        action=AccessAction.SECOND_FACTOR_ENROL,
        allowed=attempt.ok,
        reason="totp_enrolled" if attempt.ok else attempt.reason,
    )
    return attempt


def totp_attempt(*, user: User, code: str) -> Attempt:
    """Check ``code`` against ``user``'s authenticator app, accepting it once.

    Inside one transaction the device row is locked, so a concurrent request
    with the same code waits, then finds its time step already used.
    """
    return device_attempt(
        TotpDevice,
        user=user,
        missing_reason="totp_not_enrolled",
        check=lambda device: _totp_check(device, code),
    )


def totp_verify(*, user: User, code: str) -> TotpDevice | None:
    """The device that accepted ``code``, or None (see ``totp_attempt``)."""
    device = totp_attempt(user=user, code=code).device
    return device if isinstance(device, TotpDevice) else None


def _totp_check(device: TotpDevice, code: str) -> Attempt:
    """Check a code against a device row the caller has locked."""
    retry_at = throttled_until(device)
    if retry_at is not None:
        return Attempt(None, "totp_throttled", retry_at)
    normalised = totp_code_normalise(code)
    step = None
    if totp_code_is_well_formed(normalised):
        key = totp_secret_bytes(_secret_of(device))
        step = totp_step_matching(key, normalised, at=timezone.now().timestamp())
    if step is None or step <= device.last_t:
        device.throttle_increment(commit=False)
        device.save(
            update_fields=["throttling_failure_count", "throttling_failure_timestamp"]
        )
        return Attempt(None, "totp_wrong" if step is None else "totp_replayed")
    device.last_t = step
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save(
        update_fields=[
            "last_t",
            "throttling_failure_count",
            "throttling_failure_timestamp",
            "last_used_at",
        ]
    )
    return Attempt(device, "totp_ok")
