"""The retention report: what the next run of the retention job will do.

Data managers read it (``decide_lifecycle_report``). It shows counts per
rule and, a page at a time, each record due by its directory number and
the rule that applies. That pairing tells a reader a child's 18th birthday
or that they died, so every page shown is an access event listing
(encrypted) the children it showed, and a shielded child's number shows
only to its responsible authority (``decide_lifecycle_listing``).
"""

import json
from dataclasses import dataclass
from uuid import UUID

from django.core.paginator import Page, Paginator

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.fields import unseal
from directory.models import (
    Child,
    ChildStatus,
    LifecyclePlanBatch,
    LifecycleRun,
    LifecycleRunKind,
    LifecycleRunStatus,
)
from directory.policies import (
    ChildRecordFacts,
    decide_lifecycle_listing,
    decide_lifecycle_report,
)
from directory.retention import LifecycleRefused, LifecycleRule

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class PlannedItem:
    child_id: UUID
    rule: LifecycleRule


def lifecycle_plan_items(run: LifecycleRun) -> list[PlannedItem]:
    """What a dry run found due, in child id order, decrypted. For the
    report below, which audits what it shows, and the operator's command."""
    return [
        PlannedItem(UUID(child_id), LifecycleRule(rule))
        for batch in LifecyclePlanBatch.objects.filter(run=run).order_by("position")
        for child_id, rule in json.loads(unseal(batch, "items") or "[]")
    ]


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One record due. ``directory_number`` is empty when the reader may not
    see which record (shielded elsewhere) or the record has gone since."""

    rule: LifecycleRule
    directory_number: str = ""
    child_id: UUID | None = None
    restricted: bool = False
    gone: bool = False
    #: Still active (so it can be opened and checked before it is archived).
    active: bool = False


@dataclass(frozen=True, slots=True)
class LifecycleReport:
    #: The newest dry run, whatever its state (shows progress while running).
    latest: LifecycleRun | None
    #: The newest completed dry run: the plan the page lists.
    plan: LifecycleRun | None
    #: The newest run that changed records.
    last_run: LifecycleRun | None
    #: The plan's records (filtered by ``rule`` when given), a page of them,
    #: for the pagination; ``lines`` describes the page's records.
    page: Page[PlannedItem] | None
    lines: list[ReportLine]
    rule: LifecycleRule | None

    @property
    def running(self) -> bool:
        """A dry run is working now (its progress is ``latest``)."""
        return (
            self.latest is not None and self.latest.status == LifecycleRunStatus.RUNNING
        )


def lifecycle_report(
    *,
    actor: Actor,
    page_number: int | str = 1,
    rule: LifecycleRule | None = None,
    request_id: str = "",
) -> LifecycleReport:
    """The report as ``actor`` may see it. Raises LifecycleRefused (after
    auditing the refusal) unless the actor is a verified data manager.

    One access event per call, listing the children whose directory numbers
    the page shows.
    """
    decision = decide_lifecycle_report(actor)
    if not decision.allowed:
        access_event_record(
            actor=actor,
            action=AccessAction.LIFECYCLE_RUN,
            allowed=False,
            reason=decision.reason,
            detail="Asked to see the retention report.",
            request_id=request_id,
        )
        raise LifecycleRefused(decision.reason)
    dry_runs = LifecycleRun.objects.filter(kind=LifecycleRunKind.DRY_RUN)
    latest = dry_runs.order_by("-started_at").first()
    plan = (
        dry_runs.filter(status=LifecycleRunStatus.COMPLETED)
        .order_by("-started_at")
        .first()
    )
    last_run = (
        LifecycleRun.objects.filter(kind=LifecycleRunKind.RUN)
        .order_by("-started_at")
        .first()
    )
    page: Page[PlannedItem] | None = None
    lines: list[ReportLine] = []
    if plan is not None:
        items = [
            item
            for item in lifecycle_plan_items(plan)
            if rule is None or item.rule == rule
        ]
        page = Paginator(items, PAGE_SIZE).get_page(page_number)
        lines = _lines(actor, list(page.object_list))
    shown = [line.child_id for line in lines if line.child_id is not None]
    access_event_record(
        actor=actor,
        action=AccessAction.LIFECYCLE_RUN,
        allowed=True,
        reason="report_viewed",
        detail=(
            f"Viewed the retention report of dry run {plan.pk}"
            + (f" ({rule.value})" if rule else "")
            + (f", page {page.number}" if page else "")
            + f": {len(shown)} records shown."
            if plan
            else "Viewed the retention report: no dry run has finished yet."
        ),
        request_id=request_id,
        result_ids=shown,
    )
    return LifecycleReport(
        latest=latest,
        plan=plan,
        last_run=last_run,
        page=page,
        lines=lines,
        rule=rule,
    )


def _lines(actor: Actor, items: list[PlannedItem]) -> list[ReportLine]:
    """Describe one page of planned items, from the records as they are now."""
    children = {
        child.id: child
        for child in Child.unaudited.filter(
            pk__in=[item.child_id for item in items]
        ).only("id", "directory_number", "status", "shielded", "responsible_authority")
    }
    lines: list[ReportLine] = []
    for item in items:
        child = children.get(item.child_id)
        if child is None:
            lines.append(ReportLine(rule=item.rule, gone=True))
            continue
        facts = ChildRecordFacts(
            shielded=child.shielded,
            responsible_authority_id=child.responsible_authority_id,
        )
        if not decide_lifecycle_listing(actor, facts).allowed:
            lines.append(ReportLine(rule=item.rule, restricted=True))
            continue
        lines.append(
            ReportLine(
                rule=item.rule,
                directory_number=child.directory_number,
                child_id=child.id,
                active=child.status == ChildStatus.ACTIVE,
            )
        )
    return lines
