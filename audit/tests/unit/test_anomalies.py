"""The pure anomaly rules: one day's events in, findings out (no database)."""

import random
import statistics
import uuid
from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest

from audit.anomalies import (
    LONDON,
    EventFact,
    Finding,
    Kind,
    Thresholds,
    _peer_median,
    anomalies_find,
    london_day_bounds,
)
from audit.models import AnomalyKind

FRIDAY = date(2026, 11, 27)  # GMT
SATURDAY = date(2026, 11, 28)
SUMMER_WEDNESDAY = date(2026, 7, 1)  # BST

ALICE = uuid.UUID(int=1)
BOB = uuid.UUID(int=2)

_seqs = count(1)


def at(day: date, hh: int = 10, mm: int = 0) -> datetime:
    """An aware moment on ``day`` at hh:mm London time."""
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


def open_(actor=ALICE, when=None, child=None, **kwargs) -> EventFact:
    return EventFact(
        seq=next(_seqs),
        actor_id=actor,
        occurred_at=when or at(FRIDAY),
        action="view",
        outcome=kwargs.pop("outcome", "allowed"),
        child_id=child or uuid.uuid4(),
        **kwargs,
    )


def search(actor=ALICE, when=None, outcome="allowed") -> EventFact:
    return EventFact(
        seq=next(_seqs),
        actor_id=actor,
        occurred_at=when or at(FRIDAY),
        action="search",
        outcome=outcome,
    )


def kinds(findings: list[Finding]) -> list[tuple[Kind, uuid.UUID]]:
    return [(f.kind, f.actor_id) for f in findings]


def find(events, day=FRIDAY, **kwargs) -> list[Finding]:
    return anomalies_find(events, day=day, **kwargs)


def test_kinds_match_the_stored_choices():
    assert {k.value for k in Kind} == set(AnomalyKind.values)


def test_ordinary_day_has_no_findings():
    assert find([open_(), search(), open_(actor=BOB)]) == []


# Bulk viewing: more than max(3 × peers' median, 20).


def test_exactly_twenty_openings_without_peers_is_not_bulk_viewing():
    assert find([open_() for _ in range(20)]) == []


def test_twenty_one_openings_without_peers_is_bulk_viewing():
    events = [open_() for _ in range(21)]

    [finding] = find(events)

    assert finding.kind == Kind.BULK_VIEWING
    assert finding.summary == "Opened 21 records; no one else opened any."
    assert finding.event_seqs == tuple(e.seq for e in events)


def test_bulk_viewing_compares_with_three_times_the_peers_median():
    peers = [uuid.UUID(int=10 + i) for i in range(3)]
    peer_events = [open_(actor=p) for p in peers for _ in range(10)]  # median 10
    at_limit = [open_() for _ in range(30)]
    over_limit = [open_(actor=BOB) for _ in range(31)]

    findings = find(peer_events + at_limit + over_limit)

    assert kinds(findings) == [(Kind.BULK_VIEWING, BOB)]
    assert findings[0].summary == "Opened 31 records; peers opened a median of 10."


def test_peers_median_counts_only_users_who_opened_a_record():
    searchers = [search(actor=uuid.UUID(int=10 + i)) for i in range(5)]
    peer = [open_(actor=BOB) for _ in range(8)]  # the only peer: limit 24
    events = searchers + peer + [open_() for _ in range(25)]

    assert kinds(find(events)) == [(Kind.BULK_VIEWING, ALICE)]


def test_peer_median_leaves_out_the_user_themself():
    rng = random.Random(4)
    for _ in range(200):
        counts = sorted(rng.randint(1, 9) for _ in range(rng.randint(1, 7)))
        for own in {0, *counts}:
            peers = list(counts)
            if own:
                peers.remove(own)
            expected = statistics.median(peers) if peers else None

            assert _peer_median(counts, own) == expected


def test_even_number_of_peers_uses_the_mean_of_the_middle_two():
    peers = [
        open_(actor=uuid.UUID(int=10 + i)) for i in range(2) for _ in range(i * 6 + 3)
    ]
    # Peers opened 3 and 9: median 6, limit max(18, 20) = 20.
    events = peers + [open_() for _ in range(21)]

    [finding] = find(events)

    assert finding.summary == "Opened 21 records; peers opened a median of 6."


