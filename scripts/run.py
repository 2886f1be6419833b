"""`make run`: the whole service on one machine, for development and demos.

1. Load var/dev.env, creating it first (once, ever) with freshly generated
   secrets and keys.
2. Unless DATABASE_URL / REDIS_URL are set (in the environment or in
   var/dev.env), start the embedded PostgreSQL (var/pgdata) and Redis
   (var/redis); a second `make run` reuses their data.
3. Migrate, and load the demo data once (marker var/.demo-seeded) as soon as the
   `seed_demo` command exists.
4. Run a Celery worker, Celery beat and the web server on
   http://127.0.0.1:8000 until Ctrl-C or SIGTERM; then stop them (SIGTERM, then
   SIGKILL after a timeout) and the embedded servers.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import environ  # noqa: E402

from contactpoint import embedded  # noqa: E402

VAR = ROOT / "var"
DEV_ENV = VAR / "dev.env"
RUN_ENV = VAR / "run.env"
PG_DIR = VAR / "pgdata"
REDIS_DIR = VAR / "redis"
SEED_MARKER = VAR / ".demo-seeded"
SEED_LOG = VAR / "demo-seed.log"
BIN = Path(sys.executable).parent
HOST, PORT = "127.0.0.1", 8000
URL = f"http://{HOST}:{PORT}/"
STOP_TIMEOUT = 15.0  # seconds each child gets to stop before SIGKILL
DEMO_CHILDREN = 10_000

_embedded: list[str] = []  # the embedded servers this run started or reuses


def main() -> int:
    """Start everything, wait for a signal or a dying child, stop everything."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    children: dict[str, subprocess.Popen[bytes]] = {}
    status = 0
    try:
        if _port_in_use(HOST, PORT):
            say(f"Something already listens on {HOST}:{PORT}: stop it first.")
            return 1
        write_dev_env_once()
        environ.Env.read_env(DEV_ENV, overwrite=False)
        env = child_environment()
        manage(env, "migrate", "--noinput")
        seed_demo_once(env)
        children = start_children(env)
        wait_until_listening(children["web"])
        say_how_to_sign_in()
        status = watch(children)
    except KeyboardInterrupt as interrupt:
        say(f"{str(interrupt) or 'SIGINT'} received: stopping.")
    except subprocess.CalledProcessError as error:
        say(f"{' '.join(map(str, error.cmd[1:3]))} failed (exit {error.returncode}).")
        status = 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        stop_children(children)
        stop_embedded_servers()
    return status


