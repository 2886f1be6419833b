"""API tokens for feed systems: revocable, shown once, stored only as a hash."""

import uuid

from django.db import models
from django.db.models.functions import Now


class ApiToken(models.Model):
    """A bearer token for one feed-system user.

    The token is "<prefix>.<secret>"; the prefix identifies the row, and only a
    SHA-256 of the whole token is stored, so a database dump yields no usable
    token.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    created_by_id = models.UUIDField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
