"""Directory numbers come from a PostgreSQL sequence: never reused, even after
a record is purged, because a sequence never goes back."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE directory_number_seq START WITH 1 NO CYCLE",
            reverse_sql="DROP SEQUENCE directory_number_seq",
        )
    ]
