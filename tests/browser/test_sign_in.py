"""The sign-in journey, the page template and the public pages in a real browser."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.tests.second_factors import totp_device_for
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

INVALID_LOGIN = (
    "Enter a correct username and password. Both fields may be case-sensitive."
)
GOVUK_BRAND_SELECTORS = (
    ".govuk-header",
    ".govuk-logo",
    ".govuk-header__logotype",
    ".govuk-footer__crown",
    ".govuk-footer__copyright-logo",
)


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


def test_sign_in_page_shows_the_service_name_and_no_crown(page: Page, live_server):
    page.goto(f"{live_server.url}/accounts/sign-in/")

    expect(page).to_have_title(page_title("Sign in"))
    expect(page.locator(".govuk-service-navigation__service-name")).to_have_text(
        settings.SERVICE_NAME
    )
    for selector in GOVUK_BRAND_SELECTORS:
        expect(page.locator(selector)).to_have_count(0)
    expect(page.locator(".govuk-phase-banner")).to_contain_text("Alpha")
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("Privacy notice")


def test_govuk_frontend_javascript_runs_under_the_csp_nonce(
    page: Page, live_server, page_problems
):
    page.goto(f"{live_server.url}/accounts/sign-in/")

    expect(page.locator("body")).to_have_class(
        re.compile(r"\bjs-enabled\b.*\bgovuk-frontend-supported\b")
    )
    # The password input's "Show" button is hidden until initAll() runs.
    expect(page.get_by_role("button", name="Show password")).to_be_visible()
    assert page_problems.console_errors == []


def test_styles_load_with_a_system_font_and_never_the_gds_typeface(
    page: Page, live_server, page_problems
):
    """Only services on GOV.UK may use GDS Transport: by default the pages use
    GOV.UK Frontend compiled with a system font stack, and no font file is
    requested at all."""
    page.goto(f"{live_server.url}/accounts/sign-in/", wait_until="networkidle")

    gds_faces = page.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts]
                .filter((f) => f.family.replaceAll('"', "") === "GDS Transport")
                .length;
        }"""
    )
    heading_font = page.evaluate(
        "() => getComputedStyle(document.querySelector('h1')).fontFamily"
    )
    heading_weight = page.evaluate(
        "() => getComputedStyle(document.querySelector('h1')).fontWeight"
    )
    assert gds_faces == 0
    assert heading_font.startswith("system-ui")
    assert heading_weight == "700"
    assert page_problems.all() == []
    paths = [urlsplit(url).path for url in page_problems.requested_urls]
    assert "/static/css/govuk.css" in paths
    assert not [path for path in paths if "/fonts/" in path]


def test_sign_in_page_has_no_accessibility_violations(page: Page, live_server):
    page.goto(f"{live_server.url}/accounts/sign-in/")

    assert_no_axe_violations(page)


def test_wrong_password_focuses_an_error_summary_linked_to_the_field(
    page: Page, live_server, known_user, page_problems
):
    sign_in(page, live_server.url, known_user.username, "not the password")

    expect(page).to_have_title(page_title("Error: Sign in"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    assert_no_axe_violations(page)

    summary.get_by_role("link", name=INVALID_LOGIN).click()
    username = page.get_by_label("Username or email address")
    expect(username).to_be_focused()
    expect(username).to_have_value(known_user.username)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert page_problems.all() == []


def test_signing_in_with_email_shows_home_then_signing_out_returns(
    page: Page, live_server, known_user, page_problems
):
    _device, secret = totp_device_for(known_user.user)
    sign_in(page, live_server.url, known_user.email, known_user.password)
    expect(page).to_have_title(page_title("Check your authenticator app"))
    enter_authenticator_code(page, secret)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page).to_have_title(page_title("Home"))
    expect(page.get_by_text("You are signed in as")).to_contain_text(
        known_user.full_name
    )
    expect(page.get_by_role("cell", name="Practitioner")).to_be_visible()
    expect(page.get_by_role("cell", name="Hilltop Primary School")).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/sign-in/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You have signed out."
    )
    assert_no_axe_violations(page)
    assert page_problems.all() == []


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/accessibility/", "Accessibility statement"),
        ("/privacy/", "Privacy notice"),
    ],
)
def test_public_pages_have_no_accessibility_violations(
    page: Page, live_server, page_problems, path, title
):
    page.goto(f"{live_server.url}{path}")

    expect(page).to_have_title(page_title(title))
    assert_no_axe_violations(page)
    assert page_problems.all() == []


def test_page_not_found_has_no_accessibility_violations(
    page: Page, live_server, page_problems
):
    url = f"{live_server.url}/no-such-page/"

    response = page.goto(url)

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_no_axe_violations(page)
    assert page_problems.all(ignoring_url=url) == []
