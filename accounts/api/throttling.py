"""How often a caller may use the API (REST framework throttles).

A caller is a person (a signed-in session: counted per user) or a feed
system's API token (counted per token, so two systems sharing an account do
not starve each other). ``CallerRateThrottle`` counts every call against the
``person`` or ``token`` rate; ``CallerScopedRateThrottle`` counts a view's
calls against the rate named by its ``throttle_scope`` (search, audit
export), per caller again. A refused call answers 429 with ``Retry-After``.

Rates are read from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` on every
call (not once at import, as REST framework's own classes do), so settings
set from the environment and tests that override them both apply. Counts
live in the default cache (Redis), shared by every web instance.
"""

from typing import TYPE_CHECKING, Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

if TYPE_CHECKING:  # rest_framework.views imports this module (the settings).
    from rest_framework.views import APIView


def caller_key(request: Request) -> str:
    """``token-<id>`` for a feed system's token, ``person-<id>`` for a person."""
    if isinstance(request.auth, ApiToken):
        return f"token-{request.auth.pk}"
    return f"person-{request.user.pk}"


class _CallerThrottle(SimpleRateThrottle):
    """A throttle whose scope is chosen per request, with live settings."""

    def __init__(self) -> None:
        # The scope is known only once the request is; see allow_request.
        pass

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope or "")
        return str(rate) if rate else None

    def scope_for(self, request: Request, view: "APIView") -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: "APIView") -> bool:
        if request.user is None or not request.user.is_authenticated:
            return True  # Refused by the permissions already; nothing to count.
        self.scope = self.scope_for(request, view)
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": caller_key(request)}


class CallerRateThrottle(_CallerThrottle):
    """Every call: the ``person`` rate per user, the ``token`` rate per token."""

    def scope_for(self, request: Request, view: "APIView") -> str | None:
        return "token" if isinstance(request.auth, ApiToken) else "person"


class CallerScopedRateThrottle(_CallerThrottle):
    """A view's ``throttle_scope`` rate, per caller; no scope, no limit."""

    def scope_for(self, request: Request, view: "APIView") -> str | None:
        scope: str | None = getattr(view, "throttle_scope", None)
        return scope
