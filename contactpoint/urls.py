"""The site's URLs, its error pages and GOV.UK Frontend's /assets/ paths."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.template import loader
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from django.views.defaults import page_not_found
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from accounts.views import admin_sign_in, home
from contactpoint import health, metrics
from contactpoint.context_processors import govuk_stylesheet

# The admin's own sign-in form would be a second way in: send people to ours.
admin.site.login = admin_sign_in  # type: ignore[method-assign]


@require_safe
def govuk_frontend_asset(request: HttpRequest, path: str) -> HttpResponse:
    """Send the browser from /assets/… to the static copy of that file.

    GOV.UK Frontend's compiled CSS asks for its fonts at the absolute path
    /assets/fonts/…. The static copy is the one collectstatic hashed, which
    WhiteNoise serves with a year's caching, so the redirect is permanent and
    cached too: the fonts' names carry their version.
    """
    try:
        url = static(f"govuk/assets/{path}")
    except ValueError:  # Not in the production manifest.
        raise Http404(path) from None
    response = HttpResponsePermanentRedirect(url)
    response["Cache-Control"] = "public, max-age=31536000"
    return response


urlpatterns = [
    path("", home, name="home"),
    # Operations (docs/operations.md): open without signing in; /metrics
    # checks its own network allow-list or token.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    re_path(
        r"^assets/(?P<path>(?:fonts|images)/[\w.-]+)$",
        govuk_frontend_asset,
        name="govuk-frontend-asset",
    ),
    path("accounts/", include("accounts.urls")),
    path("accounts/invitations/", include("accounts.invitation_urls")),
    path("accounts/passkeys/", include("accounts.passkey_urls")),
    path("manage/", include("accounts.admin_urls")),
    path("audit/", include("audit.urls")),
    path("children/", include("directory.urls")),
    path("feeds/", include("ingestion.urls")),
    path("inbox/", include("alerts.urls")),
    path(
        "accessibility/",
        TemplateView.as_view(template_name="pages/accessibility.html"),
        name="accessibility",
    ),
    path(
        "privacy/",
        TemplateView.as_view(template_name="pages/privacy.html"),
        name="privacy",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/accounts/", include("accounts.api.urls")),
    path("api/v1/children/", include("directory.api.urls")),
    path("api/v1/feeds/", include("ingestion.api.urls")),
    path("api/v1/audit/", include("audit.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", permission_classes=[IsAuthenticated]
            )
        ),
        name="api-docs",
    ),
]


def _standalone_error_page(template_name: str) -> str:
    """Render a page that needs no request, no URL and no static manifest."""
    return loader.get_template(template_name).render(
        {
            "service_name": settings.SERVICE_NAME,
            "govuk_stylesheet_url": settings.STATIC_URL + govuk_stylesheet(),
        }
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponseBadRequest(_standalone_error_page("400.html"))


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError(_standalone_error_page("500.html"))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The API's callers are programs: an unknown API URL (or an id that is
    not one, like /api/v1/feeds/runs/x/) gets the API's JSON error."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": "Nothing the caller may see is at this URL.",
                "code": "not_found",
            },
            status=404,
        )
    return page_not_found(request, exception)


# 403.html and 404.html extend base.html: Django's default handlers render
# them with the request, so they get the full header and footer.
handler400 = bad_request
handler404 = not_found
handler500 = server_error
