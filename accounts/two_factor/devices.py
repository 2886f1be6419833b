"""Second-factor devices as django-otp sees them, what a user has enrolled,
and the outcome of one code."""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, TypeVar

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django_otp.models import Device

from accounts.actors import actor_for_user
from accounts.models import (
    BackupCode,
    BackupCodeDevice,
    PasskeyCredential,
    RoleAssignment,
    TotpDevice,
    User,
)
from accounts.policies import (
    PASSKEY,
    SecondFactorRule,
    decide_second_factor_methods,
)
from audit.models import AccessAction
from audit.services import access_event_record


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one code: the device that accepted it, or why not.

    ``reason`` is the stable code stored on the access event; ``retry_at``
    says when a throttled device may be tried again.
    """

    device: Device | None
    reason: str
    retry_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None


class TotpEnrolment(NamedTuple):
    """A new, unconfirmed authenticator app and what the user needs to add it."""

    device: TotpDevice
    secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class SecondFactorOptions:
    """Which second factors a user has, and which they may sign in with."""

    has_totp: bool
    backup_codes_left: int
    has_passkey: bool = False
    rule: SecondFactorRule = field(
        default_factory=lambda: decide_second_factor_methods(
            frozenset(), has_passkey=False
        )
    )

    @property
    def passkey_required(self) -> bool:
        """Their roles require a passkey (administrator, auditor, shielding
        officer)."""
        return self.rule.passkey_required

    @property
    def passkey_only(self) -> bool:
        """They have the passkey their roles require: nothing else will do."""
        return self.rule.methods == frozenset({PASSKEY})

    def accepts(self, method: str) -> bool:
        return method in self.rule.methods


def device_from_persistent_id(persistent_id: str) -> Device | None:
    """The device a session names (``"<app>.<model>/<pk>"``), or None.

    django-otp's own lookup assumes integer primary keys; these devices have
    UUIDs. Anything malformed, unknown or not a device gives None.
    """
    with suppress(ValueError, LookupError, ValidationError, ObjectDoesNotExist):
        model_label, pk = persistent_id.rsplit("/", 1)
        model = apps.get_model(model_label)
        if issubclass(model, Device):
            # get(), not filter().first(): no ORDER BY to compile on every page.
            device: Device = model.objects.get(pk=pk)
            return device
    return None


async def adevice_from_persistent_id(persistent_id: str) -> Device | None:
    """``device_from_persistent_id`` for async code."""
    with suppress(ValueError, LookupError, ValidationError, ObjectDoesNotExist):
        model_label, pk = persistent_id.rsplit("/", 1)
        model = apps.get_model(model_label)
        if issubclass(model, Device):
            device: Device = await model.objects.aget(pk=pk)
            return device
    return None


def second_factor_options(user: User) -> SecondFactorOptions:
    """What ``user`` has enrolled, and what their roles let them sign in with
    (``accounts.policies.decide_second_factor_methods``)."""
    has_passkey = PasskeyCredential.objects.filter(user=user, confirmed=True).exists()
    roles = frozenset(
        RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
            "role", flat=True
        )
    )
    return SecondFactorOptions(
        has_totp=TotpDevice.objects.filter(user=user, confirmed=True).exists(),
        backup_codes_left=backup_codes_left(user),
        has_passkey=has_passkey,
        rule=decide_second_factor_methods(roles, has_passkey=has_passkey),
    )


def passkeys_added(user: User) -> int:
    """How many passkeys ``user`` has added."""
    count: int = PasskeyCredential.objects.filter(user=user, confirmed=True).count()
    return count


def backup_codes_left(user: User) -> int:
    """How many of ``user``'s backup codes are still unused."""
    return BackupCode.objects.filter(
        device__user=user, device__confirmed=True, used_at__isnull=True
    ).count()


def throttled_until(device: TotpDevice | BackupCodeDevice) -> datetime | None:
    """When ``device`` may be tried again, if wrong codes throttle it now."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    locked_until: datetime = details["locked_until"]
    return locked_until


def second_factor_event_record(
    user: User, *, action: str, allowed: bool, reason: str
) -> None:
    """Record one second-factor check or enrolment by ``user`` themselves.

    They have given their password but (for this check) no second factor.
    """
    access_event_record(
        actor=actor_for_user(user, second_factor_verified=False),
        action=action,
        allowed=allowed,
        reason=reason,
        subject_user_id=user.pk,
    )


_Device = TypeVar("_Device", TotpDevice, BackupCodeDevice)


def device_attempt(
    model: type[_Device],
    *,
    user: User,
    missing_reason: str,
    check: Callable[[_Device], Attempt],
) -> Attempt:
    """Check a code against ``user``'s confirmed device of ``model``, once.

    The device row is locked for the check, so a concurrent request with the
    same code waits and then finds it spent; the outcome is audited.
    """
    with transaction.atomic():
        device = (
            model.objects.select_for_update().filter(user=user, confirmed=True).first()
        )
        attempt = Attempt(None, missing_reason) if device is None else check(device)
    second_factor_event_record(
        user,
        action=AccessAction.SECOND_FACTOR,
        allowed=attempt.ok,
        reason=attempt.reason,
    )
    return attempt
