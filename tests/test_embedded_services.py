"""The servers tests run against answer, embedded or not (tests/embedded_services)."""

from pathlib import Path

import environ
import pytest
import redis
from django.conf import settings
from django.db import connection

from contactpoint import embedded


@pytest.mark.django_db
def test_database_answers_through_djangos_connection():
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        assert cursor.fetchone() == (1,)
    assert connection.vendor == "postgresql"


def test_redis_answers_ping_at_settings_redis_url():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_embedded_postgres_url_becomes_a_unix_socket_host():
    url = embedded.postgres_url(Path("/srv/a b+c/pgdata"), "contactpoint")

    config = environ.Env.db_url_config(url)

    assert config["HOST"] == "/srv/a b+c/pgdata"
    assert config["NAME"] == "contactpoint"
    assert config["USER"] == "postgres"


def test_embedded_redis_is_reused_and_stopped_by_its_last_user(tmp_path):
    data_dir = tmp_path / "redis"
    url, pid = embedded.ensure_redis(data_dir)
    try:
        assert embedded.ensure_redis(data_dir) == (url, pid)
    finally:
        assert embedded.stop_redis(data_dir) is True

    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
