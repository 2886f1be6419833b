"""Who may reach which URL, and how long a session lasts.

``SecondFactorRequiredMiddleware`` denies by default: every URL needs a user
who signed in with a password *and* a second factor, except the few named in
``PUBLIC_URL_NAMES`` / ``PUBLIC_URL_NAME_PREFIXES`` (anyone) and
``SIGN_IN_STEP_URL_NAMES`` (a user who has given a password but no second
factor yet). Adding a URL there is a visible act: tests/test_url_protection.py
states the same lists.

``SessionLifetimeMiddleware`` ends sessions 15 minutes after the last request
and 10 hours after sign-in, whatever the cookie says.
"""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from accounts.sign_in import sign_out_record
from accounts.two_factor import adevice_from_persistent_id, device_from_persistent_id

#: Pages anyone may open, signed in or not.
PUBLIC_URL_NAMES = frozenset(
    {
        "accounts:sign-in",
        "accounts:sign-out",
        "accessibility",
        "privacy",
        "govuk-frontend-asset",
        # Liveness and readiness probes, and Prometheus (which checks its own
        # network allow-list or token): contactpoint/health.py, metrics.py.
        "healthz",
        "readyz",
        "metrics",
    }
)
#: Families of public pages: accepting an emailed invitation.
PUBLIC_URL_NAME_PREFIXES = ("accounts:invitation-", "invitations:invitation-")
#: The steps between the password and the second factor: they need a user who
#: has given their password, but not yet a second factor.
SIGN_IN_STEP_URL_NAMES = frozenset(
    {
        "accounts:second-factor",
        "accounts:second-factor-backup-code",
        "accounts:second-factor-setup",
        "accounts:second-factor-passkey",
        # django-otp-webauthn's endpoints for a passkey as the second factor,
        # and its script's translations.
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    }
)
#: All a user whose roles require a passkey may open after signing in with a
#: code and before adding one (``PASSKEY_PENDING`` in the session); public
#: pages, signing out included, stay open too.
PASSKEY_REGISTRATION_URL_NAMES = frozenset(
    {
        "accounts:passkey-add",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
        "otp_webauthn:js-i18n-catalog",
    }
)
API_PATH_PREFIX = "/api/"

#: Session keys (seconds since the epoch, as floats).
SIGNED_IN_AT = "cp_signed_in_at"
SECOND_FACTOR_AT = "cp_second_factor_at"
LAST_SEEN = "cp_last_seen"
#: Set at sign-in when the user's roles require a passkey they have not added.
PASSKEY_PENDING = "cp_passkey_pending"

Handler = Callable[[HttpRequest], HttpResponse]


def url_name_is_public(view_name: str) -> bool:
    return view_name in PUBLIC_URL_NAMES or view_name.startswith(
        PUBLIC_URL_NAME_PREFIXES
    )


def user_is_verified(user: Any) -> bool:
    """Signed in with a password and a second factor (this session)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and is_verified is not None and is_verified())


def with_next(url: str, next_url: str | None) -> str:
    """``url`` with ``?next=`` added, when there is somewhere to go back to."""
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


# --- Session timestamps -----------------------------------------------------


def session_signed_in(request: HttpRequest) -> None:
    """Note that the session has just passed both factors."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[SECOND_FACTOR_AT] = now
    request.session[LAST_SEEN] = now


def session_second_factor_confirmed(request: HttpRequest) -> None:
    """Note that the user has just given a second factor again."""
    request.session[SECOND_FACTOR_AT] = time.time()


def second_factor_is_fresh(request: HttpRequest, max_age: timedelta) -> bool:
    """Whether the session's last second factor is at most ``max_age`` old."""
    if not user_is_verified(request.user):
        return False
    at = request.session.get(SECOND_FACTOR_AT)
    return isinstance(at, int | float) and time.time() - at <= max_age.total_seconds()


# --- Middleware -------------------------------------------------------------


class OTPMiddleware(DjangoOTPMiddleware):  # type: ignore[misc]  # django-otp is untyped
    """django-otp's middleware, for devices whose primary keys are UUIDs.

    django-otp looks the session's device up with ``int(pk)``, which fails
    for UUIDs, so no session would ever count as verified.
    """

    def _device_from_persistent_id(self, persistent_id: str) -> Any:
        return device_from_persistent_id(self._normalize_persistent_id(persistent_id))

    async def _adevice_from_persistent_id(self, persistent_id: str) -> Any:
        return await adevice_from_persistent_id(
            self._normalize_persistent_id(persistent_id)
        )


