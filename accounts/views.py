"""Signing in (password, then a second factor), confirming it's you, your
account, and signing out.

The sign-in journey:

1. ``accounts:sign-in`` — username or email, and password. Success signs the
   user in *without* a second factor: every other page stays closed to them
   (``accounts.middleware.SecondFactorRequiredMiddleware``).
2. ``accounts:second-factor`` — the second-factor step. A user with no
   authenticator app goes to ``accounts:second-factor-setup`` (QR code, then
   their backup codes, shown once); others enter a code, or follow "Use a
   backup code instead" to ``accounts:second-factor-backup-code``.
3. ``sign_in_complete`` marks the session verified, and the user goes on to
   ``next`` or home.

``accounts:confirm-identity`` asks for a code again for pages that need a
fresh second factor (``accounts.decorators.fresh_second_factor_required``).
"""

import math
from typing import Any, ClassVar

import django_otp
from django.conf import settings
from django.contrib import admin, auth, messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import (
    LoginView,
    LogoutView,
    PasswordChangeView,
    redirect_to_login,
)
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp.models import Device

from accounts.decorators import fresh_second_factor_required
from accounts.forms import (
    BackupCodeForm,
    GovukPasswordChangeForm,
    SignInForm,
    TotpCodeForm,
)
from accounts.lockout import account_failures_clear, lockout_page, sign_in_is_locked
from accounts.middleware import (
    PASSKEY_PENDING,
    session_second_factor_confirmed,
    session_signed_in,
    user_is_verified,
    with_next,
)
from accounts.models import User
from accounts.sign_in import (
    sign_in_failure_record,
    sign_in_record,
    sign_out_record,
    user_password_change,
)
from accounts.two_factor import (
    Attempt,
    TotpEnrolment,
    backup_code_attempt,
    backup_codes_generate,
    backup_codes_left,
    passkeys_added,
    second_factor_options,
    totp_attempt,
    totp_confirm,
    totp_device_create,
    totp_enrolment_get,
    totp_key_groups,
    totp_qr_svg,
)

SIGN_IN = "sign_in"
CONFIRM = "confirm"
#: The unconfirmed authenticator app this session is setting up.
TOTP_ENROLMENT_SESSION_KEY = "cp_totp_enrolment"

FAILURE_MESSAGES = {
    "totp_wrong": (
        "The code is not correct. Enter the code your authenticator app shows now"
    ),
    "totp_replayed": (
        "This code has already been used. Wait for your authenticator app to "
        "show a new code, then enter it"
    ),
    "totp_not_enrolled": "Set up your authenticator app first",
    "totp_enrolment_gone": (
        "This set-up has expired. Scan the new QR code, then enter the code "
        "your app shows"
    ),
    "totp_already_enrolled": "You have already set up an authenticator app",
    "backup_code_wrong": (
        "This backup code is not correct, or it has already been used"
    ),
    "backup_code_none": (
        "You have no backup codes. Contact the administrator for this service "
        "at your organisation"
    ),
}


class AuthenticatedRequest(HttpRequest):
    """A request from a signed-in user (the middleware has let it through)."""

    user: User


def safe_next_url(request: HttpRequest) -> str | None:
    """The ``next`` parameter, if it points back into this site."""
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return None


