"""``manage.py verify_audit``: recompute the audit chain and check checkpoints.

Exits 0 when everything holds, 1 (naming the first broken sequence number)
when anything does not. The result is also recorded for the integrity page.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.verification import verification_run


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and check its signed checkpoints."

    def handle(self, *args: Any, **options: Any) -> None:
        result = verification_run()
        self.stdout.write(
            f"Checked {result.events_checked} events "
            f"(last sequence number {result.last_seq or 0}) and "
            f"{result.checkpoints_checked} checkpoints."
        )
        if result.first_broken_seq is None:
            self.stdout.write(self.style.SUCCESS("The audit log is intact."))
            return
        for problem in result.problems:
            self.stderr.write(f"- {problem}")
        raise CommandError(
            f"The audit log is broken: first broken sequence number "
            f"{result.first_broken_seq}."
        )
