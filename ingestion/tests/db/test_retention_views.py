"""The retention report page (/feeds/retention/) over HTTP: who gets in, the
empty state, asking for a check, the counts and records by directory number
(shielded ones only to their authority), the rule filter and its errors,
paging, and the access event every showing writes."""

import json
import random
from dataclasses import dataclass
from datetime import date
from typing import cast
from unittest import mock
from uuid import UUID

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessAction, AccessEvent
from contactpoint.crypto.fields import unseal
from directory.identifiers import format_directory_number, make_test_nhs_number
from directory.selectors import directory_numbers_for
from directory.services.child_records import child_records_create
from directory.services.lifecycle import lifecycle_run_process, lifecycle_run_start
from directory.tasks import lifecycle_dry_run_task
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

URL = reverse("feeds:retention")
#: The children below turn 18 on this day, which the dry run plans.
AS_OF = date(2030, 6, 16)


@dataclass
class World:
    authority: Organisation
    manager: User
    other_manager: User  # data manager at another authority
    teacher: User


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    other = cast(Organisation, LocalAuthorityFactory(name="Southshire Council"))
    manager = make_user(username="dana.data", first_name="Dana")
    grant(manager, authority, Role.DATA_MANAGER)
    other_manager = make_user(username="olly.other", first_name="Olly")
    grant(other_manager, other, Role.DATA_MANAGER)
    teacher = make_user(username="pat.teacher", first_name="Pat")
    grant(teacher, authority, Role.PRACTITIONER)
    return World(authority, manager, other_manager, teacher)


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _children(count: int, **fields) -> list[UUID]:
    """``count`` children turning 18 on AS_OF."""
    rng = random.Random(count)
    return [
        c.id
        for c in child_records_create(
            children=[
                NewChildFactory.build(
                    date_of_birth=date(2012, 6, 16),
                    nhs_number=make_test_nhs_number(rng),
                    **fields,
                )
                for _ in range(count)
            ],
            source=FEED_SOURCE,
            today=date(2030, 1, 10),
        )
    ]


def _dry_run():
    with time_machine.travel("2030-06-15 12:00 +00:00", tick=False):
        run, _ = lifecycle_run_start(kind="dry_run", as_of=AS_OF)
        return lifecycle_run_process(run_id=run.pk)


def _numbers(ids: list[UUID]) -> list[str]:
    found = directory_numbers_for(ids)
    return [format_directory_number(found[i]) for i in ids]


def _viewed() -> AccessEvent:
    return AccessEvent.objects.filter(
        action=AccessAction.LIFECYCLE_RUN, reason="report_viewed"
    ).latest("seq")


# Who gets in ------------------------------------------------------------------


def test_only_data_managers_open_the_report(world):
    for method in ("get", "post"):
        response = getattr(_client(world.teacher), method)(URL)
        assert response.status_code == 403

    assert not AccessEvent.objects.filter(action=AccessAction.LIFECYCLE_RUN).exists()


def test_the_report_needs_a_second_factor(world, client):
    client.force_login(world.manager)

    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))


def test_the_feeds_home_page_links_to_the_report(world):
    page = _text(_client(world.manager).get(reverse("feeds:home")))

    assert f'href="{URL}">Records due to be archived or purged</a>' in page


# The page ---------------------------------------------------------------------


def test_before_any_check_the_page_says_so_and_offers_one(world):
    response = _client(world.manager).get(URL)

    page = _text(response)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "The retention job has not run yet." in page
    assert "Nobody has checked what the next run will do yet." in page
    assert "Check what the next run will do</button>" in page
    assert _viewed().detail == (
        "Viewed the retention report: no dry run has finished yet."
    )


def test_asking_for_a_check_queues_a_dry_run_and_says_so(
    world, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(lifecycle_dry_run_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _client(world.manager).post(URL, follow=True)

    page = _text(response)
    assert response.redirect_chain == [(URL, 302)]
    assert "The check has started." in page
    (run_id,) = delay.call_args.args
    assert "of about 0 records checked so far" in page
    assert "Check again now" not in page  # no second button while it runs
    assert (
        AccessEvent.objects.filter(reason="dry_run_requested").get().actor_id
        == world.manager.pk
    )
    assert UUID(run_id)


def test_the_report_lists_the_records_due_by_directory_number(world):
    due = _children(2)
    _dry_run()

    response = _client(world.manager).get(URL)

    page = _text(response)
    assert "for the run on 16 June 2030 at 1:30am" in page
    assert (
        '<th scope="row" class="govuk-table__header">Archive: 18th birthday</th> '
        '<td class="govuk-table__cell govuk-table__cell--numeric">2</td>'
    ) in page
    for child_id, number in zip(due, _numbers(due), strict=True):
        link = reverse("directory:record", args=[child_id])
        assert f'<a class="govuk-link" href="{link}">{number}' in page
    shown = json.loads(unseal(_viewed(), "result_ids") or "[]")
    assert sorted(shown) == sorted(str(i) for i in due)


def test_a_shielded_record_is_named_only_to_its_authority(world):
    (shielded,) = _children(
        1, shielded=True, responsible_authority_id=world.authority.pk
    )
    _dry_run()
    (number,) = _numbers([shielded])

    own = _text(_client(world.manager).get(URL))
    other = _text(_client(world.other_manager).get(URL))

    assert number in own
    assert number not in other
    assert "Restricted record" in other
    assert json.loads(unseal(_viewed(), "result_ids") or "[]") == []


def test_the_report_pages_50_records_at_a_time(world):
    due = sorted(_children(52))
    _dry_run()

    first = _text(_client(world.manager).get(URL))
    second = _text(_client(world.manager).get(URL, {"page": "2"}))
    nonsense = _client(world.manager).get(URL, {"page": "many"})

    numbers = _numbers(due)
    assert numbers[49] in first
    assert numbers[50] not in first
    assert numbers[50] in second
    assert numbers[51] in second
    assert numbers[0] not in second
    assert "(page 2 of 2)" in second
    assert nonsense.status_code == 200


def test_the_report_filters_by_rule(world):
    _children(1)
    _dry_run()

    page = _text(_client(world.manager).get(URL, {"rule": "purge"}))

    assert "No records are due under this rule." in page


def test_an_unknown_rule_is_named_and_every_record_shown(world):
    (child_id,) = _children(1)
    _dry_run()

    response = _client(world.manager).get(URL, {"rule": "shred"})

    page = _text(response)
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "There is no rule with that name" in page
    assert _numbers([child_id])[0] in page


def test_a_record_purged_since_the_check_says_so(world):
    _children(1)
    _dry_run()
    for day in ("2030-06-16", "2036-06-16"):  # archived, then purged
        with time_machine.travel(f"{day} 12:00 +00:00", tick=False):
            run, _ = lifecycle_run_start(kind="run", as_of=date.fromisoformat(day))
            lifecycle_run_process(run_id=run.pk)

    page = _text(_client(world.manager).get(URL))

    assert "No longer in the directory" in page
    assert 'Records purged</dt> <dd class="govuk-summary-list__value">1</dd>' in page
