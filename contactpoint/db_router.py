"""Read replica routing: only reads that opt in go to ``DATABASE_REPLICA_URL``.

Everything uses the primary (``default``) unless it runs inside
``replica_reads()``, which the search's blind-index candidate lookup does
(directory/selectors/searching.py). Writes, the audit log (which reads its
chain head under a row lock), sessions, accounts, feeds, record reads and
anything inside a transaction stay on the primary, so nobody ever misses
what they have just written. A global "every read to the replica" router
would break that: a session written on the primary and read back from a
lagging replica signs people out, and an audit writer reading a stale chain
head could not append.

``replica_reads()`` falls back to the primary when no replica is configured
(``CP_REPLICA_READS`` off, the default without ``DATABASE_REPLICA_URL``),
when the primary has a transaction open (it may hold uncommitted rows the
read must see), and when the replica cannot be reached (logged as a
warning; searches answer from the primary, and the replica is tried again
after RETRY_AFTER_SECONDS).

Replica lag: a child created or renamed on the primary is found by search
once the replica has replayed the write (normally well under a second with
streaming replication). That is acceptable for search, which is a lookup of
a national register that feeds update overnight, not a read of one's own
write. What matters for safety is read after the lookup, on the primary:
each candidate's status, shielding and profile (so a child shielded, merged
or archived a moment ago is never shown as an ordinary result). Record reads
never use the replica: a record opened right after an involvement, a consent
or a shield was recorded must show it, and the access policy decides on
those facts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

logger = logging.getLogger(__name__)

#: The alias of the read replica in settings.DATABASES.
REPLICA = "replica"

#: The alias the current ``replica_reads()`` block reads from; None outside one.
_reading_from: ContextVar[str | None] = ContextVar("cp_replica_reads", default=None)


def replica_configured() -> bool:
    """Whether replica reads are switched on and the alias exists."""
    return bool(getattr(settings, "CP_REPLICA_READS", False)) and (
        REPLICA in settings.DATABASES
    )


def _primary_in_transaction() -> bool:
    return connections[DEFAULT_DB_ALIAS].in_atomic_block


#: After the replica failed to connect, this process reads from the primary
#: for this many seconds before trying it again.
RETRY_AFTER_SECONDS = 30.0
_skip_replica_until = 0.0


def _replica_reachable() -> bool:
    global _skip_replica_until  # noqa: PLW0603 - one process-wide breaker
    if time.monotonic() < _skip_replica_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except OperationalError as error:
        _skip_replica_until = time.monotonic() + RETRY_AFTER_SECONDS
        logger.warning(
            "Read replica unavailable, reading from the primary for %.0f s (%s)",
            RETRY_AFTER_SECONDS,
            type(error).__name__,
        )
        return False
    return True


@contextmanager
def replica_reads() -> Iterator[str]:
    """Let the reads in the block use the replica; yields the alias to use.

    Raw SQL in the block uses ``connections[alias]``; ORM reads are routed by
    ``ReplicaRouter``. The alias is the primary's when there is no replica,
    when the primary has a transaction open, or when the replica is down.
    Only for reads that tolerate a moment's lag: never for a read that
    decides access or must see the caller's own writes.
    """
    alias = DEFAULT_DB_ALIAS
    if replica_configured() and not _primary_in_transaction() and _replica_reachable():
        alias = REPLICA
    token = _reading_from.set(alias)
    try:
        yield alias
    finally:
        _reading_from.reset(token)


def current_read_alias() -> str:
    """Where an ORM read goes now: the replica only inside ``replica_reads()``
    and while the primary has no transaction open."""
    alias = _reading_from.get()
    if alias is None or _primary_in_transaction():
        return DEFAULT_DB_ALIAS
    return alias


class ReplicaRouter:
    """Django's database router (``DATABASE_ROUTERS``): primary unless asked."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str:
        return current_read_alias()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        # An instance loaded from the replica is saved to the primary.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica is a copy of the primary: the same rows on both.
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        # Migrations run on the primary and replicate. (The test settings'
        # stand-in replica is a second writable database that Django's test
        # set-up migrates like any other.)
        return None
