"""Reads: a person's inbox, one alert as its recipient sees it, and the
people an alert goes to.

An alert holds the child's id and directory number only. The child's name,
and the free text a reader gave as their reason, are shown beside an alert
only when the access policy would open the record for the recipient without
asking why (``directory.alerting.child_name_for_alert``, audited).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db import connections, router
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organisation, RoleAssignment, User
from accounts.roles import Role
from alerts.models import AlertEvent, Notification
from alerts.rules import AlertKind, AlertReason, Person, normalise_email, purpose_label
from contactpoint.crypto.fields import unseal
from directory.alerting import child_name_for_alert
from directory.identifiers import IdentifierError, format_directory_number

#: Alerts per inbox page.
INBOX_PAGE_SIZE = 20
#: Openings listed on one alert; a busy record's older ones are counted.
EVENTS_SHOWN = 50


class NotificationUnavailable(Exception):
    """No such alert for this person (someone else's looks the same)."""


def directory_number_display(number: str) -> str:
    try:
        return format_directory_number(number)
    except IdentifierError:
        return number


# The inbox --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: UUID
    title: str
    directory_number: str
    last_event_at: datetime
    event_count: int
    unread: bool
    latest_actor_name: str
    latest_actor_organisations: str


def inbox_page(*, user_id: UUID, page_number: str | int | None) -> Page[InboxRow]:
    """The person's alerts, newest first, a page at a time (two queries)."""
    notifications = Notification.objects.filter(recipient_id=user_id).order_by(
        "-last_event_at", "-id"
    )
    page: Page[Notification] = Paginator(notifications, INBOX_PAGE_SIZE).get_page(
        page_number
    )
    rows = [
        InboxRow(
            id=n.id,
            title=AlertKind(n.kind).label,
            directory_number=directory_number_display(n.directory_number),
            last_event_at=n.last_event_at,
            event_count=n.event_count,
            unread=n.read_at is None,
            latest_actor_name=n.latest_actor_name,
            latest_actor_organisations=n.latest_actor_organisations,
        )
        for n in page.object_list
    ]
    # The same page's numbers, holding rows instead of models.
    return Page(rows, page.number, page.paginator)  # type: ignore[arg-type]


@cache
def _unread_count_sql() -> str:
    meta = Notification._meta
    recipient = meta.get_field("recipient").column
    read_at = meta.get_field("read_at").column
    return (
        f"SELECT count(*) FROM {meta.db_table} "  # noqa: S608 - names from the model
        f"WHERE {recipient} = %s AND {read_at} IS NULL"
    )


def unread_count(*, user_id: UUID) -> int:
    """How many of the person's alerts are unread (one indexed count).

    Every signed-in page asks (the header's inbox link), so it is one line of
    SQL: the ORM's ``count()`` took longer to build than the database took
    to answer it.
    """
    database = connections[router.db_for_read(Notification)]
    with database.cursor() as cursor:
        cursor.execute(_unread_count_sql(), [user_id])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# One alert --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WhoRow:
    """One person's openings (or joining) within the alert."""

    name: str
    organisations: str
    phone: str
    first_at: datetime
    last_at: datetime
    times: int
    purposes: tuple[str, ...]
    details: tuple[str, ...]
    break_glass: bool
    involvement_summary: str


@dataclass(frozen=True, slots=True)
class NotificationDetail:
    id: UUID
    kind: AlertKind
    title: str
    reason_label: str
    child_id: UUID
    directory_number: str
    child_name: str | None
    event_count: int
    first_at: datetime
    last_at: datetime
    window_ends_at: datetime
    who: tuple[WhoRow, ...]
    events_not_listed: int
    may_open_record: bool


def _who_rows(events: Iterable[AlertEvent], *, show_details: bool) -> list[WhoRow]:
    grouped: dict[UUID, list[AlertEvent]] = {}
    for event in events:
        grouped.setdefault(event.actor_id, []).append(event)
    rows = []
    for same in grouped.values():
        newest = max(same, key=lambda e: e.occurred_at)
        details: list[str] = []
        if show_details:
            for event in same:
                text = unseal(event, "purpose_detail") if event.purpose_detail else ""
                if text and text not in details:
                    details.append(text)
        rows.append(
            WhoRow(
                name=newest.actor_name or "Someone whose account has been removed",
                organisations=newest.actor_organisations,
                phone=newest.actor_phone,
                first_at=min(e.occurred_at for e in same),
                last_at=newest.occurred_at,
                times=len(same),
                purposes=tuple(dict.fromkeys(purpose_label(e.purpose) for e in same)),
                details=tuple(details),
                break_glass=any(e.break_glass for e in same),
                involvement_summary=newest.involvement_summary,
            )
        )
    return sorted(rows, key=lambda row: row.last_at, reverse=True)


def notification_detail(
    *, actor: Actor, notification_id: UUID, request_id: str = ""
) -> NotificationDetail:
    """One of ``actor``'s alerts with who did what, when and why.

    The child's name and the readers' own words are included only when the
    policy would open the record for ``actor`` without a stated purpose
    (audited); otherwise only the directory number. Raises
    NotificationUnavailable for a missing alert and someone else's alike.
    """
    notification = Notification.objects.filter(
        pk=notification_id, recipient_id=actor.user_id
    ).first()
    if notification is None:
        raise NotificationUnavailable
    child_name = child_name_for_alert(
        actor=actor,
        child_id=notification.child_id,
        today=timezone.localdate(),
        request_id=request_id,
    )
    events = list(
        AlertEvent.objects.filter(notificationevent__notification=notification)
        .order_by("-occurred_at")
        .only(
            "id",
            "actor_id",
            "purpose",
            "purpose_detail",
            "break_glass",
            "occurred_at",
            "actor_name",
            "actor_organisations",
            "actor_phone",
            "involvement_summary",
        )[:EVENTS_SHOWN]
    )
    kind = AlertKind(notification.kind)
    return NotificationDetail(
        id=notification.id,
        kind=kind,
        title=kind.label,
        reason_label=AlertReason(notification.reason).label,
        child_id=notification.child_id,
        directory_number=directory_number_display(notification.directory_number),
        child_name=child_name,
        event_count=notification.event_count,
        first_at=min((e.occurred_at for e in events), default=notification.created_at),
        last_at=notification.last_event_at,
        window_ends_at=notification.window_ends_at,
        who=tuple(_who_rows(events, show_details=child_name is not None)),
        events_not_listed=max(notification.event_count - len(events), 0),
        may_open_record=bool(
            actor.roles & {Role.PRACTITIONER, Role.DATA_MANAGER, Role.SHIELDING_OFFICER}
        ),
    )


# The people alerts go to ------------------------------------------------------


def _active_users() -> "Q":
    return Q(user__is_active=True, user__suspended_at__isnull=True)


def active_person(user_id: UUID | None) -> Person | None:
    """The active, unsuspended account ``user_id`` as a Person, or None."""
    if user_id is None:
        return None
    found = (
        User.objects.filter(pk=user_id, is_active=True, suspended_at__isnull=True)
        .values_list("id", "email")
        .first()
    )
    return Person(user_id=found[0], email=found[1]) if found else None


def active_people_by_email(emails: Iterable[str]) -> dict[str, Person]:
    """Active accounts whose e-mail address is one of ``emails`` (compared
    case-insensitively), keyed by the normalised address."""
    wanted = {normalise_email(e) for e in emails if e.strip()}
    if not wanted:
        return {}
    return {
        normalise_email(email): Person(user_id=pk, email=email)
        for pk, email in User.objects.annotate(folded=Lower("email"))
        .filter(folded__in=wanted, is_active=True, suspended_at__isnull=True)
        .values_list("id", "email")
    }


def _people(assignments: "Iterable[tuple[UUID, str]]") -> list[Person]:
    seen: dict[UUID, Person] = {}
    for user_id, email in assignments:
        seen.setdefault(user_id, Person(user_id=user_id, email=email))
    return sorted(seen.values(), key=lambda p: p.email)


def shielding_officers_of(authority_id: int) -> list[Person]:
    """Active shielding officers at the authority or its member organisations."""
    return _people(
        RoleAssignment.objects.filter(
            Q(organisation_id=authority_id)
            | Q(organisation__parent_authority_id=authority_id),
            _active_users(),
            role=Role.SHIELDING_OFFICER,
            revoked_at__isnull=True,
            organisation__is_active=True,
        ).values_list("user_id", "user__email")
    )


def auditors() -> list[Person]:
    """Every active auditor."""
    return _people(
        RoleAssignment.objects.filter(
            _active_users(),
            role=Role.AUDITOR,
            revoked_at__isnull=True,
            organisation__is_active=True,
        ).values_list("user_id", "user__email")
    )


def authority_email(authority_id: int) -> str:
    found: str | None = (
        Organisation.objects.filter(pk=authority_id)
        .values_list("email", flat=True)
        .first()
    )
    return found or ""


@dataclass(frozen=True, slots=True)
class ActorDetails:
    """Who acted, as the people told see them: name, organisations, phone."""

    name: str
    organisation_ids: frozenset[int]
    organisations: str
    phone: str


def actor_details(user_id: UUID) -> ActorDetails | None:
    """The account's name, the organisations where it holds a current role,
    and a phone number (its own, else its first organisation's)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    organisations = list(
        Organisation.objects.filter(
            role_assignments__user_id=user_id,
            role_assignments__revoked_at__isnull=True,
            is_active=True,
        )
        .distinct()
        .order_by("name")
        .values_list("id", "name", "phone")
    )
    return ActorDetails(
        name=str(user),
        organisation_ids=frozenset(pk for pk, _, _ in organisations),
        organisations=", ".join(name for _, name, _ in organisations),
        phone=user.phone or next((phone for _, _, phone in organisations if phone), ""),
    )
