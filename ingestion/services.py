"""Receiving feed files and importing them: the only I/O of the pipeline.

``feed_file_receive`` stores a file encrypted (once per source: its SHA-256
makes a re-delivery a no-op that says so) and queues a run.
``feed_run_start`` begins a run for the workers: it reads the file (a bad
one is refused) and, the first time, splits the rows into at most
``FEED_SLICES`` slices of whole chunks; ``feed_slice_process`` imports one
slice, and the slices of a run go side by side in as many workers. A slice
parses the file, validates it up to its last row and finds the repeats,
then per chunk of ``FEED_CHUNK_ROWS`` rows blocks, matches, plans and
applies inside one transaction that also writes every row's ``FeedRow`` and
moves the slice's checkpoint. A worker killed mid-run leaves the slice's
last committed chunk behind; the next attempt starts after it, so no row is
applied twice. Advisory locks keep two workers from importing the same
slice at once. ``feed_run_process`` does all of it in one process, slice
after slice (tests, the management command, the benchmark's serial figure).
"""

import base64
import hashlib
import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.actors import Actor
from accounts.models import Organisation
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.advisory_locks import lock_key, session_lock, transaction_lock
from contactpoint.batch_gc import collect_young, young_collections_only
from contactpoint.crypto.fields import binding, seal_value, unseal
from contactpoint.metrics import feed_rows_counted
from directory.records import ChildChanges, MatchProfile, Source
from directory.selectors.feeds import (
    FeedBlocking,
    feed_child_states,
    feed_identifier_holders,
    feed_vocabulary,
)
from directory.services.child_records import ChildRecordInvalid, child_records_create
from directory.services.copy_writer import copy_rows
from directory.services.feed_changes import (
    child_changes_apply,
    involvements_end_unreported,
)
from ingestion.models import (
    Channel,
    FeedClaim,
    FeedFile,
    FeedMode,
    FeedRow,
    FeedRun,
    FeedSource,
    RowOutcome,
    RowState,
    RunStatus,
)
from ingestion.pipeline.blocking import (
    IDENTIFIER_INDEXES,
    blocking_terms,
    identifier_lookup,
)
from ingestion.pipeline.duplicates import find_duplicates
from ingestion.pipeline.match import match_record
from ingestion.pipeline.plan import creation_problem, plan_changes
from ingestion.pipeline.records import (
    Candidate,
    Match,
    MatchOutcome,
    Rejection,
    ValidationContext,
    ValidRecord,
)
from ingestion.pipeline.validate import validate
from ingestion.readers import FeedFileRejected, Limits, read_feed
from ingestion.readers.base import RawRow

logger = logging.getLogger(__name__)

