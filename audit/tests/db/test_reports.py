"""Anomaly reports against the real database: detection, review, the news
list, and surname matches through encrypted child data."""

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from accounts.tests.factories import (
    LocalAuthorityFactory,
    SchoolFactory,
    UserFactory,
    actor,
)
from audit.anomalies import LONDON, london_day
from audit.models import (
    AccessAction,
    AccessEvent,
    AnomalyFinding,
    AnomalyKind,
    NewsListEntry,
)
from audit.reports import (
    anomalies_detect,
    finding_review,
    news_list_add,
    news_list_remove,
)
from contactpoint.crypto.fields import unseal
from directory.policies import Purpose
from directory.records import NewCarer, NewName
from directory.selectors import child_record_get, children_with_family_name
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 11, 27)


def at(hh: int, mm: int = 0, day: date = FRIDAY) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=LONDON)


@contextmanager
def clock(when: datetime) -> Iterator[None]:
    """Events get their time from the writer: travel to make them happen then."""
    with time_machine.travel(when, tick=False):
        yield


def practitioner(user_id: uuid.UUID | None = None):
    return actor((Role.PRACTITIONER, 1, None), user_id=user_id)


def auditor(*, verified: bool = True):
    return actor((Role.AUDITOR, 1, None), verified=verified)


_seqs = itertools.count(1_000_000)


def opened(reader, child_id, when, **flags) -> AccessEvent:
    """An allowed opening as the log holds it, at ``when``.

    The writer takes the time from the database clock, so a test that needs a
    time of day inserts the row itself (hashes are not checked here).
    """
    return AccessEvent.objects.create(
        seq=next(_seqs),
        occurred_at=when,
        actor_id=reader.user_id,
        actor_role=reader.primary_role(),
        action=AccessAction.VIEW,
        outcome="allowed",
        reason="granted",
        child_id=child_id,
        prev_hash="0" * 64,
        entry_hash="0" * 64,
        **flags,
    )


def detect(day: date = FRIDAY, when: datetime | None = None) -> int:
    with clock(when or at(23, 50, day)):
        return anomalies_detect(day)


def events_of(action: str) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(action=action).order_by("seq"))


@pytest.fixture
def finding() -> AnomalyFinding:
    opened(practitioner(), uuid.uuid4(), at(22))
    detect()
    return AnomalyFinding.objects.get()


def create_child(**kwargs) -> uuid.UUID:
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE
    )[0].id


# Detection


def test_detect_stores_each_finding_with_its_events_and_audits_the_scan():
    reader = practitioner()
    glass = opened(reader, uuid.uuid4(), at(10), break_glass=True)
    late = opened(reader, uuid.uuid4(), at(22))
    opened(practitioner(), uuid.uuid4(), at(11))

    assert detect() == 2

    found = {f.kind: f for f in AnomalyFinding.objects.all()}
    assert set(found) == {AnomalyKind.BREAK_GLASS, AnomalyKind.OUT_OF_HOURS}
    assert found[AnomalyKind.BREAK_GLASS].event_seqs == [glass.seq]
    assert found[AnomalyKind.OUT_OF_HOURS].event_seqs == [late.seq]
    assert {f.actor_id for f in found.values()} == {reader.user_id}
    assert {f.day for f in found.values()} == {FRIDAY}
    assert found[AnomalyKind.BREAK_GLASS].summary == "Broke glass to open 1 record."
    [scan] = events_of(AccessAction.ANOMALY_SCAN)
    assert (scan.actor_id, scan.outcome, scan.reason, scan.detail) == (
        None,
        "allowed",
        "nightly_scan",
        "Scanned 2026-11-27: 3 events, 2 findings",
    )


def test_detect_reads_only_the_events_of_the_london_day():
    # 00:30 on 1 July in London (BST) is 23:30 on 30 June in UTC.
    opened(practitioner(), uuid.uuid4(), at(0, 30, date(2026, 7, 1)))

    assert detect(date(2026, 6, 30), when=at(12, day=date(2026, 7, 1))) == 0
    assert detect(date(2026, 7, 1), when=at(12, day=date(2026, 7, 1))) == 1


def test_detect_again_refreshes_events_and_summary_but_keeps_the_review():
    reader = practitioner()
    first = opened(reader, uuid.uuid4(), at(22))
    detect(when=at(22, 10))
    stored = AnomalyFinding.objects.get()
    with clock(at(22, 20)):
        finding_review(actor=auditor(), finding_id=stored.id, note="Night shift.")
    second = opened(reader, uuid.uuid4(), at(23))

    assert detect(when=at(23, 10)) == 1

    refreshed = AnomalyFinding.objects.get()
    assert refreshed.id == stored.id
    assert refreshed.event_seqs == [first.seq, second.seq]
    assert refreshed.summary.startswith("Opened 2 records outside working hours")
    assert refreshed.review_note == "Night shift."
    assert refreshed.reviewed_at == at(22, 20)


