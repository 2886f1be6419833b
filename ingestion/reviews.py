"""The data manager's side of a run: reading its rows, and deciding the review queue.

Reading a quarantined or waiting row decrypts what the sender sent, so it is
an audited read (``feed_row_view``); the candidate children beside it are
opened through the directory's gate with the data-management purpose, which
applies the access policy (a shielded candidate stays restricted) and audits
each one. A decision (link to a candidate, create a new child, or do not
import) is applied in one transaction with the row's new state and the run's
counters, after its access event.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_change, access_event_record
from contactpoint.crypto.fields import unseal
from contactpoint.metrics import feed_rows_counted
from directory.policies import Decision, Purpose
from directory.records import ChildRecord
from directory.selectors import ChildRecordUnavailable, child_record_get
from directory.selectors.feeds import (
    active_child_ids,
    feed_child_states,
    feed_identifier_holders,
    restricted_for,
)
from directory.services.child_records import ChildRecordInvalid, child_records_create
from directory.services.feed_changes import child_changes_apply
from ingestion.models import FeedRow, FeedRun, RowOutcome, RowState
from ingestion.pipeline.blocking import IDENTIFIER_INDEXES, identifier_lookup
from ingestion.pipeline.plan import creation_problem, plan_changes
from ingestion.pipeline.records import Rejection, ValidRecord
from ingestion.pipeline.validate import validate
from ingestion.policies import decide_feed_manage
from ingestion.readers.base import RawRow
from ingestion.selectors import feed_facts_of
from ingestion.services import (
    feed_source_for_writes,
    raw_row_from_json,
    validation_context,
)


class FeedRowUnavailable(Exception):
    """Missing or forbidden (the same to the caller): nobody can probe ids."""


class ReviewRefused(Exception):
    """The decision cannot be applied; ``message`` says why, for a person."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(code)


class Decide(StrEnum):
    LINK = "link"
    NEW = "new"
    DISMISS = "dismiss"


@dataclass(frozen=True, slots=True)
class CandidateView:
    child_id: UUID
    weight: float
    agreement: dict[str, str]
    #: None when the policy keeps the record from this data manager.
    record: ChildRecord | None


@dataclass(frozen=True, slots=True)
class RowView:
    row: FeedRow
    raw: RawRow | None
    outcome: ValidRecord | Rejection | None
    candidates: tuple[CandidateView, ...] = ()


def _row_and_decision(actor: Actor, row_id: UUID) -> tuple[FeedRow | None, Decision]:
    """The row (None when missing) and whether ``actor`` may work on it."""
    row = (
        FeedRow.objects.select_related("run__source__organisation")
        .filter(pk=row_id)
        .first()
    )
    if row is None:
        return None, Decision(False, "not_found")
    return row, decide_feed_manage(actor, feed_facts_of(row.run.source))


def feed_row_get(*, actor: Actor, row_id: UUID, request_id: str = "") -> RowView:
    """One quarantined or waiting row as sent, with its candidates; audited."""
    row, decision = _row_and_decision(actor, row_id)
    access_event_record(
        actor=actor,
        action=AccessAction.FEED_ROW_VIEW,
        allowed=decision.allowed,
        reason=decision.reason,
        detail=f"Feed row {row_id}.",
        request_id=request_id,
    )
    if row is None or not decision.allowed:
        raise FeedRowUnavailable
    raw = raw_row_from_json(unseal(row, "payload") or "") if row.payload else None
    outcome = validate(raw, validation_context(row.run.source)) if raw else None
    candidates = []
    for candidate in row.match.get("candidates", []):
        try:
            record: ChildRecord | None = child_record_get(
                actor=actor,
                child_id=UUID(candidate["child_id"]),
                purpose=Purpose.DATA_MANAGEMENT,
                purpose_detail="Deciding a feed row in the review queue",
                request_id=request_id,
            )
        except ChildRecordUnavailable:
            record = None
        candidates.append(
            CandidateView(
                child_id=UUID(candidate["child_id"]),
                weight=candidate["weight"],
                agreement=candidate["agreement"],
                record=record,
            )
        )
    return RowView(row=row, raw=raw, outcome=outcome, candidates=tuple(candidates))


