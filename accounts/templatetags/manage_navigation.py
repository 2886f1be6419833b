"""``{% manage_users_visible as visible %}``: show the workspace link or not."""

from typing import Any

from django import template

from accounts.actors import request_actor
from accounts.policies import decide_admin_workspace

register = template.Library()


@register.simple_tag(takes_context=True)
def manage_users_visible(context: dict[str, Any]) -> bool:
    """True when the signed-in user may open the administrator's workspace: the
    policy's answer (decide_admin_workspace) for the request's Actor."""
    request = context.get("request")
    actor = request_actor(request) if request is not None else None
    return actor is not None and decide_admin_workspace(actor).allowed
