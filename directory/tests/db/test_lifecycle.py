"""The retention job (directory/services/lifecycle.py) against the database,
with frozen time: each rule on the day before and the day it applies, what
a purge leaves behind (read from the raw tables), the audit trail, the dry
run, resuming after a kill, the nightly task and the command."""

import json
import random
from datetime import date, datetime
from io import StringIO
from unittest import mock
from uuid import UUID

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, actor
from audit.models import AccessAction, AccessEvent
from contactpoint.crypto.fields import EncryptedField, seal, unseal
from directory.identifiers import format_directory_number, make_test_nhs_number
from directory.models import (
    Child,
    ChildMerge,
    ChildStatus,
    LifecyclePlanBatch,
    LifecycleRun,
    LifecycleRunKind,
    LifecycleRunStatus,
    PurgedChild,
)
from directory.policies import Purpose
from directory.records import NewInvolvement, NewName, NewWarningFlag
from directory.retention import LifecycleRefused, LifecycleRule
from directory.selectors import ChildRecordUnavailable, child_record_get
from directory.selectors.lifecycle import lifecycle_plan_items
from directory.services import lifecycle
from directory.services.child_records import child_records_create
from directory.services.lifecycle import (
    NIGHTLY_AT,
    lifecycle_dry_run_request,
    lifecycle_nightly,
    lifecycle_run_process,
    lifecycle_run_start,
    next_run_day,
)
from directory.services.merges import children_merge
from directory.tasks import lifecycle_dry_run_task, lifecycle_nightly_task
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

#: When the test children are created (they must be under 25 then).
CREATED = "2030-01-10 12:00 +00:00"
#: 18th birthday of a child born on 16 June 2012.
BORN = date(2012, 6, 16)


class Killed(BaseException):
    """A worker killed mid-run: nothing catches it, as with SIGKILL."""


@pytest.fixture
def school():
    return SchoolFactory(parent_authority=LocalAuthorityFactory())


def _nhs(seed: int) -> str:
    return make_test_nhs_number(random.Random(seed))


def _child(seed: int = 1, **fields) -> UUID:
    fields.setdefault("date_of_birth", BORN)
    fields.setdefault("nhs_number", _nhs(seed))
    with time_machine.travel(CREATED, tick=False):
        return child_records_create(
            children=[NewChildFactory.build(**fields)], source=FEED_SOURCE
        )[0].id


def _record_death(child_id: UUID, died: date) -> None:
    child = Child.unaudited.get(pk=child_id)
    seal(child, "date_of_death", died.isoformat())
    child.save(update_fields=["date_of_death"])


def _at(day: str, clock: str = "02:00"):
    """Time travel to ``clock`` on ``day``, UK time (UTC+1 in summer). The
    clock ticks on from there, so runs started one after another sort in
    that order."""
    return time_machine.travel(
        timezone.make_aware(
            datetime.fromisoformat(f"{day} {clock}"),
            timezone.get_current_timezone(),
        ),
        tick=True,
    )


def _run(day: str, *, kind=LifecycleRunKind.RUN, batch_size: int = 2):
    with _at(day):
        run, created = lifecycle_run_start(kind=kind, as_of=timezone.localdate())
        assert created
        return lifecycle_run_process(run_id=run.pk, batch_size=batch_size)


def _status(child_id: UUID) -> str:
    return Child.unaudited.get(pk=child_id).status


def _events(action: str, *, allowed: bool = True):
    return AccessEvent.objects.filter(
        action=action, outcome="allowed" if allowed else "denied"
    ).order_by("seq")


# Archiving -------------------------------------------------------------------


