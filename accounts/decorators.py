"""View decorators for pages that need more than a signed-in session."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.middleware import second_factor_is_fresh, with_next

View = TypeVar("View", bound=Callable[..., HttpResponse])

FRESH_SECOND_FACTOR_MAX_AGE = timedelta(minutes=5)


def fresh_second_factor_required(
    max_age: timedelta = FRESH_SECOND_FACTOR_MAX_AGE,
    *,
    return_to: str | None = None,
) -> Callable[[View], View]:
    """Ask for a second factor again unless one was given within ``max_age``.

    For exports, break-glass and the like: a session left open on a shared
    computer is not enough. A stale request goes to the "Confirm it's you"
    page, which comes back to the page asked for. A form sent with POST
    cannot be replayed after the detour: it comes back to the form page (the
    same URL, or the URL named ``return_to``) and the user sends it again.

    On class-based views: ``method_decorator(fresh_second_factor_required(),
    name="dispatch")``.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if second_factor_is_fresh(request, max_age):
                return view(request, *args, **kwargs)
            if request.method in {"GET", "HEAD"}:
                come_back_to = request.get_full_path()
            else:
                come_back_to = reverse(return_to) if return_to else request.path
            return redirect(
                with_next(reverse("accounts:confirm-identity"), come_back_to)
            )

        return wrapped  # type: ignore[return-value]  # same signature as view

    return decorator
