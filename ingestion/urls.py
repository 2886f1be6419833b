"""The feeds workspace, mounted at /feeds/ (namespace "feeds")."""

from django.urls import path

from ingestion.views import merges, retention, reviews, runs, sources

app_name = "feeds"

urlpatterns = [
    path("", sources.home_view, name="home"),
    path("csv-template/", sources.csv_template_view, name="csv-template"),
    path("sources/<int:source_id>/upload/", sources.upload_view, name="upload"),
    path("runs/", runs.run_list_view, name="run-list"),
    path("runs/<uuid:run_id>/", runs.run_view, name="run"),
    path(
        "runs/<uuid:run_id>/progress.json",
        runs.run_progress_view,
        name="run-progress",
    ),
    path("review/", reviews.review_queue_view, name="review-queue"),
    path("review/<uuid:row_id>/", reviews.review_view, name="review"),
    path("rows/<uuid:row_id>/", reviews.row_view, name="row"),
    path("merges/", merges.merge_list_view, name="merge-list"),
    path("merges/new/", merges.merge_new_view, name="merge-new"),
    path("merges/confirm/", merges.merge_confirm_view, name="merge-confirm"),
    path("merges/<uuid:merge_id>/undo/", merges.merge_undo_view, name="merge-undo"),
    path("retention/", retention.retention_view, name="retention"),
]
