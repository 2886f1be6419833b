"""A data manager corrects a record and produces its subject access report,
in a real browser.

The data manager opens a child's record for data management, corrects the
date of birth (getting a date wrong first), sees the correction on the
record, then opens the subject access report, checks it prints without the
service's header and buttons, and downloads it as a PDF. Every page is
checked with axe-core.
"""

from dataclasses import dataclass
from typing import cast
from uuid import UUID

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory
from audit.models import AccessEvent
from directory.identifiers import format_directory_number
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from tests.browser.conftest import add_verified_session, assert_no_axe_violations

REASON = "Birth certificate seen at the office"


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


@dataclass
class World:
    manager: User
    child_id: UUID
    number: str


@pytest.fixture
def world(transactional_db) -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    manager = make_user(username="dee.data", first_name="Dee", last_name="Data")
    grant(manager, authority, Role.DATA_MANAGER)
    child = child_records_create(
        children=[NewChildFactory.build(responsible_authority_id=authority.pk)],
        source=FEED_SOURCE,
    )[0]
    return World(manager=manager, child_id=child.id, number=child.directory_number)


def _correct_the_date_of_birth(page: Page) -> None:
    page.get_by_role("link", name="Correct a detail of this record").click()
    expect(page).to_have_title(
        page_title("Correct a detail of Victoria Climbié’s record")
    )
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Correct the date of birth").click()
    expect(page).to_have_title(page_title("Correct the date of birth"))
    expect(page.get_by_label("Year")).to_have_value("2015")
    assert_no_axe_violations(page)

    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("2")
    page.get_by_label("Why are you making this correction?").fill(REASON)
    page.get_by_role("button", name="Save the correction").click()
    expect(page).to_have_title(page_title("Error: Correct the date of birth"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Date of birth must be a real date")
    assert_no_axe_violations(page)

    page.get_by_label("Day").fill("11")
    page.get_by_role("button", name="Save the correction").click()
    expect(page).to_have_title(page_title("Victoria Climbié"))


def test_a_data_manager_corrects_a_record_and_reports_on_it(
    page: Page, live_server, world, page_problems
):
    base = live_server.url
    add_verified_session(page.context, base, world.manager)
    page.goto(f"{base}/children/{world.child_id}/")
    page.get_by_label("Data management: checking or correcting records").check()
    page.get_by_role("button", name="Open the record").click()
    expect(page).to_have_title(page_title("Victoria Climbié"))
    assert_no_axe_violations(page)

    _correct_the_date_of_birth(page)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Date of birth corrected."
    )
    expect(page.locator("main")).to_contain_text("11 February 2015")
    expect(page.locator(".app-corrections")).to_contain_text(f"by Dee Data: {REASON}")
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Subject access report for this child").click()
    expect(page).to_have_title(
        page_title(
            "Subject access report: directory number "
            + format_directory_number(world.number)
        )
    )
    main = page.locator("main")
    expect(main).to_contain_text("Marie-Thérèse Kouao")
    expect(main).to_contain_text("Corrected by Dee Data")
    expect(main).to_contain_text("Produce a subject access report")
    print_button = page.get_by_role("button", name="Print this report")
    expect(print_button).to_be_visible()
    assert_no_axe_violations(page)

    # On paper: the report only.
    page.emulate_media(media="print")
    expect(page.locator(".govuk-template__header")).to_be_hidden()
    expect(print_button).to_be_hidden()
    expect(page.get_by_role("heading", name="Subject access report")).to_be_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report as a PDF").click()
    path = download.value.path()
    assert path.read_bytes().startswith(b"%PDF-")
    number = format_directory_number(world.number).replace(" ", "")
    assert download.value.suggested_filename == f"subject-access-report-{number}.pdf"

    assert list(
        AccessEvent.objects.filter(action="subject_access")
        .order_by("seq")
        .values_list("detail", flat=True)
    ) == ["Subject access report as HTML.", "Subject access report as PDF."]
    assert page_problems.all(ignoring_url="/favicon.svg") == []