def test_refused_openings_do_not_count_as_openings():
    events = [open_(outcome="denied") for _ in range(25)]

    assert find(events) == []


def test_repeat_openings_say_how_many_different_records():
    child = uuid.uuid4()
    events = [open_(child=child) for _ in range(21)] + [open_()]

    [finding] = find(events)

    assert finding.summary == "Opened 22 records (2 different); no one else opened any."


# Browsing: at least 10 searches, openings fewer than 10% of them.


def test_ten_searches_and_no_openings_is_browsing():
    events = [search() for _ in range(10)]

    [finding] = find(events)

    assert finding.kind == Kind.BROWSING
    assert finding.summary == "Searched 10 times and opened none."
    assert finding.event_seqs == tuple(e.seq for e in events)


def test_nine_searches_is_not_browsing():
    assert find([search() for _ in range(9)]) == []


def test_one_opening_in_ten_searches_is_exactly_ten_percent_so_not_browsing():
    assert find([search() for _ in range(10)] + [open_()]) == []


def test_two_openings_in_thirty_one_searches_is_browsing_and_lists_both_kinds():
    searches = [search() for _ in range(31)]
    opens = [open_() for _ in range(3)]  # 3 of 31 < 10%
    events = searches + opens

    [finding] = find(events)

    assert finding.summary == "Searched 31 times and opened 3 records."
    assert finding.event_seqs == tuple(sorted(e.seq for e in events))


def test_three_openings_in_thirty_searches_is_not_browsing():
    assert find([search() for _ in range(30)] + [open_() for _ in range(3)]) == []


def test_refused_searches_do_not_count():
    assert find([search(outcome="denied") for _ in range(12)]) == []


# Out of hours: 07:00 (inclusive) to 19:00 (exclusive), Monday to Friday.


@pytest.mark.parametrize(
    ("hh", "mm", "out_of_hours"),
    [(6, 59, True), (7, 0, False), (18, 59, False), (19, 0, True), (0, 30, True)],
)
def test_working_hours_boundaries(hh, mm, out_of_hours):
    findings = find([open_(when=at(FRIDAY, hh, mm))])

    assert bool(findings) == out_of_hours


def test_weekend_opening_at_midday_is_out_of_hours():
    event = open_(when=at(SATURDAY, 12))

    [finding] = find([event], day=SATURDAY)

    assert finding.kind == Kind.OUT_OF_HOURS
    assert finding.day == SATURDAY
    assert finding.summary == (
        "Opened 1 record outside working hours (07:00 to 19:00, Monday to Friday)."
    )
    assert finding.event_seqs == (event.seq,)


def test_working_hours_are_london_time_in_summer():
    # 06:30 UTC is 07:30 BST: within working hours.
    in_hours = open_(when=datetime(2026, 7, 1, 6, 30, tzinfo=UTC))
    # 18:30 UTC is 19:30 BST: outside them, though before 19:00 UTC.
    late = open_(when=datetime(2026, 7, 1, 18, 30, tzinfo=UTC))

    [finding] = find([in_hours, late], day=SUMMER_WEDNESDAY)

    assert finding.event_seqs == (late.seq,)


def test_working_hours_are_utc_in_winter():
    early = open_(when=datetime(2026, 11, 27, 6, 59, tzinfo=UTC))
    in_hours = open_(when=datetime(2026, 11, 27, 7, 0, tzinfo=UTC))

    [finding] = find([early, in_hours])

    assert finding.event_seqs == (early.seq,)