FEED_SOURCE_KIND = "feed"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of a delivered file: its run, and whether it was a repeat."""

    run: FeedRun
    duplicate: bool = False


def feed_file_receive(
    *,
    source: FeedSource,
    data: bytes,
    channel: str,
    actor: Actor | None,
    request_id: str = "",
) -> Receipt:
    """Store ``data`` for ``source`` and queue its run; a repeat changes nothing.

    A file over FEED_MAX_BYTES gets a refused run at once (nothing stored). The
    access event is written before anything else; the caller has already
    checked the policy.
    """
    digest = hashlib.sha256(data).hexdigest()
    existing = FeedRun.objects.filter(source=source, file__sha256=digest).first()
    if existing is not None and existing.status == RunStatus.FAILED:
        # Sent again after its run stopped: resume it from its checkpoint.
        with transaction.atomic():
            FeedRun.objects.filter(pk=existing.pk).update(
                status=RunStatus.QUEUED, finished_at=None
            )
            _enqueue_on_commit(existing.pk)
        existing.refresh_from_db()
        _receive_audit(actor, source, existing, request_id, "resumed")
        return Receipt(run=existing)
    if existing is not None:
        _receive_audit(actor, source, existing, request_id, "already_received")
        return Receipt(run=existing, duplicate=True)
    if len(data) > settings.FEED_MAX_BYTES:
        return feed_file_too_large(
            source=source, channel=channel, actor=actor, request_id=request_id
        )
    try:
        with transaction.atomic():
            file = FeedFile(
                source=source,
                sha256=digest,
                size=len(data),
                channel=channel,
                received_by_id=actor.user_id if actor else None,
            )
            file.content = seal_value(
                binding(FeedFile, "content", pk=file.pk),
                base64.b64encode(data).decode("ascii"),
            )
            file.save(force_insert=True)
            run = FeedRun.objects.create(
                source=source,
                file=file,
                channel=channel,
                received_by_id=file.received_by_id,
            )
            _enqueue_on_commit(run.id)
    except IntegrityError:
        # The same file arrived twice at the same moment: the other one won.
        run = FeedRun.objects.get(source=source, file__sha256=digest)
        _receive_audit(actor, source, run, request_id, "already_received")
        return Receipt(run=run, duplicate=True)
    _receive_audit(actor, source, run, request_id, "received")
    return Receipt(run=run)


def feed_file_too_large(
    *, source: FeedSource, channel: str, actor: Actor | None, request_id: str = ""
) -> Receipt:
    """A refused run for a file over FEED_MAX_BYTES; nothing of it is stored."""
    run = FeedRun.objects.create(
        source=source,
        channel=channel,
        received_by_id=actor.user_id if actor else None,
        status=RunStatus.REJECTED,
        refusal_code="too_large",
        refusal_message=(
            f"The file is larger than {settings.FEED_MAX_BYTES // 2**20} MB. "
            "Split it into smaller files and send each one."
        ),
        finished_at=timezone.now(),
    )
    _receive_audit(actor, source, run, request_id, "too_large")
    return Receipt(run=run)


def _enqueue_on_commit(run_id: UUID) -> None:
    from ingestion.tasks import feed_run_task  # noqa: PLC0415 - tasks import services

    run = str(run_id)
    # robust: a broker that is down must not fail the upload; the resume
    # sweep queues the run once it is back.
    transaction.on_commit(lambda: feed_run_task.delay(run), robust=True)


def _receive_audit(
    actor: Actor | None, source: FeedSource, run: FeedRun, request_id: str, what: str
) -> None:
    access_event_record(
        actor=actor,
        action=AccessAction.FEED_RECEIVE,
        allowed=True,
        reason=what,
        detail=f"Feed source {source.pk}, run {run.pk}: {what.replace('_', ' ')}.",
        request_id=request_id,
    )


# Importing --------------------------------------------------------------------
#
# A run's rows are split into slices of whole chunks when it first starts
# (FeedRun.slice_bounds); each slice is imported chunk by chunk from its own
# checkpoint (FeedRun.slice_done), by one worker at a time (an advisory lock
# per slice), and the slices of one run side by side. What two slices could
# otherwise both do to one child is settled in the database: a FeedClaim per
# child a row is applied to (the second row reaching it waits for review),
# and the creation of new children one chunk at a time per run, after
# blocking has looked again at what the other slices created meanwhile.


def slice_bounds(total_rows: int, chunk_rows: int, slices: int) -> list[int]:
    """Where each of at most ``slices`` slices of whole chunks begins, then
    ``total_rows``: [0, ..., total_rows]. Never more slices than chunks."""
    chunks = -(-total_rows // chunk_rows)
    count = max(1, min(slices, chunks))
    return [
        min(total_rows, (i * chunks // count) * chunk_rows) for i in range(count)
    ] + [total_rows]


def validation_context(
    source: FeedSource, today: date | None = None
) -> ValidationContext:
    """What validation may consult. A run passes the day it started, so a run
    resumed after midnight judges its rows as it began to."""
    service_types, flag_kinds = feed_vocabulary()
    organisation = source.organisation
    return ValidationContext(
        today=today or timezone.localdate(),
        source_organisation_id=organisation.pk,
        default_service_type=source.default_service_type,
        organisations_by_code=dict(
            Organisation.objects.filter(is_active=True).values_list("code", "pk")
        ),
        responsible_authority_id=organisation.authority_id,
        service_types=service_types,
        flag_kinds=flag_kinds,
    )


@dataclass(frozen=True)
class _FileRows:
    """A run's file, read and validated: a slice validates every row up to
    its last, as a row is a repeat of an earlier one wherever that one is."""

    rows: Sequence[RawRow]
    checked: Sequence[ValidRecord | Rejection]
    repeated: dict[int, Rejection]
    #: The day the run started: it judges every row as of then.
    today: date


def _run_get(run_id: UUID) -> FeedRun:
    return FeedRun.objects.select_related("source__organisation", "file").get(pk=run_id)


def _run_read(run: FeedRun) -> Sequence[RawRow] | None:
    """The run's rows as read; None (and the run refused) for a bad file."""
    assert run.file is not None  # noqa: S101 - refused runs have none and never get here
    data = base64.b64decode(unseal(run.file, "content") or "")
    try:
        parsed = read_feed(
            run.source.format, data, Limits(max_rows=settings.FEED_MAX_ROWS)
        )
    except FeedFileRejected as refusal:
        _run_refuse(run, refusal)
        return None
    return parsed.rows


