"""Local development: `make run` writes var/dev.env with generated secrets.

The embedded PostgreSQL and Redis (scripts/devservices.py) export
DATABASE_URL and REDIS_URL for every process `make run` starts.
"""

import os

import environ

from contactpoint.settings.paths import BASE_DIR

environ.Env.read_env(BASE_DIR / "var" / "dev.env", overwrite=False)
# Plain log lines at a terminal (CP_LOG_FORMAT=json shows production's).
os.environ.setdefault("CP_LOG_FORMAT", "plain")

from contactpoint.settings.base import *  # noqa: E402, F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