def test_detect_on_demand_is_for_auditors_and_records_who_asked():
    opened(practitioner(), uuid.uuid4(), at(22))
    asking = auditor()

    with clock(at(23, 50)):
        assert anomalies_detect(FRIDAY, actor=asking) == 1
        with pytest.raises(PermissionDenied):
            anomalies_detect(FRIDAY, actor=practitioner())

    outcomes = [
        (e.actor_id, e.outcome, e.reason) for e in events_of(AccessAction.ANOMALY_SCAN)
    ]
    assert outcomes[0] == (asking.user_id, "allowed", "on_demand_scan")
    assert outcomes[1][1:] == ("denied", "role_not_permitted")


# Reviewing a finding


def test_auditor_review_marks_the_finding_and_is_audited_without_the_note(finding):
    reviewer = auditor()

    reviewed = finding_review(
        actor=reviewer, finding_id=finding.id, note="  Checked with manager.  "
    )

    stored = AnomalyFinding.objects.get()
    assert (stored.review_note, stored.reviewed_by_id) == (
        "Checked with manager.",
        reviewer.user_id,
    )
    assert stored.reviewed_at is not None
    assert reviewed.review_note == stored.review_note
    [event] = events_of(AccessAction.ANOMALY_REVIEW)
    assert (event.actor_id, event.outcome, event.reason) == (
        reviewer.user_id,
        "allowed",
        "granted",
    )
    assert str(finding.id) in event.detail
    assert "manager" not in event.detail
    assert unseal(event, "purpose_detail") == "Checked with manager."


def test_second_review_replaces_the_note_and_both_stay_in_the_log(finding):
    first, second = auditor(), auditor()
    finding_review(actor=first, finding_id=finding.id, note="First look.")

    finding_review(actor=second, finding_id=finding.id, note="Second look.")

    stored = AnomalyFinding.objects.get()
    assert (stored.review_note, stored.reviewed_by_id) == (
        "Second look.",
        second.user_id,
    )
    reviews = events_of(AccessAction.ANOMALY_REVIEW)
    assert [unseal(e, "purpose_detail") for e in reviews] == [
        "First look.",
        "Second look.",
    ]
    assert f"replaced the review by {first.user_id}" in reviews[1].detail


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (practitioner(), "role_not_permitted"),
        (auditor(verified=False), "second_factor_missing"),
    ],
)
def test_review_refused_to_others_is_audited_and_changes_nothing(finding, who, reason):
    with pytest.raises(PermissionDenied):
        finding_review(actor=who, finding_id=finding.id, note="Looks fine.")

    assert AnomalyFinding.objects.get().reviewed_at is None
    [event] = events_of(AccessAction.ANOMALY_REVIEW)
    assert (event.actor_id, event.outcome, event.reason) == (
        who.user_id,
        "denied",
        reason,
    )


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("   ", "Enter a note saying what you found and what was done"),
        ("x" * 2001, "Note must be 2000 characters or fewer"),
    ],
)
def test_review_needs_a_note_of_sensible_length(finding, note, message):
    with pytest.raises(ValidationError) as error:
        finding_review(actor=auditor(), finding_id=finding.id, note=note)

    assert error.value.message_dict == {"note": [message]}
    assert AnomalyFinding.objects.get().reviewed_at is None


# The news list


def test_auditor_adds_a_child_to_the_news_list_and_it_is_audited():
    child_id, listing = uuid.uuid4(), auditor()

    entry = news_list_add(actor=listing, child_id=child_id, note="In the news.")

    stored = NewsListEntry.objects.get()
    assert (stored.id, stored.child_id, stored.added_by_id) == (
        entry.id,
        child_id,
        listing.user_id,
    )
    [event] = events_of(AccessAction.NEWS_LIST_CHANGE)
    assert (event.outcome, event.child_id, event.detail) == (
        "allowed",
        child_id,
        "Added a child to the news list",
    )


def test_news_list_entry_needs_a_reason():
    with pytest.raises(ValidationError) as error:
        news_list_add(actor=auditor(), child_id=uuid.uuid4(), note=" ")

    assert error.value.message_dict == {
        "note": ["Enter why the child is on the news list"]
    }
    assert not NewsListEntry.objects.exists()


def test_adding_a_child_already_listed_is_refused_clearly():
    child_id = uuid.uuid4()
    news_list_add(actor=auditor(), child_id=child_id, note="In the news.")

    with pytest.raises(ValidationError) as error:
        news_list_add(actor=auditor(), child_id=child_id, note="Again.")

    assert error.value.message_dict == {
        "child_id": ["This child is already on the news list. Remove them first."]
    }
    assert NewsListEntry.objects.count() == 1


def test_removing_keeps_the_entry_and_the_child_can_be_listed_again():
    child_id, remover = uuid.uuid4(), auditor()
    entry = news_list_add(actor=auditor(), child_id=child_id, note="In the news.")

    news_list_remove(actor=remover, entry_id=entry.id)
    with pytest.raises(ValidationError, match="already been taken off"):
        news_list_remove(actor=remover, entry_id=entry.id)
    news_list_add(actor=auditor(), child_id=child_id, note="Back in the news.")

    removed = NewsListEntry.objects.get(pk=entry.id)
    assert removed.removed_by_id == remover.user_id
    assert removed.removed_at is not None
    assert NewsListEntry.objects.filter(removed_at__isnull=True).count() == 1
    assert [e.detail.split(" (")[0] for e in events_of("news_list_change")] == [
        "Added a child to the news list",
        "Removed a child from the news list",
        "Added a child to the news list",
    ]


