"""Feed sources, the files they send, the runs that import them, and every row's fate.

A file is stored once per source (its SHA-256 is unique per source), encrypted;
a run imports it in chunks, split into slices that workers import side by
side; each slice's count of committed rows (``FeedRun.slice_done``) is the
checkpoint that a resumed slice starts from. Every input row ends as exactly
one ``FeedRow``: applied, quarantined with reasons, or waiting for review
(and then decided).
Child ids are plain values here, not foreign keys: ingestion reaches the
directory's tables only through ``directory.services`` and ``directory.selectors``.
"""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from contactpoint.crypto.fields import EncryptedField


class FeedFormat(models.TextChoices):
    CSV = "csv", "Generic CSV"
    CTF = "ctf", "Common Transfer File (schools)"
    FHIR = "fhir", "FHIR R4 Bundle of UK Core Patients (health)"
    CIN = "cin", "Children in Need census XML (social care)"


class FeedMode(models.TextChoices):
    SNAPSHOT = "snapshot", "Full snapshot (children missing from a file have left)"
    CHANGES = "changes", "Changes only"


class Channel(models.TextChoices):
    UPLOAD = "upload", "Uploaded in the browser"
    API = "api", "Sent through the API"
    DROP_FOLDER = "drop_folder", "Picked up from the drop folder"


class FeedSource(models.Model):
    """One organisation's nightly feed of one format."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="feed_sources"
    )
    name = models.CharField(max_length=120)
    format = models.CharField(max_length=8, choices=FeedFormat.choices)
    mode = models.CharField(
        max_length=16, choices=FeedMode.choices, default=FeedMode.CHANGES
    )
    schedule = models.CharField(
        max_length=120,
        default="Nightly",
        help_text="When the sender delivers, in words (shown to data managers).",
    )
    default_service_type = models.CharField(
        max_length=32,
        help_text="The sender's service when a row names none (a ServiceType value).",
    )
    drop_folder = models.SlugField(
        max_length=64,
        blank=True,
        help_text="Folder name under CP_FEED_DROP_DIR scanned nightly; empty for none.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="feed_source_unique_name"
            ),
            models.UniqueConstraint(
                fields=["drop_folder"],
                condition=~models.Q(drop_folder=""),
                name="feed_source_unique_drop_folder",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FeedFile(models.Model):
    """A received file, stored encrypted (base64 inside the token)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(FeedSource, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = EncryptedField()
    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_by_id = models.UUIDField(
        null=True, help_text="The user (or feed system) who sent it; empty for drops."
    )
    received_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "sha256"], name="feed_file_once_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"File {self.sha256[:12]} for {self.source_id}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Importing"
    COMPLETED = "completed", "Finished"
    REJECTED = "rejected", "File refused"
    FAILED = "failed", "Stopped by an error"


class FeedRun(models.Model):
    """One import of one file. Counters are updated with every committed chunk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(
        FeedSource, on_delete=models.PROTECT, related_name="runs"
    )
    file = models.OneToOneField(
        FeedFile, null=True, on_delete=models.PROTECT, related_name="run"
    )
    status = models.CharField(
        max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    received_by_id = models.UUIDField(null=True)
    #: For a refused file: a stable code and the message shown to the sender.
    refusal_code = models.CharField(max_length=40, blank=True)
    refusal_message = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    #: Rows committed so far (as FeedRow rows), in every slice together.
    rows_done = models.PositiveIntegerField(default=0)
    #: The slices the rows are split into, fixed when the run first starts:
    #: slice i is rows slice_bounds[i] to slice_bounds[i + 1] - 1 (0-based).
    slice_bounds = ArrayField(models.PositiveIntegerField(), default=list)
    #: The checkpoint: the first slice_done[i] rows of slice i are committed.
    slice_done = ArrayField(models.PositiveIntegerField(), default=list)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    #: Involvements ended because a snapshot no longer reported them.
    ended_involvements = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True)
    heartbeat_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Run {self.id} ({self.status})"

    @property
    def applied(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def percent_done(self) -> int:
        if not self.total_rows:
            return 100 if self.status == RunStatus.COMPLETED else 0
        return min(100, self.rows_done * 100 // self.total_rows)


class RowState(models.TextChoices):
    APPLIED = "applied", "Applied"
    QUARANTINED = "quarantined", "Quarantined"
    WAITING = "waiting", "Waiting for review"
    LINKED = "linked", "Reviewed: linked to a child"
    CREATED = "created", "Reviewed: new child created"
    DISMISSED = "dismissed", "Reviewed: not imported"


#: States in which a row is finished.
REVIEWED_STATES = (RowState.LINKED, RowState.CREATED, RowState.DISMISSED)


class RowOutcome(models.TextChoices):
    CREATED = "created", "New child"
    UPDATED = "updated", "Existing child updated"
    UNCHANGED = "unchanged", "Existing child, nothing new"
    NONE = "", "Not applied"


class FeedRow(models.Model):
    """One input row of one run and what became of it.

    ``payload`` (encrypted) keeps the row as read, for quarantined and waiting
    rows only, so a data manager can see what arrived; ``problems`` keeps the
    validation reasons as codes and messages, ``match`` the candidate ids and
    weights. Neither holds child data in clear.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    reference = models.CharField(max_length=40)
    state = models.CharField(max_length=16, choices=RowState.choices)
    outcome = models.CharField(
        max_length=16, choices=RowOutcome.choices, blank=True, default=""
    )
    child_id = models.UUIDField(null=True)
    problems = models.JSONField(default=list)
    match = models.JSONField(default=dict)
    payload = EncryptedField(null=True)
    decided_by_id = models.UUIDField(null=True)
    decided_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position"], name="feed_row_once_per_position"
            )
        ]
        indexes = [models.Index(fields=["state", "run"])]

    def __str__(self) -> str:
        return f"Row {self.position} of {self.run_id}: {self.state}"


class FeedClaim(models.Model):
    """A child that a row of a run was applied to, while the run is importing.

    The slices of one run import side by side; the unique constraint makes
    the first of two rows that reach the same child the one applied, and the
    other waits for review ("linked_twice_in_file"), whichever slice each is
    in. A run's claims are deleted when it completes.
    """

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="+")
    child_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "child_id"], name="feed_claim_once_per_child"
            )
        ]

    def __str__(self) -> str:
        return f"Claim of {self.child_id} by run {self.run_id}"
