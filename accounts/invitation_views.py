"""Accepting an invitation: the emailed link, open to people not signed in."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.admin_forms import InvitationAcceptForm, posted, service_errors_apply
from accounts.selectors import InvitationInvalid, invitation_for_token
from accounts.services import invitation_accept

#: Unknown and malformed links are "not found"; the others are gone for good.
INVALID_STATUS = {"invitation_unknown": 404}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """Show who the invitation is for and let them choose a username and password.

    The token is in the path, so the page sends no referrer anywhere
    (SECURE_REFERRER_POLICY) and is never cached.
    """
    try:
        invitation = invitation_for_token(token=token)
    except InvitationInvalid as invalid:
        return _invalid(request, invalid)
    form = InvitationAcceptForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                password_again=form.cleaned_data["password_again"],
            )
        except InvitationInvalid as invalid:
            return _invalid(request, invalid)
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(
                request,
                "Your account is ready. Sign in with your new username and "
                "password to set up your second factor.",
            )
            return redirect("accounts:sign-in")
    return render(
        request, "invitations/accept.html", {"form": form, "invitation": invitation}
    )


def _invalid(request: HttpRequest, invalid: InvitationInvalid) -> HttpResponse:
    return render(
        request,
        "invitations/invalid.html",
        {"message": invalid.message},
        status=INVALID_STATUS.get(invalid.reason_code, 410),
    )