def test_a_record_is_archived_on_the_18th_birthday_not_the_day_before():
    child_id = _child()

    before = _run("2030-06-15")
    assert _status(child_id) == ChildStatus.ACTIVE
    assert before.counts == {}

    run = _run("2030-06-16")

    child = Child.unaudited.get(pk=child_id)
    assert child.status == ChildStatus.ARCHIVED
    assert timezone.localdate(child.archived_at) == date(2030, 6, 16)
    assert run.counts == {LifecycleRule.ARCHIVE_AT_18.value: 1}
    assert run.status == LifecycleRunStatus.COMPLETED
    # Archiving keeps the data.
    assert unseal(child, "date_of_birth") == "2012-06-16"
    assert child.names.count() == 1


def test_consent_to_stay_keeps_the_record_until_the_25th_birthday():
    child_id = _child(consent_to_retain_until_25=True)

    _run("2030-06-16")
    _run("2037-06-15")
    assert _status(child_id) == ChildStatus.ACTIVE

    run = _run("2037-06-16")

    assert _status(child_id) == ChildStatus.ARCHIVED
    assert run.counts == {LifecycleRule.ARCHIVE_AT_25.value: 1}


def test_a_record_is_archived_a_year_after_a_recorded_death():
    child_id = _child(date_of_birth=date(2015, 1, 1))
    _record_death(child_id, date(2030, 2, 1))

    _run("2031-01-31")
    assert _status(child_id) == ChildStatus.ACTIVE

    run = _run("2031-02-01")

    assert _status(child_id) == ChildStatus.ARCHIVED
    assert run.counts == {LifecycleRule.ARCHIVE_AFTER_DEATH.value: 1}


def test_each_archive_and_each_run_is_audited_by_the_system_without_the_rule():
    child_id = _child()

    run = _run("2030-06-16")

    archive = _events(AccessAction.CHILD_ARCHIVE).get()
    assert (archive.child_id, archive.actor_id, archive.reason) == (
        child_id,
        None,
        "retention_due",
    )
    assert archive.detail == f"Archived by the retention job (run {run.pk})."
    finished = _events(AccessAction.LIFECYCLE_RUN).get()
    assert finished.reason == "completed"
    assert finished.detail == (
        f"Run {run.pk} as of 2030-06-16: 1 records checked; archived 1 at 18, "
        "0 at 25 and 0 a year after death; purged 0."
    )


# Purging ---------------------------------------------------------------------


def _tokens_of(child_id: UUID) -> list[bytes]:
    """Every encrypted value held about the child, as stored."""
    tokens: list[bytes] = []
    with connection.cursor() as cursor:
        for table, column, key in _encrypted_columns():
            if key is None:
                continue
            cursor.execute(
                f"SELECT {column} FROM {table} WHERE {key} = %s "  # noqa: S608
                f"AND {column} IS NOT NULL",
                [child_id],
            )
            tokens.extend(bytes(row[0]) for row in cursor.fetchall())
    return tokens


def _encrypted_columns() -> list[tuple[str, str, str | None]]:
    """(table, column, the column naming the child or None) for every
    encrypted column of the directory."""
    from django.apps import apps

    found = []
    for model in apps.get_app_config("directory").get_models():
        names = {f.name: f.column for f in model._meta.concrete_fields}
        key = "id" if model is Child else names.get("child")
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedField):
                found.append((model._meta.db_table, field.column, key))
    return found


def _rows_naming(child_id: UUID) -> dict[str, int]:
    """Rows in every directory table that name the child, read raw."""
    queries = {
        "directory_child": "SELECT count(*) FROM directory_child WHERE id = %s",
        "directory_childname": (
            "SELECT count(*) FROM directory_childname WHERE child_id = %s"
        ),
        "directory_address": (
            "SELECT count(*) FROM directory_address WHERE child_id = %s"
        ),
        "directory_carer": "SELECT count(*) FROM directory_carer WHERE child_id = %s",
        "directory_blindindexentry": (
            "SELECT count(*) FROM directory_blindindexentry WHERE child_id = %s"
        ),
        "directory_provenance": (
            "SELECT count(*) FROM directory_provenance WHERE child_id = %s"
        ),
        "directory_involvement": (
            "SELECT count(*) FROM directory_involvement WHERE child_id = %s"
        ),
        "directory_consent": (
            "SELECT count(*) FROM directory_consent c JOIN directory_involvement i "
            "ON i.id = c.involvement_id WHERE i.child_id = %s"
        ),
        "directory_warningflag": (
            "SELECT count(*) FROM directory_warningflag WHERE child_id = %s"
        ),
        "directory_childmerge": (
            "SELECT count(*) FROM directory_childmerge "
            "WHERE survivor_id = %s OR merged_id = %s"
        ),
    }
    counts = {}
    with connection.cursor() as cursor:
        for table, sql in queries.items():
            cursor.execute(sql, [child_id] * sql.count("%s"))
            counts[table] = cursor.fetchone()[0]
    return counts


