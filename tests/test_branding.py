"""Only a GOV.UK deployment loads GOV.UK's own stylesheet (its typeface)."""

import pytest
from django.test import Client, override_settings

from contactpoint.urls import _standalone_error_page

pytestmark = pytest.mark.django_db


def test_pages_use_the_system_font_build_by_default():
    page = Client().get("/accounts/sign-in/").content.decode()
    assert "/static/css/govuk.css" in page
    assert "govuk-frontend.min.css" not in page
    assert "govuk-header__logotype" not in page


@override_settings(GOVUK_BRAND=True)
def test_a_govuk_deployment_gets_govuk_frontends_own_stylesheet():
    page = Client().get("/accounts/sign-in/").content.decode()
    assert "/static/govuk/govuk-frontend.min.css" in page
    assert "/static/css/govuk.css" not in page


@pytest.mark.parametrize("template", ["400.html", "500.html"])
def test_standalone_error_pages_follow_the_same_rule(template, settings):
    assert "/static/css/govuk.css" in _standalone_error_page(template)
    settings.GOVUK_BRAND = True
    assert "/static/govuk/govuk-frontend.min.css" in _standalone_error_page(template)