def _file_rows(
    run: FeedRun, rows: Sequence[RawRow], upto: int | None = None
) -> _FileRows:
    """The rows up to ``upto`` (all by default) validated, and the repeats
    among them (a row's repeat depends only on the rows before it)."""
    assert run.started_at is not None  # noqa: S101 - set by _run_begin
    context = validation_context(run.source, timezone.localdate(run.started_at))
    checked = [validate(row, context) for row in rows[:upto]]
    valid = [item for item in checked if isinstance(item, ValidRecord)]
    return _FileRows(rows, checked, find_duplicates(valid), context.today)


def _run_begin(run: FeedRun) -> Sequence[RawRow] | None:
    """Mark the run running, read its file and, the first time, split its
    rows into slices; None when the file is refused. Under the run's lock."""
    now = timezone.now()
    FeedRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, started_at=run.started_at or now, heartbeat_at=now
    )
    run.refresh_from_db()
    rows = _run_read(run)
    if rows is None:
        return None
    if not run.slice_bounds:
        bounds = slice_bounds(len(rows), settings.FEED_CHUNK_ROWS, settings.FEED_SLICES)
        FeedRun.objects.filter(pk=run.pk).update(
            total_rows=len(rows),
            slice_bounds=bounds,
            slice_done=[0] * (len(bounds) - 1),
        )
        run.refresh_from_db()
    return rows


def _pending_slices(run: FeedRun) -> list[int]:
    bounds, done = run.slice_bounds, run.slice_done
    return [i for i in range(len(done)) if bounds[i] + done[i] < bounds[i + 1]]


def feed_run_process(run_id: UUID) -> FeedRun:
    """Import (or resume importing) one run here, its slices one after
    another. Safe to call again at any time."""
    with session_lock(lock_key("feed-run", run_id)) as held:
        run = _run_get(run_id)
        if not held or run.status in {RunStatus.COMPLETED, RunStatus.REJECTED}:
            return run
        rows = _run_begin(run)
        if rows is None:
            return run
        with young_collections_only():
            file_rows = _file_rows(run, rows)
            state = _RunState(blocking=FeedBlocking(), today=file_rows.today)
            for number in _pending_slices(run):
                if not _slice_import(run, number, file_rows, state):
                    break
        _run_finish(run)
        run.refresh_from_db()
        return run


def feed_run_start(run_id: UUID) -> list[int]:
    """Begin (or resume) a run for the workers: the slices still to import,
    for ``feed_slice_process`` to import side by side. A run with nothing
    left to import is completed here."""
    with session_lock(lock_key("feed-run", run_id)) as held:
        run = _run_get(run_id)
        if not held or run.status in {RunStatus.COMPLETED, RunStatus.REJECTED}:
            return []
        if _run_begin(run) is None:
            return []
        pending = _pending_slices(run)
    if not pending:
        _run_finish(run)
    return pending


def feed_slice_process(run_id: UUID, number: int) -> FeedRun:
    """Import (or resume) slice ``number`` of a run ``feed_run_start`` began;
    the slice that ends last completes the run. Safe to call again."""
    run = _run_get(run_id)
    if run.status != RunStatus.RUNNING or number >= len(run.slice_done):
        return run
    with young_collections_only():
        rows = _run_read(run)
        if rows is None:
            return run
        file_rows = _file_rows(run, rows, upto=run.slice_bounds[number + 1])
        state = _RunState(blocking=FeedBlocking(), today=file_rows.today)
        imported = _slice_import(run, number, file_rows, state)
    if imported:
        _run_finish(run)
    run.refresh_from_db()
    return run


