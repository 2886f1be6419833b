"""Passkeys as a second factor (django-otp-webauthn), in the sign-in journey.

- ``accounts:second-factor-passkey`` (and ``accounts:confirm-identity-passkey``):
  the page with a "Use your passkey" button; the package's script talks to
  the JSON endpoints below and follows the redirect they return.
- ``accounts:passkey-add``: add a passkey. Users whose roles require one
  (``accounts.policies.PASSKEY_REQUIRED_ROLES``) are sent here after signing
  in with a code, and can open nothing else until it is added
  (``accounts.middleware.PASSKEY_PENDING``).
- The package's JSON views, mounted as ``otp_webauthn:*``, with the project's
  rules: a completed passkey check ends in ``sign_in_complete`` (or counts as
  "confirm it's you"), failures count towards the lockout, a locked-out
  account is refused, and adding a passkey is audited.
"""

from typing import Any

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django_otp_webauthn import exceptions as webauthn_exceptions
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from accounts.lockout import sign_in_is_locked
from accounts.middleware import (
    PASSKEY_PENDING,
    session_second_factor_confirmed,
    user_is_verified,
    with_next,
)
from accounts.models import PasskeyCredential, User
from accounts.policies import PASSKEY
from accounts.two_factor import second_factor_event_record, second_factor_options
from accounts.views import (
    CONFIRM,
    SIGN_IN,
    AuthenticatedRequest,
    SecondFactorStepView,
    _next_or_home,
    safe_next_url,
    sign_in_complete,
)
from audit.models import AccessAction


class PasskeyStepView(SecondFactorStepView):
    """Use your passkey: the package's script does the ceremony on this page."""

    template_name = "accounts/second_factor_passkey.html"
    form_class = forms.Form
    method = PASSKEY
    http_method_names = ["get", "head"]

    def redirect_elsewhere(self) -> HttpResponse | None:
        if second_factor_options(self.request.user).accepts(PASSKEY):
            return None
        target = (
            "accounts:second-factor"
            if self.purpose == SIGN_IN
            else "accounts:confirm-identity"
        )
        return redirect(with_next(reverse(target), safe_next_url(self.request)))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        options = second_factor_options(self.request.user)
        if options.accepts("totp"):
            totp = (
                "accounts:second-factor"
                if self.purpose == SIGN_IN
                else "accounts:confirm-identity"
            )
            context["totp_url"] = with_next(reverse(totp), context["next"])
        return context


class ConfirmPasskeyView(PasskeyStepView):
    purpose = CONFIRM


@method_decorator(never_cache, name="dispatch")
class PasskeyAddView(TemplateView):
    """Add a passkey: required for some roles, optional for everyone else."""

    template_name = "accounts/passkey_add.html"
    request: AuthenticatedRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context.update(
            required=bool(self.request.session.get(PASSKEY_PENDING)),
            continue_url=_next_or_home(self.request),
            account_current=True,
        )
        return context


# --- django-otp-webauthn's JSON endpoints, with the project's rules --------------


class SignInLocked(webauthn_exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 429
    code = "locked_out"
    default_detail = (
        "You cannot sign in at the moment: too many wrong attempts. Contact the "
        "administrator for this service at your organisation."
    )


class _PasskeyCheck:
    """Refuse a locked-out account; count a failed passkey check like a wrong code."""

    request: HttpRequest

    def initial(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        if request.user.is_authenticated and sign_in_is_locked(
            request, username=request.user.get_username()
        ):
            raise SignInLocked
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def handle_exception(self, exc: Exception) -> JsonResponse:
        user = self.request.user
        if (
            isinstance(exc, webauthn_exceptions.OTPWebAuthnApiError)
            and not isinstance(exc, SignInLocked)
            and user.is_authenticated
        ):
            second_factor_event_record(
                user,
                action=AccessAction.SECOND_FACTOR,
                allowed=False,
                reason=f"passkey_{exc.code}",
            )
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
        response: JsonResponse = super().handle_exception(exc)  # type: ignore[misc]
        return response


class PasskeyAuthenticationBeginView(_PasskeyCheck, BeginCredentialAuthenticationView):  # type: ignore[misc]
    pass


class PasskeyAuthenticationCompleteView(
    _PasskeyCheck,
    CompleteCredentialAuthenticationView,  # type: ignore[misc]  # untyped package
):
    """A passkey check passed: finish signing in, or confirm it's you."""

    def complete_auth(self, device: PasskeyCredential) -> None:
        if user_is_verified(self.request.user):
            session_second_factor_confirmed(self.request)
        else:
            sign_in_complete(self.request, device, method=PASSKEY)


class PasskeyRegistrationCompleteView(CompleteCredentialRegistrationView):  # type: ignore[misc]
    """A passkey was added: audit it, and lift the "add a passkey first" limit."""

    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        response: JsonResponse = super().post(*args, **kwargs)
        user: User = self.request.user
        self.request.session.pop(PASSKEY_PENDING, None)
        second_factor_event_record(
            user,
            action=AccessAction.SECOND_FACTOR_ENROL,
            allowed=True,
            reason="passkey_added",
        )
        return response
