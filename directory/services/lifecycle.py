"""The retention job: archive and purge records on schedule (docs/retention.md).

What is due is decided by the pure rules of ``directory.retention``
(``lifecycle_plan``); this module feeds them and applies their answer.

- A run walks every active and archived child in id order, ``BATCH_SIZE``
  at a time. Only active records' dates are decrypted (in the worker's
  memory, never stored); archived ones need only ``archived_at``.
- Each archive or purge is audited first (system actor, the child's id
  only, a reason code that names no rule: which rule applied would tell a
  reader of the log the child's birthday or that they died), then made in
  its own transaction under a row lock, after asking the rules again: a
  feed or a person may have changed the record since it was planned.
- After each batch the run's checkpoint (the batch's last child id) moves
  in one transaction; a killed run resumes after it, and a record the
  killed batch already archived or purged is no longer due, so nothing is
  done twice. A PostgreSQL advisory lock keeps two workers off one run.
- A dry run plans the same batches with the same rules and keeps what it
  found, encrypted, for the data manager's report; it changes nothing.
- One ``lifecycle_run`` event per run, with its counts.

Purging deletes the child and everything that cascades from it: names,
addresses, carers, involvements and their consents, warning flags,
blind-index entries, provenance, merges, and records merged into it (they
go with their survivor). A ``PurgedChild`` tombstone keeps the id.
"""

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_record, detail_fit
from contactpoint.advisory_locks import lock_key, session_lock
from contactpoint.crypto.errors import CryptoError
from contactpoint.crypto.fields import seal, unseal
from directory.models import (
    Child,
    ChildStatus,
    LifecyclePlanBatch,
    LifecycleRun,
    LifecycleRunKind,
    LifecycleRunStatus,
    PurgedChild,
)
from directory.policies import decide_lifecycle_report
from directory.retention import (
    LifecycleFacts,
    LifecycleRefused,
    LifecycleRule,
    PlannedAction,
    lifecycle_action,
    lifecycle_plan,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
#: When beat starts the nightly run (contactpoint/celery.py; a test checks
#: the two agree). A dry run asked for from the report plans that run's day.
NIGHTLY_AT = time(1, 30)
#: A running run without a heartbeat for this long has lost its worker.
STALE_AFTER = timedelta(minutes=10)
#: The access log's reason code for every archive and purge.
RETENTION_DUE = "retention_due"
#: ``LifecycleRun.counts`` key: records merged into a purged record.
PURGED_WITH_SURVIVOR = "purged_with_survivor"

_STATUSES = (ChildStatus.ACTIVE, ChildStatus.ARCHIVED)
_FIELDS = (
    "id",
    "status",
    "date_of_birth",
    "date_of_death",
    "consent_to_retain_until_25",
    "archived_at",
)


class _NoLongerDue(Exception):
    """Under the row lock the record turned out not to be due any more."""


def next_run_day(now: datetime | None = None) -> date:
    """The day the next nightly run plans for (UK time)."""
    local = timezone.localtime(now or timezone.now())
    if local.time() < NIGHTLY_AT:
        return local.date()
    return local.date() + timedelta(days=1)


# Starting runs ---------------------------------------------------------------


def lifecycle_run_start(
    *, kind: str, as_of: date, requested_by_id: UUID | None = None
) -> tuple[LifecycleRun, bool]:
    """A new run of ``kind`` (a ``LifecycleRunKind``), or the one of that
    kind already running: (run, created)."""
    total = Child.unaudited.filter(status__in=_STATUSES).count()
    try:
        with transaction.atomic():
            run = LifecycleRun.objects.create(
                kind=kind,
                as_of=as_of,
                total=total,
                requested_by_id=requested_by_id,
                heartbeat_at=timezone.now(),
            )
    except IntegrityError:
        running = LifecycleRun.objects.filter(
            kind=kind, status=LifecycleRunStatus.RUNNING
        ).first()
        if running is None:  # it finished in between: try once more
            return lifecycle_run_start(
                kind=kind, as_of=as_of, requested_by_id=requested_by_id
            )
        return running, False
    return run, True


def lifecycle_nightly(*, today: date | None = None) -> LifecycleRun:
    """The nightly job: finish any run left unfinished, run today's (once a
    day), then plan tomorrow's for the data managers' report.

    Returns today's run. Safe to call twice: a completed run for today is
    not repeated, and a run another worker holds is left to it.
    """
    today = today or timezone.localdate()
    for unfinished in lifecycle_runs_unfinished():
        lifecycle_run_process(run_id=unfinished.pk)
    run = LifecycleRun.objects.filter(
        kind=LifecycleRunKind.RUN, as_of=today, status=LifecycleRunStatus.COMPLETED
    ).first()
    if run is None:
        run, _ = lifecycle_run_start(kind=LifecycleRunKind.RUN, as_of=today)
        run = lifecycle_run_process(run_id=run.pk)
    _abandon_stale_dry_runs()
    dry_run, created = lifecycle_run_start(
        kind=LifecycleRunKind.DRY_RUN, as_of=today + timedelta(days=1)
    )
    if created:
        lifecycle_run_process(run_id=dry_run.pk)
    return run


def lifecycle_runs_unfinished() -> list[LifecycleRun]:
    """Runs (not dry runs) a dead worker or an error left unfinished, oldest
    first: the next run resumes them before starting its own."""
    return list(
        LifecycleRun.objects.filter(
            kind=LifecycleRunKind.RUN,
            status__in=[LifecycleRunStatus.RUNNING, LifecycleRunStatus.FAILED],
        ).order_by("started_at")
    )


def _abandon_stale_dry_runs() -> None:
    """A dry run whose worker died plans a day that may have passed: it is
    marked stopped rather than resumed, and a fresh one takes its place."""
    LifecycleRun.objects.filter(
        kind=LifecycleRunKind.DRY_RUN,
        status=LifecycleRunStatus.RUNNING,
        heartbeat_at__lt=timezone.now() - STALE_AFTER,
    ).update(status=LifecycleRunStatus.FAILED)


def lifecycle_dry_run_request(*, actor: Actor, request_id: str = "") -> LifecycleRun:
    """Plan the next nightly run now, in the background (the report page's
    button). Data managers only; audited.

    A dry run already running is reused, and queued again when its worker
    has died (no heartbeat for STALE_AFTER).
    """
    from directory.tasks import lifecycle_dry_run_task  # noqa: PLC0415  # tasks import us

    decision = decide_lifecycle_report(actor)
    access_event_record(
        actor=actor,
        action=AccessAction.LIFECYCLE_RUN,
        allowed=decision.allowed,
        reason="dry_run_requested" if decision.allowed else decision.reason,
        detail="Asked for a dry run of the retention job.",
        request_id=request_id,
    )
    if not decision.allowed:
        raise LifecycleRefused(decision.reason)
    run, created = lifecycle_run_start(
        kind=LifecycleRunKind.DRY_RUN,
        as_of=next_run_day(),
        requested_by_id=actor.user_id,
    )
    stale = run.heartbeat_at is None or run.heartbeat_at < timezone.now() - STALE_AFTER
    if created or stale:
        run_id = str(run.pk)
        transaction.on_commit(lambda: lifecycle_dry_run_task.delay(run_id))
    return run


# Running ---------------------------------------------------------------------


def lifecycle_run_process(
    *, run_id: UUID, batch_size: int = BATCH_SIZE
) -> LifecycleRun:
    """Run (or resume) one run or dry run to its end; return it.

    A run another worker holds, one already completed and a dry run that
    stopped are returned as they are. A transient database error propagates
    (the task retries and resumes after the checkpoint); any other error
    stops the run as failed after its last committed batch, audited with the
    error's class only.
    """
    with session_lock(lock_key("lifecycle-run", run_id)) as held:
        run = LifecycleRun.objects.get(pk=run_id)
        if not held or run.status == LifecycleRunStatus.COMPLETED:
            return run
        if run.status == LifecycleRunStatus.FAILED and (
            # A stopped dry run plans a day that may have passed: a new one
            # replaces it (and only the newest dry run keeps its plan).
            run.kind == LifecycleRunKind.DRY_RUN or not _resume(run)
        ):
            return run
        unreadable: list[UUID] = []
        try:
            while batch := _next_batch(run.checkpoint, batch_size):
                _batch_process(run, batch, unreadable)
        except OperationalError:
            raise
        except Exception as error:
            _run_fail(run, error)
            return run
        _run_finish(run, unreadable)
        return run


def _resume(run: LifecycleRun) -> bool:
    """Mark a failed run running again; False while another run of its kind runs."""
    try:
        with transaction.atomic():
            LifecycleRun.objects.filter(pk=run.pk).update(
                status=LifecycleRunStatus.RUNNING, heartbeat_at=timezone.now()
            )
    except IntegrityError:
        return False
    run.status = LifecycleRunStatus.RUNNING
    return True


def _next_batch(after: UUID | None, size: int) -> list[Child]:
    children = Child.unaudited.filter(status__in=_STATUSES)
    if after is not None:
        children = children.filter(pk__gt=after)
    return list(children.order_by("pk").only(*_FIELDS)[:size])


def _facts_of(child: Child) -> LifecycleFacts:
    """The rules' view of one child; decrypts an active record's dates."""
    if child.status == ChildStatus.ARCHIVED:
        archived_on = (
            timezone.localdate(child.archived_at) if child.archived_at else None
        )
        return LifecycleFacts(child_id=child.pk, archived_on=archived_on)
    death = unseal(child, "date_of_death")
    return LifecycleFacts(
        child_id=child.pk,
        date_of_birth=date.fromisoformat(unseal(child, "date_of_birth") or ""),
        date_of_death=date.fromisoformat(death) if death else None,
        consent_to_retain_until_25=child.consent_to_retain_until_25,
    )


def _readable_facts(
    batch: Sequence[Child], unreadable: list[UUID]
) -> list[LifecycleFacts]:
    """Facts of the batch; a record whose dates do not decrypt is left out
    (and counted), so one damaged record never stops everyone's retention."""
    facts: list[LifecycleFacts] = []
    for child in batch:
        try:
            facts.append(_facts_of(child))
        except (CryptoError, ValueError):
            unreadable.append(child.pk)
    return facts


def _batch_process(
    run: LifecycleRun, batch: Sequence[Child], unreadable: list[UUID]
) -> None:
    before = len(unreadable)
    planned = lifecycle_plan(_readable_facts(batch, unreadable), run.as_of)
    skipped = 0
    if run.kind == LifecycleRunKind.RUN:
        for action in planned:
            if not _apply(run, action):
                skipped += 1
    with transaction.atomic():
        if run.kind == LifecycleRunKind.DRY_RUN and planned:
            _plan_keep(run, planned)
            _count(run, [action.rule.value for action in planned])
        LifecycleRun.objects.filter(pk=run.pk).update(
            checkpoint=batch[-1].pk,
            checked=F("checked") + len(batch),
            skipped=F("skipped") + skipped,
            unreadable=F("unreadable") + len(unreadable) - before,
            heartbeat_at=timezone.now(),
        )
    run.refresh_from_db(
        fields=["checkpoint", "checked", "skipped", "unreadable", "counts"]
    )


def _counted(counts: dict[str, int], keys: Sequence[str]) -> dict[str, int]:
    updated = dict(counts)
    for key in keys:
        updated[key] = updated.get(key, 0) + 1
    return updated


def _plan_keep(run: LifecycleRun, planned: Sequence[PlannedAction]) -> None:
    """Keep a dry-run batch's findings, encrypted, for the report."""
    batch = LifecyclePlanBatch(run=run, position=run.checked)
    seal(
        batch,
        "items",
        json.dumps([[str(a.child_id), a.rule.value] for a in planned]),
    )
    batch.save(force_insert=True)


# Applying --------------------------------------------------------------------


def _apply(run: LifecycleRun, action: PlannedAction) -> bool:
    """Archive or purge one record; False when it was no longer due."""
    if action.rule.archives:
        return _audited_change(
            action=AccessAction.CHILD_ARCHIVE,
            child_ids=[action.child_id],
            detail=f"Archived by the retention job (run {run.pk}).",
            change=lambda: _archive(run, action.child_id),
        )
    merged = _merged_into(action.child_id)
    return _audited_change(
        action=AccessAction.CHILD_PURGE,
        child_ids=[action.child_id, *merged],
        detail=f"Purged by the retention job (run {run.pk}).",
        change=lambda: _purge(run, action.child_id, merged),
    )


def _audited_change(
    *,
    action: str,
    child_ids: Sequence[UUID],
    detail: str,
    change: Callable[[], None],
) -> bool:
    """Audit the change for each child first, then make it in one transaction.

    If the change turns out not to be due, or fails, a second event per
    child (denied: ``no_longer_due`` or ``not_completed``) says it did not
    happen; a failure then propagates.
    """
    for child_id in child_ids:
        access_event_record(
            actor=None,
            action=action,
            allowed=True,
            reason=RETENTION_DUE,
            child_id=child_id,
            detail=detail,
        )
    try:
        with transaction.atomic():
            change()
    except _NoLongerDue:
        _audit_undone(action, child_ids, "no_longer_due", f"Not done: {detail}")
        return False
    except Exception as error:
        _audit_undone(
            action,
            child_ids,
            "not_completed",
            f"Not completed ({type(error).__name__}): {detail}",
        )
        raise
    return True


def _audit_undone(
    action: str, child_ids: Sequence[UUID], reason: str, detail: str
) -> None:
    for child_id in child_ids:
        access_event_record(
            actor=None,
            action=action,
            allowed=False,
            reason=reason,
            child_id=child_id,
            detail=detail_fit(detail),
        )


def _locked_action(
    run: LifecycleRun, child_id: UUID, status: ChildStatus
) -> tuple[Child, PlannedAction]:
    """The child, locked, and what the rules say now; _NoLongerDue if nothing."""
    child = (
        Child.unaudited.select_for_update()
        .filter(pk=child_id, status=status)
        .only(*_FIELDS)
        .first()
    )
    if child is None:
        raise _NoLongerDue
    try:
        action = lifecycle_action(_facts_of(child), run.as_of)
    except (CryptoError, ValueError):
        raise _NoLongerDue from None
    if action is None:
        raise _NoLongerDue
    return child, action


def _archive(run: LifecycleRun, child_id: UUID) -> None:
    child, action = _locked_action(run, child_id, ChildStatus.ACTIVE)
    child.status, child.archived_at = ChildStatus.ARCHIVED, timezone.now()
    child.save(update_fields=["status", "archived_at", "updated_at"])
    _count(run, [action.rule.value])


def _merged_into(child_id: UUID) -> list[UUID]:
    """Every record merged into ``child_id``, directly or through another."""
    found: list[UUID] = []
    frontier = [child_id]
    while frontier:
        frontier = list(
            Child.unaudited.filter(
                merged_into_id__in=frontier, status=ChildStatus.MERGED
            ).values_list("id", flat=True)
        )
        found.extend(frontier)
    return found


def _purge(run: LifecycleRun, child_id: UUID, merged: Sequence[UUID]) -> None:
    child, _ = _locked_action(run, child_id, ChildStatus.ARCHIVED)
    ids = [child_id, *merged]
    locked = list(
        Child.unaudited.select_for_update()
        .filter(pk__in=merged, status=ChildStatus.MERGED)
        .values_list("id", flat=True)
    )
    if sorted(locked) != sorted(merged) or sorted(_merged_into(child_id)) != sorted(
        merged
    ):
        raise _NoLongerDue  # a merge changed since planning: next run
    archived_at = child.archived_at
    if archived_at is None:  # never planned for purging; for the type checker
        raise _NoLongerDue
    # The merged records point at their survivor with PROTECT: let go first.
    Child.unaudited.filter(pk__in=merged).update(merged_into=None)
    Child.unaudited.filter(pk__in=ids).delete()
    PurgedChild.objects.bulk_create(
        [PurgedChild(id=purged_id, archived_at=archived_at) for purged_id in ids]
    )
    _count(run, [LifecycleRule.PURGE.value] + [PURGED_WITH_SURVIVOR] * len(merged))


def _count(run: LifecycleRun, keys: Sequence[str]) -> None:
    """Count inside the change's transaction, so the counts stay true to
    what was committed when a run is killed."""
    counts = (
        LifecycleRun.objects.select_for_update()
        .values_list("counts", flat=True)
        .get(pk=run.pk)
    )
    LifecycleRun.objects.filter(pk=run.pk).update(counts=_counted(counts, keys))


# Finishing -------------------------------------------------------------------


def lifecycle_counts_text(run: LifecycleRun) -> str:
    """The run's counts in words (no child data), for the access log and
    the command."""
    counts = run.counts
    dry = run.kind == LifecycleRunKind.DRY_RUN
    text = (
        f"{run.checked} records checked; "
        f"{'would archive' if dry else 'archived'} "
        f"{counts.get(LifecycleRule.ARCHIVE_AT_18, 0)} at 18, "
        f"{counts.get(LifecycleRule.ARCHIVE_AT_25, 0)} at 25 and "
        f"{counts.get(LifecycleRule.ARCHIVE_AFTER_DEATH, 0)} a year after death; "
        f"{'would purge' if dry else 'purged'} {counts.get(LifecycleRule.PURGE, 0)}"
    )
    with_survivor = counts.get(PURGED_WITH_SURVIVOR, 0)
    if with_survivor:
        text += f" and {with_survivor} records merged into them"
    if run.skipped:
        text += f"; {run.skipped} no longer due when locked"
    if run.unreadable:
        text += f"; {run.unreadable} could not be read"
    return text + "."


def _run_finish(run: LifecycleRun, unreadable: Sequence[UUID]) -> None:
    run.refresh_from_db()
    run.status = LifecycleRunStatus.COMPLETED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    if run.kind == LifecycleRunKind.DRY_RUN:
        # Only the newest plan is shown; older ones (only one dry run runs at
        # a time, so every other is older) would hold due dates for nothing.
        LifecyclePlanBatch.objects.exclude(run=run).delete()
    access_event_record(
        actor=None,
        action=AccessAction.LIFECYCLE_RUN,
        allowed=True,
        reason="completed" if run.kind == LifecycleRunKind.RUN else "dry_run_completed",
        detail=detail_fit(
            f"{run.get_kind_display()} {run.pk} as of {run.as_of}: "
            f"{lifecycle_counts_text(run)}"
        ),
        # The records that could not be read, encrypted, for someone to mend.
        result_ids=list(unreadable),
    )


def _run_fail(run: LifecycleRun, error: Exception) -> None:
    """Stop the run after its last committed batch. Neither the log nor the
    audit keeps the error's text (a database error can quote values)."""
    LifecycleRun.objects.filter(pk=run.pk).update(
        status=LifecycleRunStatus.FAILED, heartbeat_at=timezone.now()
    )
    run.refresh_from_db()
    logger.error(
        "Lifecycle run %s stopped after %s records: %s",
        run.pk,
        run.checked,
        type(error).__name__,
    )
    access_event_record(
        actor=None,
        action=AccessAction.LIFECYCLE_RUN,
        allowed=False,
        reason="failed",
        detail=(
            f"{run.get_kind_display()} {run.pk} as of {run.as_of}: stopped "
            f"after {run.checked} records ({type(error).__name__})."
        ),
    )
