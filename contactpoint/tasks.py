"""The service's own scheduled work (Celery beat: contactpoint/celery.py)."""

from celery import shared_task

from contactpoint.health import worker_heartbeat_record


@shared_task(acks_late=True, time_limit=30, ignore_result=True)
def worker_heartbeat_task() -> None:
    """Record that a worker ran a task just now (every minute; ``/readyz``)."""
    worker_heartbeat_record()
