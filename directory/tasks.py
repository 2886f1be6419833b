"""Directory work done off the request: ids in, one service call each.

Tasks take ids only, so no personal data ever sits in Redis.
"""

import smtplib
from uuid import UUID

from celery import shared_task
from django.db import OperationalError, transaction

from directory.services.break_glass import break_glass_notification_send
from directory.services.lifecycle import lifecycle_nightly, lifecycle_run_process


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


@shared_task(
    acks_late=True,
    time_limit=6 * 60 * 60,
    soft_time_limit=6 * 60 * 60 - 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def lifecycle_nightly_task() -> str:
    """Archive and purge what is due today, resuming any run left unfinished,
    then plan tomorrow's for the report; return today's run id. No
    arguments: the job finds its own work."""
    return str(lifecycle_nightly().pk)


@shared_task(
    acks_late=True,
    time_limit=6 * 60 * 60,
    soft_time_limit=6 * 60 * 60 - 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def lifecycle_dry_run_task(run_id: str) -> str:
    """Plan (or resume planning) one dry run the report page asked for;
    return its status."""
    return str(lifecycle_run_process(run_id=UUID(run_id)).status)