def test_practitioner_cannot_change_the_news_list_and_the_refusal_is_audited():
    entry = news_list_add(actor=auditor(), child_id=uuid.uuid4(), note="News.")
    intruder = practitioner()

    with pytest.raises(PermissionDenied):
        news_list_add(actor=intruder, child_id=uuid.uuid4(), note="Curious.")
    with pytest.raises(PermissionDenied):
        news_list_remove(actor=intruder, entry_id=entry.id)

    assert NewsListEntry.objects.get().removed_at is None
    refusals = events_of(AccessAction.NEWS_LIST_CHANGE)[1:]
    assert [(e.actor_id, e.outcome, e.reason) for e in refusals] == [
        (intruder.user_id, "denied", "role_not_permitted")
    ] * 2


def test_opening_a_child_on_the_news_list_becomes_a_finding():
    listed, dropped = uuid.uuid4(), uuid.uuid4()
    with clock(at(8)):
        news_list_add(actor=auditor(), child_id=listed, note="In the news.")
        old = news_list_add(actor=auditor(), child_id=dropped, note="Last week.")
    with clock(at(8, 30)):
        news_list_remove(actor=auditor(), entry_id=old.id)
    reader = practitioner()
    seen = opened(reader, listed, at(9))
    opened(reader, dropped, at(9, 5))

    detect()

    # Removed during the day: still counted for that day.
    news = AnomalyFinding.objects.get(kind=AnomalyKind.NEWS_LIST)
    assert news.actor_id == reader.user_id
    assert news.event_seqs[0] == seen.seq
    assert len(news.event_seqs) == 2
    assert detect(date(2026, 11, 28), when=at(23, 50, date(2026, 11, 28))) == 0


# Surname matches, through encrypted child data


def test_children_with_family_name_matches_names_former_names_and_carers():
    legal = create_child(names=(NewName("Victoria", "Climbié"),), carers=())
    former = create_child(
        names=(NewName("Ann", "Smith"), NewName("Ann", "O’Brien", kind="former")),
        carers=(),
    )
    carer = create_child(
        names=(NewName("Tom", "Green"),),
        carers=(NewCarer(name="Marie-Thérèse Kouao", relationship="other_relative"),),
    )
    everyone = [legal, former, carer]

    assert children_with_family_name(child_ids=everyone, family_name="climbie") == {
        legal
    }
    assert children_with_family_name(child_ids=everyone, family_name="OBrien") == {
        former
    }
    assert children_with_family_name(child_ids=everyone, family_name="Kouao") == {carer}
    assert children_with_family_name(child_ids=everyone, family_name="Marie") == set()
    assert children_with_family_name(child_ids=[legal], family_name="Smith") == set()

    checks = events_of(AccessAction.ANOMALY_SCAN)
    assert [(e.actor_id, e.reason) for e in checks] == [(None, "surname_check")] * 5
    assert checks[0].detail == (
        "Compared the family names of 3 children with one surname: 1 matched."
    )


def test_children_with_family_name_reads_and_records_nothing_with_nothing_to_check():
    assert children_with_family_name(child_ids=[], family_name="Smith") == set()
    assert children_with_family_name(child_ids=[uuid.uuid4()], family_name=" ") == set()
    assert not AccessEvent.objects.exists()


def test_detect_finds_a_user_opening_a_child_with_their_surname():
    authority = LocalAuthorityFactory()
    school = SchoolFactory(parent_authority=authority)
    relative = UserFactory(last_name="Climbie")
    stranger = UserFactory(last_name="Tester")
    child_id = create_child(names=(NewName("Victoria", "Climbié"),))
    for user in (relative, stranger):
        reader = actor((Role.PRACTITIONER, school.pk, authority.pk), user_id=user.pk)
        child_record_get(
            actor=reader, child_id=child_id, purpose=Purpose.PROVIDING_SERVICE
        )
    # Written by the real gate, timed by the database clock: scan that day.
    day = london_day(
        AccessEvent.objects.filter(action="view").earliest("seq").occurred_at
    )

    anomalies_detect(day)

    found = AnomalyFinding.objects.get(kind=AnomalyKind.SHARED_SURNAME)
    assert found.actor_id == relative.pk
    assert found.summary == "Opened 1 record where the child shares their surname."
    reasons = [e.reason for e in events_of(AccessAction.ANOMALY_SCAN)]
    assert reasons == ["surname_check", "surname_check", "nightly_scan"]


def test_children_with_family_name_takes_the_same_queries_for_many_children(
    django_assert_num_queries,
):
    few = [create_child(names=(NewName("Ann", "Smith"),))]
    many = [create_child(names=(NewName("Ann", "Jones"),)) for _ in range(4)]
    with CaptureQueriesContext(connection) as one_child:
        children_with_family_name(child_ids=few, family_name="Brown")
    with django_assert_num_queries(len(one_child)):
        children_with_family_name(child_ids=few + many, family_name="Brown")
