"""Anomaly findings, the news list and the log's integrity."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from django.core.paginator import Page, Paginator

from accounts.actors import Actor
from accounts.models import User
from audit.models import (
    AccessEvent,
    AnomalyFinding,
    AnomalyKind,
    AuditCheckpoint,
    AuditVerification,
    NewsListEntry,
)
from audit.selectors.workspace import (
    EventRow,
    audit_workspace_check,
    event_rows,
    people_by_id,
)
from directory.selectors import directory_numbers_for

FINDINGS_PER_PAGE = 50
#: A finding's page shows at most this many of its events.
FINDING_EVENTS_SHOWN = 500


@dataclass(frozen=True, slots=True)
class FindingRow:
    finding: AnomalyFinding
    user_name: str
    user_email: str
    reviewer_name: str = ""

    @property
    def kind_label(self) -> str:
        try:
            return str(AnomalyKind(self.finding.kind).label)
        except ValueError:
            return self.finding.kind


def _finding_rows(findings: Sequence[AnomalyFinding]) -> list[FindingRow]:
    people = people_by_id(
        {f.actor_id for f in findings}
        | {f.reviewed_by_id for f in findings if f.reviewed_by_id}
    )
    rows = []
    for finding in findings:
        person = people.get(finding.actor_id)
        reviewer = (
            people.get(finding.reviewed_by_id) if finding.reviewed_by_id else None
        )
        rows.append(
            FindingRow(
                finding=finding,
                user_name=str(person) if person else "",
                user_email=person.email if person else "",
                reviewer_name=str(reviewer) if reviewer else "",
            )
        )
    return rows


def findings_page(
    *, actor: Actor, kind: str = "", reviewed: bool | None = None, page: int | str = 1
) -> Page[FindingRow]:
    """One page of findings, newest day first."""
    audit_workspace_check(actor=actor)
    findings = AnomalyFinding.objects.order_by("-day", "kind", "id")
    if kind:
        findings = findings.filter(kind=kind)
    if reviewed is not None:
        findings = findings.filter(reviewed_at__isnull=not reviewed)
    paginator = Paginator(findings, FINDINGS_PER_PAGE)
    current = paginator.get_page(page)
    rows = _finding_rows(list(current.object_list))
    return Page(rows, current.number, paginator)  # type: ignore[arg-type]  # rows for the findings on this page


@dataclass(frozen=True, slots=True)
class FindingDetail:
    row: FindingRow
    events: list[EventRow]
    events_not_shown: int


def finding_detail(*, actor: Actor, finding_id: UUID) -> FindingDetail | None:
    """One finding and the events behind it (None when there is no such finding)."""
    audit_workspace_check(actor=actor)
    finding = AnomalyFinding.objects.filter(pk=finding_id).first()
    if finding is None:
        return None
    seqs = sorted(finding.event_seqs)[:FINDING_EVENTS_SHOWN]
    events = list(AccessEvent.objects.filter(seq__in=seqs).order_by("seq"))
    return FindingDetail(
        row=_finding_rows([finding])[0],
        events=event_rows(events),
        events_not_shown=max(len(finding.event_seqs) - len(seqs), 0),
    )


@dataclass(frozen=True, slots=True)
class NewsListRow:
    entry: NewsListEntry
    directory_number: str
    added_by_name: str


def news_list(*, actor: Actor) -> list[NewsListRow]:
    """The children currently on the news list, most recently added first."""
    audit_workspace_check(actor=actor)
    entries = list(NewsListEntry.objects.filter(removed_at__isnull=True))
    numbers = directory_numbers_for({e.child_id for e in entries})
    people = people_by_id({e.added_by_id for e in entries})
    return [
        NewsListRow(
            entry=entry,
            directory_number=numbers.get(entry.child_id, ""),
            added_by_name=str(people[entry.added_by_id])
            if entry.added_by_id in people
            else "",
        )
        for entry in entries
    ]


@dataclass(frozen=True, slots=True)
class IntegrityStatus:
    checkpoint: AuditCheckpoint | None
    verification: AuditVerification | None
    requested_by_name: str = ""
    events_logged: int | None = field(default=None)

    @property
    def in_progress(self) -> bool:
        return self.verification is not None and self.verification.status in {
            AuditVerification.Status.QUEUED,
            AuditVerification.Status.RUNNING,
        }


def integrity_status(*, actor: Actor) -> IntegrityStatus:
    """The last signed checkpoint and the latest verification."""
    audit_workspace_check(actor=actor)
    verification = AuditVerification.objects.first()
    requester = (
        User.objects.filter(pk=verification.requested_by_id).first()
        if verification and verification.requested_by_id
        else None
    )
    return IntegrityStatus(
        checkpoint=AuditCheckpoint.objects.order_by("-seq").first(),
        verification=verification,
        requested_by_name=str(requester) if requester else "",
        events_logged=AccessEvent.objects.order_by("-seq")
        .values_list("seq", flat=True)
        .first(),
    )
