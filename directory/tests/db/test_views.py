"""The practitioner's pages over HTTP: search, purpose, record, break glass,
recording and ending an involvement."""

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import SECOND_FACTOR_AT
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessEvent
from directory.models import Involvement
from directory.records import NewInvolvement, NewWarningFlag
from directory.services.child_records import child_records_create
from directory.tasks import break_glass_notify
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from directory.views.common import GRANTS_SESSION_KEY

pytestmark = pytest.mark.django_db

SEARCH = reverse("directory:search")
#: What differs between two renderings of one page: CSRF tokens and CSP nonces.
PER_RESPONSE = re.compile(rb'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')
VICTORIA = {
    "family_name": "Climbie",
    "given_name": "Victoria",
    "date_of_birth_day": "2",
    "date_of_birth_month": "11",
    "date_of_birth_year": "2015",
}


@dataclass
class World:
    authority: Organisation
    school: Organisation
    teacher: User
    officer: User
    auditor: User


@pytest.fixture
def world() -> World:
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
    teacher = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(teacher, school, Role.PRACTITIONER)
    officer = make_user(username="sam.shield", email="sam.shield@haringey.example.org")
    grant(officer, authority, Role.SHIELDING_OFFICER)
    auditor = make_user(username="ana.audit", email="ana.audit@haringey.example.org")
    grant(auditor, authority, Role.AUDITOR)
    return World(authority, school, teacher, officer, auditor)


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _child(**kwargs):
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE
    )[0]


def _record_url(child_id) -> str:
    return reverse("directory:record", args=[child_id])


def _text(response) -> str:
    """The page, with runs of white space as one space."""
    return " ".join(response.content.decode().split())


def _same_for_every_response(content: bytes, child_id) -> bytes:
    return PER_RESPONSE.sub(b"", content).replace(str(child_id).encode(), b"ID")


def _events(**filters):
    return list(
        AccessEvent.objects.filter(**filters)
        .order_by("seq")
        .values_list("action", "outcome", "reason")
    )


# Search -------------------------------------------------------------------------


def test_the_search_form_is_a_post_form_and_get_never_searches(world):
    client = _client(world.teacher)

    response = client.get(SEARCH, {"family_name": "Climbie", "postcode": "N17"})

    assert response.status_code == 200
    assert '<form method="post" action="/children/"' in _text(response)
    assert "Climbie" not in _text(response)
    assert _events(action="search") == []


def test_search_results_are_rendered_from_the_post_with_a_misspelling(world):
    created = _child()
    client = _client(world.teacher)

    response = client.post(SEARCH, VICTORIA)

    assert response.status_code == 200  # rendered, never a redirect
    text = _text(response)
    assert f'href="{_record_url(created.id)}">Victoria Climbié</a>' in text
    assert "2 November 2015" in text
    assert "N17" in text
    assert "N17 6QA" not in text  # only the district
    assert "Strong match" in text
    assert _events(action="search") == [("search", "allowed", "granted")]


def test_a_family_name_alone_is_too_broad(world):
    client = _client(world.teacher)

    response = client.post(SEARCH, {"family_name": "Climbie"})

    text = _text(response)
    assert "<title>Error: Search for a child" in text
    assert "govuk-error-summary" in text
    assert "a family name alone matches too many children" in text
    assert _events(action="search") == [("search", "denied", "query_too_broad")]


def test_a_problem_with_one_field_links_to_it(world):
    client = _client(world.teacher)

    response = client.post(SEARCH, {"family_name": "Climbie", "postcode": "12345"})

    text = _text(response)
    assert '<a href="#id_postcode">Enter a full postcode' in text


def test_an_unreadable_date_of_birth_is_the_forms_error(world):
    client = _client(world.teacher)

    response = client.post(
        SEARCH, {**VICTORIA, "date_of_birth_day": "31", "date_of_birth_month": "2"}
    )

    assert '<a href="#id_date_of_birth_day">Date of birth must be a real date' in (
        _text(response)
    )
    assert _events(action="search") == []


