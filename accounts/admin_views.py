"""The administrator's workspace (/manage/): GOV.UK pages, not Django admin.

Views stay thin: parse the form, build the Actor, call a selector or a
service, render. Who may do what is decided in accounts/policies.py; a
refusal raised by a selector or service becomes a 404 when the account is
outside the administrator's scope (so nobody can probe for accounts
elsewhere) and a 403 otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.actors import Actor, request_actor
from accounts.admin_forms import (
    FeedSystemForm,
    InviteForm,
    ReasonForm,
    RoleGrantForm,
    TokenIssueForm,
    UserFilterForm,
    posted,
    service_errors_apply,
)
from accounts.models import User
from accounts.policies import AdminActionRefused
from accounts.roles import Role
from accounts.selectors import (
    UserDetail,
    access_review,
    api_token_get,
    invitation_get,
    invitation_list,
    organisations_in_scope,
    role_assignment_get,
    user_detail,
    user_list,
)
from accounts.services import (
    account_unlock,
    api_token_issue,
    api_token_revoke,
    feed_system_create,
    invitation_create,
    invitation_withdraw,
    role_grant,
    role_revoke,
    user_reactivate,
    user_second_factor_reset,
    user_suspend,
)
from contactpoint.paging import paging

P = ParamSpec("P")


class AuthenticatedRequest(HttpRequest):
    user: User


WorkspaceView = Callable[Concatenate[AuthenticatedRequest, Actor, P], HttpResponse]


def workspace_view(
    view: WorkspaceView[P],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Sign-in required; the view gets the Actor; refusals become 404 or 403.

    Every page is ``never_cache``: they show account data.
    """

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        authenticated = _as_authenticated(request)
        actor = request_actor(authenticated)
        if actor is None:  # login_required lets only signed-in users this far
            raise PermissionDenied
        try:
            return view(authenticated, actor, *args, **kwargs)
        except AdminActionRefused as refusal:
            if refusal.reason_code == "out_of_scope":
                raise Http404(refusal.message) from refusal
            raise PermissionDenied(refusal.message) from refusal

    return never_cache(login_required(wrapper))


def _as_authenticated(request: HttpRequest) -> AuthenticatedRequest:
    return request  # type: ignore[return-value]  # login_required checked the user


# The users list, one user, invitations, review, organisations ---------------


@require_safe
@workspace_view
def index(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    return redirect("manage:user-list")


@require_safe
@workspace_view
def user_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    organisations = organisations_in_scope(actor=actor)
    form = UserFilterForm(request.GET or None, organisations=organisations)
    page = user_list(
        actor=actor,
        filters=form.to_filters(
            today=timezone.localdate(), page=request.GET.get("page", 1)
        ),
    )
    return render(
        request,
        "manage/user_list.html",
        {
            "filter_form": form,
            **paging(request, page),
            "invitations": invitation_list(actor=actor),
            "now": timezone.now(),
            "current": "users",
        },
    )


@require_safe
@workspace_view
def user_detail_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID
) -> HttpResponse:
    detail = user_detail(actor=actor, user_id=user_id)
    return _user_page(request, actor, detail, grant_form=None)


def _user_page(
    request: AuthenticatedRequest,
    actor: Actor,
    detail: UserDetail,
    grant_form: RoleGrantForm | None,
    status: int = 200,
) -> HttpResponse:
    if grant_form is None and detail.can_grant:
        grant_form = RoleGrantForm(
            organisations=organisations_in_scope(actor=actor),
            roles=detail.grantable_roles,
        )
    return render(
        request,
        "manage/user_detail.html",
        {
            "detail": detail,
            "subject": detail.user,
            "form": grant_form,
            "current": "users",
        },
        status=status,
    )