def _next_or_home(request: HttpRequest) -> str:
    return safe_next_url(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def sign_in_complete(request: HttpRequest, device: Device, *, method: str) -> None:
    """Finish signing in: the password step passed, and now ``device`` has.

    The session gets a new key (it now carries more privilege), remembers
    the device (``user.is_verified()``), and starts its 10-hour clock. Every
    kind of second factor ends here: ``method`` ("totp", "backup_code",
    "passkey", …) goes into the access log.
    """
    request.session.cycle_key()
    django_otp.login(request, device)
    session_signed_in(request)
    user: User = request.user  # type: ignore[assignment]  # signed in
    sign_in_record(user=user, method=method)
    if second_factor_options(user).rule.must_add_passkey:
        # Their roles require a passkey: nothing else opens until it is added.
        request.session[PASSKEY_PENDING] = True
    # Only a complete sign-in forgives earlier failures (accounts.lockout).
    account_failures_clear(user)


# --- Step 1: password ---------------------------------------------------------


class SignInView(LoginView):
    template_name = "accounts/sign_in.html"
    form_class = SignInForm

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if user_is_verified(request.user):
            return redirect(_next_or_home(request))
        if request.user.is_authenticated:
            return redirect(self.get_success_url())
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def get_success_url(self) -> str:
        """The second-factor step, which passes ``next`` on when it is safe."""
        return with_next(reverse("accounts:second-factor"), safe_next_url(self.request))

    def form_invalid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        if form.failure is not None:
            sign_in_failure_record(user=form.failure.user, reason=form.failure.reason)
        response: HttpResponse = super().form_invalid(form)
        return response


# --- Step 2: a second factor ----------------------------------------------------


@method_decorator(never_cache, name="dispatch")
class SecondFactorStepView(FormView):  # type: ignore[type-arg]  # form set by subclasses
    """A page asking for one kind of second factor, to sign in or to confirm.

    Two hooks for what comes later: ``lockout_response`` (django-axes: refuse a
    locked-out account before any code is checked) and
    ``second_factor_failed`` (already sends Django's ``user_login_failed``
    signal, which django-axes counts).
    """

    purpose: ClassVar[str] = SIGN_IN
    method: ClassVar[str]
    request: AuthenticatedRequest

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        locked = self.lockout_response()
        if locked is not None:
            return locked
        if self.purpose == SIGN_IN and user_is_verified(request.user):
            return redirect(_next_or_home(request))
        elsewhere = self.redirect_elsewhere()
        if elsewhere is not None:
            return elsewhere
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def lockout_response(self) -> HttpResponse | None:
        """The lockout page, if this account or IP address is locked out.

        The session ends too: half-way through signing in, or (confirming
        it's you) at a computer where someone is guessing codes. After an
        unlock the user starts again from their password.
        """
        user = self.request.user
        username = user.get_username()
        if not sign_in_is_locked(self.request, username=username):
            return None
        sign_out_record(user=user, reason="locked_out")
        auth.logout(self.request)
        return lockout_page(self.request, username=username)

    def redirect_elsewhere(self) -> HttpResponse | None:
        return None

    def passkey_step_redirect(self) -> HttpResponse | None:
        """Off to the passkey step, if this user's roles accept nothing else."""
        if not second_factor_options(self.request.user).passkey_only:
            return None
        target = (
            "accounts:second-factor-passkey"
            if self.purpose == SIGN_IN
            else "accounts:confirm-identity-passkey"
        )
        return redirect(with_next(reverse(target), safe_next_url(self.request)))

    def attempt(self, code: str) -> Attempt:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context.update(
            purpose=self.purpose,
            next=safe_next_url(self.request) or "",
        )
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        attempt = self.attempt(form.cleaned_data["code"])
        if attempt.device is None:
            self.second_factor_failed(attempt)
            form.add_error("code", failure_message(attempt))
            response: HttpResponse = self.form_invalid(form)
            return response
        return self.second_factor_passed(attempt.device)

    def second_factor_passed(self, device: Device) -> HttpResponse:
        if self.purpose == SIGN_IN:
            sign_in_complete(self.request, device, method=self.method)
        else:
            session_second_factor_confirmed(self.request)
        return redirect(_next_or_home(self.request))

    def second_factor_failed(self, attempt: Attempt) -> None:
        """Count a wrong code against the account, as a wrong password is."""
        if attempt.retry_at is None:
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.request.user.get_username()},
                request=self.request,
            )


