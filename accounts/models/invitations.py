"""Invitations: a one-time link that lets a new user set a password and enrol."""

import uuid

from django.db import models
from django.db.models.functions import Now

from accounts.roles import ROLE_CHOICES


class Invitation(models.Model):
    """An administrator's invitation to one person for one role at one organisation.

    Only a SHA-256 of the emailed token is stored. A link works once, until
    ``expires_at``, and never after the invitation is withdrawn.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField()
    first_name = models.CharField(max_length=150)
    last_name = models.CharField(max_length=150)
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=32, choices=ROLE_CHOICES)
    reason = models.CharField(max_length=300)
    invited_by_id = models.UUIDField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation for {self.email}"
