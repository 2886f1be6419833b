"""The access log: one row per attempt to read or change child data.

Append-only and tamper-evident (docs/audit-format.md): every event carries a
gap-free sequence number and the SHA-256 of its canonical encoding chained to
the previous event's; Ed25519-signed checkpoints of the chain's head are kept
in ``AuditCheckpoint`` and in files outside the database. The actor is stored
as a value (not a foreign key), so deleting a user never deletes or rewrites
their history.

The events table is partitioned by month (``audit/partitions.py``); the
application's database role may only INSERT and SELECT on it and on the
checkpoints (``audit/privileges.py``).
"""

import uuid

from django.contrib.postgres.fields import ArrayField
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
    # The auditor's workspace
    AUDIT_CHILD_HISTORY = "audit_child_history", "View a child's access history"
    AUDIT_EXPORT = "audit_export", "Export audit events"
    AUDIT_VERIFY = "audit_verify", "Verify the audit log"
    ANOMALY_REVIEW = "anomaly_review", "Review an anomaly finding"
    NEWS_LIST_CHANGE = "news_list_change", "Change the news list"
    ANOMALY_SCAN = "anomaly_scan", "Scan for anomalies"
    # Data feeds (detail names the feed source and run; child_id when one)
    FEED_RECEIVE = "feed_receive", "Receive a feed file"
    FEED_IMPORT = "feed_import", "Import a feed run"
    FEED_ROW_VIEW = "feed_row_view", "View a feed row"
    FEED_REVIEW = "feed_review", "Decide a feed row"
    CHILD_MERGE = "child_merge", "Merge two records"
    CHILD_SPLIT = "child_split", "Undo a merge"
    # A record's life and a person's rights over it
    RECORD_CORRECT = "record_correct", "Correct a field"
    SUBJECT_ACCESS = "subject_access", "Produce a subject access report"
    LIFECYCLE_RUN = "lifecycle_run", "Run the retention job"
    CHILD_ARCHIVE = "child_archive", "Archive a record"
    CHILD_PURGE = "child_purge", "Purge a record"
    # Alerts
    ALERT_SEND = "alert_send", "Send an alert"


class Outcome(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    DENIED = "denied", "Denied"


class AccessEvent(models.Model):
    #: Append-only: rows are never rewritten, so key rotation leaves them under
    #: the key version that sealed them; old versions stay configured for as
    #: long as audit rows are kept (docs/crypto.md).
    ROTATES_KEYS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: 1, 2, 3, ... with no gaps: assigned under the chain lock by the writer.
    seq = models.BigIntegerField(editable=False)
    #: Set by the writer under the chain lock, so it never decreases with seq.
    occurred_at = models.DateTimeField(editable=False)
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
    #: The child's record was shielded (restricted) when this event happened.
    shielded_record = models.BooleanField(default=False)
    request_id = models.CharField(max_length=64, blank=True)
    query_terms = EncryptedField(null=True)
    result_ids = EncryptedField(null=True)
    #: The previous event's entry_hash (64 zeros for the first event).
    prev_hash = models.CharField(max_length=64, editable=False)
    #: SHA-256 (hex) of this event's canonical encoding, prev_hash included.
    entry_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        # The table is created by hand in the migration (partitioned by
        # month, primary key (id, occurred_at), unique (seq, occurred_at),
        # whose index also serves lookups by seq); these indexes too.
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["child_id", "occurred_at"], name="audit_event_child"),
            models.Index(fields=["actor_id", "occurred_at"], name="audit_event_actor"),
            models.Index(fields=["occurred_at"], name="audit_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome} by {self.actor_id}"


class AuditChainHead(models.Model):
    """The chain's newest (seq, entry_hash): one row, kept by audit_event_append.

    A cache that spares every append a search of all partitions for the last
    event, and whose row lock serialises appends. Not evidence: verify_audit
    never reads it, and a wrong head only makes the next event break the
    chain where verify_audit will name it.
    """

    id = models.SmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1), name="audit_chain_head_single_row"
            )
        ]

    def __str__(self) -> str:
        return f"head at {self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement "event ``seq`` had hash ``entry_hash``" (append-only).

    Written every five minutes by Celery beat, here and as a line in a file
    outside the database (``CP_AUDIT_CHECKPOINT_DIR``). A database superuser
    who rewrites history must also forge an Ed25519 signature.
    """

    id = models.BigAutoField(primary_key=True)
    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    key_id = models.CharField(max_length=16, help_text="Which signing key.")
    signature = models.CharField(max_length=128, help_text="Ed25519, base64.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint at {self.seq}"


class AuditVerification(models.Model):
    """One run of the full check (``manage.py verify_audit`` or the button)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by_id = models.UUIDField(null=True, help_text="None when scheduled.")
    requested_at = models.DateTimeField(db_default=Now())
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    events_checked = models.BigIntegerField(default=0)
    checkpoints_checked = models.IntegerField(default=0)
    last_seq = models.BigIntegerField(null=True)
    first_broken_seq = models.BigIntegerField(null=True)
    problems = models.JSONField(default=list, help_text="Plain-words findings.")

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"verification {self.status} at {self.requested_at:%Y-%m-%d %H:%M}"


class AnomalyKind(models.TextChoices):
    BULK_VIEWING = "bulk_viewing", "Opened many more records than peers"
    BROWSING = "browsing", "Searched without opening records"
    OUT_OF_HOURS = "out_of_hours", "Opened records outside working hours"
    SHIELDED = "shielded", "Opened a shielded record"
    BREAK_GLASS = "break_glass", "Broke glass"
    SHARED_SURNAME = (
        "shared_surname",
        "Opened a record of a child with their surname",
    )
    NEWS_LIST = "news_list", "Opened a record of a child on the news list"


class AnomalyFinding(models.Model):
    """Something an auditor should look at, with the events behind it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=AnomalyKind.choices)
    actor_id = models.UUIDField()
    #: The day (Europe/London) the behaviour happened on.
    day = models.DateField()
    summary = models.CharField(max_length=300)
    event_seqs = ArrayField(models.BigIntegerField())
    detected_at = models.DateTimeField(db_default=Now())
    reviewed_at = models.DateTimeField(null=True)
    reviewed_by_id = models.UUIDField(null=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-day", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "actor_id", "day"], name="audit_finding_once_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.actor_id} {self.day}"


class NewsListEntry(models.Model):
    """A child in the news: every opening of their record becomes a finding."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child_id = models.UUIDField()
    note = models.CharField(
        max_length=200,
        help_text="Why the child is listed (a news story's title, never the "
        "child's details).",
    )
    added_by_id = models.UUIDField()
    added_at = models.DateTimeField(db_default=Now())
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["child_id"],
                condition=models.Q(removed_at__isnull=True),
                name="audit_news_list_one_current_entry",
            )
        ]

    def __str__(self) -> str:
        return f"news list {self.child_id}"
