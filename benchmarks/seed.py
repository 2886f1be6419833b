"""Seeding: children created per second, end to end, through child_records_create.

    python -m benchmarks.seed [--children 100000] [--batch-size 5000] [--seed 2026]
                              [--workers <cores>] [--profile-children 10000]

Drops and re-creates the database ``contactpoint_bench`` on the PostgreSQL
server that DATABASE_URL names (or on the embedded server under var/bench-pg
when DATABASE_URL is unset), migrates it and creates the demo organisations.
Then it generates and writes the children in batches exactly as
``manage.py seed_demo`` does: validation, AES-256-GCM sealing of every
identifying value, blind-index entries and COPY, one transaction per batch.

First one process writes ``--children`` (the path ``manage.py seed_demo``
takes), then, with ``--workers`` above 1, as many again are split over that
many forked processes (the bulk path for a large load); the headline is the
latter, generation and writing together. CPU seconds per child, of Python and
of the PostgreSQL backend, are recorded too: unlike rates, they hardly move
when other work shares the machine. A cProfile run over ``--profile-children`` more
children follows the timed run (so it does not slow it) and splits the time
between the stages of child_records_create. The test settings' published keys
are used: the cost of encryption does not depend on the key.
"""

# Django models are imported inside functions, once django.setup() has pointed
# the settings at the freshly created benchmark database.
# ruff: noqa: PLC0415

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import random
import sys
import time
from itertools import islice
from urllib.parse import urlsplit, urlunsplit

import django
import environ
import psycopg
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone
from psycopg import sql

from benchmarks import (
    ROOT,
    Figure,
    Target,
    machine_facts,
    process_cpu_seconds,
    write_result,
)
from contactpoint import embedded
from directory.demo_data import DemoOrganisations, demo_children

NAME = "seed"
BENCH_DATABASE = "contactpoint_bench"
TARGET_CHILDREN_PER_SECOND = 2_000

#: Stages of a write, as (label, file suffix, function name) in the profile.
STAGES = (
    ("Generating demo children (demo_data)", "directory/demo_data.py", "demo_children"),
    ("Validating and normalising", "services/child_records.py", "_validate_all"),
    ("Allocating directory numbers", "services/child_records.py", "_directory_numbers"),
    ("Building rows (all of the below)", "services/child_records.py", "_child_rows"),
    ("  sealing, binding included (_seal)", "services/child_records.py", "_seal"),
    ("  AES-GCM sealing (FieldCipher.encrypt)", "crypto/aead.py", "encrypt"),
    ("  match-profile JSON", "services/child_records.py", "match_profile_json"),
    ("  blind-index terms (index_terms)", "directory/search_index.py", "index_terms"),
    ("  blind-index HMACs (blind_index)", "crypto/fields.py", "blind_index"),
    ("  row ids (uuid4)", "uuid.py", "uuid4"),
    ("COPY into PostgreSQL (copy_rows)", "services/copy_writer.py", "copy_rows"),
)


