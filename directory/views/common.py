"""What every practitioner page shares."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from accounts.actors import Actor, request_actor
from accounts.models import User
from contactpoint.logs import current_request_id, request_id_choose
from directory.policies import Purpose

P = ParamSpec("P")

#: How long a stated purpose lets the same user reopen the same record
#: without being asked again.
PURPOSE_GRANT_SECONDS = 15 * 60
#: Session key: {child id: [purpose, break glass, expires at (epoch seconds)]}.
#: Only codes and ids: the free-text reason is in the (encrypted) audit log,
#: never in the session table.
GRANTS_SESSION_KEY = "cp_directory_grants"


class AuthenticatedRequest(HttpRequest):
    user: User


DirectoryView = Callable[Concatenate[AuthenticatedRequest, Actor, P], HttpResponse]


def directory_view(
    view: DirectoryView[P],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Sign-in required (the middleware has already asked for a second
    factor); the view gets the Actor. Pages show child data: never cached."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponse:
        authenticated: AuthenticatedRequest = request  # type: ignore[assignment]  # login_required checked the user
        actor = request_actor(authenticated)
        if actor is None:  # login_required lets only signed-in users this far
            raise PermissionDenied
        return view(authenticated, actor, *args, **kwargs)

    return never_cache(login_required(wrapper))


def request_id_of(request: HttpRequest) -> str:
    """The load balancer's request id when it sent a sensible one, else a new one.

    The same id as the request's log lines (contactpoint/logs.py's middleware).
    """
    return current_request_id() or request_id_choose(
        request.headers.get("X-Request-ID", "")
    )


@dataclass(frozen=True, slots=True)
class Grant:
    """A purpose stated for one child in this session."""

    purpose: Purpose
    break_glass: bool


def grant_get(request: HttpRequest, child_id: UUID) -> Grant | None:
    """The purpose stated for ``child_id`` in the last 15 minutes, if any."""
    grants = request.session.get(GRANTS_SESSION_KEY) or {}
    found = grants.get(str(child_id))
    if not isinstance(found, list) or len(found) != 3:
        return None
    purpose, break_glass, expires_at = found
    if not isinstance(expires_at, int | float) or expires_at < time.time():
        return None
    try:
        return Grant(purpose=Purpose(purpose), break_glass=bool(break_glass))
    except ValueError:
        return None


def grant_store(request: HttpRequest, child_id: UUID, grant: Grant) -> None:
    """Remember ``grant`` for ``child_id`` for 15 minutes (expired ones go)."""
    now = time.time()
    grants = {
        key: value
        for key, value in (request.session.get(GRANTS_SESSION_KEY) or {}).items()
        if isinstance(value, list) and len(value) == 3 and value[2] >= now
    }
    grants[str(child_id)] = [
        grant.purpose.value,
        grant.break_glass,
        now + PURPOSE_GRANT_SECONDS,
    ]
    request.session[GRANTS_SESSION_KEY] = grants


def grant_forget(request: HttpRequest, child_id: UUID) -> None:
    grants = dict(request.session.get(GRANTS_SESSION_KEY) or {})
    if grants.pop(str(child_id), None) is not None:
        request.session[GRANTS_SESSION_KEY] = grants
