"""Anomaly reports for auditors: detect findings, review them, keep the news list.

``anomalies_detect`` is the I/O edge around the pure rules in
``audit/anomalies.py``: it loads a day's access events, the news list and the
surname matches, and stores the findings. It runs nightly (Celery) and on
demand. The other services here are the auditor's writes; only auditors with
a verified second factor may make them, and every attempt, allowed or
refused, is recorded in the access log first (the writer's transaction is
durable, so it is called outside any ``transaction.atomic`` block).

Not covered: children at the user's own address. Users hold no home address
in this system, so that check waits until user addresses are held.
"""

from collections import defaultdict
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from audit.anomalies import (
    SEARCH,
    VIEW,
    EventFact,
    Finding,
    anomalies_find,
    london_day_bounds,
)
from audit.models import (
    AccessAction,
    AccessEvent,
    AnomalyFinding,
    NewsListEntry,
)
from audit.permissions import auditor_required
from audit.services import access_event_change, access_event_record
from contactpoint.crypto.normalise import fold
from directory.selectors import children_with_family_name

REVIEW_NOTE_MAX_LENGTH = 2000
NEWS_NOTE_MAX_LENGTH = 200


def anomalies_scan_request(*, actor: Actor, day: date) -> None:
    """Queue the anomaly checks of ``day`` now (the findings page's button).

    The task runs as the nightly job does; this event says who asked.
    """
    from audit.tasks import anomalies_detect_task  # noqa: PLC0415  # tasks import us

    auditor_required(actor, AccessAction.ANOMALY_SCAN, "run the anomaly checks")
    access_event_record(
        actor=actor,
        action=AccessAction.ANOMALY_SCAN,
        allowed=True,
        reason="requested",
        detail=f"Asked for the anomaly checks of {day.isoformat()} to run now.",
    )
    transaction.on_commit(lambda: anomalies_detect_task.delay(day.isoformat()))


def anomalies_detect(day: date, *, actor: Actor | None = None) -> int:
    """Find the anomalies of ``day`` (a London date) and store them; return how
    many findings the day now has.

    Running again is safe: a finding already stored for the same kind, user
    and day gets the new summary and event list, and keeps its review.
    Findings are never deleted here. Without ``actor`` this is the nightly
    job; with one, an auditor asked for it (auditors only). Either way one
    access event records the scan, with counts only.
    """
    reason = "nightly_scan"
    if actor is not None:
        auditor_required(
            actor, AccessAction.ANOMALY_SCAN, f"scan {day.isoformat()} for anomalies"
        )
        reason = "on_demand_scan"
    events = _event_facts(day)
    findings = anomalies_find(
        events,
        day=day,
        surname_matches=_surname_matches(events),
        news_list=_news_list_for(day),
    )
    with transaction.atomic():
        _findings_store(findings)
        stored = AnomalyFinding.objects.filter(day=day).count()
    access_event_record(
        actor=actor,
        action=AccessAction.ANOMALY_SCAN,
        allowed=True,
        reason=reason,
        detail=f"Scanned {day.isoformat()}: {len(events)} events, {stored} findings",
    )
    return stored


def finding_review(*, actor: Actor, finding_id: UUID, note: str) -> AnomalyFinding:
    """Mark a finding reviewed with the auditor's note (auditors only).

    Reviewing again replaces the note on the finding; every review stays in
    the access log, its note sealed in the event (encrypted, as a note may
    name a child), so earlier notes are never lost. Raises
    AnomalyFinding.DoesNotExist for an unknown finding.
    """
    what = f"review anomaly finding {finding_id}"
    reason = auditor_required(actor, AccessAction.ANOMALY_REVIEW, what)
    note = _note_clean(
        note,
        field="note",
        max_length=REVIEW_NOTE_MAX_LENGTH,
        missing="Enter a note saying what you found and what was done",
    )
    finding = AnomalyFinding.objects.get(pk=finding_id)
    detail = f"Reviewed anomaly finding {finding.id} ({finding.kind}, {finding.day})"
    if finding.reviewed_at is not None:
        detail += (
            f"; replaced the review by {finding.reviewed_by_id} "
            f"of {timezone.localtime(finding.reviewed_at):%Y-%m-%d %H:%M}"
        )
    with access_event_change(
        actor=actor,
        action=AccessAction.ANOMALY_REVIEW,
        reason=reason,
        detail=detail,
        purpose_detail=note,
    ):
        finding = AnomalyFinding.objects.select_for_update().get(pk=finding_id)
        finding.reviewed_at = timezone.now()
        finding.reviewed_by_id = actor.user_id
        finding.review_note = note
        finding.full_clean()
        finding.save(update_fields=["reviewed_at", "reviewed_by_id", "review_note"])
    return finding


