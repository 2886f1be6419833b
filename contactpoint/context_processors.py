"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest

#: GOV.UK's own precompiled stylesheet (the GDS Transport typeface), for
#: services on GOV.UK only; everyone else gets the build of frontend/govuk.scss
#: with a system font stack (the typeface's licence allows nothing else).
GOVUK_BRAND_STYLESHEET = "govuk/govuk-frontend.min.css"
UNBRANDED_STYLESHEET = "css/govuk.css"


def govuk_stylesheet() -> str:
    """The GOV.UK Frontend stylesheet's static path for this deployment."""
    return GOVUK_BRAND_STYLESHEET if settings.GOVUK_BRAND else UNBRANDED_STYLESHEET


def service(request: HttpRequest) -> dict[str, str]:
    """The configurable service name shown in the header and page titles, and
    which GOV.UK Frontend stylesheet the pages load."""
    return {
        "service_name": settings.SERVICE_NAME,
        "govuk_stylesheet": govuk_stylesheet(),
    }
