"""Who is calling the API, as the policies see them."""

from rest_framework.request import Request

from accounts.actors import Actor, actor_for_user


def api_actor(request: Request) -> Actor:
    """The Actor of an authenticated API request. A bearer token (a feed
    system's) counts as a verified second factor; a browser session counts
    when its second factor was verified. Views call it behind
    IsAuthenticated, so the user is a real one."""
    user = request.user
    verified = bool(request.auth) or bool(getattr(user, "is_verified", bool)())
    return actor_for_user(user, second_factor_verified=verified)  # type: ignore[arg-type]  # IsAuthenticated guarantees a User
