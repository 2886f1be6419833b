"""Read replica routing: only the search's candidate lookup reads the replica.

The replica here is a second, separate test database (the test settings'
``replica`` alias), not a mirror of the primary's connection: a mirror would
answer the same whichever alias was asked, so it could not show where a read
went. Tests copy ("replicate") tables to it when they want it to hold what
the primary holds, and write to the primary afterwards to play replica lag.
"""

import datetime as dt
import logging

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    OperationalError,
    connections,
    router,
    transaction,
)
from psycopg import sql

from accounts.models import Organisation
from accounts.roles import Role
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory, actor
from audit.models import AccessEvent
from contactpoint import db_router
from contactpoint.db_router import REPLICA, replica_reads
from directory.policies import Purpose
from directory.records import SearchQuery
from directory.selectors import child_record_get, child_search
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

TODAY = dt.date(2026, 3, 2)
QUERY = SearchQuery(
    family_name="Climbie", given_name="Victoria", date_of_birth=dt.date(2015, 11, 2)
)
#: What a search reads: the blind index, the children, their authorities.
SEARCH_TABLES = (
    "accounts_organisation",
    "directory_child",
    "directory_blindindexentry",
)

both_databases = pytest.mark.django_db(
    transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA]
)


@pytest.fixture
def replica_on(settings):
    """Replica reads on, as base.py sets them when DATABASE_REPLICA_URL is set."""
    settings.CP_REPLICA_READS = True
    settings.DATABASE_ROUTERS = ["contactpoint.db_router.ReplicaRouter"]


@pytest.fixture
def school():
    authority = LocalAuthorityFactory()
    return SchoolFactory(parent_authority=authority)


@pytest.fixture
def practitioner(school):
    return actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))


def _replicate(*tables: str) -> None:
    """Make the replica's ``tables`` what the primary's are now (COPY across)."""
    primary, replica = connections[DEFAULT_DB_ALIAS], connections[REPLICA]
    with primary.cursor() as source, replica.cursor() as target:
        target.execute(
            sql.SQL("TRUNCATE {} CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )
        for table in tables:
            out = sql.SQL("COPY {} TO STDOUT (FORMAT BINARY)").format(
                sql.Identifier(table)
            )
            into = sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(
                sql.Identifier(table)
            )
            with (
                source.cursor.copy(out) as reading,
                target.cursor.copy(into) as writing,
            ):
                for block in reading:
                    writing.write(block)


def _create(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE, today=TODAY
    )[0]


def _search(who):
    return child_search(actor=who, query=QUERY, request_id="req-1", today=TODAY)


def _count(alias: str, table: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return int(cursor.fetchone()[0])


@both_databases
def test_search_finds_candidates_through_the_replica(replica_on, practitioner):
    replicated = _create()
    _replicate(*SEARCH_TABLES)
    # Created after the copy: on the primary only, as during replica lag.
    lagging = _create(nhs_number=None)

    found = [r.child_id for r in _search(practitioner).results]

    assert found == [replicated.id]
    assert lagging.id not in found
    with replica_reads() as alias:
        assert alias == REPLICA


@both_databases
def test_without_replica_reads_search_uses_the_primary(settings, practitioner):
    settings.CP_REPLICA_READS = False
    replicated = _create()
    _replicate(*SEARCH_TABLES)
    lagging = _create(nhs_number=None)

    found = {r.child_id for r in _search(practitioner).results}

    assert found == {replicated.id, lagging.id}


@both_databases
def test_a_search_on_the_replica_writes_its_audit_event_on_the_primary(
    replica_on, practitioner
):
    _create()
    _replicate(*SEARCH_TABLES)
    replica_events = _count(REPLICA, "audit_accessevent")

    _search(practitioner)

    assert (
        AccessEvent.objects.using(DEFAULT_DB_ALIAS).filter(action="search").count() == 1
    )
    assert _count(REPLICA, "audit_accessevent") == replica_events


@both_databases
def test_shielding_on_the_primary_counts_even_when_the_replica_lags(
    replica_on, practitioner
):
    child = _create()
    _replicate(*SEARCH_TABLES)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "UPDATE directory_child SET shielded = true WHERE id = %s", [child.id]
        )

    outcome = _search(practitioner)

    assert outcome.results == ()
    assert len(outcome.restricted) == 1


@both_databases
def test_record_reads_use_the_primary(replica_on, school):
    _replicate(*SEARCH_TABLES)
    child = _create()  # not on the replica
    reader = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))

    record = child_record_get(
        actor=reader, child_id=child.id, purpose=Purpose.PROVIDING_SERVICE
    )

    assert record.id == child.id


@both_databases
def test_orm_reads_route_to_the_replica_only_inside_replica_reads(replica_on):
    LocalAuthorityFactory()  # on the primary only

    assert router.db_for_read(Organisation) == DEFAULT_DB_ALIAS
    assert Organisation.objects.count() == 1
    with replica_reads():
        assert router.db_for_read(Organisation) == REPLICA
        assert router.db_for_write(Organisation) == DEFAULT_DB_ALIAS
        assert Organisation.objects.count() == 0


@both_databases
def test_a_transaction_on_the_primary_keeps_reads_there(replica_on):
    with transaction.atomic():
        LocalAuthorityFactory()
        with replica_reads() as alias:
            assert alias == DEFAULT_DB_ALIAS
            assert Organisation.objects.count() == 1
    with replica_reads() as alias:
        assert alias == REPLICA
        with transaction.atomic():
            assert router.db_for_read(Organisation) == DEFAULT_DB_ALIAS


def test_no_replica_configured_means_the_primary(settings):
    settings.CP_REPLICA_READS = False
    settings.DATABASE_ROUTERS = ["contactpoint.db_router.ReplicaRouter"]

    with replica_reads() as alias:
        assert alias == DEFAULT_DB_ALIAS
        assert router.db_for_read(Organisation) == DEFAULT_DB_ALIAS


def test_an_unreachable_replica_falls_back_to_the_primary_for_a_while(
    replica_on, monkeypatch, caplog
):
    attempts = []

    def refuse() -> None:
        attempts.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections[REPLICA], "ensure_connection", refuse)
    monkeypatch.setattr(db_router, "_skip_replica_until", 0.0)

    with caplog.at_level(logging.WARNING, logger="contactpoint.db_router"):
        with replica_reads() as first:
            pass
        with replica_reads() as second:
            pass

    assert (first, second) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)
    assert len(attempts) == 1  # the second read did not wait for it again
    assert "Read replica unavailable" in caplog.text
    monkeypatch.setattr(db_router, "_skip_replica_until", 0.0)  # the pause is over
    with replica_reads() as third:
        assert third == DEFAULT_DB_ALIAS
    assert len(attempts) == 2
