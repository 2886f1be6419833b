"""The retention report in a real browser.

A data manager opens the report from the feeds workspace: nothing has been
checked yet. They ask for a check; the page shows it working. The dry run
runs (in the test's thread: the browser tests have no Celery worker), and
the refreshed page lists the child who turns 18 on the day of the next run
by directory number. Filtering by rule narrows the list. Every page is
checked with axe-core.
"""

import random
from dataclasses import dataclass
from typing import cast

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory
from directory.identifiers import format_directory_number, make_test_nhs_number
from directory.models import LifecycleRun
from directory.retention import anniversary
from directory.selectors import directory_numbers_for
from directory.services.child_records import child_records_create
from directory.services.lifecycle import lifecycle_run_process, next_run_day
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from tests.browser.conftest import add_verified_session, assert_no_axe_violations
from tests.browser.test_practitioner import page_title

TITLE = "Records due to be archived or purged"


@dataclass
class World:
    manager: User
    number: str  # the directory number of the child due, as shown


@pytest.fixture
def world(transactional_db) -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    manager = make_user(username="dana.data", first_name="Dana", last_name="Data")
    grant(manager, authority, Role.DATA_MANAGER)
    # 18 on the day of the next nightly run.
    born = anniversary(next_run_day(), -18)
    (child,) = child_records_create(
        children=[
            NewChildFactory.build(
                date_of_birth=born, nhs_number=make_test_nhs_number(random.Random(7))
            )
        ],
        source=FEED_SOURCE,
    )
    number = directory_numbers_for([child.id])[child.id]
    return World(manager=manager, number=format_directory_number(number))


def test_a_data_manager_checks_what_the_next_run_will_do(
    page: Page, live_server, world, page_problems
):
    base = live_server.url
    add_verified_session(page.context, base, world.manager)

    page.goto(f"{base}/feeds/")
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_title(page_title(TITLE))
    expect(page.locator("main")).to_contain_text(
        "Nobody has checked what the next run will do yet."
    )
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Check what the next run will do").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "The check has started."
    )
    expect(page.locator(".govuk-inset-text")).to_contain_text("records checked so far")
    expect(page.get_by_role("button", name="Check again now")).to_have_count(0)
    assert_no_axe_violations(page)

    # No worker runs in the browser tests: run the dry run here.
    lifecycle_run_process(run_id=LifecycleRun.objects.get().pk)
    page.get_by_role("link", name="Refresh this page").click()

    counts = page.get_by_role("table", name="Records due, by rule")
    expect(counts.get_by_role("row", name="Archive: 18th birthday")).to_contain_text(
        "1"
    )
    records = page.get_by_role("table", name="Every record due")
    expect(records).to_contain_text(world.number)
    expect(records).to_contain_text("Archive: 18th birthday")
    expect(records).not_to_contain_text("Climbié")
    assert_no_axe_violations(page)

    counts.get_by_role(
        "link", name="Show only these records: Archive: 18th birthday"
    ).click()
    filtered = page.get_by_role("table", name="Archive: 18th birthday")
    expect(filtered).to_contain_text(world.number)
    expect(page.get_by_role("button", name="Check again now")).to_be_visible()
    assert_no_axe_violations(page)

    assert page_problems.all(ignoring_url="/favicon.svg") == []
