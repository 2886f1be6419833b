"""The administrator's workspace in a real browser.

An administrator invites a user; the invitation email (Django's locmem
outbox) gives the link; the new user opens it in their own browser, chooses
a username and password, signs in and sets up an authenticator app. Every
workspace page is checked with axe-core on the way.
"""

import re
import time

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.actors import actor_for_user
from accounts.models import RoleAssignment, User
from accounts.roles import Role
from accounts.services import api_token_issue, feed_system_create, user_suspend
from accounts.tests.admin_world import World, admin_world, grant, make_user
from accounts.tests.second_factors import verified_session_key
from accounts.two_factor import totp_code_at
from tests.browser.conftest import assert_no_axe_violations, sign_in

NEW_PASSWORD = "plum orchard lantern 42"


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


@pytest.fixture
def world(transactional_db) -> World:
    return admin_world()


def _signed_in_as(context: BrowserContext, base_url: str, user: User) -> None:
    """Give the browser the session a full two-factor sign-in leaves."""
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": verified_session_key(user),
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


@pytest.fixture
def admin_page(page: Page, live_server, world, settings) -> Page:
    settings.SITE_URL = live_server.url  # invitation e-mails link here
    _signed_in_as(page.context, live_server.url, world.admin)
    return page


def test_an_administrator_invites_a_user_who_then_signs_up(
    admin_page: Page, browser: Browser, live_server, world, page_problems
):
    link = _invite_through_the_workspace(admin_page, live_server.url, world)
    invitee_context = browser.new_context()
    invitee = invitee_context.new_page()

    _accept_the_invitation(invitee, live_server.url, link)
    _sign_in_for_the_first_time(invitee, live_server.url)

    invitee_context.close()
    user = User.objects.get(username="nia.okoro")
    assignment = RoleAssignment.objects.get(user=user)
    assert (assignment.role, assignment.granted_by_id) == (
        Role.PRACTITIONER,
        world.admin.pk,
    )
    assert page_problems.all() == []


