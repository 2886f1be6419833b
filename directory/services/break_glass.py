"""Telling the responsible authority and the auditors at once when a
restricted record is opened in an emergency ("break glass").

The alerts app does the telling (alerts/): every shielding officer of the
child's responsible authority and every auditor gets an alert in their inbox
and an e-mail, never batched with others; when there is nobody to tell, the
authority's own mailbox is e-mailed. The e-mail names no child: it carries
the directory number, a link to the record (which only the authority's
shielding officers and data managers can open without breaking glass
themselves), who opened it and when. Celery runs it (directory/tasks.py)
with ids only, so no personal data sits in Redis.
"""

import logging
from datetime import datetime
from uuid import UUID

from alerts.events import alert_event_record
from alerts.rules import AlertKind
from alerts.tasks import alert_event_deliver
from directory.models import Child, ChildStatus
from directory.policies import Purpose

logger = logging.getLogger(__name__)


def break_glass_notification_send(
    *, child_id: UUID, actor_user_id: UUID, opened_at: datetime | None = None
) -> int:
    """Tell the responsible authority's shielding officers and every auditor
    that ``actor_user_id`` broke glass to open child ``child_id``'s record.

    Returns how many e-mails were sent now (one per person, so no one sees
    the others' addresses); one that fails is retried on its own. A child
    that is no longer in the directory is logged (ids only) and tells
    nobody.
    """
    if not Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE).exists():
        logger.warning("Break glass on %s: the record is no longer active", child_id)
        return 0
    event = alert_event_record(
        kind=AlertKind.BREAK_GLASS,
        child_id=child_id,
        actor_id=actor_user_id,
        purpose=Purpose.CHILD_PROTECTION,
        break_glass=True,
        occurred_at=opened_at,
    )
    sent = alert_event_deliver(event.id)
    if not sent:
        logger.warning("Break glass on %s: nobody was e-mailed", child_id)
    return sent