def test_a_restricted_match_shows_only_whom_to_contact(world):
    shielded = _child(shielded=True, responsible_authority_id=world.authority.pk)
    client = _client(world.teacher)

    response = client.post(SEARCH, VICTORIA)

    text = _text(response)
    assert (
        "A restricted record may match. Contact the shielding officer "
        "at London Borough of Haringey on 020 7946 0123 or" in text
    )
    assert "shielding@haringey.example.org" in text
    assert str(shielded.id) not in text
    assert "Victoria Climbié" not in text
    assert "No children match" not in text


def test_nothing_found_says_what_to_try(world):
    _child()
    client = _client(world.teacher)

    response = client.post(
        SEARCH, {**VICTORIA, "family_name": "Smith", "given_name": "Anna"}
    )

    text = _text(response)
    assert "No children match" in text
    assert "try an age range instead of a date of birth" in text


def test_someone_without_a_role_that_searches_is_refused(world):
    admin = make_user(username="ada.admin")
    grant(admin, world.authority, Role.ADMINISTRATOR)

    response = _client(admin).post(SEARCH, VICTORIA)

    assert response.status_code == 403
    assert _events(action="search") == [("search", "denied", "role_not_permitted")]


# Opening a record -------------------------------------------------------------


def test_a_purpose_is_asked_first_and_the_page_reveals_nothing(world):
    created = _child()
    client = _client(world.teacher)

    response = client.get(_record_url(created.id))

    text = _text(response)
    assert response.status_code == 200
    assert "Why are you opening this record?" in text
    assert "Climbi" not in text
    assert _events(child_id=created.id) == [("view", "denied", "purpose_missing")]


def test_the_purpose_page_reads_nothing_of_the_record(
    world, django_assert_max_num_queries
):
    """The gate decides on the child's row and its current involvements'
    ids; names, addresses, carers, involvements and flags are read only
    once it allows the read."""
    elsewhere = SchoolFactory(parent_authority=world.authority)
    created = _child(
        involvements=(NewInvolvement(elsewhere.pk, "education", date(2024, 9, 2)),),
        warning_flags=(
            NewWarningFlag(
                "contact_social_care",
                world.authority.pk,
                "Duty social worker",
                "020 7946 0999",
                date(2025, 1, 6),
            ),
        ),
    )
    client = _client(world.teacher)
    client.get(SEARCH)  # the session is cached from here on

    # user with grants, second-factor device, child, involvement ids, audit
    # event (append, flush), inbox count.
    with django_assert_max_num_queries(7) as queries:
        response = client.get(_record_url(created.id))

    assert "Why are you opening this record?" in _text(response)
    record_tables = re.compile(
        r'"directory_(childname|address|carer|consent|warningflag)"'
    )
    assert not [
        q["sql"] for q in queries.captured_queries if record_tables.search(q["sql"])
    ]
    assert _events(child_id=created.id) == [("view", "denied", "purpose_missing")]


def test_the_record_is_shown_after_the_purpose_and_not_asked_again(world):
    created = _child(
        involvements=(
            NewInvolvement(
                world.school.pk,
                "education",
                date(2024, 9, 2),
                practitioner_name="Jo Class",
                practitioner_role="Class teacher",
                phone="01632 960 001",
                email="jo.class@hilltop.example.org",
                is_lead_professional=True,
            ),
        ),
        warning_flags=(
            NewWarningFlag(
                "contact_social_care",
                world.authority.pk,
                "Duty social worker",
                "020 7946 0999",
                date(2025, 1, 6),
            ),
        ),
    )
    client = _client(world.teacher)

    response = client.post(
        _record_url(created.id), {"purpose": "providing_service", "detail": ""}
    )

    text = _text(response)
    assert response.status_code == 200
    assert '<h1 class="govuk-heading-l">Victoria Climbié</h1>' in text
    assert "2 November 2015" in text
    assert "12 Acacia Avenue" in text
    assert "Marie-Thérèse Kouao" in text
    assert "07700 900123" in text
    assert "943 476 5919" in text
    assert "Jo Class, Class teacher" in text
    assert "Lead professional" in text
    assert "Contact children&#x27;s social care before acting" in text
    assert "Duty social worker" in text
    assert "020 7946 0999" in text

    again = client.get(_record_url(created.id))

    assert "Victoria Climbié" in _text(again)
    assert _events(child_id=created.id) == [
        ("view", "allowed", "granted"),
        ("view", "allowed", "granted"),
    ]
    purposes = AccessEvent.objects.filter(child_id=created.id).values_list(
        "purpose", flat=True
    )
    assert list(purposes) == ["providing_service", "providing_service"]