def _held_anywhere(tokens: list[bytes]) -> list[str]:
    """The encrypted columns of the directory still holding any of ``tokens``."""
    holding = []
    with connection.cursor() as cursor:
        for table, column, _ in _encrypted_columns():
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ANY(%s)",  # noqa: S608
                [tokens],
            )
            if cursor.fetchone()[0]:
                holding.append(f"{table}.{column}")
    return holding


def test_a_record_is_purged_6_years_after_archiving_not_the_day_before(school):
    child_id = _child(
        involvements=(
            NewInvolvement(
                organisation_id=school.pk,
                service_type="sexual_health",
                started_on=date(2029, 9, 1),
                consent_given_by="young_person",
            ),
        ),
        warning_flags=(
            NewWarningFlag(
                kind="looked_after",
                owning_organisation_id=school.pk,
                contact_name="Duty desk",
                contact_phone="020 7946 0000",
                starts_on=date(2029, 9, 1),
            ),
        ),
    )
    kept = _child(seed=2, date_of_birth=date(2020, 1, 1))
    _run("2030-06-16")
    archived_at = Child.unaudited.get(pk=child_id).archived_at
    directory_number = Child.unaudited.get(pk=child_id).directory_number
    tokens = _tokens_of(child_id)
    assert len(tokens) >= 10  # dates, profile, names, address, carer, …
    assert _rows_naming(child_id)["directory_blindindexentry"] > 0

    _run("2036-06-15")
    assert _status(child_id) == ChildStatus.ARCHIVED

    run = _run("2036-06-16")

    assert run.counts == {LifecycleRule.PURGE.value: 1}
    assert _rows_naming(child_id) == dict.fromkeys(_rows_naming(child_id), 0)
    assert _held_anywhere(tokens) == []
    tombstone = PurgedChild.objects.get(pk=child_id)
    assert tombstone.archived_at == archived_at
    purge = _events(AccessAction.CHILD_PURGE).get()
    assert (purge.child_id, purge.actor_id, purge.reason) == (
        child_id,
        None,
        "retention_due",
    )
    # The log keeps the pseudonymous id only: no event names the record.
    assert not AccessEvent.objects.filter(detail__contains=directory_number).exists()
    assert _status(kept) == ChildStatus.ACTIVE


def test_a_purged_record_looks_missing_to_everyone():
    child_id = _child()
    _run("2030-06-16")
    _run("2036-06-16")
    manager = actor((Role.DATA_MANAGER, 1, 1))

    with pytest.raises(ChildRecordUnavailable):
        child_record_get(
            actor=manager, child_id=child_id, purpose=Purpose.DATA_MANAGEMENT
        )


