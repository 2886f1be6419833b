"""Write many rows of one model with PostgreSQL COPY, in the caller's transaction.

Used by the record services for one child and for a million alike: COPY is the
fastest way PostgreSQL offers to insert, and going through one path means the
seeder and the feeds write exactly what a person's single write does.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models


def copy_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """COPY ``rows`` (dicts keyed by field attname) into ``model``'s table.

    Every concrete field must be present except auto primary keys; database
    defaults are not applied by COPY, so callers pass every value.
    """
    fields = [
        f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    statement = (
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    )
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(tuple(row[f.attname] for f in fields))
            count += 1
    return count
