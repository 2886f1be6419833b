"""Consent to share a sensitive involvement, in a real browser.

A teacher opens a child's record and is told that one involvement is not
shown because it is sensitive. The nurse at the clinic that provides it
records the young person's consent to share it; the teacher then sees it.
The nurse withdraws the consent and it is hidden from the teacher again.
Every page is checked with axe-core.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import cast
from uuid import UUID

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from directory.records import NewInvolvement
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from tests.browser.conftest import add_verified_session, assert_no_axe_violations
from tests.browser.test_practitioner import page_title

CLINIC = "Riverside Sexual Health Clinic"
NOT_SHOWN = (
    "1 involvement is not shown because it is sensitive and there is no "
    "consent to share it."
)


@dataclass
class World:
    teacher: User
    nurse: User
    child_id: UUID


@pytest.fixture
def world(transactional_db) -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    clinic = cast(
        Organisation,
        SchoolFactory(
            name=CLINIC, kind="nhs_trust", code="RQ9", parent_authority=authority
        ),
    )
    teacher = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(teacher, school, Role.PRACTITIONER)
    nurse = make_user(username="jo.nurse", first_name="Jo", last_name="Nurse")
    grant(nurse, clinic, Role.PRACTITIONER)
    child = child_records_create(
        children=[
            NewChildFactory.build(
                involvements=(
                    NewInvolvement(
                        clinic.pk,
                        "sexual_health",
                        dt.date(2025, 9, 1),
                        practitioner_name="Jo Nurse",
                        practitioner_role="Specialist nurse",
                        phone="020 7946 0777",
                    ),
                )
            )
        ],
        source=FEED_SOURCE,
    )[0]
    return World(teacher=teacher, nurse=nurse, child_id=child.id)


def _open_record(page: Page, url: str, reason: str) -> None:
    page.goto(url)
    expect(page).to_have_title(page_title("Why are you opening this record?"))
    assert_no_axe_violations(page)
    page.get_by_label(reason).check()
    page.get_by_role("button", name="Open the record").click()
    expect(page).to_have_title(page_title("Victoria Climbié"))


def test_consent_lets_another_organisation_see_a_sensitive_involvement(
    page: Page, new_context, live_server, world, page_problems
):
    base = live_server.url
    record_url = f"{base}/children/{world.child_id}/"
    teacher_context = new_context()
    add_verified_session(teacher_context, base, world.teacher)
    teacher = teacher_context.new_page()
    add_verified_session(page.context, base, world.nurse)
    nurse = page

    # The teacher is told something is hidden, and nothing of what.
    _open_record(teacher, record_url, "I am assessing a referral about this child")
    expect(teacher.locator(".govuk-inset-text")).to_have_text(NOT_SHOWN)
    expect(teacher.locator("main")).not_to_contain_text(CLINIC)
    expect(teacher.get_by_role("link", name=re.compile("consent"))).to_have_count(0)
    assert_no_axe_violations(teacher)

    # The nurse at the providing clinic sees it, with no consent recorded.
    _open_record(nurse, record_url, "I am providing a service to this child now")
    card = nurse.locator(".govuk-summary-card", has_text=CLINIC)
    expect(card).to_contain_text(
        f"Not recorded. Only practitioners at {CLINIC} can see this involvement."
    )
    assert_no_axe_violations(nurse)

    _record_consent(nurse, card)

    # The teacher now sees the involvement and how to reach the nurse.
    teacher.goto(record_url)
    shared = teacher.locator(".govuk-summary-card", has_text=CLINIC)
    expect(shared).to_contain_text("Sexual health")
    expect(shared).to_contain_text("Jo Nurse, Specialist nurse")
    expect(shared).to_contain_text("020 7946 0777")
    expect(shared).not_to_contain_text("Withdraw consent")
    expect(teacher.locator(".govuk-inset-text")).to_have_count(0)
    assert_no_axe_violations(teacher)

    # Withdrawn, it is hidden from the teacher again.
    _withdraw_consent(nurse, card)
    teacher.goto(record_url)
    expect(teacher.locator(".govuk-inset-text")).to_have_text(NOT_SHOWN)
    expect(teacher.locator("main")).not_to_contain_text(CLINIC)
    assert_no_axe_violations(teacher)

    assert page_problems.all(ignoring_url="/favicon.svg") == []


def _record_consent(nurse: Page, card: Locator) -> None:
    card.get_by_role("link", name=re.compile("^Record consent to share")).click()
    expect(nurse).to_have_title(page_title("Record consent to share"))
    assert_no_axe_violations(nurse)
    nurse.get_by_role("button", name="Record consent").click()
    expect(nurse).to_have_title(page_title("Error: Record consent to share"))
    summary = nurse.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Select who gave consent to share this involvement")
    assert_no_axe_violations(nurse)
    nurse.get_by_label("The young person", exact=True).check()
    nurse.get_by_role("button", name="Record consent").click()

    expect(nurse).to_have_title(page_title("Victoria Climbié"))
    expect(nurse.locator(".govuk-notification-banner--success")).to_contain_text(
        "Consent to share has been recorded"
    )
    expect(card).to_contain_text("Given by the young person on")
    assert_no_axe_violations(nurse)


def _withdraw_consent(nurse: Page, card: Locator) -> None:
    card.get_by_role("link", name=re.compile("^Withdraw consent")).click()
    expect(nurse).to_have_title(page_title("Withdraw consent to share"))
    assert_no_axe_violations(nurse)
    nurse.get_by_role("button", name="Withdraw consent").click()
    expect(nurse.locator(".govuk-notification-banner--success")).to_contain_text(
        "Consent to share has been withdrawn"
    )
    expect(card).to_contain_text("Not recorded.")
    assert_no_axe_violations(nurse)
