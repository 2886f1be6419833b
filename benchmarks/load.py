"""Load: practitioners using the service under gunicorn while a feed imports.

    python -m benchmarks.load [--children 100000] [--steps 25,50,100]
                              [--step-seconds 60] [--spawn-rate 4]
                              [--gunicorn-workers 3] [--gunicorn-threads 4]
                              [--feed-rows 20000] [--worker-nice 10]
                              [--seed 2026] [--reuse]

1. A fresh database ``contactpoint_bench_load`` (the server DATABASE_URL
   names, or the embedded one under var/bench-pg) seeded with ``--children``
   demo children as ``benchmarks.seed`` seeds them, plus one practitioner
   account per simulated user (the largest step): each at a demo school,
   vetted, with a known password and a confirmed authenticator app whose
   secret the load test holds.
2. gunicorn on 127.0.0.1 only, on a free port, with
   ``benchmarks.load_settings`` (the test settings with production's PBKDF2
   password hashing and the shared Redis cache), and one Celery worker on
   Redis (REDIS_URL, else the embedded one under var/bench-redis), at nice
   ``--worker-nice``, that imports a generic
   CSV feed of ``--feed-rows`` rows again and again (each time reshuffled, so
   a new file) for as long as the load runs.
3. Locust, headless, in a child process (its gevent monkey-patching must not
   reach Django here): each simulated practitioner signs in (password, then
   the authenticator code; CSRF tokens read from the forms), then in a loop
   opens the search form, searches by POST for a seeded child with a typo in
   the family name, opens the first result stating a purpose, and one time in
   five records an involvement with that child. Think time 1 to 4 seconds
   before each page after the first of a loop (reading it, filling in its
   form), and between loops.
4. Steps of 25, 50 and 100 concurrent users. Each step waits until all its
   users have signed in (the ramp is not measured), then measures for
   ``--step-seconds``: requests per second, p50/p95/p99 and errors.

Target: p95 at most 300 ms at the largest step, with zero errors. Every
process started here is stopped in ``finally``, whatever happens.
"""

# Django (and Locust, which monkey-patches the standard library with gevent
# when imported) load inside functions: the Locust child process must import
# Locust before anything else, and the parent must never import it.
# ruff: noqa: PLC0415

import argparse
import base64
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import (
    ROOT,
    Figure,
    Target,
    bench_redis_release,
    bench_redis_url,
    machine_facts,
    write_result,
)

NAME = "load"
BENCH_DATABASE = "contactpoint_bench_load"
SETTINGS = "benchmarks.load_settings"
TARGET_P95_MS = 300.0
#: The simulated practitioners' password (bench accounts only).
PASSWORD = "load test only: quartz lantern meadow"  # noqa: S105
#: Requests named with this prefix are the sign-in journey (the ramp).
SIGN_IN = "sign-in"
WAIT_SECONDS = (1.0, 4.0)
INVOLVEMENT_SHARE = 0.2
LOG_DIR = ROOT / "var" / "benchmarks"


# --- Pure helpers: summarising what Locust saw ------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: when it ended (monotonic seconds), its name, how long it
    took (ms) and whether it failed."""

    at: float
    name: str
    ms: float
    failed: bool


@dataclass(frozen=True, slots=True)
class StepSummary:
    users: int
    seconds: float
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(values: Iterable[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``; 0 when
    there are none. Nearest rank: the smallest value with at least ``share``
    of all values at or below it, so p95 of 20 values is the 19th."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summarise_step(users: int, samples: list[Sample], seconds: float) -> StepSummary:
    """Throughput, latency percentiles and errors of one measured window."""
    times = [sample.ms for sample in samples]
    return StepSummary(
        users=users,
        seconds=seconds,
        requests=len(samples),
        errors=sum(sample.failed for sample in samples),
        requests_per_second=len(samples) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(times, 0.50),
        p95_ms=percentile(times, 0.95),
        p99_ms=percentile(times, 0.99),
    )


def by_name(samples: list[Sample]) -> dict[str, tuple[int, float]]:
    """(count, p95 ms) of each request name."""
    names: dict[str, list[float]] = {}
    for sample in samples:
        names.setdefault(sample.name, []).append(sample.ms)
    return {
        name: (len(times), percentile(times, 0.95))
        for name, times in sorted(names.items())
    }


def totp_now(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app with base32 ``secret`` shows at ``at``
    (now by default): RFC 6238, 30-second steps, 6 digits, as the service."""
    from django_otp.oath import TOTP  # pure: hmac and struct only

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    totp = TOTP(key, step=30, digits=6)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def parse_steps(text: str) -> list[int]:
    """ "25,50,100" as increasing user counts; a clear error otherwise."""
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError("--steps must be whole numbers separated by commas") from None
    if not steps or any(n <= 0 for n in steps) or steps != sorted(set(steps)):
        raise ValueError("--steps must be increasing positive numbers, like 25,50,100")
    return steps


