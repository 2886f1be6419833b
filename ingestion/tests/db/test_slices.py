"""Slices: a run's rows imported side by side, each slice from its own
checkpoint, against the real database.

What two slices could both do to one child is settled in the database: the
run's claims (the first row to reach a child is applied, a later one waits
for review) and the creation of new children one chunk at a time per run,
after blocking has looked again. The test that pauses one slice mid-chunk
while the other commits shows the second rule at work; without it the file
would make two children of one.
"""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from ingestion import services
from ingestion.models import (
    Channel,
    FeedClaim,
    FeedMode,
    FeedRow,
    FeedRun,
    FeedSource,
    RowOutcome,
    RowState,
    RunStatus,
)
from ingestion.services import (
    feed_file_receive,
    feed_run_process,
    feed_run_start,
    feed_slice_process,
    slice_bounds,
)

HEADER = "given_names,family_name,date_of_birth,gender,address_line_1,postcode"


def _count(table_and_condition: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table_and_condition}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _csv(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


@pytest.fixture
def source(db):
    authority = LocalAuthorityFactory()
    school = SchoolFactory(parent_authority=authority)
    return FeedSource.objects.create(
        organisation=school,
        name="Pupils",
        format="csv",
        mode=FeedMode.CHANGES,
        default_service_type="education",
    )


def _receive(source: FeedSource, data: bytes) -> FeedRun:
    return feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    ).run


@pytest.mark.parametrize(
    ("total", "chunk", "slices", "bounds"),
    [
        (5, 2, 2, [0, 2, 5]),
        (4, 1, 2, [0, 2, 4]),
        (2_500, 1_000, 4, [0, 1_000, 2_000, 2_500]),  # never more than chunks
        (100_000, 1_000, 2, [0, 50_000, 100_000]),
        (1_000, 1_000, 2, [0, 1_000]),
        (0, 1_000, 2, [0, 0]),
        (7, 2, 1, [0, 7]),
    ],
)
def test_slices_are_whole_chunks_covering_every_row(total, chunk, slices, bounds):
    assert slice_bounds(total, chunk, slices) == bounds


PEOPLE = (
    "Amara,Okafor,2016-04-12,F,1 High Road,N17 6AA",
    "Ben,Ashworth,2015-01-02,M,2 Low Road,N17 6AB",
    "Chloe,Brennan,2014-03-04,F,3 Mill Lane,N17 6AD",
    "Dev,Patel,2013-05-06,M,4 Park Road,N17 6AE",
    "Ellie,Nowak,2012-07-08,F,5 Hill Street,N17 6AF",
)


def test_each_slice_imports_from_its_own_checkpoint_and_the_last_ends_the_run(
    source, settings
):
    settings.FEED_CHUNK_ROWS = 2
    settings.FEED_SLICES = 2
    run = _receive(source, _csv(*PEOPLE))
    assert feed_run_start(run.pk) == [0, 1]
    run.refresh_from_db()
    assert (run.slice_bounds, run.slice_done) == ([0, 2, 5], [0, 0])

    run = feed_slice_process(run.pk, 1)  # the second slice may well go first
    assert (run.status, run.slice_done, run.rows_done, run.created) == (
        RunStatus.RUNNING,
        [0, 3],
        3,
        3,
    )
    assert feed_run_start(run.pk) == [0]  # a resumed run queues what is left

    run = feed_slice_process(run.pk, 0)
    assert (run.status, run.slice_done, run.rows_done, run.created) == (
        RunStatus.COMPLETED,
        [2, 3],
        5,
        5,
    )
    assert _count("directory_child") == 5
    assert not FeedClaim.objects.exists()  # claims live only while a run imports
    assert feed_run_start(run.pk) == []
    assert feed_slice_process(run.pk, 1).created == 5


