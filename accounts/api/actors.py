"""Who is calling the API, as the policies see them."""

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from accounts.actors import Actor, actor_for_user
from accounts.decorators import FRESH_SECOND_FACTOR_MAX_AGE
from accounts.middleware import second_factor_is_fresh


def api_actor(request: Request) -> Actor:
    """The Actor of an authenticated API request. A bearer token (a feed
    system's) counts as a verified second factor; a browser session counts
    when its second factor was verified. Views call it behind
    IsAuthenticated, so the user is a real one."""
    user = request.user
    verified = bool(request.auth) or bool(getattr(user, "is_verified", bool)())
    return actor_for_user(user, second_factor_verified=verified)  # type: ignore[arg-type]  # IsAuthenticated guarantees a User


class FreshSecondFactorRequired(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = (
        "Confirm it's you first: give your second factor again (Confirm it's "
        "you, in the service), then send this request within 5 minutes."
    )
    default_code = "fresh_second_factor_required"


def api_fresh_second_factor_check(request: Request) -> None:
    """Refuse a session whose last second factor is over 5 minutes old, as
    the pages' ``fresh_second_factor_required`` does (exports, break glass).
    A feed system's token is checked by its authentication alone."""
    if request.auth is None and not second_factor_is_fresh(
        request._request, FRESH_SECOND_FACTOR_MAX_AGE
    ):
        raise FreshSecondFactorRequired