def failure_message(attempt: Attempt) -> str:
    if attempt.retry_at is not None:
        seconds = max(1, math.ceil((attempt.retry_at - timezone.now()).total_seconds()))
        unit = "second" if seconds == 1 else "seconds"
        return (
            f"You have entered too many wrong codes. Wait {seconds} {unit}, "
            "then try again"
        )
    return FAILURE_MESSAGES.get(attempt.reason, FAILURE_MESSAGES["totp_wrong"])


class TotpStepView(SecondFactorStepView):
    """Enter the code from your authenticator app (the default second factor)."""

    template_name = "accounts/second_factor.html"
    form_class = TotpCodeForm
    method = "totp"

    def redirect_elsewhere(self) -> HttpResponse | None:
        passkey = self.passkey_step_redirect()
        if passkey is not None:
            return passkey
        options = second_factor_options(self.request.user)
        if options.has_totp:
            return None
        if self.purpose == SIGN_IN:
            target = reverse("accounts:second-factor-setup")
        else:
            target = reverse("accounts:confirm-identity-backup-code")
        return redirect(with_next(target, safe_next_url(self.request)))

    def attempt(self, code: str) -> Attempt:
        return totp_attempt(user=self.request.user, code=code)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        backup = (
            "accounts:second-factor-backup-code"
            if self.purpose == SIGN_IN
            else "accounts:confirm-identity-backup-code"
        )
        context["backup_code_url"] = with_next(reverse(backup), context["next"])
        if second_factor_options(self.request.user).has_passkey:
            passkey = (
                "accounts:second-factor-passkey"
                if self.purpose == SIGN_IN
                else "accounts:confirm-identity-passkey"
            )
            context["passkey_url"] = with_next(reverse(passkey), context["next"])
        return context


class BackupCodeStepView(SecondFactorStepView):
    """Use one of your backup codes instead of the authenticator app."""

    template_name = "accounts/second_factor_backup_code.html"
    form_class = BackupCodeForm
    method = "backup_code"

    def redirect_elsewhere(self) -> HttpResponse | None:
        return self.passkey_step_redirect()

    def attempt(self, code: str) -> Attempt:
        return backup_code_attempt(user=self.request.user, code=code)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        totp = (
            "accounts:second-factor"
            if self.purpose == SIGN_IN
            else "accounts:confirm-identity"
        )
        context["totp_url"] = with_next(reverse(totp), context["next"])
        return context

    def second_factor_passed(self, device: Device) -> HttpResponse:
        left = backup_codes_left(self.request.user)
        if left <= 3:
            messages.warning(
                self.request,
                f"You have {left} backup code{'' if left == 1 else 's'} left. "
                "Get new backup codes from your account page.",
            )
        return super().second_factor_passed(device)


@method_decorator(never_cache, name="dispatch")
class SecondFactorSetupView(FormView):  # type: ignore[type-arg]
    """First sign-in: add the service to an authenticator app, then save the
    backup codes (shown once, in the response, never stored in clear)."""

    template_name = "accounts/second_factor_setup.html"
    form_class = TotpCodeForm
    request: AuthenticatedRequest

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        options = second_factor_options(request.user)
        if options.passkey_only:
            return redirect(
                with_next(
                    reverse("accounts:second-factor-passkey"), safe_next_url(request)
                )
            )
        if options.has_totp:
            return redirect(
                with_next(reverse("accounts:second-factor"), safe_next_url(request))
            )
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def enrolment(self) -> TotpEnrolment:
        """This session's pending authenticator app, or a new one."""
        session = self.request.session
        pending = totp_enrolment_get(
            user=self.request.user, device_id=session.get(TOTP_ENROLMENT_SESSION_KEY)
        )
        if pending is None:
            pending = totp_device_create(self.request.user)
            session[TOTP_ENROLMENT_SESSION_KEY] = str(pending.device.pk)
        return pending

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        enrolment = self.enrolment()
        context.update(
            next=safe_next_url(self.request) or "",
            # Generated here from a URI of ours: no user input reaches it.
            qr_code=mark_safe(  # noqa: S308
                totp_qr_svg(
                    enrolment.otpauth_uri,
                    label="QR code to add this service to your authenticator app",
                )
            ),
            secret_key=totp_key_groups(enrolment.secret),
        )
        return context

    def form_valid(self, form: TotpCodeForm) -> HttpResponse:
        pending = totp_enrolment_get(
            user=self.request.user,
            device_id=self.request.session.get(TOTP_ENROLMENT_SESSION_KEY),
        )
        if pending is None:
            form.add_error("code", FAILURE_MESSAGES["totp_enrolment_gone"])
            return self.form_invalid(form)
        attempt = totp_confirm(pending.device, form.cleaned_data["code"])
        if attempt.device is None:
            form.add_error("code", failure_message(attempt))
            return self.form_invalid(form)
        del self.request.session[TOTP_ENROLMENT_SESSION_KEY]
        sign_in_complete(self.request, attempt.device, method="totp")
        return render_backup_codes(
            self.request,
            codes=backup_codes_generate(self.request.user),
            continue_url=_next_or_home(self.request),
        )


