"""The retention report: what the next nightly run will archive and purge.

GET shows the newest finished dry run (counts per rule, then the records by
directory number, 50 a page, filtered by rule with ``?rule=``) and, while
one runs, its progress. POST asks for a fresh dry run in the background.
Both go through the directory's selector and service, which decide with the
policy and audit; rule codes are the only input, and an unknown one is
named on the page rather than refused.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.actors import Actor
from contactpoint.paging import paging
from directory.identifiers import format_directory_number
from directory.retention import RULE_LABELS, LifecycleRefused, LifecycleRule
from directory.selectors.lifecycle import ReportLine, lifecycle_report
from directory.services.lifecycle import NIGHTLY_AT, lifecycle_dry_run_request
from directory.views.common import request_id_of
from ingestion.views.common import AuthenticatedRequest, feeds_view

#: "1:30am", as GOV.UK writes times.
NIGHTLY_AT_WORDS = (
    f"{NIGHTLY_AT.hour % 12 or 12}:{NIGHTLY_AT.minute:02d}"
    f"{'am' if NIGHTLY_AT.hour < 12 else 'pm'}"
)
UNKNOWN_RULE = (
    "There is no rule with that name, so every record due is shown. "
    "Choose a rule from the table of counts."
)


def _rule(value: str) -> LifecycleRule | None:
    try:
        return LifecycleRule(value)
    except ValueError:
        return None


def _line(line: ReportLine) -> dict[str, object]:
    return {
        "line": line,
        "number": format_directory_number(line.directory_number)
        if line.directory_number
        else "",
        "rule_label": RULE_LABELS[line.rule],
    }


@require_http_methods(["GET", "HEAD", "POST"])
@feeds_view
def retention_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    request_id = request_id_of(request)
    try:
        if request.method == "POST":
            lifecycle_dry_run_request(actor=actor, request_id=request_id)
            messages.success(
                request,
                "The check has started. It runs in the background: refresh "
                "this page to see its progress and, when it finishes, the records.",
            )
            return redirect("feeds:retention")
        asked = request.GET.get("rule", "")
        rule = _rule(asked) if asked else None
        report = lifecycle_report(
            actor=actor,
            page_number=request.GET.get("page", 1),
            rule=rule,
            request_id=request_id,
        )
    except LifecycleRefused:
        raise PermissionDenied from None
    plan, last_run = report.plan, report.last_run
    counts = [
        (rule_, RULE_LABELS[rule_], plan.counts.get(rule_.value, 0) if plan else 0)
        for rule_ in LifecycleRule
    ]
    return render(
        request,
        "ingestion/retention.html",
        {
            "report": report,
            "counts": counts,
            "total_due": sum(count for _, _, count in counts),
            "last_archived": sum(
                last_run.counts.get(rule_.value, 0)
                for rule_ in LifecycleRule
                if rule_.archives
            )
            if last_run
            else 0,
            "lines": [_line(line) for line in report.lines],
            "rule_label": RULE_LABELS[rule] if rule else "",
            "unknown_rule": UNKNOWN_RULE if asked and rule is None else "",
            "nightly_at": NIGHTLY_AT_WORDS,
            **paging(request, report.page),
        },
    )
