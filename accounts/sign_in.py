"""Signing in and out: who may sign in with a browser, and the access log of it.

A sign-in is two steps: a password (``SignInView``), then a second factor
(``accounts.two_factor``). Only the second completes it. Every failed
password, refused account, completed sign-in and sign-out is recorded; a
password never is.
"""

from dataclasses import dataclass

from django.db import transaction

from accounts.actors import actor_for_user
from accounts.models import RoleAssignment, User
from accounts.roles import Role
from accounts.two_factor import user_security_stamp_rotate
from audit.models import AccessAction
from audit.services import access_event_record


@dataclass(frozen=True, slots=True)
class SignInRefusal:
    """Why an account with a correct password still may not sign in here."""

    reason: str
    message: str


CONTACT_ADMINISTRATOR = (
    "Contact the administrator for this service at your organisation."
)
REFUSALS = {
    "account_inactive": SignInRefusal(
        "account_inactive",
        f"This account has been closed. {CONTACT_ADMINISTRATOR}",
    ),
    "account_suspended": SignInRefusal(
        "account_suspended",
        f"This account has been suspended. {CONTACT_ADMINISTRATOR}",
    ),
    "feed_system": SignInRefusal(
        "feed_system",
        "This account belongs to a feed system. Feed systems send data through "
        "the API with a token and cannot sign in with a browser.",
    ),
}


def sign_in_refusal(user: User) -> SignInRefusal | None:
    """Why ``user`` may not sign in with a browser, or None if they may.

    Closed and suspended accounts never sign in; feed systems only use the
    API, so a stolen feed password opens no browser session.
    """
    if not user.is_active:
        return REFUSALS["account_inactive"]
    if user.suspended_at is not None:
        return REFUSALS["account_suspended"]
    if RoleAssignment.objects.filter(
        user=user, role=Role.FEED_SYSTEM, revoked_at__isnull=True
    ).exists():
        return REFUSALS["feed_system"]
    return None


def sign_in_failure_record(*, user: User | None, reason: str) -> None:
    """Record a refused password step. ``user`` is None for unknown usernames.

    The actor is unknown (whoever typed), so only the account is recorded;
    what was typed never is.
    """
    access_event_record(
        actor=None,
        action=AccessAction.SIGN_IN_FAILED,
        allowed=False,
        reason=reason,
        subject_user_id=user.pk if user is not None else None,
    )


def sign_in_record(*, user: User, method: str) -> None:
    """Record a completed sign-in (both factors); ``method`` is the second."""
    access_event_record(
        actor=actor_for_user(user, second_factor_verified=True),
        action=AccessAction.SIGN_IN,
        allowed=True,
        reason=f"second_factor_{method}",
        subject_user_id=user.pk,
    )


def sign_out_record(*, user: User, reason: str) -> None:
    """Record the end of a session: ``signed_out``, ``session_idle``, …"""
    access_event_record(
        actor=actor_for_user(user, second_factor_verified=False),
        action=AccessAction.SIGN_OUT,
        allowed=True,
        reason=reason,
        subject_user_id=user.pk,
    )


def user_password_change(*, user: User, password: str) -> User:
    """Set a new (already validated) password and end the user's other sessions.

    The caller keeps its own session with ``update_session_auth_hash``. The
    change is audited (never the password).
    """
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        user_security_stamp_rotate(user)
    access_event_record(
        actor=actor_for_user(user, second_factor_verified=True),
        action=AccessAction.PASSWORD_CHANGE,
        allowed=True,
        reason="password_changed",
        subject_user_id=user.pk,
    )
    return user
