"""What every page of the feeds workspace shares."""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.cache import never_cache

from accounts.actors import Actor, request_actor
from accounts.models import User
from ingestion.reviews import FeedRowUnavailable
from ingestion.selectors import FeedUnavailable, feed_workspace_check

P = ParamSpec("P")


class AuthenticatedRequest(HttpRequest):
    user: User


FeedsView = Callable[Concatenate[AuthenticatedRequest, Actor, P], HttpResponseBase]


def feeds_view(
    view: FeedsView[P],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Sign-in required (the middleware has already asked for a second
    factor); anyone but a verified data manager gets the 403 page; a source,
    run or row that is missing or outside the data manager's feeds gets the
    404 page, the same for both. The view gets the Actor. Never cached: the
    pages show what senders sent.
    """

    @wraps(view)
    def wrapper(
        request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs
    ) -> HttpResponseBase:
        authenticated: AuthenticatedRequest = request  # type: ignore[assignment]  # login_required checked the user
        actor = request_actor(authenticated)
        if actor is None:  # login_required lets only signed-in users this far
            raise PermissionDenied
        feed_workspace_check(actor=actor)
        try:
            return view(authenticated, actor, *args, **kwargs)
        except (FeedUnavailable, FeedRowUnavailable):
            raise Http404 from None

    return never_cache(login_required(wrapper))