@require_http_methods(["POST"])
@workspace_view
def role_grant_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID
) -> HttpResponse:
    detail = user_detail(actor=actor, user_id=user_id)
    form = RoleGrantForm(
        request.POST,
        organisations=organisations_in_scope(actor=actor),
        roles=detail.grantable_roles,
    )
    if form.is_valid():
        role = Role(form.cleaned_data["role"])
        try:
            role_grant(
                actor=actor,
                user=detail.user,
                organisation=form.cleaned_data["organisation"],
                role=role,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(
                request,
                f"{detail.user} is now {role.label.lower()} at "
                f"{form.cleaned_data['organisation']}.",
            )
            return redirect("manage:user-detail", user_id=user_id)
    return _user_page(request, actor, detail, grant_form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def user_invite_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    organisations = organisations_in_scope(actor=actor)
    form = InviteForm(posted(request), organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation_create(
                actor=actor,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                organisation=data["organisation"],
                role=Role(data["role"]),
                reason=data["reason"],
                link_base=f"{settings.SITE_URL}/",
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(
                request,
                f"Invitation sent to {data['first_name']} {data['last_name']} "
                f"at {data['email']}. The link works for 72 hours.",
            )
            return redirect("manage:user-list")
    return render(
        request, "manage/user_invite.html", {"form": form, "current": "invite"}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def feed_system_create_view(
    request: AuthenticatedRequest, actor: Actor
) -> HttpResponse:
    organisations = organisations_in_scope(actor=actor)
    form = FeedSystemForm(posted(request), organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = feed_system_create(
                actor=actor,
                name=data["name"],
                username=data["username"],
                email=data["email"],
                organisation=data["organisation"],
                reason=data["reason"],
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(
                request, f"Feed system {user} added. Issue it an API token below."
            )
            return redirect("manage:user-detail", user_id=user.pk)
    return render(
        request, "manage/feed_system_create.html", {"form": form, "current": "users"}
    )


@require_safe
@workspace_view
def access_review_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    review = access_review(actor=actor, today=timezone.localdate())
    return render(
        request, "manage/access_review.html", {"review": review, "current": "review"}
    )


@require_safe
@workspace_view
def organisation_list_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    organisations = organisations_in_scope(actor=actor)
    return render(
        request,
        "manage/organisation_list.html",
        {"organisations": organisations, "current": "organisations"},
    )


# Confirm-and-do actions on one account ----------------------------------------


@dataclass(frozen=True, slots=True)
class AccountAction:
    """A change to one account that needs a reason and a confirmation."""

    title: str
    button: str
    warning: str
    success: str
    perform: Callable[[Actor, User, str], object]


def _suspend(actor: Actor, user: User, reason: str) -> object:
    return user_suspend(actor=actor, user=user, reason=reason)


def _reactivate(actor: Actor, user: User, reason: str) -> object:
    return user_reactivate(actor=actor, user=user, reason=reason)


def _reset(actor: Actor, user: User, reason: str) -> object:
    user_second_factor_reset(actor=actor, user=user, reason=reason)
    return None


def _unlock(actor: Actor, user: User, reason: str) -> object:
    return account_unlock(user=user, unlocked_by=actor, reason=reason)


ACCOUNT_ACTIONS = {
    "suspend": AccountAction(
        title="Suspend {user}",
        button="Suspend account",
        warning=(
            "{user} will be signed out at once and will not be able to sign in "
            "until an administrator reactivates the account."
        ),
        success="{user} has been suspended and signed out.",
        perform=_suspend,
    ),
    "reactivate": AccountAction(
        title="Reactivate {user}",
        button="Reactivate account",
        warning=(
            "{user} will be able to sign in again with their password and "
            "second factor. Check their vetting is current first."
        ),
        success="{user} has been reactivated.",
        perform=_reactivate,
    ),
    "second-factor-reset": AccountAction(
        title="Reset the second factor of {user}",
        button="Reset second factor",
        warning=(
            "{user}'s authenticator app, passkeys and backup codes will stop "
            "working and they will be signed out. They set up a new second "
            "factor the next time they sign in. Only do this after checking who "
            "is asking, for example by calling them back on a known number."
        ),
        success="The second factor of {user} has been reset. They set up a new "
        "one when they next sign in.",
        perform=_reset,
    ),
    "unlock": AccountAction(
        title="Unlock {user}",
        button="Unlock account",
        warning=(
            "{user} was locked out after too many wrong attempts. Unlocking "
            "lets them try again straight away."
        ),
        success="{user} has been unlocked.",
        perform=_unlock,
    ),
}


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def account_action_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID, action: str
) -> HttpResponse:
    spec = ACCOUNT_ACTIONS[action]
    detail = user_detail(actor=actor, user_id=user_id)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            spec.perform(actor, detail.user, form.cleaned_data["reason"])
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(request, spec.success.format(user=detail.user))
            return redirect("manage:user-detail", user_id=user_id)
    name = str(detail.user)
    return render(
        request,
        "manage/confirm.html",
        {
            "form": form,
            "subject": detail.user,
            "title": spec.title.format(user=name),
            "warning": spec.warning.format(user=name),
            "button": spec.button,
            "cancel_url": reverse("manage:user-detail", args=[user_id]),
            "current": "users",
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def role_revoke_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID, assignment_id: int
) -> HttpResponse:
    assignment = role_assignment_get(
        actor=actor, user_id=user_id, assignment_id=assignment_id
    )
    what = f"{Role(assignment.role).label.lower()} at {assignment.organisation.name}"
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            role_revoke(
                actor=actor, assignment=assignment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(request, f"{assignment.user} is no longer {what}.")
            return redirect("manage:user-detail", user_id=user_id)
    return render(
        request,
        "manage/confirm.html",
        {
            "form": form,
            "subject": assignment.user,
            "title": f"Remove a role from {assignment.user}",
            "warning": (
                f"{assignment.user} will stop being {what} straight away. "
                "Their other roles are not changed."
            ),
            "button": "Remove role",
            "cancel_url": reverse("manage:user-detail", args=[user_id]),
            "current": "users",
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def invitation_withdraw_view(
    request: AuthenticatedRequest, actor: Actor, invitation_id: UUID
) -> HttpResponse:
    invitation = invitation_get(actor=actor, invitation_id=invitation_id)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation_withdraw(
                actor=actor, invitation=invitation, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(
                request, f"The invitation for {invitation.email} has been withdrawn."
            )
            return redirect("manage:user-list")
    return render(
        request,
        "manage/confirm.html",
        {
            "form": form,
            "title": f"Withdraw the invitation for {invitation.email}",
            "warning": "The link in the email will stop working straight away.",
            "button": "Withdraw invitation",
            "cancel_url": reverse("manage:user-list"),
            "current": "users",
        },
    )


# API tokens for feed systems --------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def token_issue_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID
) -> HttpResponse:
    detail = user_detail(actor=actor, user_id=user_id)
    form = TokenIssueForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = api_token_issue(
                actor=actor, user=detail.user, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            # Shown in the response to the POST, never stored or redirected
            # through: this page is the only time anyone sees the token.
            return render(
                request,
                "manage/token_issued.html",
                {"subject": detail.user, "token": token, "raw_token": raw},
            )
    return render(
        request,
        "manage/token_issue.html",
        {"form": form, "subject": detail.user, "current": "users"},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_view
def token_revoke_view(
    request: AuthenticatedRequest, actor: Actor, user_id: UUID, token_id: UUID
) -> HttpResponse:
    token = api_token_get(actor=actor, user_id=user_id, token_id=token_id)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            api_token_revoke(
                actor=actor, token=token, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            service_errors_apply(form, error)
        else:
            messages.success(request, f"The API token {token.name} has been revoked.")
            return redirect("manage:user-detail", user_id=user_id)
    return render(
        request,
        "manage/confirm.html",
        {
            "form": form,
            "subject": token.user,
            "title": f"Revoke the API token {token.name}",
            "warning": (
                f"Uploads from {token.user} using this token "
                f"(it starts {token.prefix}) will be refused straight away."
            ),
            "button": "Revoke token",
            "cancel_url": reverse("manage:user-detail", args=[user_id]),
            "current": "users",
        },
    )
