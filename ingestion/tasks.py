"""Feed work done by Celery: ids in, one service call each.

Tasks take ids only, so no personal data ever sits in Redis. A run's task is
``acks_late`` and idempotent: redelivered after a worker dies, it resumes
from the run's last committed chunk.
"""

from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from ingestion.models import FeedRun, RunStatus
from ingestion.services import feed_run_process
from ingestion.sources import drop_folders_scan

#: A running run whose heartbeat is older than this has lost its worker.
STALE_AFTER = timedelta(minutes=10)


@shared_task(
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def feed_run_task(run_id: str) -> str:
    """Import (or resume) one feed run; return its status."""
    return str(feed_run_process(UUID(run_id)).status)


@shared_task(acks_late=True, time_limit=10 * 60)
def feed_runs_resume_task() -> int:
    """Queue again every run left queued or running without a heartbeat for
    STALE_AFTER (its worker died); return how many."""
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
