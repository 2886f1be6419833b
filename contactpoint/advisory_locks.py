"""PostgreSQL advisory locks: the one place their keys and calls are made.

A key is derived from the names given (a namespace, ids, parts), so runs of
different kinds never share one. ``session_lock`` is held until released
(a run's worker, across its transactions); ``transaction_lock`` until the
current transaction ends. Eleven lines of SQL calls, not a dependency:
django-pglocks, the library for this, has had no release since 2016.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def lock_key(*names: object) -> int:
    """A signed 64-bit key for ``names`` (their text, joined)."""
    text = "\x1f".join(str(name) for name in names)
    return int.from_bytes(
        hashlib.sha256(text.encode()).digest()[:8], "big", signed=True
    )


@contextmanager
def session_lock(key: int) -> Iterator[bool]:
    """Try the session-level lock ``key``: True when this connection holds
    it (released on leaving), False when another does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        row = cursor.fetchone()
        held = bool(row and row[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def transaction_lock(key: int) -> None:
    """Wait for the lock ``key``, held until the current transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
