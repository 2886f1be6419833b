"""A data manager's feed journey in a real browser.

A data manager signs in with their password and authenticator app, opens
their feeds, uploads a CSV file (first forgetting to choose one) holding a
good row, a row with a wrong NHS number check digit and a row close to a
child already in the directory. The import runs (in the test's thread: the
browser tests have no Celery worker, and the run page's script reloads the
page when it finishes); the report names the quarantined row and why; the
data manager opens the review queue, links the row to the child, and the
queue is empty. Every page is checked with axe-core.
"""

import random
from dataclasses import dataclass
from datetime import date
from typing import cast

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import totp_device_for
from directory.identifiers import make_test_nhs_number
from directory.records import NewAddress, NewName
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from ingestion.models import FeedRow, FeedRun, RowState
from ingestion.services import feed_run_process
from ingestion.tests.factories import (
    BAD_NHS_NUMBER,
    FeedSourceFactory,
    csv_feed,
    csv_row,
)
from tests.browser.conftest import (
    assert_no_axe_violations,
    enter_authenticator_code,
    sign_in,
)

PASSWORD = "plum orchard lantern 42"
FILE = csv_feed(
    csv_row(
        given="Amara",
        family="Mensah",
        born="2015-06-01",
        nhs_number=make_test_nhs_number(random.Random(1)),
    ),
    csv_row(
        given="Ben", family="Ashworth", born="2015-01-02", nhs_number=BAD_NHS_NUMBER
    ),
    # Katherine Okafor, without identifiers: a nickname, the date of birth one
    # digit out and the neighbouring postcode. Close, but not sure.
    csv_row(given="Kathy", family="Okafor", born="2016-04-13", postcode="N17 6AB"),
)


def page_title(name: str) -> str:
    return f"{name} \N{EN DASH} {settings.SERVICE_NAME}"


@dataclass
class World:
    manager: User
    secret: str


@pytest.fixture
def world(transactional_db) -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    manager = make_user(username="dana.data", first_name="Dana", last_name="Data")
    manager.set_password(PASSWORD)
    manager.save(update_fields=["password"])
    grant(manager, school, Role.DATA_MANAGER)
    _device, secret = totp_device_for(manager)
    FeedSourceFactory(organisation=school, name="Hilltop pupils")
    child_records_create(
        children=[
            NewChildFactory.build(
                names=(NewName("Katherine", "Okafor"),),
                date_of_birth=date(2016, 4, 12),
                gender="2",
                nhs_number=make_test_nhs_number(random.Random(99)),
                addresses=(NewAddress(("1 High Road", "London"), "N17 6AA"),),
                carers=(),
            )
        ],
        source=FEED_SOURCE,
    )
    return World(manager=manager, secret=secret)


def test_a_data_manager_uploads_a_feed_and_clears_the_review_queue(
    page: Page, live_server, world, page_problems
):
    base = live_server.url
    sign_in(page, base, "dana.data", PASSWORD)
    enter_authenticator_code(page, world.secret)
    expect(page).to_have_title(page_title("Home"))

    page.goto(f"{base}/feeds/")
    expect(page).to_have_title(page_title("Feeds"))
    expect(page.get_by_role("link", name="Feeds")).to_have_attribute(
        "aria-current", "page"
    )
    assert_no_axe_violations(page)

    _upload(page)
    _follow_the_import(page)
    _read_the_report(page)
    _link_the_waiting_row(page)

    assert page_problems.all(ignoring_url="/favicon.svg") == []


def _upload(page: Page) -> None:
    page.get_by_role("link", name="Upload a file for Hilltop pupils").click()
    expect(page).to_have_title(page_title("Upload a file for Hilltop pupils"))
    expect(page.get_by_role("link", name="Download a CSV template")).to_be_visible()
    assert_no_axe_violations(page)

    # No file chosen: the error summary, linked to the file input.
    page.get_by_role("button", name="Upload file").click()
    expect(page).to_have_title(page_title("Error: Upload a file for Hilltop pupils"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    assert_no_axe_violations(page)
    summary.get_by_role("link", name="Select a file to upload").click()
    expect(page.get_by_label("File to upload")).to_be_focused()

    page.get_by_label("File to upload").set_input_files(
        {"name": "hilltop-pupils.csv", "mimeType": "text/csv", "buffer": FILE}
    )
    page.get_by_role("button", name="Upload file").click()
    expect(page).to_have_title(page_title(f"Import of {_received_at()}"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your file has been received."
    )
    expect(page.locator("#run-status")).to_contain_text("Waiting to start")
    expect(page.locator("#feed-progress-message")).to_have_attribute(
        "aria-live", "polite"
    )
    assert_no_axe_violations(page)


def _received_at() -> str:
    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    run = FeedRun.objects.get()
    return date_format(timezone.localtime(run.created_at), "j F Y, H:i")


def _follow_the_import(page: Page) -> None:
    # No worker runs in the browser tests: import the run here, as one would.
    run = FeedRun.objects.get()
    feed_run_process(run.pk)

    # The page's script notices within seconds and reloads with the result.
    expect(page.locator("#run-status")).to_contain_text("Finished", timeout=15_000)
    progress = page.locator("#feed-progress")
    expect(progress).to_contain_text("3 of 3 rows done (100%)")
    expect(progress).to_contain_text("New children: 1")
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
    assert_no_axe_violations(page)


def _read_the_report(page: Page) -> None:
    report = page.get_by_role("table")
    expect(report).to_contain_text("1 row not imported")
    expect(report).to_contain_text("Line 3")
    expect(report).to_contain_text("NHS number")
    bad = FeedRow.objects.get(state=RowState.QUARANTINED)
    expect(report).to_contain_text(bad.problems[0]["message"])
    expect(report).not_to_contain_text("Ashworth")

    # The row as it was sent, beside its reason.
    report.get_by_role("link", name="Line 3").click()
    expect(page).to_have_title(page_title(f"Line 3 of the import of {_received_at()}"))
    expect(page.get_by_role("table")).to_contain_text(BAD_NHS_NUMBER)
    expect(page.get_by_role("table")).to_contain_text("Ashworth")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Back to the import").click()


def _link_the_waiting_row(page: Page) -> None:
    page.get_by_role("link", name="Review it").click()
    expect(page).to_have_title(page_title("Review queue"))
    queue = page.get_by_role("table")
    expect(queue).to_contain_text("1 row is waiting for review")
    assert_no_axe_violations(page)

    queue.get_by_role("link", name="Review line 4").click()
    expect(page).to_have_title(page_title("Review line 4"))
    card = page.locator(".govuk-summary-card", has_text="Candidate 1: Katherine Okafor")
    expect(card).to_contain_text("12 April 2016")
    expect(card.locator(".govuk-tag--green").first).to_have_text("Same")
    assert_no_axe_violations(page)

    page.get_by_label(
        "Link to this child: candidate 1, Katherine Okafor, born 12 April 2016"
    ).check()
    page.get_by_role("button", name="Confirm decision").click()

    expect(page).to_have_title(page_title("Review queue"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The row has been linked to the child you chose."
    )
    expect(page.locator("main")).to_contain_text("No rows are waiting for review")
    assert_no_axe_violations(page)
    assert FeedRow.objects.get(state=RowState.LINKED).child_id is not None
