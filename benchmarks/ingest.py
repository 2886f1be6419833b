"""Ingestion: rows per second for a nightly feed against a populated directory.

    python -m benchmarks.ingest [--existing 1000000] [--rows 100000]
                                [--workers <cores>] [--seed 2026] [--fresh]
                                [--serial]

1. Seed ``--existing`` children exactly as ``benchmarks.search`` does (same
   database, ``contactpoint_bench_search``, kept when it already holds that
   many children, as after ``benchmarks.search``; ``--fresh`` seeds again).
2. Build a generic-CSV feed of ``--rows`` rows the way a local authority's
   nightly file looks: 90 % children the directory already holds (from the
   same seeds), of whom 3 % moved house, 1 % changed surname and 5 % come
   without their NHS number; 10 % children it has never seen.
3. Start a Celery worker (prefork, ``--workers`` processes, on Redis:
   REDIS_URL, else the embedded one under var/bench-redis) with
   CP_FEED_SLICES set to ``--workers``; receive the file (SHA-256,
   encryption, storage) and send its run to the worker, which splits it into
   slices imported side by side: parse, validate, duplicates, blocking
   through the blind indexes, Fellegi-Sunter matching, planning, and applying
   in checkpointed chunks with every row's FeedRow and the run's audit
   events. End to end, wall clock, until the run completes. ``--serial``
   imports in this one process instead, slice after slice.

Target: at least 3,000 rows per second on this 2-core machine.
"""

# ruff: noqa: PLC0415  # Django models load after django.setup()

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from benchmarks import (
    ROOT,
    Figure,
    Target,
    bench_redis_release,
    bench_redis_url,
    child_pids,
    machine_facts,
    process_tree_cpu_seconds,
    write_result,
)
from benchmarks.search import BENCH_DATABASE, _children_count, _regenerate
from benchmarks.seed import (
    _bench_url,
    _recreate_database,
    _setup_django,
    _with_database,
    _write_in_processes,
)
from directory.demo_data import DemoOrganisations, demo_children
from directory.records import NewAddress, NewChild, NewName

NAME = "ingest"
TARGET_ROWS_PER_S = 3_000.0
COLUMNS = (
    "nhs_number",
    "upn",
    "given_names",
    "family_name",
    "date_of_birth",
    "gender",
    "address_line_1",
    "town",
    "postcode",
)


def _row(child: NewChild) -> dict[str, str]:
    legal = child.names[0]
    address = next((a for a in child.addresses if a.is_current), None)
    return {
        "nhs_number": child.nhs_number or "",
        "upn": child.upn or "",
        "given_names": legal.given_names,
        "family_name": legal.family_name,
        "date_of_birth": child.date_of_birth.isoformat(),
        "gender": child.gender,
        "address_line_1": address.lines[0] if address and address.lines else "",
        "town": address.lines[-1] if address and len(address.lines) > 1 else "",
        "postcode": address.postcode if address else "",
    }