def test_the_stated_purpose_lasts_fifteen_minutes(world):
    created = _child()
    client = _client(world.teacher)
    client.post(_record_url(created.id), {"purpose": "assessing_referral"})
    session = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    grants = session[GRANTS_SESSION_KEY]
    assert grants[str(created.id)][:2] == ["assessing_referral", False]
    grants[str(created.id)][2] = time.time() - 1
    session[GRANTS_SESSION_KEY] = grants
    session.save()

    response = client.get(_record_url(created.id))

    assert "Why are you opening this record?" in _text(response)


def test_another_reason_needs_words(world):
    created = _child()
    client = _client(world.teacher)

    response = client.post(_record_url(created.id), {"purpose": "other"})

    text = _text(response)
    assert '<a href="#id_detail">Say why you need to open this record</a>' in text
    assert "Climbi" not in text
    assert _events(child_id=created.id, outcome="allowed") == []


def test_no_purpose_chosen_is_an_error(world):
    created = _child()

    response = _client(world.teacher).post(_record_url(created.id), {})

    assert '<a href="#id_purpose">Select why you are opening this record</a>' in (
        _text(response)
    )


def test_a_practitioner_working_with_the_child_is_not_asked(world):
    created = _child(
        involvements=(
            NewInvolvement(
                world.school.pk,
                "education",
                date(2024, 9, 2),
                practitioner_id=world.teacher.pk,
            ),
        )
    )

    response = _client(world.teacher).get(_record_url(created.id))

    assert '<h1 class="govuk-heading-l">Victoria Climbié</h1>' in _text(response)
    assert _events(child_id=created.id) == [("view", "allowed", "granted")]


def test_missing_and_forbidden_records_give_the_same_page(world):
    shielded = _child(shielded=True, responsible_authority_id=world.authority.pk)
    client = _client(world.teacher)
    answers = []
    for child_id in (shielded.id, uuid.uuid4()):
        asked = client.get(_record_url(child_id))
        refused = client.post(_record_url(child_id), {"purpose": "child_protection"})
        assert asked.status_code == 200
        assert refused.status_code == 404
        answers.append(
            (
                _same_for_every_response(asked.content, child_id),
                _same_for_every_response(refused.content, child_id),
            )
        )

    assert answers[0] == answers[1]
    assert b"Page not found" in answers[0][1]


def test_sensitive_involvements_are_counted_not_shown(world):
    clinic = SchoolFactory(
        name="Sexual Health Clinic",
        kind="nhs_trust",
        code="RQ3",
        parent_authority=world.authority,
    )
    created = _child(
        involvements=(
            NewInvolvement(clinic.pk, "sexual_health", date(2025, 1, 6)),
            NewInvolvement(clinic.pk, "mental_health", date(2025, 1, 6)),
        )
    )

    response = _client(world.teacher).post(
        _record_url(created.id), {"purpose": "providing_service"}
    )

    text = _text(response)
    assert "2 involvements are not shown because they are sensitive" in text
    assert "Sexual Health Clinic" not in text


# Break glass --------------------------------------------------------------------


