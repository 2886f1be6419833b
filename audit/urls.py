"""The auditor's workspace, mounted at /audit/ (namespace "audit")."""

from django.urls import path

from accounts.decorators import fresh_second_factor_required
from audit.views import events, findings, integrity

# Taking the log away in a file asks the auditor for their second factor again.
fresh = fresh_second_factor_required()

app_name = "audit"

urlpatterns = [
    path("", events.index, name="index"),
    path("events/", events.event_list_view, name="event-list"),
    path(
        "events/export/",
        fresh(events.event_export_view),  # type: ignore[type-var]  # streams: HttpResponseBase, which the decorator passes through untouched
        name="event-export",
    ),
    path("child-history/", events.child_history_view, name="child-history"),
    path("anomalies/", findings.finding_list_view, name="finding-list"),
    path("anomalies/run/", findings.finding_scan_view, name="finding-scan"),
    path(
        "anomalies/<uuid:finding_id>/",
        findings.finding_detail_view,
        name="finding-detail",
    ),
    path(
        "anomalies/<uuid:finding_id>/review/",
        findings.finding_review_view,
        name="finding-review",
    ),
    path("news-list/", findings.news_list_view, name="news-list"),
    path(
        "news-list/<uuid:entry_id>/remove/",
        findings.news_list_remove_view,
        name="news-list-remove",
    ),
    path("integrity/", integrity.integrity_view, name="integrity"),
    path(
        "integrity/progress/",
        integrity.integrity_progress_view,
        name="integrity-progress",
    ),
    path("integrity/verify/", integrity.integrity_verify_view, name="integrity-verify"),
]
