"""Recording an event that may need telling, and queueing its task.

Kept apart from ``alerts.services`` on purpose: the directory's read gate
imports this (through ``alerts.triggers``) when it loads, so it imports
nothing that leads back to the directory's selectors. The task is sent by
name for the same reason.
"""

import logging
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from alerts.models import AlertEvent
from alerts.rules import AlertKind
from contactpoint.celery import app
from contactpoint.crypto.fields import seal

logger = logging.getLogger(__name__)

#: alerts.tasks.alert_event_task's registered name.
ALERT_EVENT_TASK = "alerts.tasks.alert_event_task"


def alert_event_record(
    *,
    kind: AlertKind,
    child_id: UUID,
    actor_id: UUID,
    purpose: str = "",
    purpose_detail: str = "",
    break_glass: bool = False,
    involvement_id: UUID | None = None,
    occurred_at: datetime | None = None,
) -> AlertEvent:
    """Write the event a task will turn into alerts (one insert). The
    reader's own words are sealed to the row; nothing else is personal."""
    event = AlertEvent(
        kind=kind,
        child_id=child_id,
        actor_id=actor_id,
        purpose=purpose,
        break_glass=break_glass,
        involvement_id=involvement_id,
        occurred_at=occurred_at or timezone.now(),
    )
    if purpose_detail.strip():
        seal(event, "purpose_detail", purpose_detail.strip())
    event.save(force_insert=True)
    return event


def alert_event_queue_on_commit(event_id: UUID) -> None:
    """Queue the event's task (its id only) once the caller's writes commit.

    A broker that cannot be reached never fails the request: the event stays
    unprocessed and the five-minute sweep queues it again.
    """

    def send() -> None:
        try:
            app.send_task(ALERT_EVENT_TASK, args=[str(event_id)])
        except (OperationalError, OSError):
            logger.warning("Alert event %s not queued: broker unreachable", event_id)

    transaction.on_commit(send)