def test_records_merged_into_a_purged_record_go_with_it():
    survivor = _child(names=(NewName("Amara", "Mensah"),))
    merged = _child(seed=1, names=(NewName("Amara", "Mensa"),), nhs_number=None)
    manager = actor((Role.DATA_MANAGER, 1, 1))
    children_merge(
        actor=manager, survivor_id=survivor, merged_id=merged, reason="Same child"
    )
    _run("2030-06-16")
    # A merged record is not archived on its own: it goes with its survivor.
    assert _status(merged) == ChildStatus.MERGED
    tokens = _tokens_of(merged)

    run = _run("2036-06-16")

    assert run.counts == {LifecycleRule.PURGE.value: 1, "purged_with_survivor": 1}
    assert not Child.unaudited.filter(pk__in=[survivor, merged]).exists()
    assert not ChildMerge.objects.exists()
    assert _rows_naming(merged) == dict.fromkeys(_rows_naming(merged), 0)
    assert _held_anywhere(tokens) == []
    assert set(PurgedChild.objects.values_list("id", flat=True)) == {survivor, merged}
    assert set(
        _events(AccessAction.CHILD_PURGE).values_list("child_id", flat=True)
    ) == {survivor, merged}


# Dry runs --------------------------------------------------------------------


def _world_with_everything_due() -> dict[str, UUID]:
    """On 2036-06-16: one record turning 18, one consenting (not due), one a
    year after death, one archived 6 years ago; one too young."""
    to_purge = _child(seed=5, date_of_birth=date(2018, 6, 16))
    Child.unaudited.filter(pk=to_purge).update(
        status=ChildStatus.ARCHIVED,
        archived_at=datetime.fromisoformat("2030-06-16 01:00 +00:00"),
    )
    turning_18 = _child(seed=1, date_of_birth=date(2018, 6, 16))
    consenting = _child(
        seed=2, date_of_birth=date(2018, 6, 16), consent_to_retain_until_25=True
    )
    died = _child(seed=3, date_of_birth=date(2022, 1, 1))
    _record_death(died, date(2035, 6, 16))
    young = _child(seed=4, date_of_birth=date(2025, 1, 1))
    return {
        "turning_18": turning_18,
        "consenting": consenting,
        "died": died,
        "to_purge": to_purge,
        "young": young,
    }


def test_a_dry_run_changes_nothing_and_matches_what_the_run_then_does():
    world = _world_with_everything_due()
    statuses = dict(Child.unaudited.values_list("id", "status"))
    events = AccessEvent.objects.count()

    dry = _run("2036-06-16", kind=LifecycleRunKind.DRY_RUN)

    assert dict(Child.unaudited.values_list("id", "status")) == statuses
    assert not PurgedChild.objects.exists()
    new_events = AccessEvent.objects.order_by("seq")[events:]
    assert [(e.action, e.reason) for e in new_events] == [
        (AccessAction.LIFECYCLE_RUN, "dry_run_completed")
    ]
    planned = {(i.child_id, i.rule) for i in lifecycle_plan_items(dry)}
    assert planned == {
        (world["turning_18"], LifecycleRule.ARCHIVE_AT_18),
        (world["died"], LifecycleRule.ARCHIVE_AFTER_DEATH),
        (world["to_purge"], LifecycleRule.PURGE),
    }

    run = _run("2036-06-16")

    archived = set(
        Child.unaudited.filter(
            status=ChildStatus.ARCHIVED, archived_at__date="2036-06-16"
        ).values_list("id", flat=True)
    )
    purged = set(PurgedChild.objects.values_list("id", flat=True))
    assert archived == {i for i, rule in planned if rule.archives}
    assert purged == {i for i, rule in planned if rule == LifecycleRule.PURGE}
    assert run.counts == dry.counts
    assert _status(world["consenting"]) == _status(world["young"]) == "active"


def test_the_dry_run_keeps_its_plan_encrypted():
    _world_with_everything_due()

    dry = _run("2036-06-16", kind=LifecycleRunKind.DRY_RUN)

    stored = b"".join(
        bytes(b.items) for b in LifecyclePlanBatch.objects.filter(run=dry)
    )
    assert b"archive_at_18" not in stored
    assert len(lifecycle_plan_items(dry)) == 3


