from django.urls import path

from directory.api.views import ChildOpenApi, ChildSearchApi

app_name = "directory-api"

urlpatterns = [
    path("search/", ChildSearchApi.as_view(), name="search"),
    path("<uuid:child_id>/open/", ChildOpenApi.as_view(), name="open"),
]
