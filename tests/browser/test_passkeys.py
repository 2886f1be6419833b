"""Passkeys in a real browser, with Chromium's virtual authenticator (the
DevTools protocol's WebAuthn domain) standing in for a fingerprint reader.

An auditor signs in with their authenticator app, is made to add a passkey,
signs out, and signs in again with the passkey; a practitioner is not made
to add one. The passkey pages are checked with axe-core.
"""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import PasskeyCredential
from accounts.roles import Role
from accounts.tests.admin_world import World, admin_world, grant
from accounts.tests.second_factors import totp_device_for
from audit.models import AccessAction, AccessEvent
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

PASSWORD = "plum orchard lantern 42"


@pytest.fixture
def world(transactional_db, live_server, settings) -> World:
    # A passkey is bound to the origin: the live server's, here.
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    world = admin_world()
    for user in (world.outsider, world.practitioner):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    grant(world.outsider, world.other_authority, Role.AUDITOR)
    return world


def _title(text: str) -> str:
    return f"{text} \N{EN DASH} {settings.SERVICE_NAME}"


def test_an_auditor_must_add_a_passkey_and_then_signs_in_with_it(
    page: Page, live_server, world, authenticator, page_problems
):
    base = live_server.url
    auditor = world.outsider
    _device, secret = totp_device_for(auditor)

    sign_in(page, base, auditor.username, PASSWORD)
    enter_authenticator_code(page, secret)
    expect(page).to_have_url(f"{base}/accounts/passkeys/add/")
    expect(page).to_have_title(_title("Add a passkey"))
    page.goto(f"{base}/manage/")  # Nothing else opens yet.
    expect(page).to_have_url(f"{base}/accounts/passkeys/add/")
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{base}/")
    assert PasskeyCredential.objects.filter(user=auditor).count() == 1
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, auditor.username, PASSWORD)
    expect(page).to_have_url(f"{base}/accounts/sign-in/passkey/")
    expect(page).to_have_title(_title("Use your passkey"))
    expect(page.get_by_text("Use your authenticator app instead")).to_have_count(0)
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    signed_in = AccessEvent.objects.filter(
        action=AccessAction.SIGN_IN, subject_user_id=auditor.pk
    ).order_by("occurred_at")
    assert [event.reason for event in signed_in] == [
        "second_factor_totp",
        "second_factor_passkey",
    ]
    assert page_problems.all() == []


def test_a_practitioner_is_not_made_to_add_a_passkey(
    page: Page, live_server, world, authenticator, page_problems
):
    base = live_server.url
    _device, secret = totp_device_for(world.practitioner)

    sign_in(page, base, world.practitioner.username, PASSWORD)
    enter_authenticator_code(page, secret)

    expect(page).to_have_url(f"{base}/")
    page.goto(f"{base}/accounts/passkeys/add/")
    expect(page.get_by_role("link", name="Not now")).to_be_visible()
    assert_no_axe_violations(page)
    assert page_problems.all() == []