def _feed(
    existing: list[NewChild], new: list[NewChild], rng: random.Random
) -> tuple[bytes, dict[str, int]]:
    """The CSV, and how many rows of each kind it holds."""
    kinds = dict.fromkeys(("same", "moved", "surname", "no_nhs", "new"), 0)
    rows = []
    for original in existing:
        child = original
        roll = rng.random()
        if roll < 0.03 and child.addresses:
            current = next(a for a in child.addresses if a.is_current)
            moved = NewAddress(("9 New Street", "Town"), current.postcode[:-2] + "ZZ")
            child = replace(child, addresses=(moved,))
            kinds["moved"] += 1
        elif roll < 0.04:
            legal = child.names[0]
            child = replace(
                child, names=(NewName(legal.given_names, "Newsurname-Okafor"),)
            )
            kinds["surname"] += 1
        elif roll < 0.09:
            child = replace(child, nhs_number=None)
            kinds["no_nhs"] += 1
        else:
            kinds["same"] += 1
        rows.append(_row(child))
    for child in new:
        rows.append(_row(child))
        kinds["new"] += 1
    rng.shuffle(rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(), kinds


def _build_feed(
    options: argparse.Namespace, orgs: DemoOrganisations, today: date, held: int
) -> tuple[bytes, dict[str, int]]:
    rng = random.Random(options.seed)
    known = round(options.rows * 0.9)
    step = max(1, options.existing // known)
    existing: list[NewChild] = []
    held_numbers: set[str] = set()
    for i, child in enumerate(
        _regenerate(options.workers, options.existing, options.seed, orgs, today)
    ):
        if child.nhs_number:
            held_numbers.add(child.nhs_number)
        if i % step == 0 and len(existing) < known:
            existing.append(child)
    # The 999 test range holds about 909,000 NHS numbers and a million
    # seeded children use most of them: a new child whose number is taken
    # arrives without one (as real feeds' newcomers sometimes do).
    new = [
        child
        if child.nhs_number not in held_numbers
        else replace(child, nhs_number=None)
        for child in demo_children(
            random.Random(options.seed + 999 + held),
            options.rows - known,
            orgs,
            today,
        )
    ]
    data, kinds = _feed(existing, new, rng)
    return data, kinds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest")
    parser.add_argument("--existing", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="seed again even when the search benchmark's database can be reused",
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="import in this process, slice after slice, instead of a worker",
    )
    options = parser.parse_args(argv)

    url = _with_database(_bench_url(), BENCH_DATABASE)
    _setup_django(url)
    from directory.management.commands.seed_demo import demo_organisations_ensure
    from ingestion.models import FeedMode, FeedSource

    held = _children_count() or 0
    # A reused database may also hold the children earlier runs created.
    reuse = not options.fresh and options.existing <= held < options.existing * 1.2
    if not reuse:
        _recreate_database(url)
        call_command("migrate", verbosity=0)
    organisations = demo_organisations_ensure()
    orgs = DemoOrganisations.from_ids({k: o.pk for k, o in organisations.items()})
    today: date = timezone.localdate()
    if not reuse:
        started = time.perf_counter()
        _write_in_processes(
            options.workers, options.existing, 5_000, options.seed, orgs
        )
        print(f"seeded in {time.perf_counter() - started:,.0f} s", flush=True)
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) directory_blindindexentry")
        cursor.execute("VACUUM (ANALYZE) directory_child")
        cursor.execute("SELECT current_setting('server_version')")
        postgresql = cursor.fetchone()[0]
    machine = machine_facts(postgresql)

    data, kinds = _build_feed(options, orgs, today, held if reuse else 0)
    school = orgs.authorities[0].schools[0].id
    source, _ = FeedSource.objects.get_or_create(
        organisation_id=school,
        name=f"Benchmark feed {time.time_ns()}",
        defaults={
            "format": "csv",
            "mode": FeedMode.CHANGES,
            "default_service_type": "education",
        },
    )
    print(f"feed: {len(data) / 2**20:,.1f} MB, {kinds}", flush=True)
    if options.serial:
        run, seconds, cpu = _import_here(source, data)
    else:
        try:
            run, seconds, cpu = _import_in_worker(options, url, source, data)
        finally:
            bench_redis_release()
    rate = run.total_rows / seconds
    print(
        f"{run.total_rows:,} rows in {seconds:,.1f} s: {rate:,.0f} rows/s; "
        f"created {run.created:,}, updated {run.updated:,}, unchanged "
        f"{run.unchanged:,}, quarantined {run.quarantined:,}, waiting {run.waiting:,}",
        flush=True,
    )
    path = write_result(
        NAME,
        title="Ingestion: a nightly feed against a populated directory",
        figures=_figures(run, rate, seconds, cpu),
        target=Target("rows_per_s", TARGET_ROWS_PER_S, "rows/s"),
        machine=machine,
        notes=_notes(options, kinds, run),
    )
    print(f"wrote {path}")
    return 0


def _import_here(source: Any, data: bytes) -> tuple[Any, float, float]:
    """Receive and import in this process: (run, seconds, CPU seconds)."""
    from ingestion.models import Channel, FeedRun
    from ingestion.services import feed_file_receive, feed_run_process

    started = time.perf_counter()
    cpu_started = time.process_time()
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.API, actor=None
    )
    run = feed_run_process(receipt.run.pk)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return FeedRun.objects.get(pk=run.pk), seconds, cpu


def _import_in_worker(
    options: argparse.Namespace, url: str, source: Any, data: bytes
) -> tuple[Any, float, float]:
    """Receive here, import in a Celery worker of ``--workers`` processes:
    (run, seconds until the run completed, CPU seconds of the worker's
    processes and of this one)."""
    from celery import Celery
    from django.conf import settings

    from ingestion.models import Channel, FeedRun, RunStatus
    from ingestion.services import feed_file_receive

    redis_url = bench_redis_url()
    queue = f"bench-ingest-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactpoint.settings.test",
        "DATABASE_URL": url,
        "CP_TEST_CELERY_BROKER_URL": redis_url,
        "CP_FEED_SLICES": str(options.workers),
        "CP_AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
    }
    log = ROOT / "var" / "benchmarks" / "ingest-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        worker = subprocess.Popen(  # noqa: S603 - the project's own worker
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "contactpoint",
                "worker",
                "--pool=prefork",
                f"--concurrency={options.workers}",
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
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_pool(worker.pid, options.workers)

        def worker_cpu() -> float:
            return process_tree_cpu_seconds(worker.pid)

        cpu_started = worker_cpu() + time.process_time()
        started = time.perf_counter()
        receipt = feed_file_receive(
            source=source, data=data, channel=Channel.API, actor=None
        )
        Celery(broker=redis_url).send_task(
            "ingestion.tasks.feed_run_task", args=[str(receipt.run.pk)], queue=queue
        )
        while True:
            run = FeedRun.objects.get(pk=receipt.run.pk)
            if run.status not in {RunStatus.QUEUED, RunStatus.RUNNING}:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"the worker stopped; see {log}")
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        cpu = worker_cpu() + time.process_time() - cpu_started
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    if run.status != RunStatus.COMPLETED:
        raise RuntimeError(f"the run ended {run.status}; see {log}")
    return run, seconds, cpu


