"""The Celery application: `celery -A contactpoint worker` and `... beat`.

Configuration comes from Django's settings (the CELERY_* names in
contactpoint/settings/base.py); tasks are discovered in each app's ``tasks.py``.
Tasks take ids only, so nothing personal ever sits in Redis.

Whoever starts a worker or beat sets DJANGO_SETTINGS_MODULE (scripts/run.py,
docker-compose.yml). There is deliberately no default here: importing the
``contactpoint`` package (pytest, scripts) must never choose the settings.
"""

from celery import Celery
from celery.schedules import crontab

app = Celery("contactpoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic tasks run by `celery beat` (exactly one beat process in production).
# Give every entry a plain-English comment saying what it does, when, and why.
app.conf.beat_schedule = {
    # Every night at 02:30 (UK time), suspend accounts nobody has signed in to
    # for 90 days: unused accounts are how stolen passwords go unnoticed.
    "suspend-inactive-users": {
        "task": "accounts.tasks.suspend_inactive_users",
        "schedule": crontab(hour=2, minute=30),
    },
}