def _with_database(url: str, name: str) -> str:
    """``url`` with its database replaced (TCP and embedded socket URLs alike)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rsplit("/", 1)[0] + "/" + name))


def _bench_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return _with_database(url, BENCH_DATABASE)
    data = ROOT / "var" / "bench-pg"
    return embedded.ensure_postgres(data, BENCH_DATABASE, create_database=False)


def _recreate_database(url: str) -> None:
    config = environ.Env.db_url_config(url)
    with psycopg.connect(
        dbname="postgres",
        autocommit=True,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or "postgres",
        password=config.get("PASSWORD") or None,
    ) as conn:
        name = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "contactpoint.settings.test"
    django.setup()


def _backend_cpu_seconds() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend process.

    Read from /proc, so only when the server runs on this machine (as the
    machine's server and the embedded one do); None otherwise.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu_seconds(pid)


def _write(
    children: int,
    batch_size: int,
    seed: int,
    orgs: DemoOrganisations,
    *,
    label: str = "",
    shard: tuple[int, int] = (0, 1),
) -> dict[str, float]:
    """Generate and write ``children``: wall and CPU seconds of each half.

    CPU seconds say what a child costs whatever else the machine is doing;
    wall seconds are what this run achieved.
    """
    from directory.management.commands.seed_demo import SOURCE
    from directory.services.child_records import child_records_create

    today = timezone.localdate()
    stream = demo_children(random.Random(seed), children, orgs, today, shard=shard)
    seconds = dict.fromkeys(
        ("generating", "writing", "generating_cpu", "writing_cpu"), 0.0
    )
    backend_started = _backend_cpu_seconds()
    done = 0
    while True:
        started, started_cpu = time.perf_counter(), time.process_time()
        batch = list(islice(stream, batch_size))
        generated, generated_cpu = time.perf_counter(), time.process_time()
        if not batch:
            break
        child_records_create(children=batch, source=SOURCE, today=today)
        seconds["generating"] += generated - started
        seconds["generating_cpu"] += generated_cpu - started_cpu
        seconds["writing"] += time.perf_counter() - generated
        seconds["writing_cpu"] += time.process_time() - generated_cpu
        done += len(batch)
        rate = done / (seconds["generating"] + seconds["writing"])
        print(f"{label}{done:,} / {children:,} children ({rate:,.0f}/s)", flush=True)
    backend_finished = _backend_cpu_seconds()
    if backend_started is not None and backend_finished is not None:
        seconds["postgresql_cpu"] = backend_finished - backend_started
    seconds["wall"] = seconds["generating"] + seconds["writing"]
    return seconds


def _worker(  # noqa: PLR0917 - a Pool.starmap job
    index: int,
    children: int,
    batch_size: int,
    seed: int,
    orgs: DemoOrganisations,
    workers: int,
) -> dict[str, float]:
    connections.close_all()  # never share the parent's socket
    try:
        return _write(
            children,
            batch_size,
            seed,
            orgs,
            label=f"[process {index}] ",
            shard=(index, workers),
        )
    finally:
        connections.close_all()


def _write_in_processes(
    workers: int, children: int, batch_size: int, seed: int, orgs: DemoOrganisations
) -> dict[str, float]:
    """As ``_write``, split over ``workers`` forked processes, each with its own
    connection and seed; CPU seconds are summed, wall seconds are the whole."""
    connections.close_all()
    shares = [children // workers + (i < children % workers) for i in range(workers)]
    jobs = [(i, n, batch_size, seed + i, orgs, workers) for i, n in enumerate(shares)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.starmap(_worker, jobs)
    total = {key: sum(r.get(key, 0.0) for r in results) for key in results[0]}
    total["wall"] = time.perf_counter() - started
    return total


def _table_facts() -> list[tuple[str, int, int]]:
    """(table, rows, bytes with indexes) for each table a child write fills."""
    from directory.services.child_records import WRITTEN_MODELS

    facts = []
    with connection.cursor() as cursor:
        for model in WRITTEN_MODELS:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT count(*), pg_total_relation_size(%s) FROM {table}",  # noqa: S608
                [table],
            )
            rows, size = cursor.fetchone()
            facts.append((table, rows, size))
    return facts


def _figures(
    children: int,
    seconds: dict[str, float],
    tables: list[tuple[str, int, int]],
    migrating: float,
) -> list[Figure]:
    writing = seconds["writing"]
    ms = 1000 / children
    cpu = seconds["generating_cpu"] + seconds["writing_cpu"]
    rows: list[tuple[str, str, float, str]] = [
        (
            "single_process_children_per_second",
            "Children per second, end to end, one process (as seed_demo)",
            children / seconds["wall"],
            "children/s",
        ),
        (
            "write_children_per_second",
            "Children per second in child_records_create, one process",
            children / writing,
            "children/s",
        ),
        (
            "generate_children_per_second",
            "Children per second generated (demo_data), one process",
            children / seconds["generating"],
            "children/s",
        ),
        ("children", "Children written by the one process", children, "children"),
        ("seconds", "Seconds, end to end, one process", seconds["wall"], "s"),
        (
            "generate_cpu_ms_per_child",
            "CPU per child: generating (Python)",
            seconds["generating_cpu"] * ms,
            "ms",
        ),
        (
            "write_cpu_ms_per_child",
            "CPU per child: child_records_create (Python)",
            seconds["writing_cpu"] * ms,
            "ms",
        ),
    ]
    if "postgresql_cpu" in seconds:
        cpu += seconds["postgresql_cpu"]
        rows += [
            (
                "postgresql_cpu_ms_per_child",
                "CPU per child: PostgreSQL backend",
                seconds["postgresql_cpu"] * ms,
                "ms",
            ),
            (
                "idle_one_process_children_per_second",
                "Estimate for an idle machine, one process (1 / CPU per child)",
                children / cpu,
                "children/s",
            ),
            (
                "idle_all_cores_children_per_second",
                "Estimate for an idle machine, one "
                "process per core (cores / CPU per child)",
                (os.cpu_count() or 1) * children / cpu,
                "children/s",
            ),
        ]
    rows.append(
        ("migrate_seconds", "Seconds to migrate the empty database", migrating, "s")
    )
    for table, count, _ in tables:
        rows.append(
            (
                f"{table}_rows_per_second",
                f"{table}: rows written per second",
                count / writing,
                "rows/s",
            )
        )
    for table, count, _ in tables:
        rows.append(
            (
                f"{table}_rows_per_child",
                f"{table}: rows per child",
                count / children,
                "rows",
            )
        )
    rows.append(
        (
            "bytes_per_child",
            "Bytes on disk per child (tables and indexes)",
            sum(size for _, _, size in tables) / children,
            "bytes",
        )
    )
    return [Figure(*row) for row in rows]


def _profile(
    children: int, batch_size: int, seed: int, orgs: DemoOrganisations
) -> list[str]:
    """Profile another ``children``; return the share of time per stage."""
    profiler = cProfile.Profile()
    profiler.runcall(_write, children, batch_size, seed, orgs)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)
    (ROOT / "var" / "benchmarks").mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "benchmarks" / f"{NAME}-profile.txt").write_text(text.getvalue())
    total = stats.total_tt
    shares = []
    for label, suffix, function in STAGES:
        cumulative = sum(
            ct
            for (path, _, name), (_, _, _, ct, _) in stats.stats.items()
            if name == function and path.endswith(suffix)
        )
        shares.append(f"{label}: {cumulative:.2f} s, {100 * cumulative / total:.0f} %")
    return [
        f"Profile of {children:,} more children under cProfile ({total:.1f} s, "
        "which inflates Python-heavy stages; full listing in "
        f"var/benchmarks/{NAME}-profile.txt): " + "; ".join(shares) + "."
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed")
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--profile-children", type=int, default=10_000)
    options = parser.parse_args(argv)

    url = _bench_url()
    _recreate_database(url)
    _setup_django(url)
    from directory.management.commands.seed_demo import demo_organisations_ensure

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrating = time.perf_counter() - started
    organisations = demo_organisations_ensure()
    orgs = DemoOrganisations.from_ids({k: o.pk for k, o in organisations.items()})
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        postgresql = cursor.fetchone()[0]
    machine = machine_facts(postgresql)

    seconds = _write(options.children, options.batch_size, options.seed, orgs)
    tables = _table_facts()
    figures = _figures(options.children, seconds, tables, migrating)
    headline = figures[0].value
    notes = [
        f"{options.children:,} children in batches of {options.batch_size:,} "
        f"(seed {options.seed}) into a fresh database `{BENCH_DATABASE}`, one "
        "transaction per batch, with the test settings.",
    ]
    if options.workers > 1:
        parallel = _write_in_processes(
            options.workers,
            options.children,
            options.batch_size,
            options.seed + 100,
            orgs,
        )
        headline = options.children / parallel["wall"]
        figures.insert(
            0,
            Figure(
                "children_per_second",
                f"Children per second, end to end, {options.workers} processes",
                headline,
                "children/s",
            ),
        )
        notes.append(
            f"Then {options.children:,} more children split over {options.workers} "
            "forked processes, each generating and calling child_records_create "
            "on its own connection: the bulk path for a large load."
        )
    notes.append(
        f"Load average over the last 5 minutes when the timed runs ended: "
        f"{os.getloadavg()[1]:.1f} on {os.cpu_count()} cores (other work shares "
        "the machine; the CPU-per-child figures are the steadier guide)."
    )
    if options.profile_children:
        notes += _profile(
            options.profile_children, options.batch_size, options.seed + 1, orgs
        )
    path = write_result(
        NAME,
        title="Seeding children through child_records_create",
        figures=figures,
        target=Target(figures[0].key, TARGET_CHILDREN_PER_SECOND, "children/s"),
        machine=machine,
        notes=notes,
    )
    print(f"{headline:,.0f} children/s end to end; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