def render_backup_codes(
    request: HttpRequest, *, codes: list[str], continue_url: str
) -> HttpResponse:
    """The one and only time these codes are shown."""
    response = render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "continue_url": continue_url},
    )
    response["Cache-Control"] = "no-store"
    return response


class ConfirmTotpView(TotpStepView):
    """ "Confirm it's you": an authenticator code again, for a sensitive page."""

    purpose = CONFIRM


class ConfirmBackupCodeView(BackupCodeStepView):
    purpose = CONFIRM


# --- Your account -------------------------------------------------------------


class AccountView(TemplateView):
    template_name = "accounts/account.html"
    request: AuthenticatedRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["backup_codes_left"] = backup_codes_left(self.request.user)
        context["passkeys"] = passkeys_added(self.request.user)
        context["account_current"] = True
        return context


@method_decorator(never_cache, name="dispatch")
class BackupCodesView(TemplateView):
    """Get a new set of backup codes (the old ones stop working).

    Asks for a second factor again first: new codes are a way in.
    """

    template_name = "accounts/backup_codes_new.html"
    request: AuthenticatedRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["backup_codes_left"] = backup_codes_left(self.request.user)
        context["account_current"] = True
        return context

    @method_decorator(fresh_second_factor_required())
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render_backup_codes(
            request,
            codes=backup_codes_generate(self.request.user),
            continue_url=reverse("accounts:account"),
        )


class ChangePasswordView(PasswordChangeView):
    """Change your password: every other session of yours ends, this one stays."""

    template_name = "accounts/password_change.html"
    form_class = GovukPasswordChangeForm
    success_url = reverse_lazy("accounts:account")
    request: AuthenticatedRequest

    def form_valid(self, form: GovukPasswordChangeForm) -> HttpResponse:
        user = user_password_change(
            user=self.request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, user)
        messages.success(
            self.request,
            "Your password has been changed. You have been signed out everywhere else.",
        )
        return HttpResponseRedirect(self.get_success_url())


# --- Signing out, home, the Django admin ----------------------------------------


class SignOutView(LogoutView):
    """Sign out (POST only, as LogoutView requires) and say so on the next page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            sign_out_record(user=request.user, reason="signed_out")
        response = super().post(request, *args, **kwargs)
        messages.success(request, "You have signed out.")
        return response


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    role_assignments = (
        request.user.role_assignments.filter(
            revoked_at__isnull=True, organisation__is_active=True
        )
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )
    return render(request, "home.html", {"role_assignments": role_assignments})


def admin_sign_in(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """Stand in for the Django admin's own sign-in form.

    Everyone signs in through the service's sign-in page, so the admin offers
    no second way in that could skip what that page enforces. A signed-in
    user the admin turned away lacks staff status: signing in again cannot
    help them.
    """
    if admin.site.has_permission(request):
        return redirect("admin:index")
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