# --- Set-up: database, accounts, queries, feed ------------------------------


def _seed(options: argparse.Namespace, url: str) -> dict[str, Any]:
    """Database, children and accounts; what the Locust process needs."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from benchmarks.search import _children_count
    from benchmarks.seed import _recreate_database, _write_in_processes
    from directory.demo_data import DemoOrganisations
    from directory.management.commands.seed_demo import demo_organisations_ensure

    # Earlier runs' feeds add children: reuse any database with enough.
    reuse = options.reuse and (_children_count() or 0) >= options.children
    if not reuse:
        _recreate_database(url)
        call_command("migrate", verbosity=0)
    organisations = demo_organisations_ensure()
    orgs = DemoOrganisations.from_ids({k: o.pk for k, o in organisations.items()})
    if not reuse:
        started = time.perf_counter()
        _write_in_processes(
            options.workers, options.children, 5_000, options.seed, orgs
        )
        print(
            f"{options.children:,} children seeded in "
            f"{time.perf_counter() - started:,.0f} s",
            flush=True,
        )
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) directory_blindindexentry")
        cursor.execute("VACUUM (ANALYZE) directory_child")
    schools = [o for o in organisations.values() if o.kind == "school"]
    # One PBKDF2 hash for every account (as production hashes): hashing it
    # per account would take minutes and measure nothing.
    encoded = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    accounts = _accounts(max(options.steps), schools, encoded)
    today = timezone.localdate()
    queries, feed_children = _queries_and_feed(options, orgs, today)
    return {
        "accounts": accounts,
        "queries": queries,
        "feed_children": feed_children,
        "orgs": orgs,
        "today": today,
        "reused": reuse,
    }


def _accounts(count: int, schools: list[Any], encoded: str) -> list[dict[str, str]]:
    """``count`` practitioners (created once, kept on --reuse) with a fresh
    confirmed authenticator app each: username, password, TOTP secret."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import TotpDevice, User
    from accounts.roles import Role
    from accounts.services import role_grant, user_create
    from accounts.two_factor import totp_device_create

    vetted = timezone.localdate() - timedelta(days=200)
    accounts = []
    for i in range(count):
        username = f"load.practitioner.{i:03d}"
        school = schools[i % len(schools)]
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                email=f"{username}@example.org",
                password=None,
                first_name="Load",
                last_name=f"Practitioner {i}",
                job_title="Class teacher",
                phone="0121 496 0000",
                vetting_checked_on=vetted,
                vetting_expires_on=vetted + timedelta(days=3 * 365),
                training_completed_on=vetted + timedelta(days=20),
                agreement_signed_on=vetted + timedelta(days=20),
            )
            role_grant(
                user=user,
                organisation=school,
                role=Role.PRACTITIONER,
                reason="Load test account (benchmarks.load)",
            )
        # A new app each run: earlier runs' codes and throttles start afresh.
        TotpDevice.objects.filter(user=user).delete()
        enrolment = totp_device_create(user)
        TotpDevice.objects.filter(pk=enrolment.device.pk).update(confirmed=True)
        accounts.append(
            {"username": username, "password": PASSWORD, "secret": enrolment.secret}
        )
    User.objects.filter(username__startswith="load.practitioner.").update(
        password=encoded
    )
    return accounts