def _slice_import(
    run: FeedRun, number: int, file_rows: _FileRows, state: "_RunState"
) -> bool:
    """Import slice ``number`` from its checkpoint, a chunk per transaction.
    False when the run stopped (it failed here or elsewhere); True when the
    slice is done, or another worker holds it (and will end it)."""
    with session_lock(lock_key("feed-run", run.pk, "slice", number)) as held:
        if not held:
            return True
        run.refresh_from_db(fields=["status", "slice_bounds", "slice_done"])
        if run.status != RunStatus.RUNNING:
            return False
        first, stop = run.slice_bounds[number], run.slice_bounds[number + 1]
        chunk = settings.FEED_CHUNK_ROWS
        try:
            for start in range(first + run.slice_done[number], stop, chunk):
                end = min(start + chunk, stop)
                if not _chunk_apply(
                    run,
                    file_rows.rows[start:end],
                    file_rows.checked[start:end],
                    file_rows.repeated,
                    start,
                    state=state,
                    slice_number=number,
                    slice_start=first,
                ):
                    return False
                collect_young()  # a chunk's cycles (contactpoint.batch_gc)
        except OperationalError:
            raise  # transient (connection, deadlock): the task retries it
        except Exception as error:
            _run_fail(run, error)
            return False
    return True


def _run_refuse(run: FeedRun, refusal: FeedFileRejected) -> None:
    FeedRun.objects.filter(pk=run.pk).update(
        status=RunStatus.REJECTED,
        refusal_code=refusal.code,
        refusal_message=refusal.message,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    access_event_record(
        actor=None,
        action=AccessAction.FEED_IMPORT,
        allowed=False,
        reason=refusal.code,
        detail=f"Feed source {run.source_id}, run {run.pk}: file refused.",
    )


def _run_fail(run: FeedRun, error: Exception) -> None:
    """Stop a run an unexpected error broke: committed chunks stay, the run
    says it stopped (its other slices stop at their next chunk), and neither
    the log nor the audit keeps the error's text (a database error can quote
    a row's values)."""
    FeedRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, finished_at=timezone.now()
    )
    run.refresh_from_db()
    logger.error(
        "feed run %s stopped after %d rows: %s",
        run.pk,
        run.rows_done,
        type(error).__name__,
    )
    access_event_record(
        actor=None,
        action=AccessAction.FEED_IMPORT,
        allowed=False,
        reason="failed",
        detail=(
            f"Feed source {run.source_id}, run {run.pk}: stopped after "
            f"{run.rows_done} rows ({type(error).__name__})."
        ),
    )


def _run_finish(run: FeedRun) -> None:
    """Complete the run once every slice is done (whoever gets here last)."""
    ended = 0
    with transaction.atomic():
        locked = FeedRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.RUNNING or sum(locked.slice_done) < (
            locked.total_rows
        ):
            return
        newer_snapshot = FeedRun.objects.filter(
            source=run.source_id,
            status=RunStatus.COMPLETED,
            created_at__gt=run.created_at,
        ).exists()
        if (
            run.source.mode == FeedMode.SNAPSHOT
            and not locked.quarantined
            and not newer_snapshot
        ):
            # A snapshot ends what it no longer reports; a row waiting for
            # review may be any of its candidates, so none of them is ended.
            # A run with quarantined rows ends nothing (those rows' children
            # are unknown): the run page asks for a corrected file. Nor does
            # an older file finishing after a newer one.
            ended = involvements_end_unreported(
                involvement_source=_involvement_source(run.source),
                reported=_reported_children(run),
                today=timezone.localdate(),
            )
        FeedClaim.objects.filter(run=locked).delete()
        locked.status = RunStatus.COMPLETED
        locked.ended_involvements = ended
        locked.finished_at = locked.heartbeat_at = timezone.now()
        locked.save()
    run.refresh_from_db()
    access_event_record(
        actor=None,
        action=AccessAction.FEED_IMPORT,
        allowed=True,
        reason="completed",
        detail=(
            f"Feed source {run.source_id}, run {run.pk}: {run.total_rows} rows; "
            f"{run.created} created, {run.updated} updated, {run.unchanged} "
            f"unchanged, {run.quarantined} quarantined, {run.waiting} waiting; "
            f"{ended} involvements ended."
        ),
    )


