"""Lockout after repeated failed sign-ins (django-axes), per account and per
IP address.

django-axes counts every ``user_login_failed`` signal: wrong passwords
(Django's ``authenticate``) and wrong second-factor codes
(``SecondFactorStepView.second_factor_failed``). After
``AXES_FAILURE_LIMIT`` failures for one username, or from one IP address,
sign-in is refused with the same page whether or not the username exists,
until ``AXES_COOLOFF_TIME`` has passed or an administrator unlocks the
account (``accounts.services.account_unlock``). The policy and its reasons
are in docs/architecture.md.

Failures are forgiven only by a *complete* sign-in (both factors), never by
the password alone: otherwise someone holding the password could try four
codes, sign in with the password again, and try four more for ever.
"""

from datetime import timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_failure_limit, get_lockout_response
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import User
from audit.models import AccessAction
from audit.services import access_event_record


def lockout_credentials(username: str) -> dict[str, str]:
    """The credentials django-axes keys its records on for ``username``."""
    return {"username": username}


def sign_in_is_locked(request: HttpRequest, *, username: str) -> bool:
    """Whether this username, or the request's IP address, is locked out now."""
    allowed: bool = AxesProxyHandler.is_allowed(request, lockout_credentials(username))
    return not allowed


def lockout_page(request: HttpRequest, *, username: str) -> HttpResponse:
    """The page a locked-out sign-in gets (``AXES_LOCKOUT_TEMPLATE``)."""
    response: HttpResponse = get_lockout_response(
        request, None, lockout_credentials(username)
    )
    return response


def account_is_locked(user: User) -> bool:
    """Whether ``user``'s username has reached the failure limit (whatever the IP).

    For the administrator's view of the account; sign-in itself asks
    django-axes with the request (``sign_in_is_locked``).
    """
    attempts = AccessAttempt.objects.filter(username=user.get_username())
    cool_off: timedelta | None = settings.AXES_COOLOFF_TIME
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    failures: int = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
    limit: int = settings.AXES_FAILURE_LIMIT
    return failures >= limit


def account_failures_clear(user: User) -> int:
    """Forget the failed sign-ins recorded against ``user``'s username.

    Returns how many records went. Called when an administrator unlocks the
    account and when the user completes a sign-in with both factors.
    """
    removed: int = reset(username=user.get_username())
    return removed


def lockout_record(
    sender: Any,
    *,
    request: HttpRequest,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    """Audit a lockout (django-axes' ``user_locked_out`` signal).

    The signal comes at the failure that reaches the limit, and again at each
    attempt refused while locked out; the reason tells the two apart. What
    was typed as the username is recorded only as the account it names, if
    any, so a mistyped password in the username field never reaches the log.
    """
    user = User.objects.filter(username=username).first() if username else None
    failures = getattr(request, "axes_failures_since_start", None)
    limit = get_failure_limit(request, lockout_credentials(username or ""))
    reason = (
        "failure_limit_reached"
        if isinstance(failures, int) and failures == limit
        else "attempt_while_locked_out"
    )
    access_event_record(
        actor=None,
        action=AccessAction.LOCKED_OUT,
        allowed=False,
        reason=reason,
        subject_user_id=user.pk if user is not None else None,
    )
