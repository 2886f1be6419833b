"""The retention job's runs and the plans its dry runs keep.

A run walks every active and archived child in id order, a batch at a time;
``checkpoint`` is the last child of the last committed batch, so a run that
was killed resumes after it (directory/services/lifecycle.py).
"""

import uuid

from django.db import models
from django.utils import timezone

from contactpoint.crypto.fields import EncryptedField


class LifecycleRunKind(models.TextChoices):
    RUN = "run", "Run"
    DRY_RUN = "dry_run", "Dry run"


class LifecycleRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Stopped by an error"


class LifecycleRun(models.Model):
    """One run (or dry run) of the retention job, as of one day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=LifecycleRunKind.choices)
    #: The day whose rules apply. A run resumed after midnight keeps it, so
    #: its report stays true to the day it started; a dry run asked for from
    #: the report page plans the day of the next nightly run.
    as_of = models.DateField()
    status = models.CharField(
        max_length=16,
        choices=LifecycleRunStatus.choices,
        default=LifecycleRunStatus.RUNNING,
    )
    #: The last child (by id) of the last committed batch.
    checkpoint = models.UUIDField(null=True, blank=True)
    #: Active and archived children when the run started (for progress).
    total = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    #: Rule code -> records archived or purged (planned, for a dry run).
    #: Counts only: which children were due is in the audit log, or for a
    #: dry run in its encrypted ``LifecyclePlanBatch`` rows.
    counts = models.JSONField(default=dict)
    #: Records due when planned but no longer due when locked (a feed or a
    #: person changed them in between), and records whose dates could not
    #: be decrypted; both left as they were.
    skipped = models.PositiveIntegerField(default=0)
    unreadable = models.PositiveIntegerField(default=0)
    requested_by_id = models.UUIDField(
        null=True, blank=True, help_text="Null for the nightly schedule."
    )
    #: Set in Python, not by the database: runs started in one transaction
    #: still sort in the order they started.
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "status", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(status="running"),
                name="lifecycle_one_running_run_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} as of {self.as_of} ({self.status})"


class LifecyclePlanBatch(models.Model):
    """What one batch of a dry run found due: (child id, rule) pairs,
    encrypted, since which children turn 18 on a given day is a date of
    birth and which are archived after a death says that a child died."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(
        LifecycleRun, on_delete=models.CASCADE, related_name="plan_batches"
    )
    position = models.PositiveIntegerField()
    #: JSON list of [child id, rule code], in child id order.
    items = EncryptedField()

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "position"], name="lifecycle_plan_batch_once"
            )
        ]

    def __str__(self) -> str:
        return f"Batch {self.position} of {self.run_id}"