def _reported_children(run: FeedRun) -> set[UUID]:
    reported: set[UUID] = set()
    for child_id, state, match in FeedRow.objects.filter(run=run).values_list(
        "child_id", "state", "match"
    ):
        if child_id is not None:
            reported.add(child_id)
        if state == RowState.WAITING:
            reported.update(UUID(c["child_id"]) for c in match.get("candidates", []))
    return reported


def _involvement_source(source: FeedSource) -> str:
    return f"feed-source-{source.pk}"


def feed_source_for_writes(run: FeedRun) -> Source:
    """Provenance names the run; involvements name the feed source."""
    return Source(
        kind=FEED_SOURCE_KIND,
        reference=str(run.pk),
        involvement_reference=_involvement_source(run.source),
    )


@dataclass(slots=True)
class _RowOut:
    """A FeedRow to be written (COPY): the columns, without a model instance
    per row (a tenth of a chunk's planning went into building those)."""

    run_id: UUID
    position: int
    reference: str
    state: str
    match: dict[str, Any]
    payload: bytes | None
    id: UUID = dataclass_field(default_factory=uuid4)
    outcome: str = RowOutcome.NONE
    child_id: UUID | None = None
    problems: list[dict[str, Any]] = dataclass_field(default_factory=list)

    @property
    def pk(self) -> UUID:
        return self.id


@dataclass
class _RunState:
    """What one worker keeps between the chunks it imports: the posting
    lists and profiles blocking has read."""

    blocking: FeedBlocking
    #: The day the run started: it judges every row as of then.
    today: date


@dataclass
class _Linked:
    """A row applied to an existing child, and what it changes (if anything)."""

    row: _RowOut
    source: RawRow
    match: Match
    changes: ChildChanges | None


@dataclass
class _New:
    """A row that makes a new child."""

    row: _RowOut
    source: RawRow
    record: ValidRecord


@dataclass
class _ChunkResult:
    rows: list[_RowOut]
    linked: list[_Linked]
    created: list[_New]


class _Superseded(Exception):
    """The run stopped, or this chunk was committed already: roll back."""


#: Claim children for a run: the ids granted come back; an id another chunk
#: of the run claimed (committed, or committing: the insert waits) does not.
_CLAIM_SQL = """
INSERT INTO ingestion_feedclaim (run_id, child_id)
SELECT %s, child FROM unnest(%s::uuid[]) AS child ORDER BY child
ON CONFLICT (run_id, child_id) DO NOTHING
RETURNING child_id
"""

#: A chunk's checkpoint and counters, if its slice is where it started and
#: the run is still running.
_CHECKPOINT_SQL = """
UPDATE ingestion_feedrun
SET slice_done[%(index)s] = %(done)s, rows_done = rows_done + %(rows)s,
    created = created + %(created)s, updated = updated + %(updated)s,
    unchanged = unchanged + %(unchanged)s,
    quarantined = quarantined + %(quarantined)s, waiting = waiting + %(waiting)s,
    heartbeat_at = %(now)s
WHERE id = %(run)s AND status = %(running)s AND slice_done[%(index)s] = %(before)s
"""


