"""pytest plugin (``-p tests.embedded_services``): real PostgreSQL and Redis.

Before pytest-django reads the settings, it makes sure DATABASE_URL and
REDIS_URL are set. A variable that is already set is kept (CI points them at
the machine's servers, see .ci/run); an unset one gets an embedded server from
contactpoint/embedded.py, under var/test-pg and var/test-redis, stopped again
at the end of the session.

Under pytest-xdist only the controller starts servers: the workers it spawns
inherit the variables. When another pytest session already uses the embedded
PostgreSQL, this session takes its own database name, so the two do not
destroy each other's ``test_*`` databases.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from contactpoint import embedded

VAR = Path(__file__).resolve().parent.parent / "var"
PG_DIR = VAR / "test-pg"
REDIS_DIR = VAR / "test-redis"

_stop_at_exit: list[Callable[[], object]] = []


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    """Run before every other plugin's hook, pytest-django's included."""
    options = early_config.known_args_namespace
    if not (getattr(options, "help", False) or getattr(options, "version", False)):
        _provide_services()
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop what this session started (after pytest-django dropped its DBs)."""
    while _stop_at_exit:
        _stop_at_exit.pop()()


def _provide_services() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    missing = [n for n in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(n)]
    if worker and missing:
        raise pytest.UsageError(
            f"xdist worker {worker} did not inherit {', '.join(missing)} "
            "from the controller; tests.embedded_services must be loaded there."
        )
    if "DATABASE_URL" in missing:
        # Someone else's live session on the same server: use our own name.
        shared = bool(embedded.postgres_handles(PG_DIR))
        name = f"contactpoint_{os.getpid()}" if shared else "contactpoint"
        url = embedded.ensure_postgres(PG_DIR, name, create_database=False)
        os.environ["DATABASE_URL"] = url
        _stop_at_exit.append(lambda: embedded.stop_postgres(PG_DIR))
    if "REDIS_URL" in missing:
        os.environ["REDIS_URL"] = embedded.ensure_redis(REDIS_DIR)[0]
        _stop_at_exit.append(lambda: embedded.stop_redis(REDIS_DIR))
