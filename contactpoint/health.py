"""Liveness (``/healthz``) and readiness (``/readyz``) for load balancers,
orchestrators and monitoring. Public (no sign-in), and they say nothing about
anyone: check names, ok or failed, and a reason with ages in seconds.

- ``/healthz``: the process answers. No dependency is consulted, so a
  database outage never makes an orchestrator restart healthy web processes.
- ``/readyz``: 200 when every check passes, else 503, with each check's
  result. ``?exclude=worker&exclude=audit_checkpoint`` leaves checks out (a
  load balancer that should keep serving pages while background work is
  stalled asks only about the database and Redis; monitoring asks about all).

The checks:

- ``database``: ``SELECT 1``.
- ``redis``: PING to ``REDIS_URL`` (the broker and cache).
- ``worker``: the age of the last heartbeat. Beat queues
  ``worker_heartbeat_task`` every minute and a worker records the time in
  Redis: a stale heartbeat means no beat, no worker, or a queue so long that
  a task waits minutes (``HEALTH_WORKER_HEARTBEAT_MAX_SECONDS``).
- ``audit_checkpoint``: how long the oldest audit event without a signed
  checkpoint has waited (``audit.checkpoints.checkpoint_lag``), against
  ``HEALTH_AUDIT_CHECKPOINT_MAX_SECONDS``: checkpoints are due every five
  minutes while events arrive.

Reasons never carry an exception's text (it can name hosts and users): only
its class, which is logged with the detail for operators.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from redis import RedisError

from audit.checkpoints import checkpoint_lag
from contactpoint.redis_client import service_redis

logger = logging.getLogger(__name__)

#: Redis key holding the last heartbeat (seconds since the epoch).
HEARTBEAT_KEY = "cp:health:worker-heartbeat"
#: A heartbeat older than this is gone anyway (the key expires).
HEARTBEAT_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    reason: str


def _failed(name: str, what: str, exc: Exception) -> CheckResult:
    logger.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
    return CheckResult(name, False, f"{what} ({type(exc).__name__}).")


def check_database() -> CheckResult:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return _failed("database", "The database did not answer", exc)
    return CheckResult("database", True, "The database answered.")


def check_redis() -> CheckResult:
    try:
        service_redis().ping()
    except RedisError as exc:
        return _failed("redis", "Redis did not answer", exc)
    return CheckResult("redis", True, "Redis answered.")


def check_worker(now: float | None = None) -> CheckResult:
    limit = settings.HEALTH_WORKER_HEARTBEAT_MAX_SECONDS
    try:
        raw = service_redis().get(HEARTBEAT_KEY)
    except RedisError as exc:
        return _failed("worker", "The heartbeat could not be read from Redis", exc)
    if raw is None:
        return CheckResult(
            "worker",
            False,
            "No worker heartbeat recorded: are a Celery worker and beat running?",
        )
    try:
        beat_at = float(raw)
    except ValueError:
        return CheckResult("worker", False, "The heartbeat in Redis is not a time.")
    age = max(0, round((time.time() if now is None else now) - beat_at))
    if age > limit:
        return CheckResult(
            "worker",
            False,
            f"The last worker heartbeat is {age} s old (limit {limit} s): "
            "check the Celery worker, beat and the queue length.",
        )
    return CheckResult("worker", True, f"Last worker heartbeat {age} s ago.")


def check_audit_checkpoint() -> CheckResult:
    limit = settings.HEALTH_AUDIT_CHECKPOINT_MAX_SECONDS
    try:
        waited = checkpoint_lag()
    except DatabaseError as exc:
        return _failed("audit_checkpoint", "The audit log could not be read", exc)
    if waited is None:
        return CheckResult(
            "audit_checkpoint", True, "Every audit event has a signed checkpoint."
        )
    lag = round(waited.total_seconds())
    if lag > limit:
        return CheckResult(
            "audit_checkpoint",
            False,
            f"Audit events have waited {lag} s for a signed checkpoint "
            f"(limit {limit} s): check beat, the worker and "
            "CP_AUDIT_CHECKPOINT_DIR.",
        )
    return CheckResult(
        "audit_checkpoint",
        True,
        f"The oldest audit event without a checkpoint is {lag} s old.",
    )


#: Readiness checks by name, in the order they run and are reported.
CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "redis": check_redis,
    "worker": check_worker,
    "audit_checkpoint": check_audit_checkpoint,
}


def worker_heartbeat_record() -> None:
    """Note that a worker is running tasks now (``tasks.worker_heartbeat_task``)."""
    service_redis().set(HEARTBEAT_KEY, f"{time.time():.3f}", ex=HEARTBEAT_TTL_SECONDS)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers requests."""
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: every check not excluded passes (200), else 503."""
    excluded = set(request.GET.getlist("exclude"))
    if not excluded <= CHECKS.keys():
        return JsonResponse(
            {
                "status": "error",
                "detail": "Unknown check name in 'exclude'. The checks are: "
                + ", ".join(CHECKS)
                + ".",
            },
            status=400,
        )
    results = [check() for name, check in CHECKS.items() if name not in excluded]
    ready = all(result.ok for result in results)
    return JsonResponse(
        {
            "status": "ready" if ready else "not_ready",
            "checks": {
                result.name: {
                    "status": "ok" if result.ok else "failed",
                    "reason": result.reason,
                }
                for result in results
            },
        },
        status=200 if ready else 503,
    )