def test_a_new_dry_run_discards_the_plans_of_older_ones():
    _world_with_everything_due()
    first = _run("2036-06-16", kind=LifecycleRunKind.DRY_RUN)

    second = _run("2036-06-16", kind=LifecycleRunKind.DRY_RUN)

    assert not LifecyclePlanBatch.objects.filter(run=first).exists()
    assert len(lifecycle_plan_items(second)) == 3


# Resuming ----------------------------------------------------------------------


def _five_turning_18() -> list[UUID]:
    return sorted(_child(seed=seed) for seed in range(1, 6))


def test_a_run_killed_between_batches_resumes_after_its_checkpoint():
    children = _five_turning_18()
    original = lifecycle._batch_process
    calls = []

    def killed_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed
        return original(*args, **kwargs)

    with (
        _at("2030-06-16"),
        mock.patch.object(lifecycle, "_batch_process", killed_on_the_second_batch),
    ):
        run, _ = lifecycle_run_start(kind=LifecycleRunKind.RUN, as_of=date(2030, 6, 16))
        with pytest.raises(Killed):
            lifecycle_run_process(run_id=run.pk, batch_size=2)
    run.refresh_from_db()
    assert (run.status, run.checked, run.checkpoint) == ("running", 2, children[1])

    with _at("2030-06-16"):
        run = lifecycle_run_process(run_id=run.pk, batch_size=2)

    assert (run.status, run.checked) == ("completed", 5)
    archives = list(
        _events(AccessAction.CHILD_ARCHIVE).values_list("child_id", flat=True)
    )
    assert sorted(archives) == children  # each once
    assert run.counts == {LifecycleRule.ARCHIVE_AT_18.value: 5}


def test_a_run_killed_inside_a_batch_does_not_redo_what_it_committed():
    children = _five_turning_18()
    original = lifecycle._apply
    calls = []

    def killed_on_the_second_record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed
        return original(*args, **kwargs)

    with (
        _at("2030-06-16"),
        mock.patch.object(lifecycle, "_apply", killed_on_the_second_record),
    ):
        run, _ = lifecycle_run_start(kind=LifecycleRunKind.RUN, as_of=date(2030, 6, 16))
        with pytest.raises(Killed):
            lifecycle_run_process(run_id=run.pk, batch_size=2)
    run.refresh_from_db()
    assert (run.checked, run.checkpoint) == (0, None)
    assert _status(children[0]) == ChildStatus.ARCHIVED

    with _at("2030-06-16"):
        run = lifecycle_run_process(run_id=run.pk, batch_size=2)

    archives = list(
        _events(AccessAction.CHILD_ARCHIVE).values_list("child_id", flat=True)
    )
    assert sorted(archives) == children  # the first one was not archived twice
    assert run.counts == {LifecycleRule.ARCHIVE_AT_18.value: 5}
    assert run.skipped == 0


def test_an_error_stops_the_run_and_the_next_night_resumes_it():
    children = _five_turning_18()
    original = lifecycle._archive
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    with _at("2030-06-16"), mock.patch.object(lifecycle, "_archive", fails_once):
        run, _ = lifecycle_run_start(kind=LifecycleRunKind.RUN, as_of=date(2030, 6, 16))
        run = lifecycle_run_process(run_id=run.pk, batch_size=2)

    assert (run.status, run.checked) == ("failed", 2)
    stopped = _events(AccessAction.LIFECYCLE_RUN, allowed=False).get()
    assert stopped.reason == "failed"
    assert "RuntimeError" in stopped.detail
    assert "disk on fire" not in stopped.detail
    undone = _events(AccessAction.CHILD_ARCHIVE, allowed=False).get()
    assert (undone.child_id, undone.reason) == (children[2], "not_completed")
    assert _status(children[2]) == ChildStatus.ACTIVE

    with _at("2030-06-17"):
        lifecycle_nightly()

    run.refresh_from_db()
    assert (run.status, run.checked) == ("completed", 5)
    assert set(Child.unaudited.values_list("status", flat=True)) == {"archived"}


