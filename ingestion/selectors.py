"""Reads for the feeds workspace (/feeds/) and the feeds API: sources, runs, rows.

Every function takes the acting Actor and applies ``ingestion.policies``:
the workspace needs a verified data manager (``feed_workspace_check``, the
403 page, as the auditor's workspace refuses non-auditors), and a source,
run or row outside the sources the actor may manage is the same
``FeedUnavailable`` as one that does not exist (the 404 page), so nobody can
probe ids. Lists are filtered in the database by ``_scope``, the query form
of ``decide_feed_manage`` (data manager of the source's organisation, or of
the local authority it sits in); single objects are checked by the policy
itself.

No child data is read here: ``FeedRow.problems`` and ``FeedRow.match`` hold
codes, messages, weights and child ids only, and the encrypted payload is
never loaded (``feed_row_get`` in ``ingestion.reviews`` is the audited read
of what a sender sent). So these reads write no access events, except a
refused upload: an attempt to send a file for someone else's feed is
recorded (``feed_source_for_upload``).
"""

from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from accounts.actors import Actor
from accounts.models import OrganisationKind
from accounts.roles import Role
from audit.models import AccessAction
from audit.services import access_event_record
from directory.policies import Decision
from ingestion.models import (
    Channel,
    FeedRow,
    FeedRun,
    FeedSource,
    RowState,
    RunStatus,
)
from ingestion.policies import (
    FeedFacts,
    council_authorities,
    decide_feed_api_upload,
    decide_feed_manage,
    decide_feed_workspace,
)

RUNS_PER_PAGE = 25
ROWS_PER_PAGE = 25


class FeedUnavailable(Exception):
    """No such source, run or row, or not one the actor may see: the same
    to the caller. ``reason`` is the policy's code (for the API's 403/404)."""

    def __init__(self, reason: str = "not_found") -> None:
        self.reason = reason
        super().__init__(reason)


def feed_workspace_check(*, actor: Actor) -> None:
    """Raise PermissionDenied (the 403 page) unless ``actor`` is a verified
    data manager: the workspace's own rule, before any object is looked at."""
    if not decide_feed_workspace(actor).allowed:
        raise PermissionDenied("Only data managers can use the feeds pages.")


def feed_facts_of(source: FeedSource) -> FeedFacts:
    """The policy's facts about ``source`` (its organisation must be loaded)."""
    organisation = source.organisation
    return FeedFacts(
        organisation_id=organisation.pk, authority_id=organisation.authority_id
    )


def _scope(actor: Actor, prefix: str = "") -> Q:
    """Sources ``decide_feed_manage`` allows, as a filter (``prefix`` leads
    from the queried model to FeedSource, e.g. "source__")."""
    organisations = actor.organisations_with(Role.DATA_MANAGER)
    authorities = council_authorities(actor)
    return (
        Q(**{f"{prefix}organisation_id__in": organisations})
        | Q(
            **{
                f"{prefix}organisation__kind": OrganisationKind.LOCAL_AUTHORITY,
                f"{prefix}organisation_id__in": authorities,
            }
        )
        | Q(**{f"{prefix}organisation__parent_authority_id__in": authorities})
    )


# Sources ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceRow:
    """A source on the feeds home page, with its latest run (None: never run)."""

    source: FeedSource
    last_run: FeedRun | None
    waiting: int = 0


def feed_sources_list(*, actor: Actor) -> list[SourceRow]:
    """The active sources the actor manages, each with its latest run and how
    many of its rows wait for review. Three queries."""
    feed_workspace_check(actor=actor)
    sources = list(
        FeedSource.objects.filter(_scope(actor), is_active=True).select_related(
            "organisation"
        )
    )
    if not sources:
        return []
    ids = [source.pk for source in sources]
    latest = {
        run.source_id: run
        for run in FeedRun.objects.filter(source_id__in=ids)
        .order_by("source_id", "-created_at")
        .distinct("source_id")
    }
    waiting: dict[int, int] = dict(
        FeedRow.objects.filter(state=RowState.WAITING, run__source_id__in=ids)
        .values("run__source_id")
        .annotate(count=Count("id"))
        .values_list("run__source_id", "count")
    )
    return [
        SourceRow(
            source=source,
            last_run=latest.get(source.pk),
            waiting=waiting.get(source.pk, 0),
        )
        for source in sources
    ]


def feed_source_choices(*, actor: Actor) -> list[tuple[int, str]]:
    """(id, "name (organisation)") of every source the actor manages, active
    or not (old runs stay findable): the runs list's filter."""
    feed_workspace_check(actor=actor)
    return [
        (pk, f"{name} ({organisation})")
        for pk, name, organisation in FeedSource.objects.filter(
            _scope(actor)
        ).values_list("pk", "name", "organisation__name")
    ]


def feed_source_get(*, actor: Actor, source_id: int) -> FeedSource:
    """An active source the actor manages, or FeedUnavailable."""
    feed_workspace_check(actor=actor)
    source = (
        FeedSource.objects.select_related("organisation")
        .filter(pk=source_id, is_active=True)
        .first()
    )
    if source is None or not decide_feed_manage(actor, feed_facts_of(source)).allowed:
        raise FeedUnavailable
    return source


