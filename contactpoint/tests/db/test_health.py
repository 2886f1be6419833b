"""/healthz and /readyz: each readiness check passing and failing."""

import datetime as dt
import time

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit.checkpoints import checkpoint_write
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint import health
from contactpoint.health import HEARTBEAT_KEY, worker_heartbeat_record
from contactpoint.tasks import worker_heartbeat_task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    """Checkpoint files of this test only (the database rows roll back)."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    return tmp_path


def _event() -> None:
    access_event_record(
        actor=None, action=AccessAction.SIGN_IN_FAILED, allowed=False, reason="test"
    )


def _checks(response) -> dict[str, tuple[str, str]]:
    return {
        name: (check["status"], check["reason"])
        for name, check in response.json()["checks"].items()
    }


def test_healthz_answers_without_asking_any_dependency(
    client, django_assert_num_queries, settings, closed_port
):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"

    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_when_every_check_passes(client, private_redis):
    worker_heartbeat_task()
    _event()
    checkpoint_write()

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    assert {name: status for name, (status, _) in _checks(response).items()} == {
        "database": "ok",
        "redis": "ok",
        "worker": "ok",
        "audit_checkpoint": "ok",
    }
    assert _checks(response)["audit_checkpoint"][1] == (
        "Every audit event has a signed checkpoint."
    )


def test_redis_down_fails_redis_and_worker_without_naming_the_server(
    client, settings, closed_port
):
    settings.REDIS_URL = f"redis://:secret-password@127.0.0.1:{closed_port}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "not_ready"
    checks = _checks(response)
    assert checks["database"][0] == "ok"
    assert checks["redis"] == ("failed", "Redis did not answer (ConnectionError).")
    assert checks["worker"][0] == "failed"
    assert str(closed_port) not in response.content.decode()
    assert "secret-password" not in response.content.decode()


def test_missing_heartbeat_fails_the_worker_check(private_redis):
    result = health.check_worker()

    assert (result.ok, result.reason) == (
        False,
        "No worker heartbeat recorded: are a Celery worker and beat running?",
    )


def test_stale_heartbeat_fails_the_worker_check(private_redis, settings):
    settings.HEALTH_WORKER_HEARTBEAT_MAX_SECONDS = 300
    private_redis.set(HEARTBEAT_KEY, f"{time.time() - 301:.3f}")

    result = health.check_worker()

    assert not result.ok
    assert result.reason.startswith("The last worker heartbeat is 301 s old (limit")


def test_fresh_heartbeat_passes_the_worker_check(private_redis):
    worker_heartbeat_record()

    result = health.check_worker()

    assert result.ok
    assert result.reason == "Last worker heartbeat 0 s ago."


def test_unreadable_heartbeat_fails_the_worker_check(private_redis):
    private_redis.set(HEARTBEAT_KEY, "yesterday")

    assert health.check_worker() == health.CheckResult(
        "worker", False, "The heartbeat in Redis is not a time."
    )


def test_events_waiting_too_long_for_a_checkpoint_fail_readiness(settings):
    settings.HEALTH_AUDIT_CHECKPOINT_MAX_SECONDS = 15 * 60
    _event()
    waiting = health.check_audit_checkpoint()
    later = timezone.now() + dt.timedelta(minutes=16)

    with time_machine.travel(later, tick=False):
        stale = health.check_audit_checkpoint()
        checkpoint_write()
        covered = health.check_audit_checkpoint()

    assert waiting.ok
    assert waiting.reason.startswith("The oldest audit event without a checkpoint")
    assert not stale.ok
    assert stale.reason.startswith("Audit events have waited 96")
    assert covered == health.CheckResult(
        "audit_checkpoint", True, "Every audit event has a signed checkpoint."
    )


def test_an_empty_audit_log_needs_no_checkpoint():
    assert health.check_audit_checkpoint().ok


@pytest.mark.django_db(transaction=True)
def test_database_down_fails_the_database_and_audit_checks(closed_port):
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = closed_port
    try:
        database = health.check_database()
        audit = health.check_audit_checkpoint()
    finally:
        connection.settings_dict["PORT"] = original
        connection.close()

    assert database == health.CheckResult(
        "database", False, "The database did not answer (OperationalError)."
    )
    assert audit == health.CheckResult(
        "audit_checkpoint",
        False,
        "The audit log could not be read (OperationalError).",
    )


def test_readyz_can_leave_checks_out(client, settings, closed_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"

    response = client.get("/readyz?exclude=redis&exclude=worker")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "audit_checkpoint"}


def test_readyz_refuses_an_unknown_check_name_without_echoing_it(client):
    response = client.get("/readyz?exclude=<script>")

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Unknown check name in 'exclude'. The checks are: "
        "database, redis, worker, audit_checkpoint."
    )


def test_probes_answer_get_and_head_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
