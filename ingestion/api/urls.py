from django.urls import path

from ingestion.api.views import FeedFileUploadApi, FeedRunStatusApi

app_name = "feeds-api"

urlpatterns = [
    path(
        "sources/<int:source_id>/files/",
        FeedFileUploadApi.as_view(),
        name="source-files",
    ),
    path("runs/<uuid:run_id>/", FeedRunStatusApi.as_view(), name="run"),
]