def test_break_glass_opens_a_restricted_record_and_tells_the_authority(
    world, django_capture_on_commit_callbacks
):
    shielded = _child(shielded=True, responsible_authority_id=world.authority.pk)
    client = _client(world.teacher)
    url = reverse("directory:break-glass", args=[shielded.id])
    assert "Open a record in an emergency" in _text(client.get(url))

    with (
        mock.patch("directory.tasks.break_glass_notify.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(url, {"reason": "Child says she is in danger tonight"})

    text = _text(response)
    assert "Victoria Climbié" in text
    assert "You opened a restricted record in an emergency" in text
    delay.assert_called_once_with(str(shielded.id), str(world.teacher.pk))
    event = AccessEvent.objects.get(child_id=shielded.id, outcome="allowed")
    assert (event.reason, event.break_glass, event.purpose) == (
        "granted_break_glass",
        True,
        "child_protection",
    )
    # Reloading does not ask again, and does not e-mail again.
    with django_capture_on_commit_callbacks() as callbacks:
        assert "Victoria Climbié" in _text(client.get(_record_url(shielded.id)))
    assert callbacks == []


def test_the_break_glass_task_emails_no_child_details(world):
    shielded = _child(shielded=True, responsible_authority_id=world.authority.pk)

    sent = break_glass_notify(str(shielded.id), str(world.teacher.pk))

    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ana.audit@haringey.example.org",
        "sam.shield@haringey.example.org",
    ]
    message = mail.outbox[0]
    number = shielded.directory_number
    spaced = f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}"
    assert spaced in message.subject
    assert spaced in message.body
    assert f"/children/{shielded.id}/" in message.body
    assert "Pat Teacher" in message.body
    for secret in ("Victoria", "Climbi", "2015", "N17", "Acacia", "Kouao"):
        assert secret not in message.body
        assert secret not in message.subject


