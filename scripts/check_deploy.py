"""`manage.py check --deploy` against the production settings (make lint).

The production settings refuse to load without real-looking secrets, so this
makes fresh random ones for the check alone (never written anywhere, never
used again) and points the services at addresses that are never contacted:
the check reads settings only. Any warning fails, like an error.
"""

import base64
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cp-check-deploy-") as checkpoints:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "contactpoint.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "directory.example.org",
            "DATABASE_URL": "postgres://check@127.0.0.1:9/check",
            "REDIS_URL": "redis://127.0.0.1:9/0",
            "CP_FIELD_ENCRYPTION_KEYS": f"1:{_key()}",
            "CP_BLIND_INDEX_KEY": _key(),
            "CP_AUDIT_SIGNING_KEY": _key(),
            "CP_AUDIT_CHECKPOINT_DIR": checkpoints,
            "CP_SITE_URL": "https://directory.example.org",
        }
        env.pop("DJANGO_DEBUG", None)
        command = [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
