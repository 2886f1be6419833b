"""The data manager's correction pages over HTTP."""

import uuid
from dataclasses import dataclass
from typing import cast

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessEvent
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

REASON = "Confirmed with the GP practice by phone"


@dataclass
class World:
    authority: Organisation
    manager: User
    teacher: User
    child_id: uuid.UUID


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    manager = make_user(username="dee.data", first_name="Dee", last_name="Data")
    grant(manager, authority, Role.DATA_MANAGER)
    teacher = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(teacher, school, Role.PRACTITIONER)
    child = child_records_create(
        children=[NewChildFactory.build(responsible_authority_id=authority.pk)],
        source=FEED_SOURCE,
    )[0]
    return World(authority, manager, teacher, child.id)


def _opened(user: User, child_id, purpose: str = "data_management") -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    client.post(reverse("directory:record", args=[child_id]), {"purpose": purpose})
    return client


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _start(world: World) -> str:
    return reverse("directory:correct", args=[world.child_id])


def _detail(world: World, detail: str) -> str:
    return reverse("directory:correct-detail", args=[world.child_id, detail])


def test_the_start_page_lists_each_detail_with_its_value_and_a_link(world):
    response = _opened(world.manager, world.child_id).get(_start(world))

    text = _text(response)
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">Correct a detail</h1>' in text
    assert "Victoria Climbié" in text
    assert "2 November 2015" in text
    assert "943 476 5919" in text
    for detail in (
        "name",
        "date_of_birth",
        "gender",
        "nhs_number",
        "upn",
        "date_of_death",
        "address",
    ):
        assert f'href="{_detail(world, detail)}"' in text


def test_a_detail_page_is_filled_in_with_what_is_recorded(world):
    response = _opened(world.manager, world.child_id).get(
        _detail(world, "date_of_birth")
    )

    text = _text(response)
    assert '<h1 class="govuk-heading-l">Correct the date of birth</h1>' in text
    assert 'name="date_of_birth_day" type="text" inputmode="numeric" value="2"' in text
    assert 'name="date_of_birth_year" type="text" inputmode="numeric" value="2015"' in (
        text
    )


def test_a_correction_returns_to_the_record_which_shows_it(world):
    client = _opened(world.manager, world.child_id)

    response = client.post(
        _detail(world, "date_of_birth"),
        {
            "date_of_birth_day": "11",
            "date_of_birth_month": "2",
            "date_of_birth_year": "2015",
            "reason": REASON,
        },
        follow=True,
    )

    text = _text(response)
    assert "Date of birth corrected." in text
    assert "11 February 2015" in text
    assert '<h2 class="govuk-heading-m">Corrections</h2>' in text
    today = timezone.localdate().strftime("%-d %B %Y")
    assert f"Corrected on {today} by Dee Data: {REASON}" in text


def test_an_invalid_nhs_number_is_shown_in_the_error_summary(world):
    client = _opened(world.manager, world.child_id)

    response = client.post(
        _detail(world, "nhs_number"), {"nhs_number": "999 000 0019", "reason": REASON}
    )

    text = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Correct the NHS number" in text
    assert '<a href="#id_nhs_number">' in text
    assert AccessEvent.objects.filter(
        action="record_correct", outcome="denied", reason="nhs_number_check_digit"
    ).exists()


def test_a_date_that_is_not_real_and_a_missing_reason_are_both_shown(world):
    client = _opened(world.manager, world.child_id)

    response = client.post(
        _detail(world, "date_of_birth"),
        {
            "date_of_birth_day": "31",
            "date_of_birth_month": "2",
            "date_of_birth_year": "2015",
            "reason": "",
        },
    )

    text = _text(response)
    assert '<a href="#id_date_of_birth_day">Date of birth must be a real date</a>' in (
        text
    )
    assert '<a href="#id_reason">Enter why you are making this correction</a>' in text
    assert not AccessEvent.objects.filter(action="record_correct").exists()


def test_a_service_refusal_lands_on_the_date_it_names(world):
    client = _opened(world.manager, world.child_id)

    response = client.post(
        _detail(world, "date_of_birth"),
        {
            "date_of_birth_day": "2",
            "date_of_birth_month": "11",
            "date_of_birth_year": "2015",
            "reason": REASON,
        },
    )

    assert (
        '<a href="#id_date_of_birth_day">The date of birth you entered is the one '
        "already recorded. Enter the correct one, or cancel.</a>"
    ) in _text(response)


def test_a_practitioner_gets_not_found_and_a_post_is_audited(world):
    client = _opened(world.teacher, world.child_id, purpose="providing_service")

    assert client.get(_start(world)).status_code == 404
    assert client.get(_detail(world, "gender")).status_code == 404
    response = client.post(_detail(world, "gender"), {"gender": "1", "reason": REASON})

    assert response.status_code == 404
    assert list(
        AccessEvent.objects.filter(action="record_correct").values_list(
            "outcome", "reason"
        )
    ) == [("denied", "role_not_permitted")]


def test_without_a_stated_purpose_the_record_page_asks_for_one(world):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(world.manager)

    response = client.get(_start(world))

    assert response.status_code == 302
    assert response["Location"] == reverse("directory:record", args=[world.child_id])


def test_an_unknown_detail_is_not_found(world):
    client = _opened(world.manager, world.child_id)

    assert client.get(_detail(world, "favourite_colour")).status_code == 404


def test_a_shielded_record_of_another_authority_is_not_found(world):
    elsewhere = LocalAuthorityFactory(name="Southshire Council")
    shielded = child_records_create(
        children=[
            NewChildFactory.build(shielded=True, responsible_authority_id=elsewhere.pk)
        ],
        source=FEED_SOURCE,
    )[0]
    client = _opened(world.manager, shielded.id)
    url = reverse("directory:correct-detail", args=[shielded.id, "gender"])

    assert client.get(url).status_code == 302  # no purpose could be granted
    assert client.post(url, {"gender": "1", "reason": REASON}).status_code == 404
