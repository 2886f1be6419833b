"""The header's "Inbox (N unread)" link: the count, for signed-in people."""

from functools import cached_property
from uuid import UUID

from django.http import HttpRequest

from alerts.selectors import unread_count


class InboxSummary:
    """Counted once, and only when a page shows it."""

    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id

    @cached_property
    def unread(self) -> int:
        return unread_count(user_id=self.user_id)

    @property
    def link_text(self) -> str:
        return f"Inbox ({self.unread} unread)"


def inbox(request: HttpRequest) -> dict[str, InboxSummary]:
    """``inbox``, for a signed-in person with a verified second factor."""
    user = getattr(request, "user", None)
    is_verified = getattr(user, "is_verified", None)
    if user is None or not user.is_authenticated or not (is_verified and is_verified()):
        return {}
    return {"inbox": InboxSummary(user.pk)}
