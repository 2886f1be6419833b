"""Merging two records of the same child, and undoing it, over HTTP: who gets
in, the numbers form and its errors, the side-by-side confirm page and its
access events, the merge, the service's refusals, and undoing a merge."""

import random
import re
from dataclasses import dataclass
from datetime import date
from typing import cast
from unittest import mock
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.actors import actor_for_user
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessAction, AccessEvent, Outcome
from contactpoint.crypto.fields import unseal
from directory.identifiers import (
    format_directory_number,
    make_directory_number,
    make_test_nhs_number,
)
from directory.records import NewAddress, NewInvolvement, NewName
from directory.selectors import child_id_for_directory_number
from directory.selectors.merges import merge_list
from directory.services.child_records import child_records_create
from directory.services.merges import MergeRefused, children_merge
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from ingestion.views.merges import PURPOSE_DETAIL

pytestmark = pytest.mark.django_db

LIST = reverse("feeds:merge-list")
NEW = reverse("feeds:merge-new")
CONFIRM = reverse("feeds:merge-confirm")
#: What differs between two renderings of one page: CSRF tokens and CSP nonces.
PER_RESPONSE = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')
#: A well-formed directory number no child has.
UNKNOWN = make_directory_number(987_654_321)
REASON = "Same child: the school and the health visitor confirmed it by phone"


@dataclass
class World:
    authority: Organisation
    school: Organisation
    manager: User  # data manager at the local authority
    outsider: User  # data manager at another authority
    teacher: User  # practitioner at the school
    kept: str  # directory numbers
    duplicate: str


def _nhs(seed: int) -> str:
    return make_test_nhs_number(random.Random(seed))


def _child(**fields) -> tuple[str, UUID]:
    """A new child; (directory number, id)."""
    created = child_records_create(
        children=[NewChildFactory.build(**fields)], source=FEED_SOURCE
    )[0]
    return created.directory_number, created.id


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    other_authority = cast(
        Organisation, LocalAuthorityFactory(name="Southshire Council")
    )
    manager = make_user(username="dana.data", first_name="Dana")
    grant(manager, authority, Role.DATA_MANAGER)
    outsider = make_user(username="olly.outside", first_name="Olly")
    grant(outsider, other_authority, Role.DATA_MANAGER)
    teacher = make_user(username="pat.teacher", first_name="Pat")
    grant(teacher, school, Role.PRACTITIONER)
    kept, _ = _child(
        names=(NewName("Victoria", "Climbié"),),
        nhs_number=_nhs(1),
        addresses=(NewAddress(("12 Acacia Avenue", "London"), "N17 6QA"),),
    )
    duplicate, _ = _child(
        names=(NewName("Anna", "Kouao"),),
        nhs_number=None,
        addresses=(NewAddress(("3 Mare Street", "London"), "E8 1AA"),),
        involvements=(
            NewInvolvement(
                organisation_id=school.pk,
                service_type="education",
                started_on=date(2025, 9, 1),
            ),
        ),
    )
    return World(
        authority=authority,
        school=school,
        manager=manager,
        outsider=outsider,
        teacher=teacher,
        kept=kept,
        duplicate=duplicate,
    )


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _text(response) -> str:
    """The page, with runs of white space as one space."""
    return " ".join(response.content.decode().split())


def _confirmed(world: World, client: Client | None = None, **data: str):
    return (client or _client(world.manager)).post(
        CONFIRM,
        {"survivor": world.kept, "merged": world.duplicate, "reason": REASON} | data,
    )


def _merges(user: User):
    return merge_list(actor_for_user(user, second_factor_verified=True))


# Who gets in ------------------------------------------------------------------


def test_everyone_but_data_managers_gets_403_and_nothing_is_recorded(world):
    client = _client(world.teacher)
    events_before = AccessEvent.objects.count()
    numbers = {"survivor": world.kept, "merged": world.duplicate, "reason": REASON}

    for method, path in (
        ("get", LIST),
        ("get", NEW),
        ("post", NEW),
        ("post", CONFIRM),
        ("post", reverse("feeds:merge-undo", args=[uuid4()])),
    ):
        response = getattr(client, method)(path, numbers)
        assert response.status_code == 403, path
        assert "You cannot view this page" in _text(response), path

    assert AccessEvent.objects.count() == events_before
    assert _merges(world.manager) == []