def _wait_for_pool(pid: int, processes: int) -> None:
    """Until the worker has its pool processes (so start-up is not timed)."""
    deadline = time.monotonic() + 60
    while len(child_pids(pid)) < processes:
        if time.monotonic() > deadline:
            raise RuntimeError("the Celery worker did not start its pool in 60 s")
        time.sleep(0.2)
    time.sleep(2)  # Django set up in each


def _figures(run: Any, rate: float, seconds: float, cpu: float) -> list[Figure]:
    return [
        Figure(
            "rows_per_s", "feed rows imported per second, end to end", rate, "rows/s"
        ),
        Figure("seconds", "time for the whole feed", seconds, "s"),
        Figure(
            "cpu_ms_per_row",
            "worker CPU per row (all its processes)",
            1000 * cpu / run.total_rows,
            "ms",
        ),
        Figure("created", "rows that created a child", run.created, "rows"),
        Figure("updated", "rows that changed a child", run.updated, "rows"),
        Figure("unchanged", "rows linked, nothing new", run.unchanged, "rows"),
        Figure("quarantined", "rows quarantined", run.quarantined, "rows"),
        Figure("waiting", "rows waiting for review", run.waiting, "rows"),
        Figure(
            "review_share",
            "share of rows sent to review",
            100 * run.waiting / run.total_rows,
            "%",
        ),
    ]


def _notes(options: argparse.Namespace, kinds: dict[str, int], run: Any) -> list[str]:
    slices = max(1, len(run.slice_bounds) - 1)
    how = (
        "In this process, slice after slice (--serial)"
        if options.serial
        else f"A Celery worker of {options.workers} processes (prefork, "
        f"CP_FEED_SLICES={options.workers}) on Redis"
    )
    return [
        f"{options.rows:,}-row generic CSV against {options.existing:,} existing "
        f"children: {kinds['same']:,} unchanged children, {kinds['moved']:,} moved "
        f"house, {kinds['surname']:,} changed surname, {kinds['no_nhs']:,} without "
        f"their NHS number, {kinds['new']:,} new.",
        f"{how}: receive (SHA-256, encrypt, store) here, then the run's task "
        f"split the rows into {slices} slices of whole chunks of "
        "CP_FEED_CHUNK_ROWS rows, imported side by side, each chunk one "
        "transaction with its FeedRow rows, claims, checkpoint and counters; "
        "timed until the run completed. PostgreSQL shares the 2 cores. Worker "
        "CPU per row counts every worker process (and this one's receiving).",
        "Blocking: rows with an NHS number or UPN look up that identifier's "
        "22-bit index (about one other child to decrypt per row at a million); "
        "the rest (new children, rows without identifiers, conflicts) are "
        "blocked by FeedBlocking, which fetches each truncated-index posting "
        "list once per slice (one bytea of child ids per list), keeps it and "
        "the candidates' decrypted profiles, and ranks in Python, leaving out "
        "a blocking weight too crowded to fit whole in the 10 candidates "
        "(hundreds of strangers under one truncated value). Rows about to "
        "make a new child are blocked again under the run's creation lock, so "
        "that they see what the other slice made meanwhile.",
        "History (2 cores each): one process took 353 rows/s on an Intel Xeon "
        "and 279 rows/s on an AMD EPYC before run-scoped blocking, and 1,212 "
        "rows/s on the AMD EPYC after it; two slices side by side took 1,386 "
        "rows/s on the Xeon (about half as fast as the EPYC) and 2,263 rows/s "
        "on the EPYC (0.64 ms of worker CPU per row). Then, on the EPYC "
        "(2026-11-30 evening): leaving crowded blocking weights out, 2,796 "
        "rows/s (0.48 ms); a chunk's feed changes in a fixed number of "
        "statements, 2,838; young-generation garbage collection per chunk, "
        "2,993 (0.43 ms); posting lists unpacked by struct, about 3,600 on a "
        "database earlier runs had already updated (0.34 ms).",
        "Where the time went before those changes (py-spy, a 20,000-row run "
        "in one process): 45 % blocking, of which 19 points decrypting ten "
        "candidates a row that shared one crowded truncated value with it, "
        "and a quarter of the CPU in CPython's full garbage collections "
        "walking the posting lists. After them: a third blocking (fetching "
        "and unpacking posting lists, a fixed cost per slice), a fifth the "
        "identifier lookups, an eighth scoring, the rest validation, "
        "planning, writing and PostgreSQL.",
        f"Load average over the last 5 minutes at the end: {os.getloadavg()[1]:.1f} "
        f"on {os.cpu_count()} cores.",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