def _invite_through_the_workspace(page: Page, base_url: str, world: World) -> str:
    """Invite Nia Okoro as a practitioner; return the link from the email."""
    page.goto(f"{base_url}/manage/")
    expect(page).to_have_title(page_title("Users"))
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Invite a user").first.click()
    expect(page).to_have_title(page_title("Invite a user"))
    assert_no_axe_violations(page)

    # Nothing filled in: the error summary, linked to each field.
    page.get_by_role("button", name="Send invitation").click()
    expect(page).to_have_title(page_title("Error: Invite a user"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    assert_no_axe_violations(page)
    summary.get_by_role("link", name="Select the role they need").click()
    expect(page.get_by_label("Practitioner")).to_be_focused()

    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Okoro")
    page.get_by_label("Email address").fill("nia.okoro@example.org")
    page.get_by_label("Organisation").select_option(
        label=f"Hilltop Primary (School, {world.school.code})"
    )
    page.get_by_label("Practitioner").check()
    page.get_by_label("Reason").fill("New designated safeguarding lead")
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_title(page_title("Users"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Invitation sent to Nia Okoro at nia.okoro@example.org"
    )
    expect(page.get_by_text("nia.okoro@example.org").first).to_be_visible()
    assert_no_axe_violations(page)

    assert len(mail.outbox) == 1
    link = re.search(
        r"https?://\S+/accounts/invitations/[\w-]+/", str(mail.outbox[0].body)
    )
    assert link is not None, mail.outbox[0].body
    return link.group(0)


def _accept_the_invitation(invitee: Page, base_url: str, link: str) -> None:
    """Open the link in the invitee's own browser and choose a password."""
    invitee.goto(link)
    expect(invitee).to_have_title(page_title("Set up your account"))
    expect(invitee.get_by_text("nia.okoro@example.org")).to_be_visible()
    assert_no_axe_violations(invitee)

    invitee.get_by_label("Choose a username").fill("nia.okoro")
    invitee.get_by_label("Create a password").fill(NEW_PASSWORD)
    invitee.get_by_label("Enter the password again").fill("something else entirely")
    invitee.get_by_role("button", name="Create account").click()
    expect(invitee).to_have_title(page_title("Error: Set up your account"))
    expect(invitee.locator(".govuk-error-summary")).to_contain_text(
        "The passwords do not match"
    )
    assert_no_axe_violations(invitee)

    invitee.get_by_label("Create a password").fill(NEW_PASSWORD)
    invitee.get_by_label("Enter the password again").fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Create account").click()
    expect(invitee).to_have_url(f"{base_url}/accounts/sign-in/")
    expect(invitee.locator(".govuk-notification-banner")).to_contain_text(
        "Your account is ready"
    )

    # The link works once.
    used = invitee.goto(link)
    assert used is not None
    assert used.status == 410
    expect(invitee.get_by_role("heading", level=1)).to_have_text(
        "You cannot use this invitation link"
    )
    assert_no_axe_violations(invitee)


def _sign_in_for_the_first_time(invitee: Page, base_url: str) -> None:
    """The password, then setting up the authenticator app, then home."""
    sign_in(invitee, base_url, "nia.okoro", NEW_PASSWORD)
    expect(invitee).to_have_title(page_title("Set up your authenticator app"))
    secret = invitee.locator("#secret-key").inner_text().replace(" ", "")
    invitee.locator("#id_code").fill(totp_code_at(secret, at=time.time()))
    invitee.get_by_role("button", name="Continue").click()
    expect(invitee).to_have_title(page_title("Save your backup codes"))
    invitee.get_by_role("button", name="I have saved these codes").click()
    expect(invitee).to_have_url(f"{base_url}/")
    expect(invitee.get_by_text("You are signed in as")).to_contain_text("Nia Okoro")
    expect(invitee.get_by_role("cell", name="Practitioner")).to_be_visible()


def test_every_workspace_page_has_no_accessibility_violations(
    admin_page: Page, live_server, world
):
    page = admin_page
    actor = actor_for_user(world.admin, second_factor_verified=True)
    feed = feed_system_create(
        actor=actor,
        name="Hilltop MIS",
        username="hilltop-mis",
        email="mis@example.org",
        organisation=world.school,
        reason="Nightly feed",
    )
    token, _raw = api_token_issue(actor=actor, user=feed, name="Upload server")
    suspended = make_user(username="sam.suspended", first_name="Sam")
    grant(suspended, world.school, Role.DATA_MANAGER)
    user_suspend(actor=actor, user=suspended, reason="On leave")
    pat = world.practitioner.pk
    role = RoleAssignment.objects.get(user=world.practitioner).pk
    pages = {
        "/manage/users/": "Users",
        "/manage/users/?status=invited&vetting=30": "Users",
        "/manage/users/?status=suspended&role=auditor": "Users",
        f"/manage/users/{pat}/": "Pat Tester",
        f"/manage/users/{feed.pk}/": "Hilltop MIS",
        f"/manage/users/{pat}/suspend/": "Suspend Pat Tester",
        f"/manage/users/{suspended.pk}/reactivate/": "Reactivate Sam Tester",
        f"/manage/users/{pat}/second-factor-reset/": (
            "Reset the second factor of Pat Tester"
        ),
        f"/manage/users/{pat}/unlock/": "Unlock Pat Tester",
        f"/manage/users/{pat}/roles/{role}/remove/": "Remove a role from Pat Tester",
        f"/manage/users/{feed.pk}/api-tokens/new/": "Issue an API token",
        f"/manage/users/{feed.pk}/api-tokens/{token.pk}/revoke/": (
            "Revoke the API token Upload server"
        ),
        "/manage/users/add-feed-system/": "Add a feed system",
        "/manage/access-review/": "Access review",
        "/manage/organisations/": "Organisations",
    }

    for path, title in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page).to_have_title(page_title(title))
        assert_no_axe_violations(page)

    # A confirmation sent without its reason, and a role form with bad input.
    page.goto(f"{live_server.url}/manage/users/{pat}/suspend/")
    page.get_by_role("button", name="Suspend account").click()
    expect(page).to_have_title(page_title("Error: Suspend Pat Tester"))
    assert_no_axe_violations(page)
    page.goto(f"{live_server.url}/manage/users/{pat}/")
    page.get_by_role("button", name="Give role").click()
    expect(page).to_have_title(page_title("Error: Pat Tester"))
    assert_no_axe_violations(page)

    # The token page, shown once.
    page.goto(f"{live_server.url}/manage/users/{feed.pk}/api-tokens/new/")
    page.get_by_label("Token name").fill("Second server")
    page.get_by_role("button", name="Issue token").click()
    expect(page).to_have_title(page_title("API token issued"))
    expect(page.get_by_label("Token")).to_have_value(re.compile(r"^[0-9a-f]{8}\."))
    assert_no_axe_violations(page)


def test_suspending_a_user_from_their_page(admin_page: Page, live_server, world):
    page = admin_page
    page.goto(f"{live_server.url}/manage/users/{world.practitioner.pk}/")

    page.get_by_role("button", name="Suspend account").click()
    page.get_by_label("Reason").fill("Left the school")
    page.get_by_role("button", name="Suspend account").click()

    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "has been suspended and signed out"
    )
    expect(page.locator("h1 .govuk-tag")).to_have_text("Suspended")
    assert_no_axe_violations(page)
    world.practitioner.refresh_from_db()
    assert world.practitioner.suspended_reason == "Left the school"
