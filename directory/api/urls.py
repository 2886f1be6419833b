from django.urls import path

from directory.api.views import (
    ChildOpenApi,
    ChildSearchApi,
    InvolvementEndApi,
    InvolvementRecordApi,
    WarningFlagEndApi,
    WarningFlagRaiseApi,
)

app_name = "directory-api"

urlpatterns = [
    path("search/", ChildSearchApi.as_view(), name="search"),
    path("<uuid:child_id>/open/", ChildOpenApi.as_view(), name="open"),
    path(
        "<uuid:child_id>/involvements/",
        InvolvementRecordApi.as_view(),
        name="involvement-record",
    ),
    path(
        "<uuid:child_id>/involvements/<uuid:involvement_id>/end/",
        InvolvementEndApi.as_view(),
        name="involvement-end",
    ),
    path("<uuid:child_id>/flags/", WarningFlagRaiseApi.as_view(), name="flag-raise"),
    path(
        "<uuid:child_id>/flags/<uuid:flag_id>/end/",
        WarningFlagEndApi.as_view(),
        name="flag-end",
    ),
]
