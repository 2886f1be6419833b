"""What every page of the auditor's workspace shares."""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache

from accounts.actors import Actor, request_actor
from accounts.models import User
from audit.selectors import audit_workspace_check

P = ParamSpec("P")


class AuthenticatedRequest(HttpRequest):
    user: User


AuditView = Callable[Concatenate[AuthenticatedRequest, Actor, P], HttpResponseBase]


def auditor_view(
    view: AuditView[P],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Sign-in required; anyone but a verified auditor gets the 403 page.

    The view gets the Actor. Every page is ``never_cache``: they show who
    did what.
    """

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponseBase:
        authenticated: AuthenticatedRequest = request  # type: ignore[assignment]  # login_required checked the user
        actor = request_actor(authenticated)
        if actor is None:  # login_required lets only signed-in users this far
            raise PermissionDenied
        audit_workspace_check(actor=actor)
        return view(authenticated, actor, *args, **kwargs)

    return never_cache(login_required(wrapper))
