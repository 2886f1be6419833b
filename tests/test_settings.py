"""Production settings refuse to start without real secrets and hardening."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contactpoint.settings.published_test_keys import (
    TEST_AUDIT_SIGNING_KEY,
    TEST_BLIND_INDEX_KEY,
    TEST_FIELD_ENCRYPTION_KEYS,
    TEST_SECRET_KEY,
)

ROOT = Path(__file__).resolve().parent.parent
REAL_FIELD_KEYS = "1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
REAL_INDEX_KEY = "Wlp5eHd2dXRzcnFwb25tbGtqaWhnZmVkY2JhOTg3NjU="
REAL_AUDIT_KEY = "cmVhbC1sb29raW5nLWF1ZGl0LXNpZ25pbmcta2V5ISE="
REAL_SECRET = "k" * 20 + "production-secret-Q2v9!x#L0pW7zR4mT8sN1bY6" + "j" * 10


def _manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CP_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "contactpoint.settings.production",
            "DJANGO_SECRET_KEY": REAL_SECRET,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CP_FIELD_ENCRYPTION_KEYS": REAL_FIELD_KEYS,
            "CP_BLIND_INDEX_KEY": REAL_INDEX_KEY,
            "CP_AUDIT_SIGNING_KEY": REAL_AUDIT_KEY,
            "CP_AUDIT_CHECKPOINT_DIR": "/var/lib/contactpoint/audit-checkpoints",
            "DJANGO_ALLOWED_HOSTS": "directory.example.org",
            "CP_SITE_URL": "https://directory.example.org",
        }
    )
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v != ""}
    return subprocess.run(  # noqa: S603 - the project's own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is required"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY is missing, short"),
        (
            {"DJANGO_SECRET_KEY": TEST_SECRET_KEY},
            "development value",
        ),
        ({"CP_FIELD_ENCRYPTION_KEYS": ""}, "CP_FIELD_ENCRYPTION_KEYS is required"),
        ({"CP_BLIND_INDEX_KEY": ""}, "CP_BLIND_INDEX_KEY is required"),
        (
            {"CP_FIELD_ENCRYPTION_KEYS": TEST_FIELD_ENCRYPTION_KEYS.split(",")[0]},
            "published test key",
        ),
        (
            {"CP_BLIND_INDEX_KEY": TEST_BLIND_INDEX_KEY},
            "published test key",
        ),
        ({"CP_AUDIT_SIGNING_KEY": ""}, "CP_AUDIT_SIGNING_KEY is required"),
        ({"CP_AUDIT_SIGNING_KEY": TEST_AUDIT_SIGNING_KEY}, "published test key"),
        ({"CP_AUDIT_SIGNING_KEY": "c2hvcnQ="}, "must be 32 bytes"),
        ({"CP_AUDIT_CHECKPOINT_DIR": ""}, "CP_AUDIT_CHECKPOINT_DIR is not set"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG is on"),
        ({"DATABASE_URL": ""}, "DATABASE_URL is required"),
        ({"CP_SITE_URL": "http://directory.example.org"}, "CP_SITE_URL must be"),
    ],
)
def test_production_refuses_to_start(override, message):
    result = _manage("check", **override)
    assert result.returncode != 0
    assert message in result.stderr
