"""Alert work done by Celery: event and alert ids in, one service each.

Tasks take ids only, so no personal data sits in Redis. Processing an event
is idempotent (people already told are skipped), so a redelivered message
or the sweep's second try tells nobody twice.
"""

import logging
import smtplib
from datetime import timedelta
from uuid import UUID

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from alerts.models import AlertEvent
from alerts.services import alert_event_process, alerts_expire, notification_email_send

logger = logging.getLogger(__name__)

#: Errors worth trying an e-mail again for.
MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)
#: An event still unprocessed this long after it happened lost its message.
SWEEP_AFTER = timedelta(minutes=2)


@shared_task(
    acks_late=True,
    time_limit=5 * 60,
    soft_time_limit=4 * 60,
    autoretry_for=MAIL_ERRORS,
    retry_backoff=True,
    max_retries=8,
)
def alert_email_task(notification_id: str) -> bool:
    """Send one alert's e-mail (again); True if it went now."""
    return notification_email_send(notification_id=UUID(notification_id))


def alert_event_deliver(event_id: UUID) -> int:
    """Tell everyone ``event_id`` concerns and send the new alerts' e-mails
    now; an e-mail that fails is handed to ``alert_email_task`` to retry.
    Returns how many e-mails went now."""
    sent = 0
    for notification_id in alert_event_process(event_id=event_id):
        try:
            sent += notification_email_send(notification_id=notification_id)
        except MAIL_ERRORS:
            logger.warning("Alert %s e-mail failed; queued to retry", notification_id)
            try:
                alert_email_task.delay(str(notification_id))
            except (BrokerError, OSError):
                logger.warning("Alert %s e-mail not queued either", notification_id)
    return sent


@shared_task(
    acks_late=True,
    time_limit=5 * 60,
    soft_time_limit=4 * 60,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def alert_event_task(event_id: str) -> int:
    """Turn one event into alerts and e-mails; how many e-mails went."""
    return alert_event_deliver(UUID(event_id))


@shared_task(acks_late=True, time_limit=5 * 60)
def alert_events_resume_task() -> int:
    """Queue again every event left unprocessed for SWEEP_AFTER (its message
    was lost, or the broker was down when it happened); return how many."""
    cutoff = timezone.now() - SWEEP_AFTER
    stale = AlertEvent.objects.filter(
        processed_at__isnull=True, occurred_at__lt=cutoff
    ).order_by("occurred_at")
    count = 0
    for event_id in stale.values_list("id", flat=True)[:1000]:
        alert_event_task.delay(str(event_id))
        count += 1
    return count


@shared_task(acks_late=True, time_limit=30 * 60)
def alerts_expire_task() -> int:
    """Delete alerts older than CP_ALERT_KEEP_DAYS; how many events went."""
    return alerts_expire()
