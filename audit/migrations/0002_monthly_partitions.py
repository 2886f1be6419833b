"""Create the monthly partitions of the events table (audit/partitions.py)."""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from audit.partitions import partitions_ensure  # noqa: PLC0415

    partitions_ensure(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
