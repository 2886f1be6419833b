"""Each person's inbox of alerts, mounted at /inbox/ (namespace "alerts")."""

from django.urls import path

from alerts.views import inbox_view, notification_view, read_all_view

app_name = "alerts"

urlpatterns = [
    path("", inbox_view, name="inbox"),
    path("read-all/", read_all_view, name="read-all"),
    path("<uuid:notification_id>/", notification_view, name="notification"),
]
