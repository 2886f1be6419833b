"""Ingestion: rows per second for a nightly feed against a populated directory.

    python -m benchmarks.ingest [--existing 1000000] [--rows 100000]
                                [--workers <cores>] [--seed 2026] [--fresh]

1. Seed ``--existing`` children exactly as ``benchmarks.search`` does (same
   database, ``contactpoint_bench_search``, kept when it already holds that
   many children, as after ``benchmarks.search``; ``--fresh`` seeds again).
2. Build a generic-CSV feed of ``--rows`` rows the way a local authority's
   nightly file looks: 90 % children the directory already holds (from the
   same seeds), of whom 3 % moved house, 1 % changed surname and 5 % come
   without their NHS number; 10 % children it has never seen.
3. Receive the file (SHA-256, encryption, storage) and import it in this one
   process, as one Celery worker does: parse, validate, duplicates, blocking
   through the blind indexes, Fellegi-Sunter matching, planning, and applying
   in checkpointed chunks with every row's FeedRow and the run's audit
   events. End to end, wall clock.

Target: at least 3,000 rows per second on this 2-core machine.
"""

# ruff: noqa: PLC0415  # Django models load after django.setup()

import argparse
import csv
import io
import os
import random
import time
from dataclasses import replace
from datetime import date
from typing import Any

from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from benchmarks import Figure, Target, machine_facts, write_result
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
    options = parser.parse_args(argv)

    url = _with_database(_bench_url(), BENCH_DATABASE)
    _setup_django(url)
    from directory.management.commands.seed_demo import demo_organisations_ensure
    from ingestion.models import Channel, FeedMode, FeedRun, FeedSource
    from ingestion.services import feed_file_receive, feed_run_process

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
    started = time.perf_counter()
    cpu_started = time.process_time()
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.API, actor=None
    )
    run = feed_run_process(receipt.run.pk)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    run = FeedRun.objects.get(pk=run.pk)
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
        notes=_notes(options, kinds),
    )
    print(f"wrote {path}")
    return 0


def _figures(run: Any, rate: float, seconds: float, cpu: float) -> list[Figure]:
    return [
        Figure(
            "rows_per_s", "feed rows imported per second, end to end", rate, "rows/s"
        ),
        Figure("seconds", "time for the whole feed", seconds, "s"),
        Figure(
            "cpu_ms_per_row", "worker CPU per row", 1000 * cpu / run.total_rows, "ms"
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


def _notes(options: argparse.Namespace, kinds: dict[str, int]) -> list[str]:
    return [
        f"{options.rows:,}-row generic CSV against {options.existing:,} existing "
        f"children: {kinds['same']:,} unchanged children, {kinds['moved']:,} moved "
        f"house, {kinds['surname']:,} changed surname, {kinds['no_nhs']:,} without "
        f"their NHS number, {kinds['new']:,} new.",
        "One process, as one Celery worker: receive (SHA-256, encrypt, store), "
        "then parse, validate, match and apply in chunks of "
        "CP_FEED_CHUNK_ROWS rows, each one transaction with its FeedRow rows, "
        "checkpoint and the run's audit events. PostgreSQL shares the 2 cores.",
        "Blocking: rows with an NHS number or UPN look up that identifier's "
        "22-bit index (about one other child to decrypt per row at a million); "
        "the rest (new children, rows without identifiers, conflicts) are "
        "blocked by FeedBlocking, which fetches each truncated-index posting "
        "list once per run (one bytea of child ids per list), keeps it and the "
        "candidates' decrypted profiles, and ranks in Python. Before, one "
        "database GROUP BY per chunk over every (row, child) pair took about "
        "10 ms per unidentified row and half the run; the run was 353 rows/s "
        "on an Intel Xeon (2 cores) and 279 rows/s on a 20,000-row feed on "
        "this machine, both on 2026-11-30 before the change.",
        "Rows sent to review are mostly identifier conflicts the seed data "
        "really holds: a million children share the roughly 909,000 NHS numbers "
        "of the 999 test range, and demo UPN serials repeat between schools, so "
        "many rows carry an NHS number or UPN that a different child also "
        "holds. The 22-bit identifier buckets bring every holder to the "
        "comparison; the 16-bit ones let the other holder be crowded out of "
        "the top ten by a dozen strangers sharing the truncated value, so "
        "those rows linked by weight instead of going to a person.",
        "Where the time goes now (cProfile of a 10,000-row run of the same mix, "
        "2026-11-30): about 45 % blocking (a third of it fetching posting lists "
        "the first time), 17 % Fellegi-Sunter scoring, 14 % identifier lookups, "
        "the rest validating, planning, writing FeedRows and the chunks' "
        "transactions. Chunks run one after another in one worker: the "
        "checkpoint is a single row count, and a child created in one chunk "
        "must be visible to the next.",
        f"Load average over the last 5 minutes at the end: {os.getloadavg()[1]:.1f} "
        f"on {os.cpu_count()} cores.",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
