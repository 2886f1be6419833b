"""Backup and restore round trip (docs/operations.md, "Backup and restore").

Children and audit events (with a signed checkpoint) go into the test
database; ``pg_dump -Fc`` writes a backup, ``pg_restore`` loads it into a
fresh database on the same server, and there ``verify_audit`` must pass and
every child must decrypt to what was stored. PostgreSQL's programs come from
the pgserver wheel (version 16), which can dump both the embedded server and
an older machine server (CI's 15).
"""

import datetime as dt
import io
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, actor
from audit.checkpoints import checkpoint_write
from audit.models import AccessEvent, AuditCheckpoint
from contactpoint import embedded
from contactpoint.crypto.fields import unseal
from directory.models import Child, ChildName
from directory.policies import Purpose
from directory.records import NewName, SearchQuery
from directory.selectors import child_record_get, child_search
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHILDREN = [
    NewChildFactory.build(),
    NewChildFactory.build(
        names=(NewName("Peter", "Connelly-Owen"),),
        date_of_birth=dt.date(2019, 3, 1),
        gender="1",
        nhs_number="999 000 0018",
    ),
    NewChildFactory.build(
        names=(NewName("Zoë Katie", "Kowalski"),),
        date_of_birth=dt.date(2012, 7, 30),
        nhs_number=None,
        upn="H801200001001",
    ),
]


def _server() -> dict[str, str]:
    """libpq parameters of the test database's server (not of the database)."""
    params = connection.get_connection_params()
    server = {"user": params.get("user") or "postgres"}
    for key in ("host", "port", "password"):
        if params.get(key):
            server[key] = str(params[key])
    return server


def _run(program: str, *arguments: str) -> None:
    server = _server()
    command = [
        str(embedded.pg_bin(program)),
        "--no-password",
        "--username",
        server["user"],
    ]
    if "host" in server:
        command += ["--host", server["host"]]
    if "port" in server:
        command += ["--port", server["port"]]
    env = {**os.environ, "PGPASSWORD": server.get("password", "")}
    subprocess.run(  # noqa: S603 - a bundled PostgreSQL program, test-made arguments
        [*command, *arguments], env=env, check=True, capture_output=True, timeout=300
    )


def _admin_conninfo() -> str:
    return make_conninfo(dbname="postgres", **_server())


@contextmanager
def _fresh_database(name: str) -> Iterator[str]:
    """An empty database on the same server, dropped afterwards."""
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


@contextmanager
def _connected_to(name: str) -> Iterator[None]:
    """Point the default connection at another database for a while."""
    original = connection.settings_dict["NAME"]
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original


def _children_as_stored() -> dict[str, tuple[str | None, ...]]:
    """Every child's decrypted identity, by directory number."""
    names = {
        name.child_id: (unseal(name, "given_names"), unseal(name, "family_name"))
        for name in ChildName.unaudited.all()
    }
    return {
        child.directory_number: (
            unseal(child, "date_of_birth"),
            unseal(child, "nhs_number"),
            unseal(child, "upn"),
            *names[child.id],
        )
        for child in Child.unaudited.all()
    }


def test_a_restored_backup_verifies_and_decrypts(settings, tmp_path: Path):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    school = SchoolFactory(parent_authority=LocalAuthorityFactory())
    reader = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))
    created = child_records_create(children=CHILDREN, source=FEED_SOURCE)
    child_search(
        actor=reader,
        query=SearchQuery(
            family_name="Kowalski", given_name="Zoe", date_of_birth=dt.date(2012, 7, 30)
        ),
    )
    child_record_get(
        actor=reader, child_id=created[0].id, purpose=Purpose.PROVIDING_SERVICE
    )
    assert checkpoint_write() is not None
    events, stored = AccessEvent.objects.count(), _children_as_stored()
    assert events >= 2
    assert len(stored) == len(CHILDREN)
    backup = tmp_path / "directory.dump"

    _run(
        "pg_dump",
        "--format=custom",
        "--file",
        str(backup),
        connection.settings_dict["NAME"],
    )
    restored_name = f"{connection.settings_dict['NAME']}_restored"
    with _fresh_database(restored_name):
        _run(
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            restored_name,
            str(backup),
        )
        with _connected_to(restored_name):
            out = io.StringIO()
            call_command("verify_audit", stdout=out)
            assert _children_as_stored() == stored
            assert AuditCheckpoint.objects.count() == 1

    assert "The audit log is intact." in out.getvalue()
    assert f"Checked {events} events" in out.getvalue()