def news_list_add(*, actor: Actor, child_id: UUID, note: str) -> NewsListEntry:
    """Put a child on the news list (auditors only): from then on, every
    opening of their record by anyone becomes a finding.

    A child already listed raises ValidationError. The note (why the child
    is listed) is kept on the entry and sealed in the access event; the
    event's detail names no child data.
    """
    reason = auditor_required(
        actor, AccessAction.NEWS_LIST_CHANGE, "add a child to the news list"
    )
    note = _note_clean(
        note,
        field="note",
        max_length=NEWS_NOTE_MAX_LENGTH,
        missing="Enter why the child is on the news list",
    )
    entry = NewsListEntry(child_id=child_id, note=note, added_by_id=actor.user_id)
    # The partial unique constraint is checked below with a message a person
    # can act on; removed_at/by are empty until removal (not blank=True).
    entry.full_clean(
        exclude=["removed_at", "removed_by_id"], validate_constraints=False
    )
    if NewsListEntry.objects.filter(
        child_id=child_id, removed_at__isnull=True
    ).exists():
        raise _already_listed()
    try:
        with access_event_change(
            actor=actor,
            action=AccessAction.NEWS_LIST_CHANGE,
            reason=reason,
            detail="Added a child to the news list",
            child_id=child_id,
            purpose_detail=note,
        ):
            entry.save(force_insert=True)
    except IntegrityError as error:  # listed by someone else meanwhile
        raise _already_listed() from error
    return entry


def news_list_remove(*, actor: Actor, entry_id: UUID) -> None:
    """Take a child off the news list (auditors only). The entry is kept,
    marked with who removed it and when. Raises NewsListEntry.DoesNotExist
    for an unknown entry and ValidationError when it was already removed.
    """
    reason = auditor_required(
        actor, AccessAction.NEWS_LIST_CHANGE, f"remove news list entry {entry_id}"
    )
    entry = NewsListEntry.objects.get(pk=entry_id)
    if entry.removed_at is not None:
        raise _already_removed()
    with access_event_change(
        actor=actor,
        action=AccessAction.NEWS_LIST_CHANGE,
        reason=reason,
        detail=f"Removed a child from the news list (entry {entry.id})",
        child_id=entry.child_id,
    ):
        locked = NewsListEntry.objects.select_for_update().get(pk=entry_id)
        if locked.removed_at is not None:
            raise _already_removed()
        locked.removed_at = timezone.now()
        locked.removed_by_id = actor.user_id
        locked.save(update_fields=["removed_at", "removed_by_id"])


def _note_clean(note: str, *, field: str, max_length: int, missing: str) -> str:
    note = note.strip()
    if not note:
        raise ValidationError({field: missing})
    if len(note) > max_length:
        raise ValidationError({field: f"Note must be {max_length} characters or fewer"})
    return note


def _already_listed() -> ValidationError:
    return ValidationError(
        {"child_id": "This child is already on the news list. Remove them first."}
    )


def _already_removed() -> ValidationError:
    return ValidationError("This child has already been taken off the news list.")


def _event_facts(day: date) -> list[EventFact]:
    """The day's openings and searches by known users, oldest first."""
    start, end = london_day_bounds(day)
    rows = (
        AccessEvent.objects.filter(
            occurred_at__gte=start,
            occurred_at__lt=end,
            actor_id__isnull=False,
            action__in=[VIEW, SEARCH],
        )
        .order_by("seq")
        .values_list(
            "seq",
            "actor_id",
            "occurred_at",
            "action",
            "outcome",
            "child_id",
            "break_glass",
            "shielded_record",
        )
    )
    return [
        EventFact(seq, actor_id, occurred_at, action, outcome, child_id, glass, shield)
        for (
            seq,
            actor_id,
            occurred_at,
            action,
            outcome,
            child_id,
            glass,
            shield,
        ) in rows.iterator(chunk_size=5000)
        if actor_id is not None  # excluded by the query; narrows the type
    ]


def _news_list_for(day: date) -> frozenset[UUID]:
    """Children on the news list at any time from the start of ``day`` until
    now: a child listed the morning after the news broke still counts."""
    start, _ = london_day_bounds(day)
    return frozenset(
        NewsListEntry.objects.filter(
            Q(removed_at__isnull=True) | Q(removed_at__gte=start)
        ).values_list("child_id", flat=True)
    )


def _surname_matches(events: list[EventFact]) -> frozenset[tuple[UUID, UUID]]:
    """(user, child) pairs where a child the user opened shares their surname.

    Users with the same surname are checked together, so the directory reads
    (and audits) once per surname, not once per user.
    """
    opened: dict[UUID, set[UUID]] = defaultdict(set)
    for event in events:
        if event.is_open and event.child_id is not None:
            opened[event.actor_id].add(event.child_id)
    if not opened:
        return frozenset()
    by_surname: dict[str, dict[UUID, set[UUID]]] = defaultdict(dict)
    for user_id, last_name in User.objects.filter(pk__in=opened).values_list(
        "pk", "last_name"
    ):
        surname = fold(last_name)
        if surname:
            by_surname[surname][user_id] = opened[user_id]
    pairs: set[tuple[UUID, UUID]] = set()
    for surname, users in sorted(by_surname.items()):
        children = set[UUID]().union(*users.values())
        matched = children_with_family_name(child_ids=children, family_name=surname)
        pairs.update(
            (user_id, child_id)
            for user_id, child_ids in users.items()
            for child_id in child_ids & matched
        )
    return frozenset(pairs)


def _findings_store(findings: list[Finding]) -> None:
    """Insert new findings; refresh the summary and events of existing ones,
    leaving their review alone (one statement, safe against a parallel run)."""
    rows = [
        AnomalyFinding(
            kind=f.kind.value,
            actor_id=f.actor_id,
            day=f.day,
            summary=f.summary[:300],
            event_seqs=list(f.event_seqs),
        )
        for f in findings
    ]
    if rows:
        AnomalyFinding.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["kind", "actor_id", "day"],
            update_fields=["summary", "event_seqs"],
        )