def _queries_and_feed(
    options: argparse.Namespace, orgs: Any, today: Any
) -> tuple[list[dict[str, str]], list[Any]]:
    """Search forms for seeded children (family name misspelt), and the
    seeded children the feed will bring again."""
    from benchmarks.search import _query, _regenerate
    from directory.search import search_query_problems

    rng = random.Random(options.seed)
    picks = set(rng.sample(range(options.children), options.queries))
    feed_every = max(1, options.children // options.feed_rows)
    queries: list[dict[str, str]] = []
    feed_children: list[Any] = []
    for index, child in enumerate(
        _regenerate(options.workers, options.children, options.seed, orgs, today)
    ):
        if index % feed_every == 0 and len(feed_children) < options.feed_rows * 0.9:
            feed_children.append(child)
        if index not in picks or child.shielded:
            continue
        query = _query(child, "family_typo", rng)
        if search_query_problems(query, today=today):
            query = _query(child, "none", rng)
        dob = query.date_of_birth
        queries.append(
            {
                "family_name": query.family_name,
                "given_name": query.given_name,
                "date_of_birth_day": str(dob.day) if dob else "",
                "date_of_birth_month": str(dob.month) if dob else "",
                "date_of_birth_year": str(dob.year) if dob else "",
                "postcode": query.postcode,
            }
        )
    return queries, feed_children


def _feed_bytes(known: list[Any], orgs: Any, today: Any, rows: int, seed: int) -> bytes:
    from benchmarks.ingest import _feed
    from directory.demo_data import demo_children

    new = list(demo_children(random.Random(seed + 999), rows - len(known), orgs, today))
    data, _kinds = _feed(known, new, random.Random(seed))
    return data


def _reshuffled(data: bytes, seed: int) -> bytes:
    """The same feed with its rows in another order: a new file (checksum)."""
    header, *rows = data.decode().splitlines()
    random.Random(seed).shuffle(rows)
    return ("\n".join([header, *rows]) + "\n").encode()


# --- Processes: gunicorn, the Celery worker, Locust ---------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _service_env(url: str, redis_url: str) -> dict[str, str]:
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "CP_TEST_CELERY_BROKER_URL": redis_url,
        "CP_AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR),
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _start(
    command: list[str], env: dict[str, str], log: str
) -> subprocess.Popen[bytes]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / log).open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - the project's own processes
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as one
        )


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM the process group, then SIGKILL what is left after 20 s."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see var/benchmarks/load-gunicorn.log")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:  # noqa: S310 - 127.0.0.1
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


# --- The Locust process -------------------------------------------------------