def test_break_glass_on_an_ordinary_record_tells_nobody(
    world, django_capture_on_commit_callbacks
):
    created = _child()
    url = reverse("directory:break-glass", args=[created.id])

    with (
        mock.patch("directory.tasks.break_glass_notify.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _client(world.teacher).post(url, {"reason": "Emergency"})

    assert "Victoria Climbié" in _text(response)
    delay.assert_not_called()


def test_break_glass_on_a_missing_record_is_not_found(world):
    url = reverse("directory:break-glass", args=[uuid.uuid4()])

    response = _client(world.teacher).post(url, {"reason": "Emergency"})

    assert response.status_code == 404


def test_break_glass_needs_a_recent_second_factor(world):
    shielded = _child(shielded=True, responsible_authority_id=world.authority.pk)
    client = _client(world.teacher)
    session = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()
    url = reverse("directory:break-glass", args=[shielded.id])

    response = client.post(url, {"reason": "Emergency"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm-identity"))
    assert _events(child_id=shielded.id) == []


def test_break_glass_needs_a_description(world):
    url = reverse("directory:break-glass", args=[uuid.uuid4()])

    response = _client(world.teacher).post(url, {"reason": " "})

    assert '<a href="#id_reason">Describe the emergency</a>' in _text(response)


# Involvements -------------------------------------------------------------------


def _opened(world, **kwargs):
    created = _child(**kwargs)
    client = _client(world.teacher)
    client.post(_record_url(created.id), {"purpose": "providing_service"})
    return created, client


def _involvement_form(**overrides):
    today = timezone.localdate()
    return {
        "service_type": "education",
        "practitioner_role": "Class teacher",
        "started_on_day": str(today.day),
        "started_on_month": str(today.month),
        "started_on_year": str(today.year),
        "phone": "01632 960 001",
        "email": "pat.teacher@hilltop.example.org",
        **overrides,
    }


def test_a_practitioner_records_their_involvement_from_the_record(world):
    created, client = _opened(world)
    url = reverse("directory:involvement-new", args=[created.id])
    assert "Record your involvement" in _text(client.get(url))

    response = client.post(url, _involvement_form(lead_professional="on"))

    assert response.status_code == 302
    assert response["Location"] == _record_url(created.id)
    record = _text(client.get(_record_url(created.id)))
    assert "Your involvement has been recorded" in record
    assert "Pat Teacher, Class teacher" in record
    assert "pat.teacher@hilltop.example.org" in record
    involvement = Involvement.unaudited.get(child_id=created.id)
    assert involvement.is_lead_professional
    assert involvement.practitioner_id == world.teacher.pk
    # A new session needs no purpose now: the teacher works with the child.
    fresh = _text(_client(world.teacher).get(_record_url(created.id)))
    assert "Victoria Climbié</h1>" in fresh


def test_involvement_errors_are_shown_against_the_fields(world):
    created, client = _opened(world)
    url = reverse("directory:involvement-new", args=[created.id])

    response = client.post(
        url, _involvement_form(service_type="", phone="", started_on_year="")
    )

    text = _text(response)
    assert '<a href="#id_service_type">Select the service you provide</a>' in text
    assert '<a href="#id_phone">Enter a phone number' in text
    assert '<a href="#id_started_on_year">The date you started must include a year' in (
        text
    )
    assert not Involvement.unaudited.exists()


def test_the_services_refusals_are_shown_against_the_fields(world):
    created, client = _opened(world)
    url = reverse("directory:involvement-new", args=[created.id])
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.post(
        url,
        _involvement_form(
            service_type="police",
            lead_professional="on",
            started_on_day=str(tomorrow.day),
            started_on_month=str(tomorrow.month),
            started_on_year=str(tomorrow.year),
        ),
    )

    text = _text(response)
    assert '<a href="#id_started_on_day">The date you started must be today' in text
    assert '<a href="#id_lead_professional">A practitioner in police cannot' in text


def test_only_practitioners_may_record_an_involvement(world):
    created = _child()

    response = _client(world.officer).get(
        reverse("directory:involvement-new", args=[created.id])
    )

    assert response.status_code == 403


def test_recording_without_a_purpose_goes_to_the_purpose_page(world):
    created = _child()
    url = reverse("directory:involvement-new", args=[created.id])

    response = _client(world.teacher).get(url)

    assert response.status_code == 302
    assert response["Location"] == _record_url(created.id)


def test_a_practitioner_ends_their_involvement(world):
    created, client = _opened(world)
    client.post(
        reverse("directory:involvement-new", args=[created.id]), _involvement_form()
    )
    involvement = Involvement.unaudited.get(child_id=created.id)
    record = _text(client.get(_record_url(created.id)))
    end_url = reverse("directory:involvement-end", args=[created.id, involvement.pk])
    assert f'href="{end_url}"' in record
    assert "End your involvement" in _text(client.get(end_url))
    today = timezone.localdate()

    response = client.post(
        end_url,
        {
            "ended_on_day": today.day,
            "ended_on_month": today.month,
            "ended_on_year": today.year,
        },
    )

    assert response["Location"] == _record_url(created.id)
    involvement.refresh_from_db()
    assert involvement.ended_on == today
    assert _events(action="update") == [("update", "allowed", "involvement_ended")]


def test_another_organisations_involvement_cannot_be_ended(world):
    other = SchoolFactory(parent_authority=world.authority)
    created, client = _opened(
        world,
        involvements=(NewInvolvement(other.pk, "education", date(2024, 9, 2)),),
    )
    involvement = Involvement.unaudited.get(child_id=created.id)
    end_url = reverse("directory:involvement-end", args=[created.id, involvement.pk])

    assert f'href="{end_url}"' not in _text(client.get(_record_url(created.id)))
    assert client.get(end_url).status_code == 404
    today = timezone.localdate()
    refused = client.post(
        end_url,
        {
            "ended_on_day": today.day,
            "ended_on_month": today.month,
            "ended_on_year": today.year,
        },
    )
    assert refused.status_code == 404
    involvement.refresh_from_db()
    assert involvement.ended_on is None


def test_break_glass_with_no_responsible_authority_tells_the_auditors_only(world):
    created = _child(shielded=True)

    assert break_glass_notify(str(created.id), str(world.teacher.pk)) == 1
    assert [m.to for m in mail.outbox] == [["ana.audit@haringey.example.org"]]
