"""A practitioner's journey in a real browser.

A teacher signs in with their password and authenticator app, searches for a
child (first too broadly, then with the family name misspelt), says why they
are opening the record, reads it, records their own involvement and ends it.
A second journey meets a restricted record: the search shows only whom to
contact, and the break-glass page is offered. Every page is checked with
axe-core.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import cast

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import totp_device_for
from directory.records import NewInvolvement, NewWarningFlag
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

PASSWORD = "plum orchard lantern 42"


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


@dataclass
class World:
    teacher: User
    secret: str
    authority: Organisation


@pytest.fixture
def world(transactional_db) -> World:
    authority = cast(
        Organisation,
        LocalAuthorityFactory(
            name="London Borough of Haringey",
            phone="020 7946 0123",
            email="shielding@haringey.example.org",
        ),
    )
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    surgery = cast(
        Organisation,
        SchoolFactory(
            name="Bruce Grove Surgery",
            kind="gp_practice",
            code="F85002",
            parent_authority=authority,
        ),
    )
    teacher = make_user(
        username="pat.teacher",
        first_name="Pat",
        last_name="Teacher",
        email="pat.teacher@hilltop.example.org",
        phone="01632 960 001",
        job_title="Class teacher",
    )
    teacher.set_password(PASSWORD)
    teacher.save(update_fields=["password"])
    grant(teacher, school, Role.PRACTITIONER)
    _device, secret = totp_device_for(teacher)
    child_records_create(
        children=[
            NewChildFactory.build(
                involvements=(
                    NewInvolvement(
                        surgery.pk,
                        "gp",
                        dt.date(2016, 1, 4),
                        practitioner_name="Dr Ama Mensah",
                        practitioner_role="GP",
                        phone="020 7946 0456",
                    ),
                ),
                warning_flags=(
                    NewWarningFlag(
                        "contact_social_care",
                        authority.pk,
                        "Duty social worker",
                        "020 7946 0999",
                        dt.date(2025, 1, 6),
                    ),
                ),
            )
        ],
        source=FEED_SOURCE,
    )
    return World(teacher=teacher, secret=secret, authority=authority)


def test_a_practitioner_finds_a_child_and_records_their_involvement(
    page: Page, live_server, world, page_problems
):
    base = live_server.url
    sign_in(page, base, "pat.teacher", PASSWORD)
    enter_authenticator_code(page, world.secret)
    expect(page).to_have_title(page_title("Home"))
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Search for a child").click()
    expect(page).to_have_title(page_title("Search for a child"))
    assert_no_axe_violations(page)

    _search(page)
    _open_with_a_reason(page)
    _record_and_end_an_involvement(page)

    # Search terms never reached a URL.
    assert not [url for url in page_problems.requested_urls if "limbi" in url]
    assert page_problems.all(ignoring_url="/favicon.svg") == []


def _search(page: Page) -> None:
    # A family name alone is too broad: the error summary says what to add.
    page.get_by_label("Family name").fill("Climbie")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_title(page_title("Error: Search for a child"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("a family name alone matches too many children")
    assert_no_axe_violations(page)

    page.get_by_label("Given name (optional)").fill("Victoria")
    page.get_by_label("Day", exact=True).fill("2")
    page.get_by_label("Month", exact=True).fill("11")
    page.get_by_label("Year", exact=True).fill("2015")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_title(page_title("Search results"))
    expect(page).to_have_url(re.compile(r"/children/$"))
    results = page.get_by_role("table")
    expect(results).to_contain_text("1 child matches")
    expect(results).to_contain_text("2 November 2015")
    expect(results).to_contain_text("Strong match")
    assert_no_axe_violations(page)


def _open_with_a_reason(page: Page) -> None:
    page.get_by_role("link", name="Victoria Climbié").click()
    expect(page).to_have_title(page_title("Why are you opening this record?"))
    expect(page.locator("main")).not_to_contain_text("Climbi")
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Open the record").click()
    expect(page).to_have_title(page_title("Error: Why are you opening this record?"))
    assert_no_axe_violations(page)
    page.get_by_label("Another reason").check()
    page.get_by_role("button", name="Open the record").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Say why you need to open this record"
    )
    page.get_by_label("More detail").fill(
        "New pupil joining my class; checking who else is involved"
    )
    page.get_by_role("button", name="Open the record").click()

    expect(page).to_have_title(page_title("Victoria Climbié"))
    main = page.locator("main")
    expect(main).to_contain_text("Contact children's social care before acting")
    expect(main).to_contain_text("Duty social worker")
    expect(main).to_contain_text("Dr Ama Mensah, GP")
    expect(main).to_contain_text("Marie-Thérèse Kouao")
    assert_no_axe_violations(page)

    # Reloading within 15 minutes does not ask again.
    page.goto(page.url)
    expect(page).to_have_title(page_title("Victoria Climbié"))


def _record_and_end_an_involvement(page: Page) -> None:
    page.get_by_role("button", name="Record your involvement").click()
    expect(page).to_have_title(page_title("Record your involvement"))
    expect(page.get_by_label("Your job title")).to_have_value("Class teacher")
    assert_no_axe_violations(page)

    today = timezone.localdate()
    page.get_by_label("Service", exact=True).select_option(label="Education")
    page.get_by_label("Day", exact=True).fill(str(today.day))
    page.get_by_label("Month", exact=True).fill(str(today.month))
    page.get_by_label("Year", exact=True).fill(str(today.year))
    page.get_by_label("I am the lead professional for this child").check()
    page.get_by_role("button", name="Record involvement").click()

    expect(page).to_have_title(page_title("Victoria Climbié"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your involvement has been recorded"
    )
    card = page.locator(".govuk-summary-card", has_text="Hilltop Primary")
    expect(card).to_contain_text("Pat Teacher, Class teacher")
    expect(card).to_contain_text("Lead professional")
    assert_no_axe_violations(page)

    card.get_by_role("link", name=re.compile("^End")).click()
    expect(page).to_have_title(page_title("End your involvement"))
    assert_no_axe_violations(page)
    page.get_by_role("button", name="End involvement").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your involvement has been ended"
    )
    assert_no_axe_violations(page)


def test_a_restricted_record_shows_whom_to_contact_and_offers_break_glass(
    page: Page, live_server, world, page_problems
):
    shielded = child_records_create(
        children=[
            NewChildFactory.build(
                names=NewChildFactory.build().names,
                shielded=True,
                responsible_authority_id=world.authority.pk,
                date_of_birth=dt.date(2016, 5, 17),
            )
        ],
        source=FEED_SOURCE,
    )[0]
    base = live_server.url
    sign_in(page, base, "pat.teacher", PASSWORD)
    enter_authenticator_code(page, world.secret)

    page.goto(f"{base}/children/")
    page.get_by_label("Family name").fill("Climbié")
    page.get_by_label("From", exact=True).fill("8")
    page.get_by_label("To", exact=True).fill("11")
    page.get_by_role("button", name="Search").click()
    inset = page.locator(".govuk-inset-text")
    expect(inset).to_contain_text(
        "A restricted record may match. Contact the shielding officer at "
        "London Borough of Haringey on 020 7946 0123 or "
        "shielding@haringey.example.org."
    )
    assert_no_axe_violations(page)

    page.goto(f"{base}/children/{shielded.id}/")
    page.get_by_text("This is a child-protection emergency (break glass)").click()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Open in an emergency").click()
    expect(page).to_have_title(page_title("Open a record in an emergency"))
    assert_no_axe_violations(page)
    page.get_by_label("Describe the emergency").fill(
        "She told her teacher she is frightened to go home tonight"
    )
    page.get_by_role("button", name="Open the record now").click()
    expect(page.locator("main")).to_contain_text(
        "You opened a restricted record in an emergency"
    )
    assert_no_axe_violations(page)
    assert page_problems.all(ignoring_url="/favicon.svg") == []