def _locust_main(spec_path: Path, out_path: Path) -> int:
    """Run the steps headless and write the samples (child process only)."""
    # Locust has monkey-patched time.sleep: it yields to the other greenlets.
    from locust import HttpUser, between, task
    from locust.env import Environment

    spec = json.loads(spec_path.read_text())
    accounts = list(spec["accounts"])
    queries = spec["queries"]
    csrf = r'name="csrfmiddlewaretoken" value="([^"]+)"'
    record_link = r'href="/children/([0-9a-f-]{36})/"'
    state: dict[str, Any] = {"signed_in": 0, "recording": False, "next": 0}
    samples: list[Sample] = []
    sign_ins: list[Sample] = []
    outside: list[Sample] = []

    def token(html: str) -> str:
        found = re.search(csrf, html)
        return found.group(1) if found else ""

    class Practitioner(HttpUser):
        host = spec["host"]
        wait_time = between(*WAIT_SECONDS)

        def on_start(self) -> None:
            self.account = accounts[state["next"] % len(accounts)]
            state["next"] += 1
            self.rng = random.Random(state["next"])
            self.signed_in = False
            self.involved: set[str] = set()
            self.sign_in()

        def sign_in(self) -> None:
            page = self.client.get("/accounts/sign-in/", name=f"{SIGN_IN}: form")
            with self.client.post(
                "/accounts/sign-in/",
                data={
                    "csrfmiddlewaretoken": token(page.text),
                    "username": self.account["username"],
                    "password": self.account["password"],
                },
                name=f"{SIGN_IN}: password",
                catch_response=True,
            ) as answer:
                if not answer.url.endswith("/accounts/sign-in/second-factor/"):
                    answer.failure("password step did not lead to the code step")
                    return
            with self.client.post(
                "/accounts/sign-in/second-factor/",
                data={
                    "csrfmiddlewaretoken": token(answer.text),
                    "code": totp_now(self.account["secret"]),
                },
                name=f"{SIGN_IN}: code",
                catch_response=True,
            ) as answer:
                if "/accounts/sign-in/" in answer.url:
                    answer.failure("the authenticator code was refused")
                    return
            self.signed_in = True
            state["signed_in"] += 1

        @task
        def find_and_open(self) -> None:
            if not self.signed_in:
                time.sleep(31)  # a new code: never replay the refused one
                self.sign_in()
                return
            form = self.client.get("/children/", name="search form")
            query = self.rng.choice(queries)
            self.wait()  # typing the search
            with self.client.post(
                "/children/",
                data={"csrfmiddlewaretoken": token(form.text), **query},
                name="search",
                catch_response=True,
            ) as answer:
                if answer.status_code != 200 or "govuk-error-summary" in answer.text:
                    answer.failure(f"search refused ({answer.status_code})")
                    return
                found = re.findall(record_link, answer.text)
            if not found:
                return
            child = found[0]
            self.wait()  # reading the results
            page = self.client.get(f"/children/{child}/", name="record (purpose page)")
            if "csrfmiddlewaretoken" in page.text and 'name="purpose"' in page.text:
                self.wait()  # choosing the purpose
                with self.client.post(
                    f"/children/{child}/",
                    data={
                        "csrfmiddlewaretoken": token(page.text),
                        "purpose": "providing_service",
                        "detail": "",
                    },
                    name="record (with purpose)",
                    catch_response=True,
                ) as answer:
                    if 'name="purpose"' in answer.text:
                        answer.failure("the purpose was not accepted")
                        return
            if child not in self.involved and self.rng.random() < INVOLVEMENT_SHARE:
                self.involved.add(child)
                self.wait()  # reading the record
                self.involve(child)

        def involve(self, child: str) -> None:
            url = f"/children/{child}/involvements/new/"
            form = self.client.get(url, name="involvement form")
            today = spec["today"].split("-")
            self.wait()  # filling in the form
            with self.client.post(
                url,
                data={
                    "csrfmiddlewaretoken": token(form.text),
                    "service_type": "education",
                    "practitioner_role": "Class teacher",
                    "started_on_day": str(int(today[2])),
                    "started_on_month": str(int(today[1])),
                    "started_on_year": today[0],
                    "phone": "0121 496 0000",
                    "email": "",
                },
                name="involvement (record)",
                catch_response=True,
            ) as answer:
                if not answer.history or "/involvements/" in answer.url:
                    answer.failure(f"involvement not recorded ({answer.status_code})")

    env = Environment(user_classes=[Practitioner])

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        sample = Sample(time.monotonic(), name, response_time, exception is not None)
        if name.startswith(SIGN_IN):
            sign_ins.append(sample)
        if state["recording"]:
            samples.append(sample)
        else:
            outside.append(sample)

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    steps = []
    try:
        for users in spec["steps"]:
            runner.start(users, spawn_rate=spec["spawn_rate"])
            ramp_started = time.monotonic()
            deadline = ramp_started + spec["ramp_timeout"]
            while state["signed_in"] < users and time.monotonic() < deadline:
                time.sleep(0.5)
            ramp = time.monotonic() - ramp_started
            print(f"{users} users signed in after {ramp:.0f} s", flush=True)
            samples.clear()
            state["recording"] = True
            began = time.monotonic()
            time.sleep(spec["step_seconds"])
            state["recording"] = False
            seconds = time.monotonic() - began
            step = summarise_step(users, list(samples), seconds)
            print(
                f"{users} users: {step.requests_per_second:.1f} req/s, p50 "
                f"{step.p50_ms:.0f} ms, p95 {step.p95_ms:.0f} ms, p99 "
                f"{step.p99_ms:.0f} ms, {step.errors} errors",
                flush=True,
            )
            steps.append(
                {
                    **asdict(step),
                    "ramp_seconds": ramp,
                    "signed_in": min(state["signed_in"], users),
                    "by_name": by_name(list(samples)),
                }
            )
    finally:
        runner.quit()
    out_path.write_text(
        json.dumps(
            {
                "steps": steps,
                "sign_in": by_name(sign_ins),
                "sign_in_errors": sum(s.failed for s in sign_ins),
                "errors_outside_windows": sum(s.failed for s in outside),
                "error_kinds": {
                    f"{error.name}: {error.error}": error.occurrences
                    for error in env.stats.errors.values()
                },
            }
        )
    )
    return 0