def test_a_record_no_longer_due_when_locked_is_left_alone_and_audited():
    child_id = _child()
    due = lifecycle.lifecycle_plan

    def planned_before_the_consent_arrived(children, today):
        plan = due(children, today)
        Child.unaudited.filter(pk=child_id).update(consent_to_retain_until_25=True)
        return plan

    with mock.patch.object(
        lifecycle, "lifecycle_plan", planned_before_the_consent_arrived
    ):
        run = _run("2030-06-16")

    assert _status(child_id) == ChildStatus.ACTIVE
    assert (run.skipped, run.counts) == (1, {})
    reasons = list(
        AccessEvent.objects.filter(action=AccessAction.CHILD_ARCHIVE)
        .order_by("seq")
        .values_list("outcome", "reason")
    )
    assert reasons == [("allowed", "retention_due"), ("denied", "no_longer_due")]


def test_a_record_that_does_not_decrypt_is_counted_and_does_not_stop_the_run():
    broken = _child(seed=1)
    fine = _child(seed=2)
    Child.unaudited.filter(pk=broken).update(date_of_birth=b"not a token")

    run = _run("2030-06-16")

    assert (run.status, run.unreadable) == ("completed", 1)
    assert _status(fine) == ChildStatus.ARCHIVED
    finished = _events(AccessAction.LIFECYCLE_RUN).get()
    assert json.loads(unseal(finished, "result_ids") or "[]") == [str(broken)]
    assert "1 could not be read" in finished.detail


# The nightly job, its task, the report's request, the command ---------------------


def test_the_nightly_job_runs_once_a_day_and_plans_tomorrow():
    today_18 = _child(seed=1)
    tomorrow_18 = _child(seed=2, date_of_birth=date(2012, 6, 17))

    with _at("2030-06-16"):
        run = lifecycle_nightly()
        again = lifecycle_nightly()

    assert again.pk == run.pk
    assert LifecycleRun.objects.filter(kind=LifecycleRunKind.RUN).count() == 1
    assert _status(today_18) == ChildStatus.ARCHIVED
    dry = LifecycleRun.objects.filter(kind=LifecycleRunKind.DRY_RUN).latest(
        "started_at"
    )
    assert (dry.as_of, dry.status) == (date(2030, 6, 17), "completed")
    assert [(i.child_id, i.rule) for i in lifecycle_plan_items(dry)] == [
        (tomorrow_18, LifecycleRule.ARCHIVE_AT_18)
    ]


def test_the_nightly_task_takes_no_arguments_and_returns_the_run_id():
    _child()

    with _at("2030-06-16"):
        run_id = lifecycle_nightly_task()

    assert LifecycleRun.objects.get(pk=run_id).counts == {"archive_at_18": 1}


def test_the_dry_run_task_takes_the_run_id_only():
    _child()
    with _at("2030-06-16"):
        run, _ = lifecycle_run_start(
            kind=LifecycleRunKind.DRY_RUN, as_of=date(2030, 6, 16)
        )

        assert lifecycle_dry_run_task(str(run.pk)) == "completed"


def test_the_beat_schedule_starts_the_job_when_the_report_says():
    from contactpoint.celery import app

    entry = app.conf.beat_schedule["directory-lifecycle"]

    assert entry["task"] == "directory.tasks.lifecycle_nightly_task"
    assert entry["schedule"].hour == {NIGHTLY_AT.hour}
    assert entry["schedule"].minute == {NIGHTLY_AT.minute}
    assert "args" not in entry


@pytest.mark.parametrize(
    ("clock", "expected"),
    [("01:29", date(2030, 6, 16)), ("01:30", date(2030, 6, 17))],
)
def test_the_next_run_is_tonights_until_it_has_started(clock, expected):
    with _at("2030-06-16", clock):
        assert next_run_day() == expected


