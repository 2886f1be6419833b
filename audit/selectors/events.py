"""The events list, its CSV export, and a child's history."""

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Max, Min, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organisation, User
from audit.models import AccessAction, AccessEvent, Outcome
from audit.selectors.workspace import (
    EventRow,
    audit_workspace_check,
    event_rows,
    label,
    purpose_label,
)
from audit.services import access_event_record
from contactpoint.crypto.errors import DecryptionError
from contactpoint.crypto.fields import unseal

EVENTS_PER_PAGE = 50
#: An export larger than this is refused: narrow the filters instead.
EXPORT_MAX_ROWS = 100_000
EXPORT_CHUNK = 2_000
#: What "who has viewed this child, and why" lists.
HISTORY_ACTIONS = (
    AccessAction.VIEW,
    AccessAction.SEARCH,
    AccessAction.CREATE,
    AccessAction.UPDATE,
)
UNREADABLE_DETAIL = (
    "This detail cannot be read: it may have been altered. "
    "Check the audit log's integrity."
)


@dataclass(frozen=True, slots=True)
class EventFilters:
    """The events list's filters; every one optional."""

    user: str = ""
    organisation: str = ""
    child_id: UUID | None = None
    directory_number: str = ""
    action: str = ""
    outcome: str = ""
    purpose: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def is_filtered(self) -> bool:
        return any(
            (
                self.user,
                self.organisation,
                self.child_id,
                self.action,
                self.outcome,
                self.purpose,
                self.date_from,
                self.date_to,
            )
        )

    def describe(self) -> str:
        """The filters in words, for the export's audit event."""
        parts = []
        if self.user:
            parts.append(f"user matching “{self.user}”")
        if self.organisation:
            parts.append(f"organisation matching “{self.organisation}”")
        if self.child_id:
            parts.append(f"child {self.directory_number or self.child_id}")
        if self.action:
            parts.append(f"action {label(AccessAction, self.action)}")
        if self.outcome:
            parts.append(f"outcome {label(Outcome, self.outcome)}")
        if self.purpose:
            parts.append(f"purpose {purpose_label(self.purpose)}")
        if self.date_from:
            parts.append(f"from {self.date_from:%d %B %Y}")
        if self.date_to:
            parts.append(f"to {self.date_to:%d %B %Y}")
        return "; ".join(parts) if parts else "all events"


def _london_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(filters: EventFilters) -> QuerySet[AccessEvent]:
    events = AccessEvent.objects.all()
    if filters.user:
        users = User.objects.annotate(
            full_name=Concat("first_name", Value(" "), "last_name")
        ).filter(
            Q(email__icontains=filters.user)
            | Q(full_name__icontains=filters.user)
            | Q(username__icontains=filters.user)
        )
        events = events.filter(actor_id__in=users.values("pk"))
    if filters.organisation:
        organisations = Organisation.objects.filter(
            Q(name__icontains=filters.organisation)
            | Q(code__iexact=filters.organisation)
        )
        events = events.filter(organisation_id__in=organisations.values("pk"))
    exact = {
        "child_id": filters.child_id,
        "action": filters.action,
        "outcome": filters.outcome,
        "purpose": filters.purpose,
    }
    for name, value in exact.items():
        if value:
            events = events.filter(**{name: value})
    if filters.date_from:
        events = events.filter(occurred_at__gte=_london_midnight(filters.date_from))
    if filters.date_to:
        end = _london_midnight(filters.date_to + timedelta(days=1))
        events = events.filter(occurred_at__lt=end)
    return events.order_by("-seq")