def test_the_merge_pages_need_a_second_factor(world, client):
    client.force_login(world.manager)

    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))


def test_changes_are_post_only_with_a_csrf_token(world):
    client = _client(world.manager)
    assert client.get(CONFIRM).status_code == 405
    assert client.get(reverse("feeds:merge-undo", args=[uuid4()])).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(world.manager)
    response = strict.post(
        CONFIRM, {"survivor": world.kept, "merged": world.duplicate, "reason": REASON}
    )

    assert response.status_code == 403
    assert _merges(world.manager) == []


# The list ---------------------------------------------------------------------


def test_the_feeds_home_page_links_to_the_merges(world):
    page = _text(_client(world.manager).get(reverse("feeds:home")))

    assert f'href="{LIST}">Merged records</a>' in page


def test_the_list_says_when_nothing_has_been_merged(world):
    response = _client(world.manager).get(LIST)

    page = _text(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "No records have been merged yet" in page
    assert f'href="{NEW}" role="button"' in page
    assert "Merge two records" in page


# The numbers ------------------------------------------------------------------


def test_the_numbers_page_asks_for_both_records(world):
    page = _text(_client(world.manager).get(NEW))

    assert '<label class="govuk-label govuk-label--s" for="id_survivor">' in page
    assert "Record to keep" in page
    assert "Record to merge into it" in page
    assert f'action="{NEW}"' in page


def test_numbers_missing_or_in_the_wrong_format_are_errors(world):
    response = _client(world.manager).post(NEW, {"survivor": "12345", "merged": ""})

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Merge two records" in page
    assert "govuk-error-summary" in page
    assert (
        'href="#id_survivor">Enter the directory number as 13 digits, '
        "like 1234 5678 9012 3" in page
    )
    assert (
        'href="#id_merged">Enter the directory number of the record to merge '
        "into it" in page
    )
    assert not AccessEvent.objects.filter(action=AccessAction.VIEW).exists()


def test_a_number_with_a_wrong_check_digit_is_an_error(world):
    wrong = world.duplicate[:-1] + str((int(world.duplicate[-1]) + 1) % 10)

    page = _text(
        _client(world.manager).post(NEW, {"survivor": world.kept, "merged": wrong})
    )

    assert 'href="#id_merged">The directory number' in page
    assert "its last digit does not match" in page


def test_the_same_number_twice_is_an_error(world):
    spaced = format_directory_number(world.kept)

    response = _client(world.manager).post(
        NEW, {"survivor": world.kept, "merged": spaced}
    )

    page = _text(response)
    assert response.status_code == 200
    assert (
        'href="#id_merged">Enter a different directory number from the record '
        "to keep" in page
    )
    assert not AccessEvent.objects.filter(action=AccessAction.VIEW).exists()


def test_an_unknown_number_and_one_the_manager_may_not_see_look_the_same(world):
    shielded, shielded_id = _child(
        names=(NewName("Sam", "Hidden"),),
        nhs_number=_nhs(2),
        shielded=True,
        responsible_authority_id=world.authority.pk,
    )
    client = _client(world.outsider)

    unknown = client.post(NEW, {"survivor": world.kept, "merged": UNKNOWN})
    forbidden = client.post(NEW, {"survivor": world.kept, "merged": shielded})

    assert unknown.status_code == forbidden.status_code == 200
    expected = (
        'href="#id_merged">No record you can merge has this directory number. '
        "Check it has been copied correctly."
    )
    assert expected in _text(unknown)
    assert expected in _text(forbidden)

    def same(response, number: str) -> str:
        return PER_RESPONSE.sub("", response.content.decode().replace(number, "N"))

    assert same(unknown, UNKNOWN) == same(forbidden, shielded)
    denied = AccessEvent.objects.get(
        action=AccessAction.VIEW, child_id=shielded_id, outcome=Outcome.DENIED
    )
    assert (denied.reason, denied.purpose) == ("record_shielded", "data_management")


# The confirm page -------------------------------------------------------------


def test_the_confirm_page_shows_both_records_and_audits_each_view(world):
    response = _client(world.manager).post(
        NEW,
        {
            "survivor": format_directory_number(world.kept),
            "merged": world.duplicate,
        },
    )

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Check these are the same child" in page
    assert format_directory_number(world.kept) in page
    assert format_directory_number(world.duplicate) in page
    assert "Victoria Climbié (legal name)" in page
    assert "Anna Kouao (legal name)" in page
    assert page.count("2 November 2015") == 2
    assert page.count("Female") == 2
    assert "N17 6QA" in page
    assert "E8 1AA" in page
    nhs = _nhs(1)
    assert f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}" in page
    assert (
        '<th scope="row" class="govuk-table__header">Involvements now</th> '
        '<td class="govuk-table__cell">0</td> <td class="govuk-table__cell">1</td>'
    ) in page
    assert "Different" not in page
    # Numbers go on in hidden fields, to the confirm address; never ids.
    assert f'action="{CONFIRM}"' in page
    assert f'type="hidden" name="survivor" value="{world.kept}"' in page
    assert f'type="hidden" name="merged" value="{world.duplicate}"' in page
    assert "Why are these the same child?" in page
    assert "Merge these records" in page
    views = AccessEvent.objects.filter(action=AccessAction.VIEW).order_by("seq")
    assert len(views) == 2
    for event in views:
        assert event.child_id is not None
        assert str(event.child_id) not in page
        assert (event.outcome, event.purpose, event.actor_id) == (
            Outcome.ALLOWED,
            "data_management",
            world.manager.pk,
        )
        assert unseal(event, "purpose_detail") == PURPOSE_DETAIL
        assert event.request_id
    assert views[0].request_id == views[1].request_id


