"""The access log: one row per attempt to read or change child data.

Append-only. The actor is stored as a value (not a foreign key), so deleting a
user never deletes or rewrites their history.
"""

import uuid

from django.db import models
from django.db.models.functions import Now

from contactpoint.crypto.fields import EncryptedField


class AccessAction(models.TextChoices):
    # Child data
    SEARCH = "search", "Search"
    VIEW = "view", "View record"
    CREATE = "create", "Create record"
    UPDATE = "update", "Change record"
    # Signing in
    SIGN_IN = "sign_in", "Sign in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
    SECOND_FACTOR = "second_factor", "Second factor check"
    SECOND_FACTOR_ENROL = "second_factor_enrol", "Second factor enrolled"
    SIGN_OUT = "sign_out", "Sign out"
    PASSWORD_CHANGE = "password_change", "Password changed"
    LOCKED_OUT = "locked_out", "Locked out"
    # Administration (subject_user_id says whose account)
    USER_INVITE = "user_invite", "Invite user"
    USER_ACTIVATE = "user_activate", "Invitation accepted"
    ROLE_GRANT = "role_grant", "Grant role"
    ROLE_REVOKE = "role_revoke", "Revoke role"
    USER_SUSPEND = "user_suspend", "Suspend user"
    USER_REACTIVATE = "user_reactivate", "Reactivate user"
    SECOND_FACTOR_RESET = "second_factor_reset", "Reset second factor"
    ACCOUNT_UNLOCK = "account_unlock", "Unlock account"
    TOKEN_ISSUE = "token_issue", "Issue API token"
    TOKEN_REVOKE = "token_revoke", "Revoke API token"


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"


class AccessEvent(models.Model):
    #: Append-only: rows are never rewritten, so key rotation leaves them under
    #: the key version that sealed them; old versions stay configured for as
    #: long as audit rows are kept (docs/crypto.md).
    ROTATES_KEYS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    actor_id = models.UUIDField(null=True)
    actor_role = models.CharField(max_length=32, blank=True)
    organisation_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=32, choices=AccessAction.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.CharField(max_length=64, help_text="Stable policy reason code.")
    child_id = models.UUIDField(null=True)
    subject_user_id = models.UUIDField(
        null=True, help_text="Whose account an administrative action changed."
    )
    detail = models.CharField(
        max_length=500,
        blank=True,
        help_text="What changed and why, for account events; never child data.",
    )
    purpose = models.CharField(max_length=32, blank=True)
    purpose_detail = EncryptedField(null=True)
    break_glass = models.BooleanField(default=False)
    request_id = models.CharField(max_length=64, blank=True)
    query_terms = EncryptedField(null=True)
    result_ids = EncryptedField(null=True)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            models.Index(fields=["child_id", "occurred_at"]),
            models.Index(fields=["actor_id", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome} by {self.actor_id}"
