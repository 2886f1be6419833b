"""``{% audit_workspace_visible as visible %}``: show the auditor's link or not."""

from typing import Any

from django import template

from accounts.actors import request_actor
from audit.selectors import decide_audit_workspace

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_workspace_visible(context: dict[str, Any]) -> bool:
    """True when the signed-in user may open the auditor's workspace: the
    policy's answer (decide_audit_workspace) for the request's Actor."""
    request = context.get("request")
    actor = request_actor(request) if request is not None else None
    return actor is not None and decide_audit_workspace(actor).allowed