def test_a_data_manager_asks_for_a_dry_run_of_the_next_night(
    django_capture_on_commit_callbacks,
):
    manager = actor((Role.DATA_MANAGER, 1, 1))

    with (
        _at("2030-06-16", "09:00"),
        mock.patch.object(lifecycle_dry_run_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = lifecycle_dry_run_request(actor=manager)
        again = lifecycle_dry_run_request(actor=manager)

    assert again.pk == run.pk  # still running: not asked twice
    assert (run.kind, run.as_of, run.requested_by_id) == (
        "dry_run",
        date(2030, 6, 17),
        manager.user_id,
    )
    delay.assert_called_once_with(str(run.pk))
    asked = _events(AccessAction.LIFECYCLE_RUN)
    assert [(e.actor_id, e.reason) for e in asked] == [
        (manager.user_id, "dry_run_requested")
    ] * 2


def test_a_dry_run_whose_worker_died_is_queued_again_when_asked_for(
    django_capture_on_commit_callbacks,
):
    manager = actor((Role.DATA_MANAGER, 1, 1))
    with _at("2030-06-16", "09:00"):
        stuck, _ = lifecycle_run_start(kind="dry_run", as_of=date(2030, 6, 17))
    LifecycleRun.objects.filter(pk=stuck.pk).update(
        heartbeat_at=datetime.fromisoformat("2030-06-16 07:45 +00:00")
    )

    with (
        _at("2030-06-16", "09:00"),
        mock.patch.object(lifecycle_dry_run_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = lifecycle_dry_run_request(actor=manager)

    assert run.pk == stuck.pk
    delay.assert_called_once_with(str(stuck.pk))


def test_a_stopped_dry_run_is_replaced_not_resumed():
    _child()
    with _at("2030-06-15"):
        stopped, _ = lifecycle_run_start(kind="dry_run", as_of=date(2030, 6, 15))
    LifecycleRun.objects.filter(pk=stopped.pk).update(status="failed")

    assert lifecycle_run_process(run_id=stopped.pk).status == "failed"
    with _at("2030-06-15"):
        lifecycle_nightly()

    stopped.refresh_from_db()
    assert (stopped.status, stopped.checked) == ("failed", 0)
    latest = LifecycleRun.objects.filter(kind="dry_run").latest("started_at")
    assert (latest.as_of, latest.status) == (date(2030, 6, 16), "completed")
    assert len(lifecycle_plan_items(latest)) == 1


def test_a_practitioner_cannot_ask_for_a_dry_run_and_is_audited():
    teacher = actor((Role.PRACTITIONER, 1, 1))

    with pytest.raises(LifecycleRefused):
        lifecycle_dry_run_request(actor=teacher)

    assert not LifecycleRun.objects.exists()
    refused = _events(AccessAction.LIFECYCLE_RUN, allowed=False).get()
    assert (refused.actor_id, refused.reason) == (
        teacher.user_id,
        "role_not_permitted",
    )


def test_the_command_dry_run_prints_the_report_and_changes_nothing():
    child_id = _child()
    number = Child.unaudited.get(pk=child_id).directory_number
    out = StringIO()

    with _at("2030-06-16"):
        call_command("lifecycle", "--dry-run", stdout=out)

    text = out.getvalue()
    assert "Dry run as of 2030-06-16: 1 records checked; would archive 1 at 18" in text
    assert f"Archive: 18th birthday: 1\n  {format_directory_number(number)}" in text
    assert _status(child_id) == ChildStatus.ACTIVE


def test_the_command_runs_the_job():
    child_id = _child()
    out = StringIO()

    with _at("2030-06-16"):
        call_command("lifecycle", stdout=out)

    assert "Run as of 2030-06-16: 1 records checked; archived 1 at 18" in out.getvalue()
    assert _status(child_id) == ChildStatus.ARCHIVED


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dry-run", "--as-of", "16/06/2030"], "--as-of must be a date written"),
        (["--as-of", "2030-06-16"], "--as-of works only with --dry-run"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
    ],
)
def test_the_command_explains_bad_arguments(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("lifecycle", *arguments, stdout=StringIO())