def feed_source_for_upload(
    *, actor: Actor, source_id: int, channel: str, request_id: str = ""
) -> FeedSource:
    """The source a file is being sent for, if ``actor`` may send it.

    A data manager uploading in the browser is checked with
    ``decide_feed_manage``; a feed system calling the API with
    ``decide_feed_api_upload``. A refusal (an unknown or inactive source
    included) is audited as a denied ``feed_receive`` and raises
    FeedUnavailable carrying the policy's reason. An allowed attempt is
    audited by ``feed_file_receive`` itself.
    """
    source = (
        FeedSource.objects.select_related("organisation")
        .filter(pk=source_id, is_active=True)
        .first()
    )
    decide = decide_feed_api_upload if channel == Channel.API else decide_feed_manage
    decision = (
        decide(actor, feed_facts_of(source))
        if source is not None
        else Decision(False, "not_found")
    )
    if source is None or not decision.allowed:
        access_event_record(
            actor=actor,
            action=AccessAction.FEED_RECEIVE,
            allowed=False,
            reason=decision.reason,
            detail=f"Feed source {source_id}: file refused.",
            request_id=request_id,
        )
        raise FeedUnavailable(decision.reason)
    return source


# Runs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunFilters:
    source_id: int | None = None
    status: str = ""

    @property
    def is_filtered(self) -> bool:
        return self.source_id is not None or bool(self.status)


def _runs(actor: Actor) -> QuerySet[FeedRun]:
    return (
        FeedRun.objects.filter(_scope(actor, "source__"))
        .select_related("source__organisation")
        .order_by("-created_at", "id")
    )


def feed_runs_page(
    *, actor: Actor, filters: RunFilters, page: int | str = 1
) -> Page[FeedRun]:
    """One page of the runs of the actor's sources, newest first."""
    feed_workspace_check(actor=actor)
    runs = _runs(actor)
    if filters.source_id is not None:
        runs = runs.filter(source_id=filters.source_id)
    if filters.status:
        runs = runs.filter(status=filters.status)
    return Paginator(runs, RUNS_PER_PAGE).get_page(page)


def feed_run_get(*, actor: Actor, run_id: UUID) -> FeedRun:
    """One run of a source the actor manages (its file's size and time
    loaded, never its content), or FeedUnavailable."""
    feed_workspace_check(actor=actor)
    run = (
        FeedRun.objects.select_related("source__organisation", "file")
        .defer("file__content")
        .filter(pk=run_id)
        .first()
    )
    if run is None or not decide_feed_manage(actor, feed_facts_of(run.source)).allowed:
        raise FeedUnavailable
    return run


def feed_run_status_get(*, actor: Actor, run_id: UUID) -> FeedRun:
    """A run's status for the API: the feed system of the source's
    organisation, or a data manager who manages the source."""
    run = (
        FeedRun.objects.select_related("source__organisation").filter(pk=run_id).first()
    )
    if run is None:
        raise FeedUnavailable
    facts = feed_facts_of(run.source)
    if not (
        decide_feed_api_upload(actor, facts).allowed
        or decide_feed_manage(actor, facts).allowed
    ):
        raise FeedUnavailable
    return run


def feed_run_quarantined_page(
    *, actor: Actor, run: FeedRun, page: int | str = 1
) -> Page[FeedRow]:
    """One page of ``run``'s quarantined rows (reference and problems only),
    in file order. ``run`` comes from ``feed_run_get``."""
    feed_workspace_check(actor=actor)
    rows = (
        FeedRow.objects.filter(run=run, state=RowState.QUARANTINED)
        .only("id", "run_id", "position", "reference", "state", "problems")
        .order_by("position")
    )
    return Paginator(rows, ROWS_PER_PAGE).get_page(page)


def feed_run_is_active(run: FeedRun) -> bool:
    """Still queued or importing: the page keeps asking for progress."""
    return run.status in {RunStatus.QUEUED, RunStatus.RUNNING}


# The review queue -------------------------------------------------------------


def feed_review_page(
    *, actor: Actor, run_id: UUID | None = None, page: int | str = 1
) -> Page[FeedRow]:
    """One page of the rows waiting for review across the actor's sources
    (or of one run), oldest run first, in file order."""
    feed_workspace_check(actor=actor)
    rows = (
        FeedRow.objects.filter(_scope(actor, "run__source__"), state=RowState.WAITING)
        .select_related("run__source__organisation")
        .defer("payload")
        .order_by("run__created_at", "run_id", "position")
    )
    if run_id is not None:
        rows = rows.filter(run_id=run_id)
    return Paginator(rows, ROWS_PER_PAGE).get_page(page)


__all__ = [
    "ROWS_PER_PAGE",
    "RUNS_PER_PAGE",
    "FeedUnavailable",
    "RunFilters",
    "SourceRow",
    "feed_facts_of",
    "feed_review_page",
    "feed_run_get",
    "feed_run_is_active",
    "feed_run_quarantined_page",
    "feed_run_status_get",
    "feed_runs_page",
    "feed_source_choices",
    "feed_source_for_upload",
    "feed_source_get",
    "feed_sources_list",
    "feed_workspace_check",
]
