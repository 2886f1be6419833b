"""Slices of a run imported side by side, each with its own checkpoint.

A run begun before this migration keeps its place: one slice of all its
rows, of which its old checkpoint (rows_done) is done.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ingestion', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedrun',
            name='slice_bounds',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.PositiveIntegerField(), default=list, size=None),
        ),
        migrations.AddField(
            model_name='feedrun',
            name='slice_done',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.PositiveIntegerField(), default=list, size=None),
        ),
        migrations.CreateModel(
            name='FeedClaim',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('child_id', models.UUIDField()),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ingestion.feedrun')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('run', 'child_id'), name='feed_claim_once_per_child')],
            },
        ),
        migrations.RunSQL(
            sql=(
                "UPDATE ingestion_feedrun SET slice_bounds = ARRAY[0, total_rows], "
                "slice_done = ARRAY[rows_done] WHERE total_rows > 0"
            ),
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
