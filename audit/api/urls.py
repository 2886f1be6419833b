from django.urls import path

from audit.api.views import AuditEventExportApi

app_name = "audit-api"

urlpatterns = [
    path("events/export/", AuditEventExportApi.as_view(), name="events-export"),
]
