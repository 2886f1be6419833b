"""manage.py lifecycle: run the retention job now, or show what it would do.

``--dry-run`` plans without changing anything and prints the counts per
rule and the directory numbers due (a dry run's findings are kept, encrypted,
for the data managers' report as well). Without it the job runs as the
nightly schedule runs it: any run left unfinished is resumed first. Both
are audited like the nightly job (docs/retention.md).
"""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from directory.identifiers import format_directory_number
from directory.models import LifecycleRun, LifecycleRunKind, LifecycleRunStatus
from directory.retention import RULE_LABELS, LifecycleRule
from directory.selectors import directory_numbers_for
from directory.selectors.lifecycle import lifecycle_plan_items
from directory.services.lifecycle import (
    BATCH_SIZE,
    lifecycle_counts_text,
    lifecycle_run_process,
    lifecycle_run_start,
    lifecycle_runs_unfinished,
)


class Command(BaseCommand):
    help = (
        "Archive and purge the records that are due today (docs/retention.md), "
        "or with --dry-run only show which. Safe to stop and run again: a run "
        "resumes after its last committed batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Change nothing: print what a run would archive and purge.",
        )
        parser.add_argument(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="With --dry-run: plan for this day instead of today.",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        as_of = _day(options["as_of"]) if options["as_of"] else timezone.localdate()
        if not options["dry_run"]:
            if options["as_of"]:
                raise CommandError(
                    "--as-of works only with --dry-run: a run always applies "
                    "today's rules."
                )
            self._run(as_of, batch_size)
            return
        run, created = lifecycle_run_start(kind=LifecycleRunKind.DRY_RUN, as_of=as_of)
        if not created:
            raise CommandError(
                f"A dry run (as of {run.as_of}) is already running; try again "
                "when it has finished."
            )
        run = lifecycle_run_process(run_id=run.pk, batch_size=batch_size)
        self._report(run)
        if run.status == LifecycleRunStatus.COMPLETED:
            self._list(run)

    def _run(self, today: date, batch_size: int) -> None:
        for unfinished in lifecycle_runs_unfinished():
            self.stdout.write(f"Resuming the run as of {unfinished.as_of}.")
            self._report(
                lifecycle_run_process(run_id=unfinished.pk, batch_size=batch_size)
            )
        run, created = lifecycle_run_start(kind=LifecycleRunKind.RUN, as_of=today)
        if not created:
            raise CommandError(
                "Another worker is running the job now; it resumes there."
            )
        self._report(lifecycle_run_process(run_id=run.pk, batch_size=batch_size))

    def _report(self, run: LifecycleRun) -> None:
        what = "Dry run" if run.kind == LifecycleRunKind.DRY_RUN else "Run"
        if run.status == LifecycleRunStatus.RUNNING:
            self.stdout.write(
                f"{what} as of {run.as_of}: another worker holds it; it "
                "carries on there."
            )
            return
        if run.status == LifecycleRunStatus.FAILED:
            raise CommandError(
                f"{what} as of {run.as_of} stopped after {run.checked} records "
                "(see the access log); run the command again to resume it."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{what} as of {run.as_of}: {lifecycle_counts_text(run)}"
            )
        )

    def _list(self, run: LifecycleRun) -> None:
        items = lifecycle_plan_items(run)
        numbers = directory_numbers_for([item.child_id for item in items])
        for rule in LifecycleRule:
            due = sorted(
                format_directory_number(numbers[item.child_id])
                for item in items
                if item.rule == rule and item.child_id in numbers
            )
            self.stdout.write(f"\n{RULE_LABELS[rule]}: {len(due)}")
            for number in due:
                self.stdout.write(f"  {number}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--as-of must be a date written YYYY-MM-DD, such as 2027-03-31; "
            f"not {text!r}."
        ) from None
