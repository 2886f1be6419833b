"""The practitioner's pages, mounted at /children/ (namespace "directory")."""

from django.urls import path

from directory.views.consents import consent_new_view, consent_withdraw_view
from directory.views.corrections import correction_start_view, correction_view
from directory.views.involvements import involvement_end_view, involvement_new_view
from directory.views.records import break_glass_view, record_view
from directory.views.search import search_view
from directory.views.subject_access import (
    subject_access_pdf_view,
    subject_access_view,
)

app_name = "directory"

urlpatterns = [
    path("", search_view, name="search"),
    path("<uuid:child_id>/", record_view, name="record"),
    path("<uuid:child_id>/break-glass/", break_glass_view, name="break-glass"),
    path(
        "<uuid:child_id>/involvements/new/",
        involvement_new_view,
        name="involvement-new",
    ),
    path(
        "<uuid:child_id>/involvements/<uuid:involvement_id>/end/",
        involvement_end_view,
        name="involvement-end",
    ),
    path(
        "<uuid:child_id>/involvements/<uuid:involvement_id>/consent/new/",
        consent_new_view,
        name="consent-new",
    ),
    path(
        "<uuid:child_id>/consents/<uuid:consent_id>/withdraw/",
        consent_withdraw_view,
        name="consent-withdraw",
    ),
    path("<uuid:child_id>/correct/", correction_start_view, name="correct"),
    path(
        "<uuid:child_id>/correct/<slug:detail>/",
        correction_view,
        name="correct-detail",
    ),
    path(
        "<uuid:child_id>/subject-access/",
        subject_access_view,
        name="subject-access",
    ),
    path(
        "<uuid:child_id>/subject-access.pdf",
        subject_access_pdf_view,
        name="subject-access-pdf",
    ),
]
