"""Receiving and importing feeds against the real database, crypto and indexes.

Every row ends applied, quarantined or waiting; a repeated file is a no-op; a
run interrupted between chunks resumes without applying anything twice; a
snapshot ends the involvements it no longer reports.
"""

import datetime as dt
import random
import uuid

import pytest
import time_machine
from django.db import connection

from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from audit.models import AccessAction, AccessEvent
from directory.identifiers import make_test_nhs_number
from ingestion import services
from ingestion.models import (
    Channel,
    FeedFile,
    FeedMode,
    FeedRow,
    FeedRun,
    FeedSource,
    RowOutcome,
    RowState,
    RunStatus,
)
from ingestion.services import feed_file_receive, feed_run_process


def _count(table_and_condition: str) -> int:
    """Rows in a directory table (ingestion's tests, like its code, do not
    import the directory's models)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table_and_condition}")  # noqa: S608
        return int(cursor.fetchone()[0])


pytestmark = pytest.mark.django_db

HEADER = (
    "nhs_number,given_names,family_name,date_of_birth,gender,"
    "address_line_1,town,postcode,service_started_on"
)


def _nhs(seed: int) -> str:
    return make_test_nhs_number(random.Random(seed))


def _csv(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def _row(
    seed: int, given: str, family: str, dob: str, postcode: str = "N17 6AA"
) -> str:
    address = f"1 High Road,London,{postcode}"
    return f"{_nhs(seed)},{given},{family},{dob},F,{address},2025-09-01"


@pytest.fixture
def source(db):
    authority = LocalAuthorityFactory(name="Northshire Council")
    school = SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    return FeedSource.objects.create(
        organisation=school,
        name="Hilltop pupils",
        format="csv",
        mode=FeedMode.SNAPSHOT,
        default_service_type="education",
    )


def _import(source: FeedSource, data: bytes) -> FeedRun:
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    return feed_run_process(receipt.run.pk)


def _states(run: FeedRun) -> dict[int, tuple[str, str]]:
    return {
        row.position: (row.state, row.outcome)
        for row in FeedRow.objects.filter(run=run)
    }


def test_every_row_ends_applied_or_quarantined_with_a_reason(source):
    data = _csv(
        _row(1, "Amara", "Okafor", "2016-04-12"),
        "9434765918,Ben,Ashworth,2015-01-02,M,2 Low Road,London,N17 6AB,",
        _row(1, "Amara", "Okafor", "2016-04-12"),
        _row(3, "Chloe", "Brennan", "2031-01-01"),
    )
    run = _import(source, data)
    assert run.status == RunStatus.COMPLETED
    assert (run.total_rows, run.rows_done) == (4, 4)
    assert (run.created, run.quarantined, run.waiting) == (1, 3, 0)
    rows = {row.position: row for row in FeedRow.objects.filter(run=run)}
    assert rows[1].state == RowState.APPLIED
    assert rows[1].outcome == RowOutcome.CREATED
    assert rows[1].child_id is not None
    codes = {
        position: {p["code"] for p in rows[position].problems} for position in (2, 3, 4)
    }
    assert "nhs_number_check_digit" in codes[2] or "nhs_number_format" in codes[2]
    assert codes[3] == {"duplicate_row"}
    assert codes[4] == {"date_of_birth_future"}
    # What was sent is kept (encrypted) for quarantined rows only.
    assert rows[1].payload is None
    assert rows[2].payload is not None
    assert b"Ashworth" not in bytes(rows[2].payload)
    events = AccessEvent.objects.filter(action=AccessAction.FEED_IMPORT)
    assert [e.reason for e in events] == ["completed"]


def test_the_raw_file_is_stored_encrypted(source):
    run = _import(source, _csv(_row(1, "Amara", "Okafor", "2016-04-12")))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT content FROM ingestion_feedfile WHERE id = %s", [run.file_id]
        )
        stored = bytes(cursor.fetchone()[0])
    assert b"Okafor" not in stored


def test_the_same_file_twice_is_a_no_op_that_says_so(source):
    data = _csv(_row(1, "Amara", "Okafor", "2016-04-12"))
    first = _import(source, data)
    again = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    assert again.duplicate
    assert again.run.pk == first.pk
    assert FeedRun.objects.count() == 1
    assert FeedFile.objects.count() == 1
    reasons = list(
        AccessEvent.objects.filter(action=AccessAction.FEED_RECEIVE).values_list(
            "reason", flat=True
        )
    )
    assert reasons == ["received", "already_received"]


def test_a_wrong_file_is_refused_whole_with_a_clear_message(source):
    run = _import(source, b"<?xml version='1.0'?><CTfile></CTfile>")
    assert run.status == RunStatus.REJECTED
    assert run.refusal_code == "wrong_format"
    assert "expects a CSV file" in run.refusal_message
    assert not FeedRow.objects.filter(run=run).exists()


def test_a_non_utf8_file_is_refused(source):
    run = _import(
        source,
        _csv(_row(1, "Zoë", "Brontë", "2016-04-12")).replace("ë".encode(), b"\xeb"),
    )
    assert run.status == RunStatus.REJECTED
    assert run.refusal_code == "encoding"


def test_a_later_file_links_updates_and_leaves_unchanged(source):
    first = _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2015-01-02"),
        ),
    )
    assert first.created == 2
    second = _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2015-01-02", postcode="N17 9ZZ"),
        ),
    )
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    created = dict(
        FeedRow.objects.filter(run=first).values_list("position", "child_id")
    )
    linked = dict(
        FeedRow.objects.filter(run=second).values_list("position", "child_id")
    )
    assert created == linked


def test_a_snapshot_ends_involvements_it_no_longer_reports(source):
    _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2015-01-02"),
        ),
    )
    assert _count("directory_involvement WHERE ended_on IS NULL") == 2
    second = _import(source, _csv(_row(1, "Amara", "Okafor", "2016-04-12")))
    assert second.ended_involvements == 1
    assert _count("directory_involvement WHERE ended_on IS NULL") == 1


def test_an_interrupted_run_resumes_after_its_last_chunk(source, settings, monkeypatch):
    settings.FEED_CHUNK_ROWS = 2
    people = [
        ("Amara", "Okafor"),
        ("Ben", "Ashworth"),
        ("Chloe", "Brennan"),
        ("Dev", "Patel"),
        ("Ellie", "Nowak"),
    ]
    rows = [
        _row(10 + i, given, family, f"201{i}-0{i + 1}-1{i}", postcode=f"N{i + 1} 6AA")
        for i, (given, family) in enumerate(people)
    ]
    receipt = feed_file_receive(
        source=source, data=_csv(*rows), channel=Channel.UPLOAD, actor=None
    )
    real = services._chunk_apply
    calls = {"n": 0}

    def dies_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the worker is killed mid-run
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_chunk_apply", dies_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        feed_run_process(receipt.run.pk)
    run = FeedRun.objects.get(pk=receipt.run.pk)
    assert (run.status, run.rows_done, run.created) == (RunStatus.RUNNING, 2, 2)
    monkeypatch.setattr(services, "_chunk_apply", real)
    run = feed_run_process(run.pk)
    assert (run.status, run.rows_done, run.created) == (RunStatus.COMPLETED, 5, 5)
    assert FeedRow.objects.filter(run=run).count() == 5
    assert _count("directory_child") == 5
    # Running it again changes nothing.
    assert feed_run_process(run.pk).created == 5
    assert _count("directory_child") == 5


def test_a_too_large_file_is_refused_before_anything_is_stored(source, settings):
    settings.FEED_MAX_BYTES = 10
    receipt = feed_file_receive(
        source=source,
        data=_csv(_row(1, "Amara", "Okafor", "2016-04-12")),
        channel=Channel.UPLOAD,
        actor=None,
    )
    assert receipt.run.status == RunStatus.REJECTED
    assert receipt.run.refusal_code == "too_large"
    assert not FeedFile.objects.exists()


def test_runs_are_keyed_by_ids_only(source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipt = feed_file_receive(
            source=source,
            data=_csv(_row(1, "Amara", "Okafor", "2016-04-12")),
            channel=Channel.UPLOAD,
            actor=None,
        )
    assert len(callbacks) == 1
    assert isinstance(receipt.run.pk, uuid.UUID)


def test_the_resume_sweep_requeues_runs_whose_worker_died(source):
    import datetime as dt

    from django.utils import timezone

    from ingestion.tasks import feed_runs_resume_task

    receipt = feed_file_receive(
        source=source,
        data=_csv(_row(1, "Amara", "Okafor", "2016-04-12")),
        channel=Channel.UPLOAD,
        actor=None,
    )
    long_ago = timezone.now() - dt.timedelta(minutes=30)
    FeedRun.objects.filter(pk=receipt.run.pk).update(
        status=RunStatus.RUNNING, created_at=long_ago, heartbeat_at=long_ago
    )
    assert feed_runs_resume_task() == 1
    FeedRun.objects.filter(pk=receipt.run.pk).update(heartbeat_at=timezone.now())
    assert feed_runs_resume_task() == 0


def test_a_snapshot_with_quarantined_rows_ends_nothing(source):
    _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2015-01-02"),
        ),
    )
    second = _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2031-01-02"),  # quarantined: in the future
        ),
    )
    assert second.quarantined == 1
    assert second.ended_involvements == 0
    assert _count("directory_involvement WHERE ended_on IS NULL") == 2


def test_an_unexpected_error_stops_the_run_and_a_resend_resumes_it(
    source, settings, monkeypatch
):
    settings.FEED_CHUNK_ROWS = 1
    data = _csv(
        _row(1, "Amara", "Okafor", "2016-04-12"),
        _row(2, "Ben", "Ashworth", "2015-01-02", postcode="N1 1AA"),
    )
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    real = services._chunk_apply
    calls = {"n": 0}

    def breaks_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("a value the log must never show")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_chunk_apply", breaks_on_second_chunk)
    run = feed_run_process(receipt.run.pk)
    assert (run.status, run.rows_done, run.created) == (RunStatus.FAILED, 1, 1)
    event = AccessEvent.objects.filter(action=AccessAction.FEED_IMPORT).last()
    assert event is not None
    assert (event.outcome, event.reason) == ("denied", "failed")
    assert "must never show" not in event.detail
    # Not resumed by the sweep; sending the same file again resumes it.
    monkeypatch.setattr(services, "_chunk_apply", real)
    again = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    assert not again.duplicate
    assert again.run.status == RunStatus.QUEUED
    run = feed_run_process(run.pk)
    assert (run.status, run.rows_done, run.created) == (RunStatus.COMPLETED, 2, 2)


def test_an_older_snapshot_finishing_late_ends_nothing(source):
    first = feed_file_receive(
        source=source,
        data=_csv(_row(1, "Amara", "Okafor", "2016-04-12")),
        channel=Channel.UPLOAD,
        actor=None,
    )
    newer = _import(
        source,
        _csv(
            _row(1, "Amara", "Okafor", "2016-04-12"),
            _row(2, "Ben", "Ashworth", "2015-01-02", postcode="N1 1AA"),
        ),
    )
    assert newer.created == 2
    FeedRun.objects.filter(pk=first.run.pk).update(created_at=newer.created_at)
    FeedRun.objects.filter(pk=newer.pk).update(
        created_at=newer.created_at + dt.timedelta(seconds=1)
    )
    older = feed_run_process(first.run.pk)
    assert older.ended_involvements == 0
    assert _count("directory_involvement WHERE ended_on IS NULL") == 2


def test_a_drop_folder_ignores_links_and_refuses_large_files(
    source, settings, tmp_path
):
    from ingestion.sources import drop_folders_scan

    settings.FEED_DROP_DIR = tmp_path
    source.drop_folder = "hilltop"
    source.save()
    folder = tmp_path / "hilltop"
    folder.mkdir()
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(_csv(_row(1, "Amara", "Okafor", "2016-04-12")))
    (folder / "linked.csv").symlink_to(outside)
    (folder / "pupils.csv").write_bytes(_csv(_row(2, "Ben", "Ashworth", "2015-01-02")))
    settings.FEED_MAX_BYTES = 10
    assert drop_folders_scan() == 1
    run = FeedRun.objects.get()
    assert (run.channel, run.refusal_code) == (Channel.DROP_FOLDER, "too_large")
    assert (folder / "linked.csv").is_symlink()
    assert not (folder / "pupils.csv").exists()


def test_one_child_twice_in_a_file_goes_to_review_even_across_chunks(source, settings):
    settings.FEED_CHUNK_ROWS = 1
    header = "given_names,family_name,date_of_birth,gender,address_line_1,postcode"
    data = (
        f"{header}\n"
        "Amara,Okafor,2016-04-12,F,1 High Road,N17 6AA\n"
        "Amara,Okafor,2016-04-12,F,1 High Rd,N17 6AA\n"
    ).encode()
    run = _import(source, data)
    assert (run.created, run.waiting) == (1, 1)
    waiting = FeedRow.objects.get(run=run, state=RowState.WAITING)
    assert waiting.match["reason"] == "linked_twice_in_file"


def test_no_record_is_made_for_someone_of_eighteen_or_over(source):
    """The directory holds children: a row for an adult that matches nobody
    is quarantined with a reason, not made a record (nor is an archived
    record brought back as a new one); the day before their 18th birthday
    they are still a child."""
    data = _csv(
        _row(1, "Amara", "Okafor", "2012-04-12"),
        _row(2, "Ben", "Ashworth", "2012-04-13"),
    )
    with time_machine.travel("2030-04-12 09:00"):
        run = _import(source, data)
    assert (run.created, run.quarantined) == (1, 1)
    rows = {row.position: row for row in FeedRow.objects.filter(run=run)}
    assert [p["code"] for p in rows[1].problems] == ["adult_not_held"]
    assert rows[1].child_id is None
    assert rows[2].outcome == RowOutcome.CREATED


def test_a_child_created_in_an_earlier_chunk_is_found_by_a_later_one(source, settings):
    """Blocking keeps the run's posting lists between chunks and catches up on
    the entries written since: a second row for a child the first chunk
    created (no NHS number to link it, a typo in the name) is compared with
    that child, not made a second record."""
    settings.FEED_CHUNK_ROWS = 1
    header = "given_names,family_name,date_of_birth,gender,address_line_1,postcode"
    data = (
        f"{header}\n"
        "Amara,Okafor,2016-04-12,F,1 High Road,N17 6AA\n"
        "Amara,Okafur,2016-04-12,F,1 High Road,N17 6AA\n"
    ).encode()
    run = _import(source, data)
    rows = {row.position: row for row in FeedRow.objects.filter(run=run)}
    assert rows[1].outcome == RowOutcome.CREATED
    assert rows[2].outcome != RowOutcome.CREATED
    assert rows[2].state == RowState.WAITING  # linked twice in one file
    assert _count("directory_child") == 1
