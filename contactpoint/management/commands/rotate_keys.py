"""manage.py rotate_keys: re-encrypt every value under the active key version."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from contactpoint.crypto.fields import field_cipher
from contactpoint.crypto.rotation import (
    RotationProgress,
    count_stale,
    models_with_encrypted_fields,
    rotate_model,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field under the active key version "
        "(CP_FIELD_ENCRYPTION_ACTIVE_VERSION), in committed batches. Safe to stop "
        "and run again: it carries on with what remains."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--max-batches",
            type=int,
            default=None,
            help="Stop after this many batches per model (for a timed window).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what needs rotating."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        active = field_cipher().keyring.active_version
        self.stdout.write(f"Active field key version: {active}")
        remaining_total = 0
        for model in models_with_encrypted_fields():
            label = model._meta.label
            if options["dry_run"]:
                stale = count_stale(model)
                remaining_total += stale
                self.stdout.write(f"{label}: {stale} rows to re-encrypt")
                continue

            def report(progress: RotationProgress) -> None:
                self.stdout.write(
                    f"{progress.model}: {progress.rows_rotated} rows re-encrypted "
                    f"({progress.batches} batches)"
                )

            progress = rotate_model(
                model,
                batch_size=options["batch_size"],
                max_batches=options["max_batches"],
                on_batch=report,
            )
            remaining_total += progress.remaining
            self.stdout.write(
                f"{label}: done, {progress.rows_rotated} re-encrypted, "
                f"{progress.remaining} remaining"
            )
        if remaining_total:
            self.stdout.write(
                self.style.WARNING(
                    f"{remaining_total} rows still hold values under older key "
                    "versions: run rotate_keys again before retiring old keys."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS("Every value uses the active key."))
