"""Scheduled account housekeeping (run by Celery beat: contactpoint/celery.py)."""

from celery import shared_task
from django.utils import timezone

from accounts.services import users_suspend_inactive


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=25 * 60)
def suspend_inactive_users() -> int:
    """Suspend accounts unused for 90 days; return how many were suspended.

    Safe to run twice: a user already suspended is not a candidate again.
    """
    return users_suspend_inactive(today=timezone.localdate())
