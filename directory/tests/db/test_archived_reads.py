"""Reading a record over its life, with frozen time: archived records through
the read gate and search, and involvements and flags ending on their end
date (docs/retention.md)."""

import uuid
from datetime import date

import pytest
import time_machine

from accounts.roles import Role
from accounts.tests.factories import (
    LocalAuthorityFactory,
    SchoolFactory,
    UserFactory,
    actor,
)
from audit.models import AccessAction, AccessEvent
from directory.policies import Purpose
from directory.records import NewInvolvement, NewWarningFlag, SearchQuery
from directory.selectors import ChildRecordUnavailable, child_record_get, child_search
from directory.services.child_records import child_records_create
from directory.services.lifecycle import lifecycle_run_process, lifecycle_run_start
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

BORN = date(2012, 6, 16)
ARCHIVED_ON = "2030-06-16"


@pytest.fixture
def school():
    return SchoolFactory(parent_authority=LocalAuthorityFactory())


@pytest.fixture
def manager(school):
    return actor((Role.DATA_MANAGER, school.parent_authority_id, None))


def _on(day: str):
    return time_machine.travel(f"{day} 12:00 +00:00", tick=False)


def _create(**fields) -> uuid.UUID:
    fields.setdefault("date_of_birth", BORN)
    return child_records_create(
        children=[NewChildFactory.build(**fields)],
        source=FEED_SOURCE,
        today=date(2030, 1, 10),
    )[0].id


def _archive_on(day: str) -> None:
    with _on(day):
        run, _ = lifecycle_run_start(kind="run", as_of=date.fromisoformat(day))
        lifecycle_run_process(run_id=run.pk)


def _last_view() -> tuple[str, str]:
    event = AccessEvent.objects.filter(action=AccessAction.VIEW).latest("seq")
    return event.outcome, event.reason


def test_a_data_manager_reads_an_archived_record_for_a_year(manager):
    child_id = _create()
    _archive_on(ARCHIVED_ON)

    with _on("2031-06-15"):
        record = child_record_get(
            actor=manager, child_id=child_id, purpose=Purpose.DATA_MANAGEMENT
        )
    assert record.names[0].family_name == "Climbié"
    assert _last_view() == ("allowed", "granted_archived")

    with _on("2031-06-16"), pytest.raises(ChildRecordUnavailable):
        child_record_get(
            actor=manager, child_id=child_id, purpose=Purpose.DATA_MANAGEMENT
        )
    assert _last_view() == ("denied", "archive_closed")


def test_a_data_manager_must_say_it_is_for_data_management(manager):
    child_id = _create()
    _archive_on(ARCHIVED_ON)

    with _on("2030-07-01"), pytest.raises(ChildRecordUnavailable):
        child_record_get(
            actor=manager, child_id=child_id, purpose=Purpose.PROVIDING_SERVICE
        )

    assert _last_view() == ("denied", "record_archived")


def test_a_practitioner_never_reads_an_archived_record_even_their_own(school):
    teacher = UserFactory()
    child_id = _create(
        involvements=(
            NewInvolvement(
                organisation_id=school.pk,
                service_type="education",
                started_on=date(2025, 9, 1),
                practitioner_id=teacher.pk,
            ),
        )
    )
    reader = actor(
        (Role.PRACTITIONER, school.pk, school.parent_authority_id),
        user_id=teacher.pk,
    )
    with _on("2030-06-15"):
        child_record_get(actor=reader, child_id=child_id, purpose=None)
    _archive_on(ARCHIVED_ON)

    for purpose in (None, Purpose.PROVIDING_SERVICE, Purpose.DATA_MANAGEMENT):
        with _on("2030-06-17"), pytest.raises(ChildRecordUnavailable):
            child_record_get(actor=reader, child_id=child_id, purpose=purpose)
        assert _last_view() == ("denied", "record_archived")


def test_archived_records_drop_out_of_every_search(school, manager):
    _create()
    practitioner = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))
    query = SearchQuery(family_name="Climbie", date_of_birth=BORN)
    on = date(2030, 6, 17)
    assert len(child_search(actor=practitioner, query=query, today=on).results) == 1

    _archive_on(ARCHIVED_ON)

    for reader in (practitioner, manager):
        assert child_search(actor=reader, query=query, today=on).results == ()


# Involvements and flags end on their end date ------------------------------------


def test_involvements_and_flags_end_on_their_end_date(school):
    teacher = UserFactory()
    ends = date(2030, 3, 31)
    child_id = _create(
        involvements=(
            NewInvolvement(
                organisation_id=school.pk,
                service_type="education",
                started_on=date(2025, 9, 1),
                practitioner_id=teacher.pk,
                ended_on=ends,
            ),
        ),
        warning_flags=(
            NewWarningFlag(
                kind="child_in_need",
                owning_organisation_id=school.pk,
                contact_name="Duty desk",
                contact_phone="020 7946 0000",
                starts_on=date(2029, 1, 1),
                ends_on=ends,
            ),
        ),
    )
    reader = actor(
        (Role.PRACTITIONER, school.pk, school.parent_authority_id),
        user_id=teacher.pk,
    )

    # On the end date both still show, and the teacher still needs no reason.
    with _on("2030-03-31"):
        record = child_record_get(actor=reader, child_id=child_id, purpose=None)
    assert [i.ended_on for i in record.involvements] == [ends]
    assert [f.ends_on for f in record.warning_flags] == [ends]

    # The day after, neither is current, and the relationship has ended.
    with _on("2030-04-01"):
        record = child_record_get(
            actor=reader, child_id=child_id, purpose=Purpose.PROVIDING_SERVICE
        )
        assert (record.involvements, record.warning_flags) == ((), ())
        with pytest.raises(ChildRecordUnavailable):
            child_record_get(actor=reader, child_id=child_id, purpose=None)
    assert _last_view() == ("denied", "purpose_missing")