class SessionLifetimeMiddleware:
    """End sessions that have been idle or signed in for too long.

    Idle: ``SESSION_COOKIE_AGE`` (15 minutes) since the last request; the
    session store expires the row at the same moment, and this check holds
    even for a store that keeps it. Absolute: ``CP_SESSION_ABSOLUTE_SECONDS``
    (10 hours) since the second factor at sign-in. Either way the user is
    signed out, told why, and the next middleware sends them to sign in.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> None:
        session = request.session
        had_user = auth.SESSION_KEY in session
        if not had_user:
            cookie_sent = bool(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
            if cookie_sent and session.is_empty():
                # The store has already expired the session: the idle limit.
                messages.info(request, _signed_out_message("idle"))
            return
        user = request.user
        if not user.is_authenticated:
            # The session hash no longer matches (password or second factors
            # reset: the security stamp changed), or the account was
            # deactivated or deleted.
            auth.logout(request)
            messages.info(request, _signed_out_message("ended"))
            return
        reason = _expiry_reason(request)
        if reason is not None:
            sign_out_record(user=user, reason=f"session_{reason}")
            auth.logout(request)
            messages.info(request, _signed_out_message(reason))
            return
        # Refreshing the idle clock writes the session row (and renews its
        # expiry): once a minute is enough for a 15-minute limit.
        now = time.time()
        last_seen = session.get(LAST_SEEN)
        if not isinstance(last_seen, int | float) or (
            now - last_seen >= settings.CP_SESSION_TOUCH_SECONDS
        ):
            session[LAST_SEEN] = now


def _expiry_reason(request: HttpRequest) -> str | None:
    user = request.user
    session = request.session
    now = time.time()
    if getattr(user, "suspended_at", None) is not None:
        return "suspended"
    last_seen = session.get(LAST_SEEN)
    if isinstance(last_seen, int | float) and now - last_seen > (
        settings.SESSION_COOKIE_AGE
    ):
        return "idle"
    if user_is_verified(user):
        signed_in_at = session.get(SIGNED_IN_AT)
        if not isinstance(signed_in_at, int | float) or now - signed_in_at > (
            settings.CP_SESSION_ABSOLUTE_SECONDS
        ):
            return "absolute"
    return None


def _signed_out_message(reason: str) -> str:
    idle_minutes = settings.SESSION_COOKIE_AGE // 60
    absolute_hours = settings.CP_SESSION_ABSOLUTE_SECONDS // 3600
    because = {
        "idle": f"you have not done anything for {idle_minutes} minutes",
        "absolute": f"you have been signed in for {absolute_hours} hours",
        "suspended": "your account has been suspended",
        "ended": (
            "your password or second factor was changed, or your account was "
            "changed by an administrator"
        ),
    }[reason]
    return f"You have been signed out because {because}. Sign in again to continue."


class SecondFactorRequiredMiddleware:
    """Default deny: a verified second factor for every URL not allow-listed.

    Pages redirect to sign-in (with ``next``) or to the second-factor step;
    API paths answer 401 or 403 in JSON. An API request with its own
    ``Authorization`` header and no signed-in session goes on to the API's
    authentication (feed-system tokens), whose permissions refuse it if the
    token is no good.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        match = request.resolver_match
        view_name = match.view_name if match is not None else ""
        if url_name_is_public(view_name):
            return None
        user = request.user
        if not user.is_authenticated:
            return _refuse_anonymous(request, view_name)
        if user_is_verified(user) and request.session.get(PASSKEY_PENDING):
            return _only_passkey_registration(request, view_name)
        if view_name in SIGN_IN_STEP_URL_NAMES or user_is_verified(user):
            return None
        if request.path.startswith(API_PATH_PREFIX):
            return JsonResponse(
                {
                    "detail": "Sign in with your second factor first.",
                    "code": "second_factor_required",
                },
                status=403,
            )
        return redirect(
            with_next(reverse("accounts:second-factor"), request.get_full_path())
        )


def _only_passkey_registration(
    request: HttpRequest, view_name: str
) -> HttpResponse | None:
    """Until they add a passkey, a user whose roles require one may only add it."""
    if view_name in PASSKEY_REGISTRATION_URL_NAMES:
        return None
    if request.path.startswith(API_PATH_PREFIX):
        return JsonResponse(
            {"detail": "Add a passkey first.", "code": "passkey_required"},
            status=403,
        )
    return redirect(reverse("accounts:passkey-add"))


def _refuse_anonymous(request: HttpRequest, view_name: str) -> HttpResponse | None:
    if request.path.startswith(API_PATH_PREFIX):
        if "Authorization" in request.headers:
            return None  # The API's own token authentication decides.
        response = JsonResponse(
            {"detail": "Authentication credentials were not provided."}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    if view_name in SIGN_IN_STEP_URL_NAMES:
        # Half-way through signing in with no session: start again.
        return redirect(with_next(reverse("accounts:sign-in"), request.GET.get("next")))
    return redirect_to_login(request.get_full_path())