def test_a_reason_is_required_and_the_records_are_shown_again(world):
    response = _confirmed(world, reason="  ")

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Check these are the same child" in page
    assert 'href="#id_reason">Enter why these are the same child' in page
    assert "Victoria Climbié (legal name)" in page
    assert AccessEvent.objects.filter(action=AccessAction.VIEW).count() == 2
    assert _merges(world.manager) == []


def test_a_reason_longer_than_500_characters_is_an_error(world):
    page = _text(_confirmed(world, reason="x" * 501))

    assert (
        'href="#id_reason">Why these are the same child must be 500 characters '
        "or fewer" in page
    )
    assert _merges(world.manager) == []


def test_a_number_changed_on_the_way_goes_back_to_the_numbers(world):
    page = _text(_confirmed(world, merged=UNKNOWN))

    assert "<title>Error: Merge two records" in page
    assert 'href="#id_merged">No record you can merge has this directory number' in (
        page
    )
    assert _merges(world.manager) == []
    assert not AccessEvent.objects.filter(action=AccessAction.CHILD_MERGE).exists()


# Merging ----------------------------------------------------------------------


def test_merging_goes_to_the_list_with_a_success_banner(world):
    client = _client(world.manager)

    response = _confirmed(world, client)

    assert response.status_code == 302
    assert response["Location"] == LIST
    page = _text(client.get(LIST))
    assert "govuk-notification-banner--success" in page
    assert (
        f"Records merged. {format_directory_number(world.duplicate)} is now part "
        f"of {format_directory_number(world.kept)}." in page
    )
    [merge] = _merges(world.manager)
    assert (merge.survivor_number, merge.merged_number) == (
        world.kept,
        world.duplicate,
    )
    assert merge.undone_at is None
    assert f'action="{reverse("feeds:merge-undo", args=[merge.id])}"' in page
    assert "Undo this merge" in page
    event = AccessEvent.objects.get(action=AccessAction.CHILD_MERGE)
    assert (event.outcome, event.child_id) == (Outcome.ALLOWED, merge.survivor_id)
    assert unseal(event, "purpose_detail") == REASON


