"""Anomaly rules: one day's access events in, findings for auditors out.

Pure functions over frozen dataclasses: no Django, no database, no clock (an
import-linter contract keeps it so). ``audit/reports.py`` loads the events,
the news list and the surname matches, calls ``anomalies_find`` and stores
the findings.

Every rule looks at *allowed* openings of records (action ``view``) and, for
browsing, allowed searches: a refused attempt opened nothing. Each rule gives
at most one finding per (kind, user, day), listing every event behind it.
Summaries are plain English and hold counts only, never child data.

Not covered: children at the user's own address. Users hold no home address
in this system, so that check waits until user addresses are held. Bank
holidays count as working days: no holiday calendar is held yet.
"""

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

#: AccessEvent.action and AccessEvent.outcome values the rules read.
VIEW = "view"
SEARCH = "search"
ALLOWED = "allowed"


class Kind(StrEnum):
    """The finding kinds; the same values as ``audit.models.AnomalyKind``."""

    BULK_VIEWING = "bulk_viewing"
    BROWSING = "browsing"
    OUT_OF_HOURS = "out_of_hours"
    SHIELDED = "shielded"
    BREAK_GLASS = "break_glass"
    SHARED_SURNAME = "shared_surname"
    NEWS_LIST = "news_list"


#: Findings are listed in this order of kind, then by user.
KIND_ORDER = {kind: position for position, kind in enumerate(Kind)}


