"""The audit log's scheduled work (Celery beat: contactpoint/celery.py).

Tasks take ids and ISO dates only: nothing personal ever sits in Redis.
"""

from datetime import date, timedelta
from uuid import UUID

from celery import shared_task
from django.db import connection
from django.utils import timezone

from audit.checkpoints import checkpoint_write
from audit.partitions import partitions_ensure
from audit.privileges import privileges_apply
from audit.verification import verification_run


@shared_task(acks_late=True, time_limit=5 * 60)
def audit_checkpoint_task() -> int | None:
    """Sign the chain's head (every five minutes); the checkpoint's seq or None."""
    checkpoint = checkpoint_write()
    return checkpoint.seq if checkpoint else None


@shared_task(acks_late=True, time_limit=10 * 60)
def audit_partitions_task() -> list[str]:
    """Create next months' partitions (daily); notes for the operator."""
    notes = partitions_ensure(connection)
    privileges_apply(connection)
    return notes


@shared_task(acks_late=True, time_limit=6 * 60 * 60, soft_time_limit=5 * 60 * 60)
def audit_verify_task(verification_id: str | None = None) -> str:
    """Recompute the chain (nightly, or from the integrity page's button)."""
    verification = verification_run(UUID(verification_id) if verification_id else None)
    return verification.status


@shared_task(acks_late=True, time_limit=60 * 60)
def anomalies_detect_task(day_iso: str | None = None) -> int:
    """Compute the anomaly findings of a day (default: yesterday, UK time)."""
    from audit.reports import anomalies_detect  # noqa: PLC0415  # heavy, lazy

    day = (
        date.fromisoformat(day_iso)
        if day_iso
        else timezone.localdate() - timedelta(days=1)
    )
    return anomalies_detect(day)
