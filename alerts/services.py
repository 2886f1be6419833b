"""Writes: recording an event, telling people of it, e-mailing them, marking
alerts read.

``alert_event_process`` is the one place an event becomes alerts. It finds
the people to tell with the pure rules in ``alerts/rules.py``, then adds the
event to each person's open alert for the child (or opens a new one) under
a transaction-scoped advisory lock per (person, child, kind), so two workers
never open two alerts for the same window. Every alert is audited
(``AccessAction.ALERT_SEND``) before it is written, and every e-mail before
it is sent; an event already added to a person's alert is skipped, so a
task that runs twice tells nobody twice.

E-mails leave the service, so they carry no child's name, date of birth or
address: the directory number, who, when, why, and a link to sign in.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.actors import Actor, actor_for_user
from accounts.models import User
from alerts.models import AlertEvent, Notification, NotificationEvent
from alerts.rules import (
    BATCHED_KINDS,
    AlertKind,
    AlertReason,
    FlagContact,
    Recipient,
    break_glass_recipients,
    involvement_added_recipients,
    normalise_email,
    purpose_label,
    record_opened_recipients,
)
from alerts.selectors import (
    NotificationDetail,
    active_people_by_email,
    active_person,
    actor_details,
    auditors,
    authority_email,
    directory_number_display,
    notification_detail,
    shielding_officers_of,
)
from audit.models import AccessAction
from audit.services import access_event_change
from contactpoint.advisory_locks import lock_key, transaction_lock
from directory.alerting import (
    ChildAlertFacts,
    child_alert_facts,
    involvement_for_alert,
)
from directory.identifiers import long_date
from directory.policies import InvolvementFacts, decide_involvement_visible

logger = logging.getLogger(__name__)

#: The people told, in the access log's words.
_WHO = {
    AlertReason.LEAD_PROFESSIONAL: "the child's lead professional",
    AlertReason.FLAG_CONTACT: "a warning flag's contact",
    AlertReason.SHIELDING_OFFICER: "a shielding officer",
    AlertReason.AUDITOR: "an auditor",
    AlertReason.AUTHORITY_MAILBOX: "the responsible authority's mailbox",
}


def batch_window() -> timedelta:
    """How long an alert gathers later events (``CP_ALERT_BATCH_MINUTES``)."""
    return timedelta(minutes=settings.ALERT_BATCH_MINUTES)


# Turning an event into alerts -------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    recipients: list[Recipient]
    directory_number: str


def _record_opened_plan(event: AlertEvent, facts: ChildAlertFacts) -> list[Recipient]:
    details = actor_details(event.actor_id)
    contacts = active_people_by_email(f.contact_email for f in facts.flags)
    return record_opened_recipients(
        viewer_id=event.actor_id,
        viewer_organisation_ids=details.organisation_ids if details else frozenset(),
        flags=[
            FlagContact(
                owning_organisation_id=flag.owning_organisation_id,
                email=flag.contact_email,
                user=contacts.get(normalise_email(flag.contact_email)),
            )
            for flag in facts.flags
        ],
        lead_professional=active_person(facts.lead_professional_id),
    )


def _break_glass_plan(event: AlertEvent, facts: ChildAlertFacts) -> list[Recipient]:
    authority = facts.responsible_authority_id
    return break_glass_recipients(
        opener_id=event.actor_id,
        shielding_officers=shielding_officers_of(authority) if authority else [],
        auditors=auditors(),
        authority_email=authority_email(authority) if authority else "",
    )


def _involvement_plan(event: AlertEvent, facts: ChildAlertFacts) -> list[Recipient]:
    involvement = (
        involvement_for_alert(involvement_id=event.involvement_id)
        if event.involvement_id
        else None
    )
    if involvement is None or involvement.child_id != event.child_id:
        return []
    lead = active_person(facts.lead_professional_id)
    visible = False
    if lead is not None and not facts.shielded:
        lead_user = User.objects.get(pk=lead.user_id)
        visible = decide_involvement_visible(
            actor_for_user(lead_user, second_factor_verified=False),
            InvolvementFacts(
                sensitive=involvement.sensitive,
                organisation_id=involvement.organisation_id,
                has_consent=False,
            ),
        ).allowed
    if visible:
        role = (
            f", {involvement.practitioner_role}"
            if involvement.practitioner_role
            else ""
        )
        event.involvement_summary = (
            f"{involvement.service_label}{role}, from "
            f"{long_date(involvement.started_on)}"
        )[:300]
        event.actor_organisations = involvement.organisation_name[:500]
        if involvement.phone:
            event.actor_phone = involvement.phone[:32]
    return involvement_added_recipients(
        practitioner_id=event.actor_id,
        lead_professional=lead,
        visible_to_lead_professional=visible,
    )


_PLANS = {
    AlertKind.RECORD_OPENED: _record_opened_plan,
    AlertKind.BREAK_GLASS: _break_glass_plan,
    AlertKind.INVOLVEMENT_ADDED: _involvement_plan,
}


def _plan(event: AlertEvent) -> _Plan | None:
    facts = child_alert_facts(
        child_id=event.child_id, today=timezone.localdate(event.occurred_at)
    )
    if facts is None:
        return None
    details = actor_details(event.actor_id)
    if details is not None:
        event.actor_name = details.name[:300]
        event.actor_organisations = details.organisations[:500]
        event.actor_phone = details.phone[:32]
    recipients = _PLANS[AlertKind(event.kind)](event, facts)
    return _Plan(recipients=recipients, directory_number=facts.directory_number)


def _notification_add(
    event: AlertEvent, recipient: Recipient, directory_number: str
) -> None:
    """Add ``event`` to the recipient's open alert for the child, or open one.

    Runs inside the caller's transaction (``access_event_change``).
    """
    kind = AlertKind(event.kind)
    transaction_lock(lock_key("alert", recipient.key, event.child_id, kind))
    same = Notification.objects.filter(
        recipient_key=recipient.key, child_id=event.child_id, kind=kind
    )
    if same.filter(notificationevent__event=event).exists():
        return
    notification = (
        same.filter(
            window_ends_at__gt=event.occurred_at,
            first_event__occurred_at__lte=event.occurred_at,
        )
        .order_by("-window_ends_at")
        .first()
        if kind in BATCHED_KINDS
        else None
    )
    if notification is None:
        notification = Notification(
            recipient_id=recipient.user_id,
            recipient_key=recipient.key,
            email=recipient.email,
            kind=kind,
            reason=recipient.reason,
            child_id=event.child_id,
            directory_number=directory_number,
            first_event=event,
            last_event_at=event.occurred_at,
            window_ends_at=event.occurred_at
            + (batch_window() if kind in BATCHED_KINDS else timedelta()),
            latest_actor_name=event.actor_name,
            latest_actor_organisations=event.actor_organisations,
        )
        notification.save(force_insert=True)
    else:
        notification.event_count += 1
        notification.read_at = None
        fields = ["event_count", "read_at"]
        if event.occurred_at >= notification.last_event_at:
            notification.last_event_at = event.occurred_at
            notification.latest_actor_name = event.actor_name
            notification.latest_actor_organisations = event.actor_organisations
            fields += [
                "last_event_at",
                "latest_actor_name",
                "latest_actor_organisations",
            ]
        notification.save(update_fields=fields)
    NotificationEvent.objects.create(notification=notification, event=event)


def _already_told(event: AlertEvent, recipient: Recipient) -> bool:
    return NotificationEvent.objects.filter(
        event=event, notification__recipient_key=recipient.key
    ).exists()


def alert_event_process(*, event_id: UUID) -> list[UUID]:
    """Tell everyone ``event_id`` concerns; return the alerts whose e-mail
    is still to be sent (a new alert for someone with an address).

    Safe to run again: people already told are skipped, and an event is
    processed once. A child no longer active tells nobody.
    """
    event = AlertEvent.objects.filter(pk=event_id).first()
    if event is None:
        return []
    if event.processed_at is None:
        plan = _plan(event)
        for recipient in plan.recipients if plan else []:
            if _already_told(event, recipient):
                continue
            with access_event_change(
                actor=None,
                action=AccessAction.ALERT_SEND,
                reason=recipient.reason,
                child_id=event.child_id,
                subject_user_id=recipient.user_id,
                detail=f"{AlertKind(event.kind).label}: told {_WHO[recipient.reason]}"
                + (" in the inbox." if recipient.user_id else " by e-mail only."),
            ):
                _notification_add(
                    event, recipient, plan.directory_number if plan else ""
                )
        event.processed_at = timezone.now()
        event.save(
            update_fields=[
                "processed_at",
                "actor_name",
                "actor_organisations",
                "actor_phone",
                "involvement_summary",
            ]
        )
    return list(
        Notification.objects.filter(first_event=event, email_sent_at__isnull=True)
        .exclude(email="")
        .values_list("id", flat=True)
    )


# E-mail -----------------------------------------------------------------------

_EMAIL_TEMPLATES = {
    AlertKind.RECORD_OPENED: "alerts/email/record_opened.txt",
    AlertKind.BREAK_GLASS: "alerts/email/break_glass.txt",
    AlertKind.INVOLVEMENT_ADDED: "alerts/email/involvement_added.txt",
}


def _subject(notification: Notification, number: str) -> str:
    kind = AlertKind(notification.kind)
    if kind == AlertKind.BREAK_GLASS:
        return f"Restricted record {number} opened in an emergency"
    if kind == AlertKind.INVOLVEMENT_ADDED:
        return f"Someone new is working with the child with record {number}"
    return f"Record {number} was opened by another organisation"


def _email_body(notification: Notification, event: AlertEvent) -> str:
    number = directory_number_display(notification.directory_number)
    record_link = settings.SITE_URL + reverse(
        "directory:record", args=[notification.child_id]
    )
    alert_link = (
        settings.SITE_URL + reverse("alerts:notification", args=[notification.id])
        if notification.recipient_id
        else ""
    )
    return render_to_string(
        _EMAIL_TEMPLATES[AlertKind(notification.kind)],
        {
            "service_name": settings.SERVICE_NAME,
            "directory_number": number,
            "reason": AlertReason(notification.reason).label,
            "actor_name": event.actor_name or "Someone whose account has been removed",
            "actor_organisations": event.actor_organisations,
            "actor_phone": event.actor_phone,
            "occurred_at": timezone.localtime(event.occurred_at),
            "purpose": purpose_label(event.purpose),
            "involvement_summary": event.involvement_summary,
            "batch_minutes": settings.ALERT_BATCH_MINUTES,
            "alert_link": alert_link,
            "record_link": record_link,
            "sign_in_link": settings.SITE_URL + reverse("accounts:sign-in"),
        },
    )


def notification_email_send(*, notification_id: UUID) -> bool:
    """Send the alert's one e-mail, unless it has gone already; True if sent.

    Audited before sending; an SMTP or connection error is recorded as not
    completed and raised, so the task retries it (the alert stays unsent).
    """
    notification = (
        Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True)
        .exclude(email="")
        .select_related("first_event")
        .first()
    )
    if notification is None:
        return False
    reason = AlertReason(notification.reason)
    with access_event_change(
        actor=None,
        action=AccessAction.ALERT_SEND,
        reason=reason,
        child_id=notification.child_id,
        subject_user_id=notification.recipient_id,
        detail=f"{AlertKind(notification.kind).label}: e-mailed {_WHO[reason]}.",
    ):
        locked = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, email_sent_at__isnull=True)
            .first()
        )
        if locked is None:
            return False
        send_mail(
            _subject(
                notification, directory_number_display(notification.directory_number)
            ),
            _email_body(notification, notification.first_event),
            None,
            [notification.email],
        )
        locked.email_sent_at = timezone.now()
        locked.save(update_fields=["email_sent_at"])
    return True


# The inbox --------------------------------------------------------------------


def notification_open(
    *, actor: Actor, notification_id: UUID, request_id: str = ""
) -> NotificationDetail:
    """One of ``actor``'s alerts, as its page shows it, marked read.

    Raises NotificationUnavailable for a missing alert and someone else's.
    """
    detail = notification_detail(
        actor=actor, notification_id=notification_id, request_id=request_id
    )
    notification_mark_read(user_id=actor.user_id, notification_id=notification_id)
    return detail


def notification_mark_read(*, user_id: UUID, notification_id: UUID) -> None:
    """Mark one of the person's alerts read (nothing for anyone else's)."""
    Notification.objects.filter(
        pk=notification_id, recipient_id=user_id, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_mark_all_read(*, user_id: UUID) -> int:
    """Mark every one of the person's alerts read; how many were unread."""
    return Notification.objects.filter(
        recipient_id=user_id, read_at__isnull=True
    ).update(read_at=timezone.now())


# Housekeeping -----------------------------------------------------------------


def alerts_expire(*, now: datetime | None = None) -> int:
    """Delete events (and the alerts they began) older than
    ``CP_ALERT_KEEP_DAYS``: the access log keeps the lasting record.
    Returns how many events went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ALERT_KEEP_DAYS)
    with transaction.atomic():
        Notification.objects.filter(last_event_at__lt=cutoff).delete()
        deleted, _ = AlertEvent.objects.filter(
            occurred_at__lt=cutoff, notificationevent__isnull=True
        ).delete()
    logger.info("Alerts expired: %d events older than %s", deleted, cutoff.date())
    return deleted
