"""Monthly partitions of the events table.

``partitions_ensure`` creates one partition per calendar month (UTC) from
last month to ``MONTHS_AHEAD`` months ahead; it runs in a migration and daily
from Celery beat, so a month's partition exists long before its first event.
A DEFAULT partition catches anything else (an event is never refused for want
of a partition); a month whose rows already sit in the default partition is
left there and reported, because PostgreSQL cannot attach a partition over
rows the default holds.

Old months can be detached and archived whole (docs/operations.md) — after a
verified checkpoint covers them, since the chain is checked end to end.
"""

from datetime import UTC, date, datetime

from django.db.backends.base.base import BaseDatabaseWrapper

PARENT = "audit_accessevent"
DEFAULT = "audit_accessevent_default"
MONTHS_AHEAD = 12


def _month_start(year: int, month: int) -> date:
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def months_wanted(today: date, *, ahead: int = MONTHS_AHEAD) -> list[date]:
    return [_month_start(today.year, today.month + k) for k in range(-1, ahead + 1)]


def partitions_ensure(
    connection: BaseDatabaseWrapper, today: date | None = None
) -> list[str]:
    """Create the missing monthly partitions; returns what needs attention."""
    today = today or datetime.now(UTC).date()
    notes: list[str] = []
    with connection.cursor() as cursor:
        for month in months_wanted(today):
            name = partition_name(month)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                continue
            start = f"{month.isoformat()} 00:00:00+00"
            end = f"{_month_start(month.year, month.month + 1).isoformat()} 00:00:00+00"
            cursor.execute(
                f'SELECT EXISTS (SELECT 1 FROM "{DEFAULT}" '  # noqa: S608  # fixed names
                "WHERE occurred_at >= %s AND occurred_at < %s)",
                [start, end],
            )
            if cursor.fetchone()[0]:
                notes.append(
                    f"Events for {month:%B %Y} are in the default partition; "
                    f"{name} was not created."
                )
                continue
            cursor.execute(
                f'CREATE TABLE "{name}" PARTITION OF "{PARENT}" '
                f"FOR VALUES FROM ('{start}') TO ('{end}')"
            )
    return notes


def partitions_list(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = %s ORDER BY c.relname",
            [PARENT],
        )
        return [row[0] for row in cursor.fetchall()]
