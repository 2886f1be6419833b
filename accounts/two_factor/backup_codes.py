"""Backup codes: made ten at a time, shown once, stored as keyed hashes, spent once."""

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    BackupCode,
    BackupCodeDevice,
    User,
)
from accounts.two_factor.codes import (
    backup_code_display,
    backup_code_hash,
    backup_code_hashes,
    backup_code_is_well_formed,
    backup_code_normalise,
    backup_codes_make,
)
from accounts.two_factor.devices import (
    Attempt,
    device_attempt,
    second_factor_event_record,
    throttled_until,
)
from audit.models import AccessAction


def backup_codes_generate(user: User) -> list[str]:
    """Make ``user`` a new set of backup codes and return them, for showing once.

    Any earlier set stops working. Only keyed hashes are stored.
    """
    codes = backup_codes_make()
    with transaction.atomic():
        # One set per user, even when two requests ask at once.
        User.objects.select_for_update().filter(pk=user.pk).first()
        device = BackupCodeDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            device = BackupCodeDevice(user=user, name="Backup codes", confirmed=True)
            device.save(force_insert=True)
        device.codes.all().delete()
        BackupCode.objects.bulk_create(
            BackupCode(
                device=device,
                code_hash=backup_code_hash(device_id=device.pk, code=code),
            )
            for code in codes
        )
    second_factor_event_record(
        user,
        action=AccessAction.SECOND_FACTOR_ENROL,
        allowed=True,
        reason="backup_codes_generated",
    )
    return [backup_code_display(code) for code in codes]


def backup_code_attempt(*, user: User, code: str) -> Attempt:
    """Spend one of ``user``'s backup codes, if ``code`` is one not yet used.

    The code is marked used by a single ``UPDATE ... WHERE used_at IS NULL``
    under the device's row lock, so it works once even when requests race.
    """
    return device_attempt(
        BackupCodeDevice,
        user=user,
        missing_reason="backup_code_none",
        check=lambda device: _backup_code_spend(device, code),
    )


def backup_code_verify(*, user: User, code: str) -> BackupCodeDevice | None:
    """The device whose code ``code`` was, now spent; or None."""
    device = backup_code_attempt(user=user, code=code).device
    return device if isinstance(device, BackupCodeDevice) else None


def _backup_code_spend(device: BackupCodeDevice, code: str) -> Attempt:
    retry_at = throttled_until(device)
    if retry_at is not None:
        return Attempt(None, "backup_code_throttled", retry_at)
    normalised = backup_code_normalise(code)
    spent = 0
    if backup_code_is_well_formed(normalised):
        spent = BackupCode.objects.filter(
            device=device,
            code_hash__in=backup_code_hashes(device.pk, normalised),
            used_at__isnull=True,
        ).update(used_at=timezone.now())
    if not spent:
        device.throttle_increment(commit=False)
        device.save(
            update_fields=["throttling_failure_count", "throttling_failure_timestamp"]
        )
        return Attempt(None, "backup_code_wrong")
    device.throttle_reset(commit=False)
    device.save(
        update_fields=["throttling_failure_count", "throttling_failure_timestamp"]
    )
    return Attempt(device, "backup_code_ok")