def feed_row_decide(
    *,
    actor: Actor,
    row_id: UUID,
    decision: Decide,
    child_id: UUID | None = None,
    request_id: str = "",
) -> FeedRow:
    """Apply a data manager's decision on a waiting row."""
    row, allowed = _row_and_decision(actor, row_id)
    if row is None or not allowed.allowed:
        access_event_record(
            actor=actor,
            action=AccessAction.FEED_REVIEW,
            allowed=False,
            reason=allowed.reason,
            detail=f"Feed row {row_id}.",
            request_id=request_id,
        )
        raise FeedRowUnavailable
    candidates = {UUID(c["child_id"]) for c in row.match.get("candidates", [])}
    restricted = restricted_for(actor, candidates)
    if decision == Decide.LINK and (
        child_id is None
        or child_id not in candidates
        or child_id in restricted
        or not active_child_ids([child_id])
    ):
        raise ReviewRefused(
            "candidate_unknown",
            "Choose one of the children listed, or create a new child.",
        )
    if decision == Decide.NEW and restricted:
        raise ReviewRefused(
            "restricted_candidate",
            "A restricted record may be this child. Ask the responsible "
            "authority's shielding officer whether it is before creating a new "
            "record; until then, leave this row waiting.",
        )
    with access_event_change(
        actor=actor,
        action=AccessAction.FEED_REVIEW,
        reason=f"decided_{decision}",
        child_id=child_id,
        detail=f"Feed row {row_id}: {decision}.",
    ):
        _decide(row, decision, child_id, actor)
    row.refresh_from_db()
    return row


def _held(record: ValidRecord) -> bool:
    """Whether an active child already holds the record's NHS number or UPN."""
    wanted = {
        position: lookup
        for position, (index, field) in enumerate(IDENTIFIER_INDEXES)
        if (lookup := identifier_lookup(record.child, index, field))
    }
    return bool(feed_identifier_holders(wanted))


def _decide(
    row: FeedRow, decision: Decide, child_id: UUID | None, actor: Actor
) -> None:
    with transaction.atomic():
        # The run's counters are updated last, as an import's chunks update
        # them last (after the children they change): no deadlock with a
        # run still importing.
        locked = FeedRow.objects.select_for_update().get(pk=row.pk)
        if locked.state != RowState.WAITING:
            raise ReviewRefused(
                "already_decided", "Someone has already decided this row."
            )
        run = row.run
        writes = feed_source_for_writes(run)
        today = timezone.localdate()
        record = None
        if decision != Decide.DISMISS:
            raw = raw_row_from_json(unseal(locked, "payload") or "")
            checked = validate(raw, validation_context(run.source, today))
            if isinstance(checked, Rejection):
                raise ReviewRefused(
                    "row_invalid",
                    "This row no longer passes validation (an organisation it "
                    "names may have closed). Ask the sender for a corrected file.",
                )
            record = checked
        if (
            decision == Decide.NEW
            and record is not None
            and (problem := creation_problem(record.child.date_of_birth, today))
        ):
            raise ReviewRefused(problem.code, problem.message)
        if decision == Decide.NEW and record is not None and _held(record):
            raise ReviewRefused(
                "identifier_held",
                "A child in the directory already has this NHS number or UPN: "
                "link the row to them, or ask the sender to check the number.",
            )
        if decision == Decide.LINK and record is not None and child_id is not None:
            states = feed_child_states(
                [child_id],
                organisation_ids={run.source.organisation_id}
                | {i.organisation_id for i in record.child.involvements}
                | {f.owning_organisation_id for f in record.child.warning_flags},
            )
            if child_id not in states:  # merged or archived a moment ago
                raise ReviewRefused(
                    "candidate_unknown",
                    "That record has just changed. Open the row again and choose.",
                )
            changes = plan_changes(record, states[child_id])
            child_changes_apply([changes], source=writes, today=timezone.localdate())
            locked.state, locked.child_id = RowState.LINKED, child_id
            locked.outcome = (
                RowOutcome.UNCHANGED if changes.is_empty else RowOutcome.UPDATED
            )
        elif decision == Decide.NEW and record is not None:
            try:
                created = child_records_create(children=[record.child], source=writes)
            except ChildRecordInvalid:
                raise ReviewRefused(
                    "row_invalid",
                    "This row cannot make a record as it stands (for example, it "
                    "names two lead professionals). Ask the sender for a "
                    "corrected file.",
                ) from None
            locked.state, locked.child_id = RowState.CREATED, created[0].id
            locked.outcome = RowOutcome.CREATED
        else:
            locked.state = RowState.DISMISSED
        locked.decided_by_id = actor.user_id
        locked.decided_at = timezone.now()
        locked.save()
        moved: dict[str, Any] = {"waiting": F("waiting") - 1}
        if locked.outcome:
            field = {"created": "created", "updated": "updated"}.get(
                locked.outcome, "unchanged"
            )
            moved[field] = F(field) + 1
        FeedRun.objects.filter(pk=row.run_id).update(**moved)
    feed_rows_counted(states=[locked.state])
