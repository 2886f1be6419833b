"""End to end through a real Celery worker and Redis: upload, import, kill, resume.

The worker is a separate process (``celery -A contactpoint worker``) on the
test database and a queue of its own on the real Redis. It is killed with
SIGKILL in the middle of a run; a new worker, sent the run again (as the
resume sweep does), finishes it. The counts must be exact: every row once,
no child twice.
"""

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from directory.identifiers import make_test_nhs_number
from ingestion.models import Channel, FeedMode, FeedRow, FeedRun, FeedSource, RunStatus
from ingestion.services import feed_file_receive


def _count(table_and_condition: str) -> int:
    """Rows in a directory table (ingestion's tests, like its code, do not
    import the directory's models)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table_and_condition}")  # noqa: S608
        return int(cursor.fetchone()[0])


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
ROWS = 1_500
CHUNK = 50
GIVEN = ["Amara", "Ben", "Chloe", "Dev", "Ellie", "Finn", "Grace", "Hari", "Isla"]
FAMILY = ["Okafor", "Ashworth", "Brennan", "Patel", "Nowak", "Hughes", "Khan"]


def _feed() -> bytes:
    rng = random.Random(7)
    lines = ["nhs_number,given_names,family_name,date_of_birth,gender,postcode"]
    # Children of 0 to 17 whatever the year: a row for an adult who matches
    # nobody is quarantined, not created (ingestion.pipeline.plan).
    first_year = timezone.localdate().year - 17
    for i in range(ROWS):
        dob = f"{first_year + i % 17}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines.append(
            f"{make_test_nhs_number(rng)},{GIVEN[i % 9]},{FAMILY[i % 7]}{i},"
            f"{dob},{1 + i % 2},N{1 + i % 20} {i % 10}AB"
        )
    return ("\n".join(lines) + "\n").encode()


def _database_url() -> str:
    """This session's DATABASE_URL (a TCP server, or the embedded one's
    socket) naming the test database instead."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = connection.settings_dict["NAME"]
    return urlunsplit(parts._replace(path=parts.path.rsplit("/", 1)[0] + "/" + name))


def _worker(queue: str, pool: str = "--pool=solo") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactpoint.settings.test",
        "DATABASE_URL": _database_url(),
        "CP_TEST_CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CP_FEED_CHUNK_ROWS": str(CHUNK),
        # The same audit checkpoint directory and keys as this process.
        "CP_AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
    }
    return subprocess.Popen(  # noqa: S603 - the project's own worker
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "contactpoint",
            "worker",
            *pool.split(),
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe nobody reads (a full pipe would stall the worker).
        stderr=tempfile.TemporaryFile(),
    )


def _send(queue: str, run_id: uuid.UUID) -> None:
    broker = Celery(broker=os.environ["REDIS_URL"])
    broker.send_task("ingestion.tasks.feed_run_task", args=[str(run_id)], queue=queue)


def _wait(predicate, what: str, timeout: float = 120.0) -> FeedRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = FeedRun.objects.get()
        if predicate(run):
            return run
        time.sleep(0.05)
    pytest.fail(f"Timed out waiting for {what}: {FeedRun.objects.get()}")


def test_a_killed_worker_resumes_the_run_with_exact_counts(db):
    authority = LocalAuthorityFactory()
    school = SchoolFactory(parent_authority=authority)
    source = FeedSource.objects.create(
        organisation=school,
        name="Pupils",
        format="csv",
        mode=FeedMode.CHANGES,
        default_service_type="education",
    )
    receipt = feed_file_receive(
        source=source, data=_feed(), channel=Channel.UPLOAD, actor=None
    )
    queue = f"feeds-test-{uuid.uuid4().hex}"
    worker = _worker(queue)
    try:
        _send(queue, receipt.run.pk)
        killed_at = _wait(
            lambda run: 0 < run.rows_done < ROWS - 5 * CHUNK, "the first chunks"
        ).rows_done
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    stopped = FeedRun.objects.get()
    assert stopped.status == RunStatus.RUNNING
    assert stopped.rows_done < ROWS
    assert stopped.rows_done % CHUNK == 0  # only whole chunks were committed
    assert FeedRow.objects.count() == stopped.rows_done
    assert _count("directory_child") == stopped.created

    worker = _worker(queue)
    try:
        _send(queue, receipt.run.pk)
        done = _wait(lambda run: run.status == RunStatus.COMPLETED, "the run to end")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert killed_at < ROWS
    assert (done.total_rows, done.rows_done) == (ROWS, ROWS)
    assert done.created + done.quarantined + done.waiting == ROWS
    assert done.quarantined == 0
    assert FeedRow.objects.count() == ROWS
    assert FeedRow.objects.values("position").distinct().count() == ROWS
    assert _count("directory_child") == done.created


def test_two_worker_processes_import_a_run_side_by_side(db, settings):
    """Two slices in two worker processes at once. The end of the file
    repeats its first thirty children without their NHS number (so nothing
    but matching can tell): each of them is made once, and the other row
    waits for review, whichever slice reached the child first."""
    authority = LocalAuthorityFactory()
    school = SchoolFactory(parent_authority=authority)
    source = FeedSource.objects.create(
        organisation=school,
        name="Pupils",
        format="csv",
        mode=FeedMode.CHANGES,
        default_service_type="education",
    )
    lines = _feed().decode().splitlines()
    header, rows = lines[0], lines[1:]
    # Repeats of rows 1-30 (in slice 0), placed among the last rows (slice 1).
    repeats = ["," + row.split(",", 1)[1] for row in rows[:30]]
    data = "\n".join([header, *rows, *repeats]) + "\n"
    receipt = feed_file_receive(
        source=source, data=data.encode(), channel=Channel.UPLOAD, actor=None
    )
    queue = f"feeds-test-{uuid.uuid4().hex}"
    worker = _worker(queue, pool="--pool=prefork --concurrency=2")
    try:
        _send(queue, receipt.run.pk)
        done = _wait(lambda run: run.status == RunStatus.COMPLETED, "the run to end")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(done.slice_bounds) == 3  # two slices
    assert (done.total_rows, done.rows_done) == (ROWS + 30, ROWS + 30)
    assert done.created + done.waiting + done.quarantined == ROWS + 30
    assert _count("directory_child") == done.created
    by_position = {row.position: row for row in FeedRow.objects.filter(run=done)}
    for position in range(1, 31):
        pair = (by_position[position], by_position[ROWS + position])
        # One of the two rows made the child, the other waits for review.
        assert sorted(row.state for row in pair) == ["applied", "waiting"]
        made = next(row for row in pair if row.state == "applied")
        waiting = next(row for row in pair if row.state == "waiting")
        assert made.outcome == "created"
        assert waiting.match["reason"] == "linked_twice_in_file"
        assert waiting.match["candidates"][0]["child_id"] == str(made.child_id)
