"""Lockout and unlock in a real browser: five wrong passwords lock the
account, the administrator unlocks it in the workspace, and the user signs in.
"""

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from accounts.tests.admin_world import World, admin_world
from accounts.tests.second_factors import totp_device_for
from tests.browser.conftest import (
    add_verified_session,
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

PASSWORD = "plum orchard lantern 42"
LOCKED = "You cannot sign in at the moment"


@pytest.fixture
def world(transactional_db) -> World:
    world = admin_world()
    world.practitioner.set_password(PASSWORD)
    world.practitioner.save(update_fields=["password"])
    return world


def test_a_locked_account_is_unlocked_by_its_administrator(
    page: Page, browser: Browser, live_server, world, page_problems
):
    base = live_server.url
    user = world.practitioner
    _device, secret = totp_device_for(user)

    for _ in range(5):
        sign_in(page, base, user.username, "not my password")
    expect(page.get_by_role("heading", level=1)).to_have_text(LOCKED)
    expect(page).to_have_title(f"{LOCKED} \N{EN DASH} {settings.SERVICE_NAME}")
    assert_no_axe_violations(page)
    # The right password changes nothing while the account is locked.
    sign_in(page, base, user.username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(LOCKED)
    expect(page.get_by_text("Contact the administrator")).to_be_visible()

    admin_context = browser.new_context()
    admin = admin_context.new_page()
    add_verified_session(admin_context, base, world.admin)
    admin.goto(f"{base}/manage/users/{user.pk}/")
    expect(admin.get_by_text("Locked", exact=True)).to_be_visible()
    assert_no_axe_violations(admin)
    admin.get_by_role("button", name="Unlock account").click()
    admin.get_by_label("Reason").fill("Phoned Pat to check it was them")
    admin.get_by_role("button", name="Unlock account").click()
    expect(admin.get_by_text("has been unlocked")).to_be_visible()
    expect(admin.get_by_text("Locked", exact=True)).to_have_count(0)
    admin_context.close()

    sign_in(page, base, user.username, PASSWORD)
    enter_authenticator_code(page, secret)
    expect(page).to_have_url(f"{base}/")
    # The lockout pages answered 429, as django-axes is configured to.
    assert page_problems.all(ignoring_url="/accounts/sign-in/") == []