@dataclass(frozen=True, slots=True)
class EventFact:
    """What the rules need of one access event."""

    seq: int
    actor_id: UUID
    occurred_at: datetime  # aware
    action: str
    outcome: str
    child_id: UUID | None = None
    break_glass: bool = False
    shielded_record: bool = False

    @property
    def is_open(self) -> bool:
        return self.action == VIEW and self.outcome == ALLOWED

    @property
    def is_search(self) -> bool:
        return self.action == SEARCH and self.outcome == ALLOWED


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When behaviour becomes a finding. The defaults are the agreed ones.

    - Bulk viewing: a user's openings that day exceed
      ``max(bulk_peer_multiple × median of peers, bulk_minimum)``, where peers
      are the other users who opened at least one record that day
      (3 × median, at least 20: exactly 20 openings is not a finding).
    - Browsing: at least ``browsing_min_searches`` searches (10), and
      openings fewer than ``browsing_max_open_percent`` per cent (10%) of
      them.
    - Out of hours: an opening outside ``working_start`` (07:00, inclusive)
      to ``working_end`` (19:00, exclusive) on ``working_weekdays`` (Monday
      to Friday), London time.
    """

    bulk_peer_multiple: int = 3
    bulk_minimum: int = 20
    browsing_min_searches: int = 10
    browsing_max_open_percent: int = 10
    working_start: time = time(7, 0)
    working_end: time = time(19, 0)
    working_weekdays: frozenset[int] = field(default=frozenset(range(5)))


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    actor_id: UUID
    day: date
    summary: str
    event_seqs: tuple[int, ...]


def london_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start (inclusive) and end (exclusive) of London's ``day``, in UTC.

    23 or 25 hours long on the days the clocks change.
    """
    start = datetime.combine(day, time(0), tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
    # In UTC, so that subtracting them gives the real length of the day.
    return start.astimezone(UTC), end.astimezone(UTC)


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def is_working_time(moment: datetime, thresholds: Thresholds) -> bool:
    local = moment.astimezone(LONDON)
    return (
        local.weekday() in thresholds.working_weekdays
        and thresholds.working_start <= local.time() < thresholds.working_end
    )


def anomalies_find(
    events: Iterable[EventFact],
    *,
    day: date,
    thresholds: Thresholds | None = None,
    surname_matches: frozenset[tuple[UUID, UUID]] = frozenset(),
    news_list: frozenset[UUID] = frozenset(),
) -> list[Finding]:
    """Every finding for ``day``, ordered by kind, then user.

    Events whose London date is not ``day`` are ignored. ``surname_matches``
    holds (user id, child id) pairs where the child shares the user's
    surname; ``news_list`` holds the ids of children on the news list.
    """
    thresholds = thresholds or Thresholds()
    by_actor: dict[UUID, list[EventFact]] = defaultdict(list)
    for event in events:
        if london_day(event.occurred_at) == day:
            by_actor[event.actor_id].append(event)
    opens = {
        actor_id: sorted((e for e in actor_events if e.is_open), key=_seq)
        for actor_id, actor_events in by_actor.items()
    }
    # Sorted once, so each user's peer median costs O(log n), not O(n).
    open_counts = sorted(len(o) for o in opens.values() if o)
    findings: list[Finding] = []
    for actor_id, actor_events in by_actor.items():
        actor_opens = opens[actor_id]
        candidates = (
            _bulk_viewing(
                actor_opens, _peer_median(open_counts, len(actor_opens)), thresholds
            ),
            _browsing(sorted(actor_events, key=_seq), thresholds),
            _out_of_hours(actor_opens, thresholds),
            _shielded(actor_opens),
            _break_glass(actor_opens),
            _shared_surname(actor_opens, actor_id, surname_matches),
            _news_list(actor_opens, news_list),
        )
        findings.extend(
            Finding(kind, actor_id, day, summary, tuple(e.seq for e in found))
            for kind, summary, found in (c for c in candidates if c is not None)
        )
    return sorted(findings, key=lambda f: (KIND_ORDER[f.kind], str(f.actor_id)))


_Candidate = tuple[Kind, str, Sequence[EventFact]] | None

WEEKDAYS = frozenset(range(5))


def _seq(event: EventFact) -> int:
    return event.seq


def _opened(opens: Sequence[EventFact], noun: str = "record") -> str:
    """ "1 record", "3 records", or "3 records (2 different)" when one record
    was opened more than once."""
    count = len(opens)
    text = f"{count} {noun}" if count == 1 else f"{count} {noun}s"
    different = len({e.child_id for e in opens})
    return text if different == count else f"{text} ({different} different)"


def _peer_median(counts: Sequence[int], own: int) -> float | None:
    """The median of sorted ``counts`` with one ``own`` left out (a user is
    not their own peer); None when no one else opened a record."""
    skip = bisect_left(counts, own) if own else len(counts)
    size = len(counts) - 1 if own else len(counts)
    if size == 0:
        return None

    def at(position: int) -> int:
        return counts[position if position < skip else position + 1]

    middle = size // 2
    return at(middle) if size % 2 else (at(middle - 1) + at(middle)) / 2


def _bulk_viewing(
    opens: Sequence[EventFact], peer_median: float | None, thresholds: Thresholds
) -> _Candidate:
    limit = max(
        thresholds.bulk_peer_multiple * (peer_median or 0), thresholds.bulk_minimum
    )
    if len(opens) <= limit:
        return None
    peers = (
        "no one else opened any"
        if peer_median is None
        else f"peers opened a median of {peer_median:g}"
    )
    return Kind.BULK_VIEWING, f"Opened {_opened(opens)}; {peers}.", opens


def _browsing(events: Sequence[EventFact], thresholds: Thresholds) -> _Candidate:
    searches = [e for e in events if e.is_search]
    opens = [e for e in events if e.is_open]
    if len(searches) < thresholds.browsing_min_searches:
        return None
    # Whole numbers, so that the boundary is exact (no floating point).
    if len(opens) * 100 >= len(searches) * thresholds.browsing_max_open_percent:
        return None
    opened = "none" if not opens else _opened(opens)
    return (
        Kind.BROWSING,
        f"Searched {len(searches)} times and opened {opened}.",
        [e for e in events if e.is_search or e.is_open],
    )


def _out_of_hours(opens: Sequence[EventFact], thresholds: Thresholds) -> _Candidate:
    found = [e for e in opens if not is_working_time(e.occurred_at, thresholds)]
    if not found:
        return None
    hours = f"{thresholds.working_start:%H:%M} to {thresholds.working_end:%H:%M}"
    if thresholds.working_weekdays == WEEKDAYS:
        hours += ", Monday to Friday"
    return (
        Kind.OUT_OF_HOURS,
        f"Opened {_opened(found)} outside working hours ({hours}).",
        found,
    )


def _shielded(opens: Sequence[EventFact]) -> _Candidate:
    found = [e for e in opens if e.shielded_record]
    if not found:
        return None
    return Kind.SHIELDED, f"Opened {_opened(found, 'shielded record')}.", found


def _break_glass(opens: Sequence[EventFact]) -> _Candidate:
    found = [e for e in opens if e.break_glass]
    if not found:
        return None
    return Kind.BREAK_GLASS, f"Broke glass to open {_opened(found)}.", found


def _shared_surname(
    opens: Sequence[EventFact],
    actor_id: UUID,
    surname_matches: frozenset[tuple[UUID, UUID]],
) -> _Candidate:
    found = [
        e
        for e in opens
        if e.child_id is not None and (actor_id, e.child_id) in surname_matches
    ]
    if not found:
        return None
    return (
        Kind.SHARED_SURNAME,
        f"Opened {_opened(found)} where the child shares their surname.",
        found,
    )


def _news_list(opens: Sequence[EventFact], news_list: frozenset[UUID]) -> _Candidate:
    found = [e for e in opens if e.child_id is not None and e.child_id in news_list]
    if not found:
        return None
    return Kind.NEWS_LIST, f"Opened {_opened(found)} on the news list.", found
