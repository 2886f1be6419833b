"""Alerts in a real browser.

A practitioner at another authority's school opens the record of a child
with a child-protection flag. The worker turns the opening into alerts; the
child's lead professional signs in, sees "Inbox (1 unread)" in the header,
opens the alert and sees who looked, from where, how to call them and why.
Every page is checked with axe-core, the empty inbox included.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from alerts.tests.factories import (
    AlertWorld,
    alert_world,
    child,
    flag,
    lead_involvement,
    run_alert_tasks,
)
from tests.browser.conftest import add_verified_session, assert_no_axe_violations
from tests.browser.test_practitioner import page_title


@pytest.fixture
def world(transactional_db) -> AlertWorld:
    return alert_world()


def test_the_lead_professional_sees_in_their_inbox_who_opened_a_flagged_record(
    page: Page, new_context, live_server, world, page_problems
):
    base = live_server.url
    child_id = child(flags=(flag(world),), involvements=(lead_involvement(world),))

    # The second practitioner, at another authority's school, opens the record.
    viewer_context = new_context()
    add_verified_session(viewer_context, base, world.viewer)
    viewer = viewer_context.new_page()
    viewer.goto(f"{base}/children/{child_id}/")
    expect(viewer).to_have_title(page_title("Why are you opening this record?"))
    viewer.get_by_label("I am assessing a referral about this child").check()
    viewer.get_by_role("button", name="Open the record").click()
    expect(viewer).to_have_title(page_title("Victoria Climbié"))

    # Their own inbox is empty: nobody is told of their own opening.
    viewer.get_by_role("link", name="Inbox (0 unread)").click()
    expect(viewer).to_have_title(page_title("Inbox"))
    expect(viewer.get_by_role("heading", name="You have no alerts")).to_be_visible()
    assert_no_axe_violations(viewer)

    # The worker tells the flag's contact and the lead professional.
    assert run_alert_tasks() == 2
    assert "lee.lead@hilltop.example.org" in [m.to[0] for m in mail.outbox]

    # The lead professional signs in and finds the alert.
    add_verified_session(page.context, base, world.lead)
    page.goto(f"{base}/")
    page.get_by_role("link", name="Inbox (1 unread)").click()
    expect(page).to_have_title(page_title("Inbox"))
    table = page.get_by_role("table")
    expect(table).to_contain_text("1 alert, 1 unread")
    expect(table).to_contain_text("Val Viewer, Valley Primary")
    expect(table).to_contain_text("Unread")
    assert_no_axe_violations(page)

    page.get_by_role(
        "link", name=re.compile("^Record opened by another organisation")
    ).click()
    expect(page).to_have_title(page_title("Record opened by another organisation"))
    main = page.locator("main")
    expect(main).to_contain_text("Victoria Climbié")  # they work with her
    expect(main).to_contain_text("You are the child's lead professional")
    card = page.locator(".govuk-summary-card", has_text="Val Viewer")
    expect(card).to_contain_text("Valley Primary")
    expect(card).to_contain_text("01632 960001")
    expect(card).to_contain_text("Assessing a referral about the child")
    expect(page.get_by_role("link", name="Inbox (0 unread)")).to_be_visible()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Back to your inbox").click()
    expect(page.get_by_role("table")).to_contain_text("Read")
    expect(page.get_by_role("button", name="Mark all as read")).to_have_count(0)

    assert page_problems.all(ignoring_url="/favicon.svg") == []