def _chunk_apply(
    run: FeedRun,
    raw: Sequence[RawRow],
    checked: Sequence[ValidRecord | Rejection],
    repeated: dict[int, Rejection],
    start: int,
    *,
    state: _RunState,
    slice_number: int = 0,
    slice_start: int = 0,
) -> bool:
    """Match, plan and apply one chunk, its rows and the checkpoint: one
    transaction. False (nothing written) when the run has stopped."""
    try:
        with transaction.atomic():
            result = _chunk_plan(run, raw, checked, repeated, state)
            _claims_take(run, result)
            writes = feed_source_for_writes(run)
            child_changes_apply(
                [linked.changes for linked in result.linked if linked.changes],
                source=writes,
                today=timezone.localdate(),
            )
            if result.created and len(run.slice_bounds) > 2:
                _creations_recheck(run, result, state)
            created_ok = _create_children(result, writes)
            _claim(run, [new.row.child_id for new in result.created])
            for row in result.rows:
                if row.payload is not None:
                    row.payload = seal_value(
                        binding(FeedRow, "payload", pk=row.pk), row.payload.decode()
                    )
            _rows_write(result.rows)
            counts = dict.fromkeys(RowOutcome.values, 0)
            quarantined = waiting = 0
            for row in result.rows:
                if row.state == RowState.APPLIED:
                    counts[row.outcome] += 1
                elif row.state == RowState.QUARANTINED:
                    quarantined += 1
                else:
                    waiting += 1
            assert counts[RowOutcome.CREATED] == created_ok  # noqa: S101
            with connection.cursor() as cursor:
                cursor.execute(
                    _CHECKPOINT_SQL,
                    {
                        "index": slice_number + 1,  # PostgreSQL arrays count from 1
                        "done": start + len(raw) - slice_start,
                        "before": start - slice_start,
                        "rows": len(raw),
                        "created": counts[RowOutcome.CREATED],
                        "updated": counts[RowOutcome.UPDATED],
                        "unchanged": counts[RowOutcome.UNCHANGED],
                        "quarantined": quarantined,
                        "waiting": waiting,
                        "now": timezone.now(),
                        "run": run.pk,
                        "running": RunStatus.RUNNING.value,
                    },
                )
                if cursor.rowcount != 1:
                    raise _Superseded
    except _Superseded:
        return False
    feed_rows_counted(states=[row.state for row in result.rows])
    logger.info(
        "feed run %s: rows %d-%d committed", run.pk, start + 1, start + len(raw)
    )
    return True


def _claim(run: FeedRun, child_ids: Collection[UUID | None]) -> set[UUID]:
    """Claim ``child_ids`` for the run; the ones granted."""
    wanted = sorted({child for child in child_ids if child is not None})
    if not wanted:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [run.pk, wanted])
        return {child for (child,) in cursor.fetchall()}


def _claims_take(run: FeedRun, result: _ChunkResult) -> None:
    """Claim the children the chunk's rows are applied to; a row whose child
    another chunk of the run has already reached waits for review instead."""
    granted = _claim(run, [linked.row.child_id for linked in result.linked])
    kept = []
    for linked in result.linked:
        if linked.row.child_id in granted:
            kept.append(linked)
        else:
            _wait_for_review(
                linked.row,
                linked.source,
                Match(
                    outcome=MatchOutcome.REVIEW,
                    reason="linked_twice_in_file",
                    candidates=linked.match.candidates,
                ),
            )
    result.linked = kept


def _creations_recheck(run: FeedRun, result: _ChunkResult, state: _RunState) -> None:
    """With the run's other slices importing side by side, new children are
    made one chunk at a time per run (a transaction lock held to commit),
    and each row about to make one is first blocked and matched again, now
    seeing what the other slices made: two rows of one file for one new child
    make one child, and the other row waits for review."""
    transaction_lock(lock_key("feed-run", run.pk, "creations"))
    records = [new.record for new in result.created]
    found = state.blocking.candidates(
        {record.position: blocking_terms(record.child) for record in records}
    )
    rematched = {
        new.record.position: match_record(
            new.record,
            [
                Candidate(profile=p, shielded=s)
                for p, s in found.get(new.record.position, [])
            ],
        )
        for new in result.created
    }
    claimed = set(
        FeedClaim.objects.filter(
            run=run,
            child_id__in=[m.child_id for m in rematched.values() if m.child_id],
        ).values_list("child_id", flat=True)
    )
    kept = []
    for new in result.created:
        match = rematched[new.record.position]
        if match.outcome == MatchOutcome.NEW:
            kept.append(new)
            continue
        if match.outcome == MatchOutcome.LINK:
            reason = (
                "linked_twice_in_file"
                if match.child_id in claimed
                else "made_while_importing"
            )
            match = Match(MatchOutcome.REVIEW, reason, None, match.candidates)
        _wait_for_review(new.row, new.source, match)
    result.created = kept