# --- The parent process ---------------------------------------------------------


def _feed_loop(
    locust: subprocess.Popen[bytes], source: Any, data: bytes, deadline: float
) -> dict[str, float]:
    """Keep the worker importing (a reshuffled feed whenever the last run
    finished) until Locust exits; rows imported and their rate."""
    from ingestion.models import Channel, FeedRun, RunStatus
    from ingestion.services import feed_file_receive

    started = time.monotonic()
    runs: list[Any] = []
    current = None
    while locust.poll() is None and time.monotonic() < deadline:
        if current is not None:
            current.refresh_from_db()
        if current is None or current.status in {
            RunStatus.COMPLETED,
            RunStatus.REJECTED,
            RunStatus.FAILED,
        }:
            receipt = feed_file_receive(
                source=source,
                data=_reshuffled(data, len(runs)),
                channel=Channel.API,
                actor=None,
            )
            current = receipt.run
            runs.append(current.pk)
        time.sleep(1)
    seconds = time.monotonic() - started
    done = FeedRun.objects.filter(pk__in=runs)
    rows = sum(run.rows_done for run in done)
    completed = sum(run.status == RunStatus.COMPLETED for run in done)
    return {
        "rows": rows,
        "rows_per_second": rows / seconds if seconds else 0.0,
        "runs_completed": completed,
        "seconds": seconds,
    }


