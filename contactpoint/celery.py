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
    # Every minute, a worker notes the time in Redis: /readyz reports beat,
    # the workers or the queue as stuck when that note grows old. A
    # heartbeat still queued after a minute is dropped (the next one counts).
    "worker-heartbeat": {
        "task": "contactpoint.tasks.worker_heartbeat_task",
        "schedule": crontab(),
        "options": {"expires": 60},
    },
    # Every night at 02:30 (UK time), suspend accounts nobody has signed in to
    # for 90 days: unused accounts are how stolen passwords go unnoticed.
    "suspend-inactive-users": {
        "task": "accounts.tasks.suspend_inactive_users",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every five minutes, sign the audit log's newest hash and keep the
    # signature in the database and in a file outside it: rewriting history
    # would then need the signing key as well as the database.
    "audit-checkpoint": {
        "task": "audit.tasks.audit_checkpoint_task",
        "schedule": crontab(minute="*/5"),
    },
    # Every night at 01:15, create the coming months' audit partitions well
    # before their first event arrives.
    "audit-partitions": {
        "task": "audit.tasks.audit_partitions_task",
        "schedule": crontab(hour=1, minute=15),
    },
    # Every night at 03:00, find yesterday's unusual access for the auditors
    # (bulk viewing, browsing, out of hours, shielded, break glass, ...).
    "audit-anomalies": {
        "task": "audit.tasks.anomalies_detect_task",
        "schedule": crontab(hour=3, minute=0),
    },
    # Every night at 04:00, recompute the whole audit chain and check every
    # checkpoint; the integrity page shows the result.
    "audit-verify": {
        "task": "audit.tasks.audit_verify_task",
        "schedule": crontab(hour=4, minute=0),
    },
    # Every night at 01:30 (UK time), the retention job: archive records at
    # 18 (25 with consent) or a year after a death, purge them 6 years after
    # archiving, resuming any run a dead worker left; then plan tomorrow's run
    # for the data managers' report (directory/services/lifecycle.py).
    "directory-lifecycle": {
        "task": "directory.tasks.lifecycle_nightly_task",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every night at 00:30, receive the files feed senders left in their drop
    # folders (each becomes a queued run, imported by the workers).
    "feed-drop-folders": {
        "task": "ingestion.tasks.feed_drop_folders_task",
        "schedule": crontab(hour=0, minute=30),
    },
    # Every five minutes, queue again any alert event still unprocessed two
    # minutes after it happened (its message was lost or the broker was
    # down): nobody misses being told that a flagged record was opened.
    "alert-events-resume": {
        "task": "alerts.tasks.alert_events_resume_task",
        "schedule": crontab(minute="*/5"),
    },
    # Every night at 02:45 (UK time), delete alerts older than
    # CP_ALERT_KEEP_DAYS: the access log keeps the lasting record.
    "alerts-expire": {
        "task": "alerts.tasks.alerts_expire_task",
        "schedule": crontab(hour=2, minute=45),
    },
    # Every five minutes, queue again any feed run whose worker died (no
    # heartbeat for ten minutes): it resumes after its last committed chunk.
    "feed-runs-resume": {
        "task": "ingestion.tasks.feed_runs_resume_task",
        "schedule": crontab(minute="*/5"),
    },
}
