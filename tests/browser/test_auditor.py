"""The auditor's workspace in a real browser.

An auditor signs in with their password and authenticator app, is made to
add a passkey (Chromium's virtual authenticator), then follows the "Audit"
link: filters the events (and gets a date wrong), opens a child's history,
looks at the anomalies, reviews one, puts a child on the news list and asks
for a full integrity check. Every page is checked with axe-core.
"""

import re
from dataclasses import dataclass
from typing import cast

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.actors import actor_for_user
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import totp_device_for
from audit.models import AccessAction, AccessEvent, AnomalyFinding, AnomalyKind
from directory.identifiers import format_directory_number
from directory.policies import Purpose
from directory.selectors import child_record_get
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

PASSWORD = "plum orchard lantern 42"
NURSE_REASON = "Referral from the school nurse about bruising"


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


@dataclass
class World:
    auditor: User
    practitioner: User
    number: str


@pytest.fixture
def world(transactional_db, live_server, settings) -> World:
    # A passkey is bound to the origin: the live server's, here.
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    auditor = make_user(username="ana.audit", first_name="Ana", last_name="Auditor")
    auditor.set_password(PASSWORD)
    auditor.save(update_fields=["password"])
    grant(auditor, authority, Role.AUDITOR)
    practitioner = make_user(
        username="pat.teacher", first_name="Pat", last_name="Teacher"
    )
    grant(practitioner, school, Role.PRACTITIONER)
    child = child_records_create(
        children=[NewChildFactory.build()], source=FEED_SOURCE
    )[0]
    child_record_get(
        actor=actor_for_user(practitioner, second_factor_verified=True),
        child_id=child.id,
        purpose=Purpose.CHILD_PROTECTION,
        purpose_detail=NURSE_REASON,
    )
    return World(
        auditor=auditor, practitioner=practitioner, number=child.directory_number
    )


def test_an_auditor_works_through_the_workspace(
    page: Page, live_server, world, authenticator, page_problems
):
    base = live_server.url
    _sign_in_as_the_auditor(page, base, world)

    page.get_by_role("link", name="Audit").click()
    expect(page).to_have_title(page_title("Events"))
    assert_no_axe_violations(page)

    _filter_the_events(page, world)
    _open_the_childs_history(page, world)
    _review_an_anomaly(page, world)
    _add_to_the_news_list(page, world)
    _ask_for_an_integrity_check(page)

    # A favicon request cut short by the next navigation is not a problem.
    assert page_problems.all(ignoring_url="/favicon.svg") == []


def _sign_in_as_the_auditor(page: Page, base: str, world: World) -> None:
    """Password, authenticator app, then the passkey auditors must add."""
    _device, secret = totp_device_for(world.auditor)
    sign_in(page, base, world.auditor.username, PASSWORD)
    enter_authenticator_code(page, secret)
    expect(page).to_have_url(f"{base}/accounts/passkeys/add/")
    page.wait_for_load_state("networkidle")  # the passkey scripts, loaded
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{base}/")