def events_page(
    *, actor: Actor, filters: EventFilters, page: int | str
) -> Page[EventRow]:
    """One page (50) of the events matching ``filters``, newest first."""
    audit_workspace_check(actor=actor)
    paginator = Paginator(_filtered(filters), EVENTS_PER_PAGE)
    if not filters.is_filtered:
        # Sequence numbers have no gaps, so the whole log's size comes from
        # two index lookups instead of counting every row of every partition.
        bounds = AccessEvent.objects.aggregate(first=Min("seq"), last=Max("seq"))
        first, last = bounds["first"], bounds["last"]
        paginator.count = 0 if last is None else last - first + 1
    current = paginator.get_page(page)
    rows = event_rows(list(current.object_list))
    return Page(rows, current.number, paginator)  # type: ignore[arg-type]  # rows for the events on this page


class ExportTooLarge(Exception):
    """More events match than one export may hold."""


@dataclass(frozen=True, slots=True)
class EventExport:
    """An export, counted and audited, ready to stream."""

    filters: EventFilters
    up_to_seq: int
    count: int

    def rows(self, chunk_size: int = EXPORT_CHUNK) -> Iterator[EventRow]:
        """The events, newest first, fetched in chunks (keyset on seq)."""
        below = self.up_to_seq + 1
        while True:
            chunk = list(_filtered(self.filters).filter(seq__lt=below)[:chunk_size])
            if not chunk:
                return
            yield from event_rows(chunk)
            below = chunk[-1].seq


def _export_detail(count: int, file_format: str, filters: EventFilters) -> str:
    return f"Exported {count} events as {file_format}: {filters.describe()}."[:500]


def events_export(
    *, actor: Actor, filters: EventFilters, file_format: str = "CSV"
) -> EventExport:
    """Count, then audit (AUDIT_EXPORT: the filters in words and the count).

    The export is pinned to the events that existed when it was counted, so
    the count in the audit event is the number of rows sent. Raises
    ExportTooLarge, unaudited, when more than EXPORT_MAX_ROWS match.
    """
    audit_workspace_check(actor=actor)
    head = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    up_to = head or 0
    pinned = _filtered(filters).filter(seq__lte=up_to)
    count = pinned[: EXPORT_MAX_ROWS + 1].count()
    if count > EXPORT_MAX_ROWS:
        raise ExportTooLarge
    access_event_record(
        actor=actor,
        action=AccessAction.AUDIT_EXPORT,
        allowed=True,
        reason="auditor",
        child_id=filters.child_id,
        detail=_export_detail(count, file_format, filters),
    )
    return EventExport(filters=filters, up_to_seq=up_to, count=count)


# A child's history ----------------------------------------------------------------


def child_history(*, actor: Actor, child_id: UUID) -> list[EventRow]:
    """Every search, view, creation and change of the child's record, newest first,
    with the stated purpose's detail decrypted. Audited (AUDIT_CHILD_HISTORY)."""
    audit_workspace_check(actor=actor)
    access_event_record(
        actor=actor,
        action=AccessAction.AUDIT_CHILD_HISTORY,
        allowed=True,
        reason="auditor",
        child_id=child_id,
    )
    return child_events(child_id=child_id)


def child_events(
    *,
    child_id: UUID,
    actions: Collection[str] | None = HISTORY_ACTIONS,
    purpose_details: bool = True,
) -> list[EventRow]:
    """The events about one child (of ``actions``; None for every action),
    newest first, named in bulk; the purpose's detail decrypted when asked.

    Checks no one and audits nothing: for ``child_history`` and the
    directory's subject access report, which decide and audit first.
    """
    events = AccessEvent.objects.filter(child_id=child_id)
    if actions is not None:
        events = events.filter(action__in=actions)
    rows = event_rows(list(events.order_by("-seq").defer("query_terms", "result_ids")))
    if not purpose_details:
        return rows
    return [
        EventRow(
            event=row.event,
            user_name=row.user_name,
            user_email=row.user_email,
            organisation_name=row.organisation_name,
            directory_number=row.directory_number,
            subject_name=row.subject_name,
            purpose_detail=_purpose_detail(row.event),
        )
        for row in rows
    ]


def _purpose_detail(event: AccessEvent) -> str:
    try:
        return unseal(event, "purpose_detail") or ""
    except DecryptionError:
        return UNREADABLE_DETAIL