def test_the_services_refusal_is_shown_in_the_error_summary(world):
    other_nhs, _ = _child(names=(NewName("Vicky", "Climbie"),), nhs_number=_nhs(3))

    response = _confirmed(world, merged=other_nhs)

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Check these are the same child" in page
    assert (
        'href="#id_reason">These records have different NHS numbers, so they are '
        "different children." in page
    )
    assert 'NHS number <strong class="govuk-tag govuk-tag--red">Different' in page
    assert REASON in page  # kept in the textarea
    assert _merges(world.manager) == []
    refused = AccessEvent.objects.get(action=AccessAction.CHILD_MERGE)
    assert (refused.outcome, refused.reason) == (
        Outcome.DENIED,
        "identifier_conflict",
    )


# Undoing ----------------------------------------------------------------------


@pytest.fixture
def merged(world):
    actor = actor_for_user(world.manager, second_factor_verified=True)
    survivor_id = child_id_for_directory_number(world.kept)
    merged_id = child_id_for_directory_number(world.duplicate)
    assert survivor_id
    assert merged_id
    return children_merge(
        actor=actor, survivor_id=survivor_id, merged_id=merged_id, reason=REASON
    )


def test_undoing_a_merge_goes_to_the_list_with_a_success_banner(world, merged):
    client = _client(world.manager)

    response = client.post(reverse("feeds:merge-undo", args=[merged.id]))

    assert response.status_code == 302
    assert response["Location"] == LIST
    page = _text(client.get(LIST))
    assert (
        f"Merge undone. {format_directory_number(world.duplicate)} and "
        f"{format_directory_number(world.kept)} are separate records again." in page
    )
    assert "Undone on " in page
    assert "Undo this merge" not in page
    [merge] = _merges(world.manager)
    assert merge.undone_at is not None
    split = AccessEvent.objects.get(action=AccessAction.CHILD_SPLIT)
    assert split.outcome == Outcome.ALLOWED


def test_undoing_a_merge_twice_shows_the_refusal(world, merged):
    client = _client(world.manager)
    client.post(reverse("feeds:merge-undo", args=[merged.id]))

    response = client.post(reverse("feeds:merge-undo", args=[merged.id]))

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Merged records" in page
    assert "govuk-error-summary" in page
    assert "<li>This merge cannot be undone.</li>" in page  # nothing to link to
    assert "Undone on " in page
    assert AccessEvent.objects.filter(
        action=AccessAction.CHILD_SPLIT, outcome=Outcome.DENIED
    ).exists()


def test_a_refusal_to_undo_a_listed_merge_links_to_its_button(world, merged):
    refusal = MergeRefused("busy", "Someone else is changing these records.")

    with mock.patch("ingestion.views.merges.merge_undo", side_effect=refusal):
        response = _client(world.manager).post(
            reverse("feeds:merge-undo", args=[merged.id])
        )

    page = _text(response)
    assert f'href="#undo-{merged.id}">Someone else is changing these records.' in page
    assert f'id="undo-{merged.id}"' in page


def test_a_merge_of_a_record_the_manager_may_not_see_is_not_listed(world):
    shielded, shielded_id = _child(
        names=(NewName("Sam", "Hidden"),),
        nhs_number=None,
        shielded=True,
        responsible_authority_id=world.authority.pk,
    )
    _, kept_id = _child(
        names=(NewName("Samuel", "Hidden"),),
        nhs_number=None,
        shielded=True,
        responsible_authority_id=world.authority.pk,
    )
    record = children_merge(
        actor=actor_for_user(world.manager, second_factor_verified=True),
        survivor_id=kept_id,
        merged_id=shielded_id,
        reason=REASON,
    )
    client = _client(world.outsider)

    listed = _text(client.get(LIST))
    refused = _text(client.post(reverse("feeds:merge-undo", args=[record.id])))

    assert "No records have been merged yet" in listed
    assert format_directory_number(shielded) not in listed
    assert "This merge cannot be undone." in refused
    assert [m.id for m in _merges(world.manager)] == [record.id]
    assert _merges(world.manager)[0].undone_at is None
