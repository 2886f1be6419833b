"""Ending a user's sessions everywhere, and resetting their second factors."""

import uuid

from django.db import transaction

from accounts.actors import Actor
from accounts.models import (
    BackupCodeDevice,
    PasskeyCredential,
    SecondFactorReset,
    TotpDevice,
    User,
)
from audit.models import AccessAction
from audit.services import access_event_record


def user_security_stamp_rotate(user: User) -> None:
    """End every session ``user`` has open, on its next request.

    The stamp is part of the session auth hash (``User.get_session_auth_hash``).
    """
    user.security_stamp = uuid.uuid4()
    user.save(update_fields=["security_stamp"])


def second_factors_reset(
    *, user: User, reset_by: Actor, reason: str
) -> SecondFactorReset:
    """Remove ``user``'s authenticator apps, backup codes and passkeys, and
    sign them out.

    They enrol again at their next sign-in. Nobody resets their own factors:
    a person who lost their phone asks someone else, so a stolen session
    cannot swap in the thief's authenticator. Deciding who else may is the
    caller's policy (``accounts.services.user_second_factor_reset``).
    """
    if reset_by.user_id == user.pk:
        access_event_record(
            actor=reset_by,
            action=AccessAction.SECOND_FACTOR_RESET,
            allowed=False,
            reason="own_second_factors",
            subject_user_id=user.pk,
        )
        raise PermissionError("Nobody can reset their own second factors.")
    with transaction.atomic():
        reset = SecondFactorReset(
            user=user, reset_by_id=reset_by.user_id, reason=reason
        )
        reset.full_clean()
        TotpDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        PasskeyCredential.objects.filter(user=user).delete()
        reset.save(force_insert=True)
        user_security_stamp_rotate(user)
    access_event_record(
        actor=reset_by,
        action=AccessAction.SECOND_FACTOR_RESET,
        allowed=True,
        reason="second_factors_reset",
        subject_user_id=user.pk,
        detail=f"Second factors reset. Reason: {reason}"[:500],
    )
    return reset
