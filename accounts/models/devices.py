"""Second factors, stored so that a database dump cannot be used to sign in.

django-otp's own TOTP and static devices keep the TOTP secret and the backup
codes in plaintext; these keep the secret encrypted with the project's field
encryption (bound to the device row) and only keyed hashes of backup codes.
Both plug into django-otp (``django_otp.login``, ``OTPMiddleware``,
``user.is_verified()``) as ordinary ``Device`` subclasses.
"""

import uuid

from django.db import models
from django.db.models.functions import Now
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from contactpoint.crypto.fields import EncryptedField

#: Seconds to wait after the first wrong code; it doubles with every further
#: one (django-otp's ThrottlingMixin: factor x 2^(failures - 1)).
THROTTLE_FACTOR = 1


class _Throttled(ThrottlingMixin):
    class Meta:
        abstract = True

    def get_throttle_factor(self) -> int:
        return THROTTLE_FACTOR


class TotpDevice(TimestampMixin, _Throttled, Device):
    """An authenticator app (RFC 6238, 30-second steps, 6 digits, SHA-1).

    ``secret`` is the base32 secret, sealed. ``last_t`` is the last accepted
    time step: a code is accepted once, even when two requests race
    (verification locks the row with ``select_for_update``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    secret = EncryptedField()
    last_t = models.BigIntegerField(
        default=-1, help_text="The last time step accepted; codes never replay."
    )

    class Meta(Device.Meta):
        verbose_name = "authenticator app"


class BackupCodeDevice(_Throttled, Device):
    """A set of one-time backup codes, shown to the user once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta(Device.Meta):
        verbose_name = "backup codes"


class BackupCode(models.Model):
    """One backup code: only an HMAC-SHA256 of it is stored."""

    device = models.ForeignKey(
        BackupCodeDevice, on_delete=models.CASCADE, related_name="codes"
    )
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code_hash"], name="backup_code_unique_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"backup code of {self.device_id}"


class SecondFactorReset(models.Model):
    """When an administrator cleared a user's second factors, and why."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="factor_resets"
    )
    reset_by_id = models.UUIDField()
    reason = models.CharField(max_length=300)
    reset_at = models.DateTimeField(db_default=Now(), editable=False)

    def __str__(self) -> str:
        return f"second factor reset for {self.user_id}"
