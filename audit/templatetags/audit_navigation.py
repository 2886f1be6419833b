"""``{% audit_workspace_visible as visible %}``: show the auditor's link or not."""

from typing import Any

from django import template

from accounts.actors import actor_for_user
from audit.selectors import decide_audit_workspace

register = template.Library()

_CACHE_ATTRIBUTE = "_audit_workspace_visible"


@register.simple_tag(takes_context=True)
def audit_workspace_visible(context: dict[str, Any]) -> bool:
    """True when the signed-in user may open the auditor's workspace.

    The answer is the policy's (decide_audit_workspace), kept on the request
    so a page asks at most once.
    """
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    if not hasattr(request, _CACHE_ATTRIBUTE):
        is_verified = getattr(request.user, "is_verified", None)
        actor = actor_for_user(
            request.user, second_factor_verified=bool(is_verified and is_verified())
        )
        setattr(request, _CACHE_ATTRIBUTE, decide_audit_workspace(actor).allowed)
    return bool(getattr(request, _CACHE_ATTRIBUTE))