def test_events_belong_to_their_london_day():
    # 23:30 UTC on 30 June is 00:30 BST on 1 July.
    after_midnight_bst = open_(when=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    # 23:30 UTC on 27 November is still 27 November in London (GMT).
    late_friday_gmt = open_(when=datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    events = [after_midnight_bst, late_friday_gmt]

    assert find(events, day=date(2026, 6, 30)) == []
    assert [f.event_seqs for f in find(events, day=SUMMER_WEDNESDAY)] == [
        (after_midnight_bst.seq,)
    ]
    assert [f.event_seqs for f in find(events, day=FRIDAY)] == [(late_friday_gmt.seq,)]


def test_london_day_bounds_follow_the_clock_changes():
    assert london_day_bounds(SUMMER_WEDNESDAY)[0] == datetime(
        2026, 6, 30, 23, tzinfo=UTC
    )
    assert london_day_bounds(FRIDAY)[0] == datetime(2026, 11, 27, tzinfo=UTC)
    start, end = london_day_bounds(date(2026, 3, 29))  # clocks go forward
    assert end - start == timedelta(hours=23)
    start, end = london_day_bounds(date(2026, 10, 25))  # clocks go back
    assert end - start == timedelta(hours=25)


def test_custom_thresholds_change_working_days():
    weekends_too = Thresholds(working_weekdays=frozenset(range(7)))

    assert (
        find([open_(when=at(SATURDAY, 12))], day=SATURDAY, thresholds=weekends_too)
        == []
    )


# Shielded records and breaking glass.


def test_opening_a_shielded_record_is_a_finding():
    shielded = open_(shielded_record=True)

    [finding] = find([shielded, open_()])

    assert (finding.kind, finding.event_seqs) == (Kind.SHIELDED, (shielded.seq,))
    assert finding.summary == "Opened 1 shielded record."


def test_refused_attempt_on_a_shielded_record_is_not_a_finding():
    assert find([open_(shielded_record=True, outcome="denied")]) == []


def test_breaking_glass_is_a_finding_of_its_own():
    glass = open_(break_glass=True, shielded_record=True)

    findings = find([glass])

    assert kinds(findings) == [(Kind.SHIELDED, ALICE), (Kind.BREAK_GLASS, ALICE)]
    assert findings[1].summary == "Broke glass to open 1 record."
    assert findings[1].event_seqs == (glass.seq,)


# Shared surname and the news list.


def test_opening_a_child_sharing_the_surname_is_a_finding_for_that_user_only():
    child = uuid.uuid4()
    mine = open_(child=child)
    theirs = open_(actor=BOB, child=child)

    findings = find([mine, theirs], surname_matches=frozenset({(ALICE, child)}))

    assert kinds(findings) == [(Kind.SHARED_SURNAME, ALICE)]
    assert findings[0].event_seqs == (mine.seq,)
    assert (
        findings[0].summary == "Opened 1 record where the child shares their surname."
    )


def test_every_opening_of_a_news_list_child_is_a_finding_per_user():
    listed = uuid.uuid4()
    events = [open_(child=listed), open_(child=listed), open_(actor=BOB, child=listed)]

    findings = find([*events, open_()], news_list=frozenset({listed}))

    assert kinds(findings) == sorted(
        [(Kind.NEWS_LIST, ALICE), (Kind.NEWS_LIST, BOB)], key=lambda k: str(k[1])
    )
    assert findings[0].event_seqs == (events[0].seq, events[1].seq)
    assert findings[0].summary == "Opened 2 records (1 different) on the news list."


# One finding per kind, user and day; deterministic order; no child data.


def test_findings_are_ordered_by_kind_then_user_whatever_the_input_order():
    events = [
        open_(actor=BOB, when=at(FRIDAY, 22)),
        open_(actor=ALICE, when=at(FRIDAY, 5)),
        open_(actor=BOB, break_glass=True),
        *[search(actor=ALICE) for _ in range(11)],
    ]

    forwards = find(events)
    backwards = find(list(reversed(events)))

    assert forwards == backwards
    assert kinds(forwards) == [
        (Kind.BROWSING, ALICE),
        (Kind.OUT_OF_HOURS, ALICE),
        (Kind.OUT_OF_HOURS, BOB),
        (Kind.BREAK_GLASS, BOB),
    ]


def test_summaries_hold_no_child_ids_and_fit_the_column():
    child = uuid.uuid4()
    events = [
        open_(child=child, when=at(SATURDAY, 3), break_glass=True, shielded_record=True)
        for _ in range(40)
    ]

    findings = find(
        events,
        day=SATURDAY,
        surname_matches=frozenset({(ALICE, child)}),
        news_list=frozenset({child}),
    )

    assert {f.kind for f in findings} == set(Kind) - {Kind.BROWSING}
    for finding in findings:
        assert str(child) not in finding.summary
        assert len(finding.summary) <= 300
