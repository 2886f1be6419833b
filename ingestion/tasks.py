"""Feed work done by Celery: ids in, one service call each.

Tasks take ids only, so no personal data ever sits in Redis. A run's tasks
are ``acks_late`` and idempotent: redelivered after a worker dies, a slice
resumes from its last committed chunk.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from ingestion.models import FeedRun, RunStatus
from ingestion.services import feed_run_start, feed_slice_process
from ingestion.sources import drop_folders_scan

#: A running run whose heartbeat is older than this has lost its workers.
STALE_AFTER = timedelta(minutes=10)


@shared_task(
    bind=True,
    acks_late=True,
    time_limit=30 * 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def feed_run_task(self: Any, run_id: str) -> list[int]:
    """Begin (or resume) one feed run and queue a task for each slice still
    to import, on this task's own queue; return those slices."""
    pending = feed_run_start(UUID(run_id))
    queue = (self.request.delivery_info or {}).get("routing_key")
    options = {"queue": queue} if queue else {}
    for number in pending:
        feed_slice_task.apply_async((run_id, number), **options)
    return pending


@shared_task(
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def feed_slice_task(run_id: str, number: int) -> str:
    """Import (or resume) one slice of a run; return the run's status."""
    return str(feed_slice_process(UUID(run_id), number).status)


@shared_task(acks_late=True, time_limit=10 * 60)
def feed_runs_resume_task() -> int:
    """Queue again every run left queued or running without a heartbeat for
    STALE_AFTER (its workers died); return how many."""
    cutoff = timezone.now() - STALE_AFTER
    stale = FeedRun.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
        created_at__lt=cutoff,
    ).exclude(heartbeat_at__gte=cutoff)
    count = 0
    for run_id in stale.values_list("id", flat=True):
        feed_run_task.delay(str(run_id))
        count += 1
    return count


@shared_task(acks_late=True, time_limit=60 * 60)
def feed_drop_folders_task() -> int:
    """Receive every file waiting in the feed sources' drop folders."""
    return drop_folders_scan()