def _run(options: argparse.Namespace, url: str, redis_url: str) -> dict[str, Any]:
    from django.db import connection

    from ingestion.models import FeedMode, FeedSource

    seeded = _seed(options, url)
    orgs = seeded["orgs"]
    data = _feed_bytes(
        seeded["feed_children"], orgs, seeded["today"], options.feed_rows, options.seed
    )
    source, _ = FeedSource.objects.get_or_create(
        organisation_id=orgs.authorities[0].schools[0].id,
        name=f"Load test feed {time.time_ns()}",
        defaults={
            "format": "csv",
            "mode": FeedMode.CHANGES,
            "default_service_type": "education",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        postgresql = cursor.fetchone()[0]
    machine = machine_facts(postgresql)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _service_env(url, redis_url)
    spec = {
        "host": base,
        "accounts": seeded["accounts"],
        "queries": seeded["queries"],
        "steps": options.steps,
        "step_seconds": options.step_seconds,
        "spawn_rate": options.spawn_rate,
        "ramp_timeout": 120,
        "today": seeded["today"].isoformat(),
    }
    gunicorn = worker = locust = None
    # The spec holds the bench accounts' secrets: a private temporary file.
    with tempfile.TemporaryDirectory(prefix="cp-load-") as folder:
        spec_path, out_path = Path(folder) / "spec.json", Path(folder) / "out.json"
        spec_path.write_text(json.dumps(spec))
        try:
            gunicorn = _start(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "contactpoint.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(options.gunicorn_workers),
                    "--worker-class",
                    "gthread",
                    "--threads",
                    str(options.gunicorn_threads),
                    # Longer than any pause between a user's requests (up to
                    # WAIT_SECONDS): gunicorn's 2 s default closed idle
                    # connections just as Locust reused them (connection
                    # reset errors, then a 403 for the missing CSRF token).
                    "--keep-alive",
                    "75",
                    "--log-level",
                    "warning",
                ],
                env,
                "load-gunicorn.log",
            )
            worker = _start(
                [
                    # The import yields the CPU to people (docs/scaling.md:
                    # in production workers have their own nodes).
                    "nice",
                    "-n",
                    str(options.worker_nice),
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "contactpoint",
                    "worker",
                    "--pool=solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "WARNING",
                ],
                env,
                "load-worker.log",
            )
            _wait_until_up(base, gunicorn)
            load_started = os.getloadavg()[0]
            locust = _start(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.load",
                    "--locust",
                    str(spec_path),
                    str(out_path),
                ],
                {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                "load-locust.log",
            )
            budget = len(options.steps) * (options.step_seconds + 130) + 60
            feed = _feed_loop(locust, source, data, time.monotonic() + budget)
            if locust.poll() is None:
                raise RuntimeError(f"Locust did not finish within {budget} s")
            if locust.returncode:
                raise RuntimeError("Locust failed; see var/benchmarks/load-locust.log")
            result = json.loads(out_path.read_text())
        finally:
            for process in (locust, gunicorn, worker):
                _stop(process)
    return {
        **result,
        "feed": feed,
        "machine": machine,
        "queries": len(seeded["queries"]),
        "load_at_start": load_started,
        "load_at_end": os.getloadavg()[1],
    }


def _slug(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_")


def _figures(result: dict[str, Any], steps: list[int]) -> list[Figure]:
    largest = result["steps"][-1]
    figures = [
        Figure(
            f"p95_ms_{largest['users']}",
            f"p95 latency, all pages, {largest['users']} users",
            largest["p95_ms"],
            "ms",
        )
    ]
    for step in result["steps"]:
        n = step["users"]
        figures += [
            Figure(
                f"rps_{n}",
                f"{n} users: requests per second",
                step["requests_per_second"],
                "req/s",
            ),
            Figure(f"p50_ms_{n}", f"{n} users: p50", step["p50_ms"], "ms"),
            Figure(f"p95_ms_{n}_all", f"{n} users: p95", step["p95_ms"], "ms"),
            Figure(f"p99_ms_{n}", f"{n} users: p99", step["p99_ms"], "ms"),
            Figure(f"errors_{n}", f"{n} users: errors", step["errors"], "requests"),
            Figure(
                f"requests_{n}",
                f"{n} users: requests measured",
                step["requests"],
                "requests",
            ),
        ]
    for name, (count, p95) in largest["by_name"].items():
        figures.append(
            Figure(
                f"p95_ms_{largest['users']}_{_slug(name)}",
                f"{largest['users']} users: p95 of {name} ({count:,} requests)",
                p95,
                "ms",
            )
        )
    for name, (count, p95) in result["sign_in"].items():
        figures.append(
            Figure(
                f"sign_in_p95_{_slug(name)}",
                f"p95 of {name} during the ramps ({count:,} requests)",
                p95,
                "ms",
            )
        )
    feed = result["feed"]
    figures += [
        Figure(
            "feed_rows_per_s",
            "feed rows imported per second alongside the load",
            feed["rows_per_second"],
            "rows/s",
        ),
        Figure("feed_rows", "feed rows imported during the load", feed["rows"], "rows"),
    ]
    return figures


def _notes(options: argparse.Namespace, result: dict[str, Any]) -> list[str]:
    largest = result["steps"][-1]
    errors = sum(step["errors"] for step in result["steps"])
    return [
        f"Zero errors at {largest['users']} users (the target's second half): "
        f"{'met' if largest['errors'] == 0 else 'NOT met'} ({largest['errors']} "
        f"errors); {errors} errors in all measured windows, "
        f"{result['errors_outside_windows']} outside them (ramps), "
        f"{result['sign_in_errors']} in signing in. Kinds over the whole run: "
        + (
            "; ".join(f"{k} ({n})" for k, n in result.get("error_kinds", {}).items())
            or "none"
        )
        + ".",
        f"{options.children:,} seeded children in `{BENCH_DATABASE}`; "
        f"{max(options.steps)} practitioner accounts, each at a demo school, with "
        "a PBKDF2-hashed password (Django's default, as production) and an "
        "authenticator app. Each simulated user signs in once (password, then "
        "the TOTP code, CSRF tokens from the forms), then loops: search form, "
        f"search by POST (one of {result['queries']:,} seeded children, family "
        "name misspelt), the first result's purpose page, the record with a "
        f"purpose; {INVOLVEMENT_SHARE:.0%} of loops record an involvement (form "
        f"and POST). Think time {WAIT_SECONDS[0]:.0f} to {WAIT_SECONDS[1]:.0f} s "
        "before every page after the first of a loop (a person reads a page and "
        "fills in its form before the next request) and between loops. Runs "
        "before the evening of 2026-11-30 paused only between loops, so four to six "
        "requests came back to back: 100 users then asked for more requests a "
        "second than 2 cores serve, and the figures measured saturation (see "
        "docs/scaling.md for those capacities).",
        "Steps: "
        + "; ".join(
            f"{s['users']} users (signed in after {s['ramp_seconds']:.0f} s of "
            f"ramp at {options.spawn_rate}/s, then {s['seconds']:.0f} s measured)"
            for s in result["steps"]
        )
        + ". Only the measured windows count; the ramps are where the sign-ins "
        "(one PBKDF2 hash each, hundreds of ms of CPU) happen, and their "
        "latency is reported separately.",
        f"gunicorn on 127.0.0.1 with {options.gunicorn_workers} gthread workers of "
        f"{options.gunicorn_threads} threads (benchmarks.load_settings: DEBUG off, "
        "PBKDF2, Redis cache): processes for the 2 cores' Python, threads so a "
        "worker serves another request while one waits on PostgreSQL (each "
        "request writes its session and audit event). Locust, PostgreSQL, Redis "
        "and the Celery worker share the same 2 cores.",
        f"Alongside, one Celery worker (solo pool, at nice {options.worker_nice} "
        "so that on this shared machine the nightly import yields the CPU to "
        "people, as a batch job on a shared host would; docs/scaling.md gives "
        f"workers their own nodes) imported a {options.feed_rows:,}-row generic "
        f"CSV feed again and again: {result['feed']['rows']:,} rows in "
        f"{result['feed']['seconds']:.0f} s, {result['feed']['runs_completed']} "
        "runs completed.",
        "Sign-in lockout (django-axes) counts only failures, and every simulated "
        "user signs in once with its own account and authenticator app, so no "
        "limit is tripped; all users come from 127.0.0.1.",
        f"Load average at the start of the load: {result['load_at_start']:.1f}; "
        f"over the last 5 minutes at the end: {result['load_at_end']:.1f} on "
        f"{os.cpu_count()} cores (other work may share the machine).",
    ]


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--locust"]:
        return _locust_main(Path(argv[1]), Path(argv[2]))
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--steps", type=parse_steps, default=[25, 50, 100])
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--feed-rows", type=int, default=20_000)
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="niceness of the importing worker (0: the same priority as the web)",
    )
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a database already seeded with at least --children children",
    )
    options = parser.parse_args(argv)

    from benchmarks.seed import _bench_url, _setup_django, _with_database

    url = _with_database(_bench_url(), BENCH_DATABASE)
    embedded_redis = not os.environ.get("REDIS_URL")
    redis_url = bench_redis_url()
    os.environ["REDIS_URL"] = redis_url
    os.environ["CP_TEST_CELERY_BROKER_URL"] = redis_url  # feed runs to the worker
    _setup_django(url)
    try:
        result = _run(options, url, redis_url)
    finally:
        if embedded_redis:
            del os.environ["REDIS_URL"]
            bench_redis_release()
    figures = _figures(result, options.steps)
    path = write_result(
        NAME,
        title="Load: practitioners under gunicorn while a feed imports (Locust)",
        figures=figures,
        target=Target(figures[0].key, TARGET_P95_MS, "ms", at_most=True),
        machine=result["machine"],
        notes=_notes(options, result),
    )
    print(f"p95 {figures[0].value:.0f} ms at {max(options.steps)} users; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
