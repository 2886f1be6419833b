"""Directory work done off the request: ids in, one service call each.

Tasks take ids only, so no personal data ever sits in Redis.
"""

import smtplib
from uuid import UUID

from celery import shared_task
from django.db import transaction

from directory.services.break_glass import break_glass_notification_send


@shared_task(
    acks_late=True,
    time_limit=5 * 60,
    soft_time_limit=4 * 60,
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def break_glass_notify(child_id: str, actor_user_id: str) -> int:
    """Tell the responsible authority at once that a restricted record was
    opened by breaking glass; return how many e-mails were sent."""
    return break_glass_notification_send(
        child_id=UUID(child_id), actor_user_id=UUID(actor_user_id)
    )


def break_glass_notify_on_commit(child_id: UUID, actor_user_id: UUID) -> None:
    """Queue ``break_glass_notify`` once the caller's writes commit (the page
    and the API both call this after the gate answers granted_break_glass)."""
    child, user = str(child_id), str(actor_user_id)
    transaction.on_commit(lambda: break_glass_notify.delay(child, user))