def _wait_for_review(row: _RowOut, source_row: RawRow, match: Match) -> None:
    """Turn a row planned to be applied into one waiting for a person."""
    row.state = RowState.WAITING
    row.outcome = RowOutcome.NONE
    row.child_id = None
    row.match = _match_json(match)
    row.payload = _raw_json(source_row).encode()


def _chunk_plan(
    run: FeedRun,
    raw: Sequence[RawRow],
    checked: Sequence[ValidRecord | Rejection],
    repeated: dict[int, Rejection],
    state: _RunState,
) -> _ChunkResult:
    rows: list[_RowOut] = []
    to_match: list[ValidRecord] = []
    for source_row, item in zip(raw, checked, strict=True):
        rejection = item if isinstance(item, Rejection) else repeated.get(item.position)
        if rejection is not None:
            rows.append(_quarantined_row(run, source_row, rejection))
        else:
            assert isinstance(item, ValidRecord)  # noqa: S101
            to_match.append(item)
    matches, known = _identified(to_match)
    rest = [r for r in to_match if r.position not in matches]
    found = state.blocking.candidates(
        {r.position: blocking_terms(r.child) for r in rest}
    )
    for r in rest:
        candidates = found.get(r.position, [])
        known.update((p.child_id, p) for p, _ in candidates)
        matches[r.position] = match_record(
            r, [Candidate(profile=p, shielded=s) for p, s in candidates]
        )
    linked = {m.child_id for m in matches.values() if m.outcome == MatchOutcome.LINK}
    organisation_ids = (
        {run.source.organisation_id}
        | {i.organisation_id for r in to_match for i in r.child.involvements}
        | {f.owning_organisation_id for r in to_match for f in r.child.warning_flags}
    )
    states = feed_child_states(
        [c for c in linked if c is not None],
        organisation_ids=organisation_ids,
        known=known,
    )
    raw_by_position = {r.position: r for r in raw}
    result = _ChunkResult(rows=rows, linked=[], created=[])
    # Two rows of this chunk for one child: the first is applied. (Across
    # chunks and slices the run's claims decide: _claims_take.)
    seen: set[UUID] = set()
    for record in to_match:
        match = matches[record.position]
        source_row = raw_by_position[record.position]
        if match.outcome == MatchOutcome.LINK and (
            match.child_id in seen or match.child_id not in states
        ):
            match = Match(
                outcome=MatchOutcome.REVIEW,
                reason="linked_twice_in_file",
                candidates=match.candidates,
            )
        if match.outcome == MatchOutcome.REVIEW:
            rows.append(_row(run, source_row, RowState.WAITING, match=match, keep=True))
        elif match.outcome == MatchOutcome.NEW and (
            problem := creation_problem(record.child.date_of_birth, state.today)
        ):
            rejection = Rejection(record.position, source_row.reference, (problem,))
            rows.append(_quarantined_row(run, source_row, rejection))
        elif match.outcome == MatchOutcome.NEW:
            row = _row(run, source_row, RowState.APPLIED, match=match)
            row.outcome = RowOutcome.CREATED
            rows.append(row)
            result.created.append(_New(row, source_row, record))
        else:
            assert match.child_id is not None  # noqa: S101
            seen.add(match.child_id)
            changes = plan_changes(record, states[match.child_id])
            row = _row(run, source_row, RowState.APPLIED, match=match)
            row.child_id = match.child_id
            row.outcome = (
                RowOutcome.UNCHANGED if changes.is_empty else RowOutcome.UPDATED
            )
            rows.append(row)
            result.linked.append(
                _Linked(row, source_row, match, None if changes.is_empty else changes)
            )
    rows.sort(key=lambda r: r.position)
    return result


def _rows_write(rows: Sequence[_RowOut]) -> None:
    """COPY the chunk's rows (a thousand at a time, several times faster
    than INSERT)."""
    copy_rows(
        FeedRow,
        (
            {
                "id": row.pk,
                "run_id": row.run_id,
                "position": row.position,
                "reference": row.reference,
                "state": row.state,
                "outcome": row.outcome,
                "child_id": row.child_id,
                "problems": Jsonb(row.problems),
                "match": Jsonb(row.match),
                "payload": row.payload,
                "decided_by_id": None,
                "decided_at": None,
            }
            for row in rows
        ),
    )


