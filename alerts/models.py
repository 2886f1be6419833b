"""Alerts: what happened (``AlertEvent``) and who was told (``Notification``).

An ``AlertEvent`` is written when something may need telling (a flagged
record opened from outside, a break-glass opening, a new involvement); the
Celery task that processes it finds the people to tell and adds the event to
one ``Notification`` per person and child. Within the batching window
(``settings.ALERT_BATCH_MINUTES``) later events join the same notification
instead of making new ones, and its e-mail goes once.

Nothing here holds a child's name, date of birth or address: a child is
known by id and directory number. The free text a reader gave as their
reason may mention the child, so it is encrypted (bound to the event row).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from alerts.rules import KIND_LABELS, REASON_LABELS
from contactpoint.crypto.fields import EncryptedField

KIND_CHOICES = [(kind.value, label) for kind, label in KIND_LABELS.items()]
REASON_CHOICES = [(reason.value, label) for reason, label in REASON_LABELS.items()]


class AlertEvent(models.Model):
    """One thing that happened to a child's record that someone may be told of.

    Written by ``alerts.triggers`` when the request happens; the actor's
    name, organisations and phone are copied in when the task processes it,
    so an alert keeps saying who it was even if their account changes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    child_id = models.UUIDField()
    actor_id = models.UUIDField(help_text="Who opened the record or joined.")
    #: directory.policies.Purpose value; empty when none was needed.
    purpose = models.CharField(max_length=32, blank=True)
    purpose_detail = EncryptedField(null=True)
    break_glass = models.BooleanField(default=False)
    involvement_id = models.UUIDField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    actor_name = models.CharField(max_length=300, blank=True)
    actor_organisations = models.CharField(max_length=500, blank=True)
    actor_phone = models.CharField(max_length=32, blank=True)
    #: What joined, for a new involvement (never a sensitive service's name
    #: to someone who may not see it: such events tell nobody).
    involvement_summary = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(processed_at__isnull=True),
                name="alert_event_unprocessed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.child_id}"


class Notification(models.Model):
    """What one person (or mailbox) was told about one child, in one window."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty when only an e-mail address is told (a flag's contact "
        "without an account, or an authority's mailbox).",
    )
    #: "user:<id>" or "email:<address>": events join the open notification
    #: with the same key, child and kind.
    recipient_key = models.CharField(max_length=300)
    email = models.EmailField(blank=True, max_length=254)
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    reason = models.CharField(max_length=32, choices=REASON_CHOICES)
    child_id = models.UUIDField()
    directory_number = models.CharField(max_length=13)
    first_event = models.ForeignKey(
        AlertEvent, on_delete=models.CASCADE, related_name="+"
    )
    event_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_event_at = models.DateTimeField()
    #: Later events until then join this notification (equal to the first
    #: event's time for kinds that are never batched).
    window_ends_at = models.DateTimeField()
    latest_actor_name = models.CharField(max_length=300, blank=True)
    latest_actor_organisations = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["recipient", "-last_event_at"], name="alert_inbox_order"
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="alert_inbox_unread",
            ),
            models.Index(
                fields=["recipient_key", "child_id", "kind", "window_ends_at"],
                name="alert_batch_lookup",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_key}"


class NotificationEvent(models.Model):
    """An event added to a notification: at most once, so a task that runs
    again (a worker died, a message came twice) changes nothing."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE)
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "event"], name="alert_event_once_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_id} in {self.notification_id}"
