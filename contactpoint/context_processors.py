"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def service(request: HttpRequest) -> dict[str, str]:
    """The configurable service name shown in the header and page titles."""
    return {"service_name": settings.SERVICE_NAME}
