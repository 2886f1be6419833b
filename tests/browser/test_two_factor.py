"""Two-factor sign-in in a real browser: enrolment, backup codes, confirming
it's you, and your account pages — each checked with axe-core."""

import base64
import re
from importlib import import_module

from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from accounts.middleware import SECOND_FACTOR_AT
from accounts.tests.second_factors import totp_device_for
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

BACKUP_CODE = re.compile(r"^[2-9a-z]{5}-[2-9a-z]{5}$")


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


def _code_from_key(manual_key: str) -> str:
    """What an authenticator app shows for the key typed in by hand."""
    key = base64.b32decode(manual_key.replace(" ", ""))
    return f"{TOTP(key, step=30, digits=6).token():06d}"


def test_first_sign_in_enrols_an_app_then_a_backup_code_signs_in(
    page: Page, live_server, known_user, page_problems
):
    base = live_server.url
    sign_in(page, base, known_user.username, known_user.password)

    # Setting up the authenticator app.
    expect(page).to_have_url(f"{base}/accounts/sign-in/set-up-authenticator-app/")
    expect(page).to_have_title(page_title("Set up your authenticator app"))
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    assert_no_axe_violations(page)
    code_field = page.get_by_label("Enter the 6-digit code from your authenticator app")
    expect(code_field).to_have_attribute("autocomplete", "one-time-code")
    expect(code_field).to_have_attribute("inputmode", "numeric")

    code_field.fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(page_title("Error: Set up your authenticator app"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("not correct")
    assert_no_axe_violations(page)

    manual_key = page.locator("#secret-key").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", manual_key)
    page.get_by_label("Enter the 6-digit code from your authenticator app").fill(
        _code_from_key(manual_key)
    )
    page.wait_for_timeout(1100)  # the wrong code asks for a second's pause
    page.get_by_role("button", name="Continue").click()

    # The backup codes, once.
    expect(page).to_have_title(page_title("Save your backup codes"))
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "only see these codes once"
    )
    codes = [
        code.strip() for code in page.locator("#backup-codes code").all_inner_texts()
    ]
    assert len(codes) == 10
    assert all(BACKUP_CODE.match(code) for code in codes)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="I have saved these codes").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_text("You are signed in as")).to_contain_text(
        known_user.full_name
    )
    page.goto(f"{base}/accounts/sign-in/set-up-authenticator-app/")
    expect(page).to_have_url(f"{base}/")
    assert codes[0] not in page.content()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/accounts/sign-in/")

    # Signing in again: the app is not to hand, a backup code is.
    sign_in(page, base, known_user.email, known_user.password)
    expect(page).to_have_title(page_title("Check your authenticator app"))
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Use a backup code instead").click()
    expect(page).to_have_title(page_title("Use a backup code"))
    assert_no_axe_violations(page)
    page.get_by_label("Backup code").fill(codes[0].upper())
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_text("You are signed in as")).to_contain_text(
        known_user.full_name
    )
    assert page_problems.all() == []


def test_a_used_backup_code_is_refused_with_an_error_summary(
    page: Page, live_server, known_user
):
    from accounts.two_factor import backup_code_verify, backup_codes_generate

    totp_device_for(known_user.user)
    codes = backup_codes_generate(known_user.user)
    backup_code_verify(user=known_user.user, code=codes[0])

    sign_in(page, live_server.url, known_user.username, known_user.password)
    page.get_by_role("link", name="Use a backup code instead").click()
    page.get_by_label("Backup code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(page_title("Error: Use a backup code"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("already been used")
    assert_no_axe_violations(page)


def test_a_stale_second_factor_is_confirmed_before_new_backup_codes(
    live_server, known_user, verified_page, page_problems
):
    _device, secret = totp_device_for(known_user.user)
    page = verified_page(known_user.user)
    base = live_server.url

    page.goto(f"{base}/accounts/")
    expect(page).to_have_title(page_title("Your account"))
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Get new backup codes").click()
    expect(page).to_have_title(page_title("Get new backup codes"))
    assert_no_axe_violations(page)

    # Ten minutes pass since the second factor.
    session_key = page.context.cookies(base)[0]["value"]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    session[SECOND_FACTOR_AT] = session[SECOND_FACTOR_AT] - 600
    session.save()

    page.get_by_role("button", name="Get new backup codes").click()
    expect(page).to_have_title(page_title("Confirm it’s you"))
    assert_no_axe_violations(page)
    enter_authenticator_code(page, secret)

    expect(page).to_have_url(f"{base}/accounts/backup-codes/")
    page.get_by_role("button", name="Get new backup codes").click()
    expect(page).to_have_title(page_title("Save your backup codes"))
    expect(page.locator("#backup-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved these codes").click()
    expect(page).to_have_url(f"{base}/accounts/")
    assert page_problems.all() == []


def test_changing_the_password(live_server, known_user, verified_page, page_problems):
    page = verified_page(known_user.user)
    page.goto(f"{live_server.url}/accounts/password/")
    expect(page).to_have_title(page_title("Change your password"))
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_title(page_title("Error: Change your password"))
    assert_no_axe_violations(page)

    page.get_by_label("Current password").fill(known_user.password)
    page.get_by_label("New password", exact=True).fill("a new and longer passphrase")
    page.get_by_label("Confirm new password").fill("a new and longer passphrase")
    page.get_by_role("button", name="Change password").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your password has been changed"
    )
    assert_no_axe_violations(page)
    assert page_problems.all() == []