def _identified(
    records: Sequence[ValidRecord],
) -> tuple[dict[int, Match], dict[UUID, MatchProfile]]:
    """Links by NHS number or UPN alone, where exactly one active child holds
    the record's identifier and the rest corroborates it (match_record's
    identifier rule): most rows of a nightly feed are children the
    directory already has, and this spares them the demographic blocking.
    Rows without such a link go on to full blocking. Also returns the
    profiles of the children linked (decrypted once, for planning)."""
    by_position = {record.position: record for record in records}
    linked: dict[int, Match] = {}
    profiles: dict[UUID, MatchProfile] = {}
    # The NHS number first; the UPN only for rows the NHS number did not
    # settle (UPNs are reused by mistake more often).
    for index, field in IDENTIFIER_INDEXES:
        wanted = {
            record.position: lookup
            for record in records
            if record.position not in linked
            and (lookup := identifier_lookup(record.child, index, field))
        }
        holders = feed_identifier_holders(wanted)
        for position, held in holders.items():
            if len(held) != 1:
                continue
            record = by_position[position]
            match = match_record(
                record, [Candidate(profile=held[0][0], shielded=held[0][1])]
            )
            if match.outcome == MatchOutcome.LINK:
                linked[position] = match
                profiles[held[0][0].child_id] = held[0][0]
    return linked, profiles


def _create_children(result: _ChunkResult, writes: Source) -> int:
    """Create the chunk's new children; a child the directory still refuses is
    quarantined with the directory's reasons (nothing else changes)."""
    pending = list(result.created)
    while pending:
        try:
            created = child_records_create(
                children=[new.record.child for new in pending], source=writes
            )
        except ChildRecordInvalid as invalid:
            for position in sorted(invalid.problems, reverse=True):
                refused = pending.pop(position)
                row = refused.row
                row.state = RowState.QUARANTINED
                row.outcome = RowOutcome.NONE
                row.payload = _raw_json(refused.source).encode()
                row.problems = [
                    {"field": "record", "code": code, "message": message}
                    for code, message in invalid.problems[position]
                ]
            continue
        for new, child in zip(pending, created, strict=True):
            new.row.child_id = child.id
        return len(created)
    return 0


def _row(
    run: FeedRun,
    source_row: RawRow,
    state: str,
    *,
    match: Match | None = None,
    keep: bool = False,
) -> _RowOut:
    # The payload is sealed once the row's id is final (see _chunk_apply).
    return _RowOut(
        run_id=run.pk,
        position=source_row.position,
        reference=source_row.reference[:40],
        state=state,
        match=_match_json(match) if match else {},
        payload=_raw_json(source_row).encode() if keep else None,
    )


def _quarantined_row(run: FeedRun, source_row: RawRow, rejection: Rejection) -> _RowOut:
    row = _row(run, source_row, RowState.QUARANTINED, keep=True)
    row.problems = [asdict(problem) for problem in rejection.problems]
    return row


def _match_json(match: Match) -> dict[str, Any]:
    return {
        "outcome": str(match.outcome),
        "reason": match.reason,
        "child_id": str(match.child_id) if match.child_id else None,
        "candidates": [
            {
                "child_id": str(c.child_id),
                "weight": round(c.weight, 2),
                "agreement": dict(c.agreement),
            }
            for c in match.candidates
        ],
    }


def _raw_json(row: RawRow) -> str:
    return json.dumps(
        {
            "position": row.position,
            "reference": row.reference,
            "fields": dict(row.fields),
            "carers": [dict(c) for c in row.carers],
            "services": [dict(s) for s in row.services],
            "flags": [dict(f) for f in row.flags],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def raw_row_from_json(text: str) -> RawRow:
    data = json.loads(text)
    return RawRow(
        position=data["position"],
        reference=data["reference"],
        fields=data["fields"],
        carers=tuple(data["carers"]),
        services=tuple(data["services"]),
        flags=tuple(data["flags"]),
    )


__all__ = [
    "Channel",
    "Receipt",
    "feed_file_receive",
    "feed_run_process",
    "feed_run_start",
    "feed_slice_process",
    "raw_row_from_json",
    "slice_bounds",
    "validation_context",
]
