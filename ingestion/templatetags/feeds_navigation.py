"""``{% feeds_workspace_visible as visible %}``: show the "Feeds" link or not."""

from typing import Any

from django import template

from accounts.actors import request_actor
from ingestion.policies import decide_feed_workspace

register = template.Library()


@register.simple_tag(takes_context=True)
def feeds_workspace_visible(context: dict[str, Any]) -> bool:
    """True when the signed-in user may open the feeds workspace: the
    policy's answer (decide_feed_workspace) for the request's Actor."""
    request = context.get("request")
    actor = request_actor(request) if request is not None else None
    return actor is not None and decide_feed_workspace(actor).allowed