def write_dev_env_once() -> None:
    """Create var/dev.env with generated secrets unless it already exists.

    NEVER overwrite or delete this file: its keys encrypt the demo data in
    var/pgdata, and without them that data can never be decrypted again. To
    start from scratch, delete var/pgdata, var/.demo-seeded and var/dev.env
    together.
    """
    VAR.mkdir(exist_ok=True)

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    content = (
        "# Generated once by scripts/run.py for local development. Never overwrite\n"
        "# or delete it: without these keys the data in var/pgdata cannot be\n"
        "# decrypted. Add DATABASE_URL / REDIS_URL here to use your own servers.\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"CP_FIELD_ENCRYPTION_KEYS=1:{key()}\n"
        "CP_FIELD_ENCRYPTION_ACTIVE_VERSION=0\n"
        f"CP_BLIND_INDEX_KEY={key()}\n"
    )
    audit_key = f"CP_AUDIT_SIGNING_KEY={key()}\n"
    content += audit_key
    try:  # O_EXCL: never clobber a file that appeared meanwhile
        fd = os.open(DEV_ENV, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # A file from before the audit signing key existed: add the key,
        # never touching the lines already there.
        if "CP_AUDIT_SIGNING_KEY=" not in DEV_ENV.read_text():
            with DEV_ENV.open("a") as file:
                file.write(audit_key)
        return
    with os.fdopen(fd, "w") as file:
        file.write(content)
    say(f"Created {DEV_ENV.relative_to(ROOT)} with new secrets. Keep it.")


def child_environment() -> dict[str, str]:
    """The environment for every process: dev settings and the two servers."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "contactpoint.settings.dev"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    if not env.get("DATABASE_URL"):
        say("Starting (or reusing) the embedded PostgreSQL (var/pgdata)...")
        _embedded.append("postgres")
        env["DATABASE_URL"] = embedded.ensure_postgres(PG_DIR)
    if not env.get("REDIS_URL"):
        say("Starting (or reusing) the embedded Redis (var/redis)...")
        _embedded.append("redis")
        env["REDIS_URL"] = embedded.ensure_redis(REDIS_DIR)[0]
    # For manage.py in another terminal: set -a; . var/run.env; set +a
    fd = os.open(RUN_ENV, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write("DJANGO_SETTINGS_MODULE=contactpoint.settings.dev\n")
        file.write(f"DATABASE_URL={env['DATABASE_URL']}\n")
        file.write(f"REDIS_URL={env['REDIS_URL']}\n")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """Run a manage.py command in the foreground; raise if it fails."""
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, env=env, cwd=ROOT, check=True)  # noqa: S603


def seed_demo_once(env: dict[str, str]) -> None:
    """Load the demo children and sign-in users, once, if the command exists."""
    if SEED_MARKER.exists():
        return
    help_cmd = [sys.executable, "manage.py", "help", "seed_demo"]
    found = subprocess.run(  # noqa: S603
        help_cmd, check=False, env=env, cwd=ROOT, capture_output=True
    )
    if found.returncode:
        say("No seed_demo command yet: skipping the demo data (next run retries).")
        return
    say(f"Loading the demo data ({DEMO_CHILDREN:,} children): first run only...")
    command = [sys.executable, "manage.py", "seed_demo"]
    command += ["--children", str(DEMO_CHILDREN)]
    fd = os.open(SEED_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as log:
        seed = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            for raw in seed.stdout or ():  # its output, credentials too, as it comes
                line = raw.decode(errors="replace")
                sys.stdout.write(line)
                sys.stdout.flush()
                log.write(line)
            seed.wait()
        except BaseException:  # Ctrl-C, SIGTERM: do not leave it running
            seed.terminate()
            try:
                seed.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                seed.kill()
                seed.wait()
            raise
    if seed.returncode:
        raise subprocess.CalledProcessError(seed.returncode, command)
    SEED_MARKER.touch()


def start_children(env: dict[str, str]) -> dict[str, subprocess.Popen[bytes]]:
    """Start worker, beat and web, each in its own process group.

    Their own groups keep the terminal's Ctrl-C away from them, so they stop
    in order, when this script says so.
    """
    celery = str(BIN / "celery")
    schedule = str(VAR / "celerybeat-schedule")
    commands = {
        "worker": [celery, "-A", "contactpoint", "worker", "-l", "INFO", "-c", "2"],
        "beat": [celery, "-A", "contactpoint", "beat", "-l", "INFO", "-s", schedule],
        "web": [sys.executable, "manage.py", "runserver", f"{HOST}:{PORT}"],
    }
    commands["web"].append("--noreload")  # we restart it, not an autoreloader
    children = {}
    for name, command in commands.items():
        say(f"Starting the {name}...")
        children[name] = subprocess.Popen(  # noqa: S603
            command,
            env=env,
            cwd=ROOT,
            process_group=0,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (this script has no threads)
        )
    return children


def wait_until_listening(web: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the web server accepts connections (or has died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and web.poll() is None:
        if _port_in_use(HOST, PORT):
            return
        time.sleep(0.2)


def say_how_to_sign_in() -> None:
    """Print the address, and who to sign in as."""
    if SEED_MARKER.exists():
        how = (
            f"Sign in as one of the demo users that seed_demo printed (kept in "
            f"{SEED_LOG.relative_to(ROOT)}).\n"
            "The first sign-in asks you to add an authenticator app (scan the QR "
            "code, or type the key shown under it into any TOTP app) and shows "
            "backup codes once."
        )
    else:
        how = (
            "There are no demo users yet. Create one in another terminal:\n"
            "  set -a; . var/run.env; set +a; .venv/bin/python manage.py "
            "createsuperuser"
        )
    sys.stdout.write("\n")
    say(f"The directory runs at {URL}")
    for line in how.splitlines():
        say(line)
    say("Ctrl-C stops everything.\n")


def watch(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Return 1 as soon as a child exits on its own; signals interrupt this."""
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                say(f"The {name} process exited (code {child.returncode}): stopping.")
                return 1
        time.sleep(0.5)


def stop_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Stop web, then beat, then worker: SIGTERM, then SIGKILL after a timeout.

    SIGTERM gives the Celery worker a warm shutdown (running tasks finish);
    a task killed later is redelivered (acks_late).
    """
    for name in ("web", "beat", "worker"):
        child = children.get(name)
        if child is None:
            continue
        _signal_group(child, signal.SIGTERM)
        try:
            child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say(f"The {name} process outlived SIGTERM by {STOP_TIMEOUT:.0f}s: killing.")
        _signal_group(child, signal.SIGKILL)  # leftovers (pool processes) too
        child.wait()


def stop_embedded_servers() -> None:
    """Stop the embedded Redis (by its pid) and PostgreSQL this run started."""
    if "redis" in _embedded and embedded.stop_redis(REDIS_DIR):
        say("Stopped the embedded Redis.")
    if "postgres" in _embedded:
        embedded.stop_postgres(PG_DIR)
        say("Stopped the embedded PostgreSQL.")
    RUN_ENV.unlink(missing_ok=True)


def say(message: str) -> None:
    """Print a line of this script's own output."""
    sys.stdout.write(f"[make run] {message}\n")
    sys.stdout.flush()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGINT and SIGTERM both unwind into main()'s clean-up."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """In a child, before exec: ask Linux for SIGTERM should this script die.

    Without it a `kill -9` of this script would leave the children running
    in their own process groups, holding port 8000.
    """
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, sig)


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


if __name__ == "__main__":
    sys.exit(main())
