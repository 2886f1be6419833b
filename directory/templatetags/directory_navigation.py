"""``{% child_search_visible as visible %}``: show "Search for a child" or not."""

from typing import Any

from django import template

from accounts.actors import request_actor
from directory.policies import decide_child_search

register = template.Library()


@register.simple_tag(takes_context=True)
def child_search_visible(context: dict[str, Any]) -> bool:
    """True when the signed-in user may search for children: the policy's
    answer (decide_child_search) for the request's Actor."""
    request = context.get("request")
    actor = request_actor(request) if request is not None else None
    return actor is not None and decide_child_search(actor).allowed