def _filter_the_events(page: Page, world: World) -> None:
    table = page.locator("table.app-audit-table")
    expect(table).to_contain_text("Pat Teacher")
    expect(table).to_contain_text(format_directory_number(world.number))
    expect(table).not_to_contain_text(NURSE_REASON)

    # A "to" date before the "from" date: the error summary, linked to the box.
    page.get_by_text("Filter events").click()
    today = timezone.localdate()
    start = page.get_by_role("group", name="From date")
    start.get_by_label("Day").fill(str(today.day))
    start.get_by_label("Month").fill(str(today.month))
    start.get_by_label("Year").fill(str(today.year))
    end = page.get_by_role("group", name="To date")
    end.get_by_label("Day").fill(str(today.day))
    end.get_by_label("Month").fill(str(today.month))
    end.get_by_label("Year").fill(str(today.year - 1))
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_title(page_title("Error: Events"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    assert_no_axe_violations(page)
    summary.get_by_role(
        "link", name="To date must be the same as or after the from date"
    ).click()
    expect(end.get_by_label("Day")).to_be_focused()

    end.get_by_label("Year").fill(str(today.year))
    page.get_by_label("User").fill("pat.teacher@")
    page.get_by_label("Action").select_option(label="View record")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_title(page_title("Events"))
    expect(page.locator("caption")).to_have_text("1 event matches the filters")
    assert_no_axe_violations(page)

    page.get_by_label("Outcome").select_option(label="Denied")
    page.get_by_role("button", name="Apply filters").click()
    expect(
        page.get_by_role("heading", name="No events match these filters")
    ).to_be_visible()
    assert_no_axe_violations(page)


def _open_the_childs_history(page: Page, world: World) -> None:
    page.get_by_role("navigation", name="Audit: pages").get_by_role(
        "link", name="Child history"
    ).click()
    expect(page).to_have_title(page_title("Child history"))
    assert_no_axe_violations(page)

    page.get_by_label("Child’s directory number").fill("1234")
    page.get_by_role("button", name="Show history").click()
    expect(page).to_have_title(page_title("Error: Child history"))
    assert_no_axe_violations(page)

    page.get_by_label("Child’s directory number").fill(
        format_directory_number(world.number)
    )
    page.get_by_role("button", name="Show history").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Who has viewed this child, and why"
    )
    expect(page.locator("table")).to_contain_text(NURSE_REASON)
    expect(page.get_by_role("button", name="Print this page")).to_be_visible()
    assert_no_axe_violations(page)
    assert AccessEvent.objects.filter(
        action=AccessAction.AUDIT_CHILD_HISTORY, actor_id=world.auditor.pk
    ).exists()


def _review_an_anomaly(page: Page, world: World) -> None:
    page.get_by_role("link", name="Anomalies").click()
    expect(page).to_have_title(page_title("Anomalies"))
    expect(page.get_by_role("heading", name="There are no findings")).to_be_visible()
    assert_no_axe_violations(page)

    seq = AccessEvent.objects.filter(action=AccessAction.VIEW).values_list(
        "seq", flat=True
    )[0]
    AnomalyFinding.objects.create(
        kind=AnomalyKind.OUT_OF_HOURS,
        actor_id=world.practitioner.pk,
        day=timezone.localdate(),
        summary="Opened 1 record at 23:40",
        event_seqs=[seq],
    )
    page.reload()
    expect(page.locator("table")).to_contain_text("To review")
    assert_no_axe_violations(page)

    page.get_by_role(
        "link", name=re.compile("Opened records outside working hours")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Opened records outside working hours"
    )
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter what you found")
    assert_no_axe_violations(page)
    page.get_by_label("What you found").fill("Called the school: on-call that night.")
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "marked as reviewed"
    )
    assert_no_axe_violations(page)


def _add_to_the_news_list(page: Page, world: World) -> None:
    page.get_by_role("link", name="News list").click()
    expect(page).to_have_title(page_title("News list"))
    assert_no_axe_violations(page)
    page.get_by_label("Child’s directory number").fill(world.number)
    page.get_by_label("Why they are on the list").fill("Local news story")
    page.get_by_role("button", name="Add to the news list").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "is on the news list"
    )
    expect(page.locator("table")).to_contain_text("Local news story")
    assert_no_axe_violations(page)


def _ask_for_an_integrity_check(page: Page) -> None:
    page.get_by_role("link", name="Integrity").click()
    expect(page).to_have_title(page_title("Integrity of the audit log"))
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Check the whole log now").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Waiting to start")
    # No worker runs here: the page keeps asking for progress, politely.
    expect(page.locator("#audit-progress-message")).to_have_text(
        "The check is waiting to start.", timeout=15_000
    )
    assert_no_axe_violations(page)