def test_a_child_two_slices_reach_is_changed_by_the_first_row_only(source, settings):
    """Whichever slice commits first applies its row; the other row, earlier
    in the file or not, waits for review (as two rows in one slice would)."""
    settings.FEED_CHUNK_ROWS = 1
    settings.FEED_SLICES = 2
    first = feed_run_process(_receive(source, _csv(PEOPLE[0])).pk)
    assert first.created == 1
    run = _receive(
        source,
        _csv(
            "Amara,Okafor,2016-04-12,F,1 High Road,N17 6AA",
            "Amara,Okafor,2016-04-12,F,9 New Street,N17 6AQ",  # moved
        ),
    )
    assert feed_run_start(run.pk) == [0, 1]
    feed_slice_process(run.pk, 1)
    run = feed_slice_process(run.pk, 0)
    assert (run.status, run.updated, run.waiting) == (RunStatus.COMPLETED, 1, 1)
    rows = {row.position: row for row in FeedRow.objects.filter(run=run)}
    assert rows[2].outcome == RowOutcome.UPDATED
    assert rows[1].state == RowState.WAITING
    assert rows[1].match["reason"] == "linked_twice_in_file"
    assert rows[1].payload is not None  # kept for the reviewer


@pytest.mark.django_db(transaction=True)
def test_two_slices_making_one_new_child_side_by_side_make_it_once(
    source, settings, monkeypatch
):
    """Slice 0 has blocked and matched its row (no child yet: "new") when
    slice 1 makes the same child and commits. Slice 0 then blocks its row
    again before making anything, finds that child, and the row waits for
    review instead of making a duplicate."""
    settings.FEED_CHUNK_ROWS = 1
    settings.FEED_SLICES = 2
    run = _receive(
        source,
        _csv(
            "Amara,Okafor,2016-04-12,F,1 High Road,N17 6AA",
            "Amara,Okafur,2016-04-12,F,1 High Road,N17 6AA",  # the same child
        ),
    )
    assert feed_run_start(run.pk) == [0, 1]
    planned, other_committed = threading.Event(), threading.Event()
    real = services._claims_take
    paused = threading.get_ident

    def pause_slice_zero(run_, result):
        if threading.get_ident() == slice_zero[0]:
            planned.set()
            assert other_committed.wait(timeout=60)
        return real(run_, result)

    monkeypatch.setattr(services, "_claims_take", pause_slice_zero)
    slice_zero: list[int] = []
    errors: list[BaseException] = []

    def import_slice_zero() -> None:
        slice_zero.append(paused())
        try:
            feed_slice_process(run.pk, 0)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=import_slice_zero)
    thread.start()
    assert planned.wait(timeout=60)
    feed_slice_process(run.pk, 1)
    other_committed.set()
    thread.join(timeout=60)
    assert not errors

    run.refresh_from_db()
    assert (run.status, run.created, run.waiting) == (RunStatus.COMPLETED, 1, 1)
    assert _count("directory_child") == 1
    rows = {row.position: row for row in FeedRow.objects.filter(run=run)}
    assert rows[2].outcome == RowOutcome.CREATED
    assert rows[1].state == RowState.WAITING
    assert rows[1].match["reason"] == "linked_twice_in_file"
    assert rows[1].match["candidates"][0]["child_id"] == str(rows[2].child_id)


def test_a_slice_that_fails_stops_the_others(source, settings, monkeypatch):
    settings.FEED_CHUNK_ROWS = 1
    settings.FEED_SLICES = 2
    run = _receive(source, _csv(*PEOPLE[:4]))
    assert feed_run_start(run.pk) == [0, 1]
    real = services._chunk_apply

    def breaks_in_slice_one(*args, **kwargs):
        if kwargs["slice_number"] == 1:
            raise ValueError("broken")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_chunk_apply", breaks_in_slice_one)
    assert feed_slice_process(run.pk, 1).status == RunStatus.FAILED
    monkeypatch.setattr(services, "_chunk_apply", real)
    run = feed_slice_process(run.pk, 0)
    assert (run.status, run.rows_done) == (RunStatus.FAILED, 0)
    # Sent again, the run resumes every slice from its checkpoint.
    again = feed_file_receive(
        source=source, data=_csv(*PEOPLE[:4]), channel=Channel.UPLOAD, actor=None
    )
    assert again.run.status == RunStatus.QUEUED
    run = feed_run_process(run.pk)
    assert (run.status, run.rows_done, run.created) == (RunStatus.COMPLETED, 4, 4)
