"""The feeds workspace over HTTP: who gets in, uploading, following a run,
the quarantine report, and deciding the review queue."""

import random
import re
from dataclasses import dataclass
from datetime import date
from typing import cast
from unittest import mock
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessAction, AccessEvent
from directory.identifiers import make_test_nhs_number
from directory.records import NewAddress, NewName
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE, NewChildFactory
from ingestion.models import (
    Channel,
    FeedFile,
    FeedRow,
    FeedRun,
    FeedSource,
    RowOutcome,
    RowState,
    RunStatus,
)
from ingestion.readers.csv_feed import TEMPLATE_HEADER
from ingestion.reviews import ReviewRefused
from ingestion.selectors import (
    RunFilters,
    feed_review_page,
    feed_runs_page,
    feed_sources_list,
)
from ingestion.services import feed_file_receive, feed_run_process
from ingestion.tests.factories import (
    BAD_NHS_NUMBER,
    FeedRowFactory,
    FeedRunFactory,
    FeedSourceFactory,
    csv_feed,
    csv_row,
)

pytestmark = pytest.mark.django_db

#: What differs between two renderings of one page: CSRF tokens and CSP nonces.
PER_RESPONSE = re.compile(rb'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')
HOME = reverse("feeds:home")
RUNS = reverse("feeds:run-list")
QUEUE = reverse("feeds:review-queue")


@dataclass
class World:
    authority: Organisation
    school: Organisation
    other_school: Organisation
    manager: User  # data manager at the school
    la_manager: User  # data manager at the school's local authority
    outsider: User  # data manager at a school in another authority
    teacher: User  # practitioner at the school
    source: FeedSource
    other_source: FeedSource


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    school = cast(
        Organisation, SchoolFactory(name="Hilltop Primary", parent_authority=authority)
    )
    other_authority = cast(
        Organisation, LocalAuthorityFactory(name="Southshire Council")
    )
    other_school = cast(
        Organisation,
        SchoolFactory(name="Valley Primary", parent_authority=other_authority),
    )
    manager = make_user(username="dana.data", first_name="Dana", last_name="Data")
    grant(manager, school, Role.DATA_MANAGER)
    la_manager = make_user(username="lee.la", first_name="Lee")
    grant(la_manager, authority, Role.DATA_MANAGER)
    outsider = make_user(username="olly.outside", first_name="Olly")
    grant(outsider, other_school, Role.DATA_MANAGER)
    teacher = make_user(username="pat.teacher", first_name="Pat")
    grant(teacher, school, Role.PRACTITIONER)
    source = cast(
        FeedSource,
        FeedSourceFactory(organisation=school, name="Hilltop pupils"),
    )
    other_source = cast(
        FeedSource,
        FeedSourceFactory(organisation=other_school, name="Valley pupils"),
    )
    return World(
        authority=authority,
        school=school,
        other_school=other_school,
        manager=manager,
        la_manager=la_manager,
        outsider=outsider,
        teacher=teacher,
        source=source,
        other_source=other_source,
    )


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _text(response) -> str:
    """The page, with runs of white space as one space."""
    return " ".join(response.content.decode().split())


def _nhs(seed: int) -> str:
    return make_test_nhs_number(random.Random(seed))


def _existing_child(**kwargs):
    """Katherine Okafor, born 12 April 2016, at N17 6AA, with an NHS number."""
    fields = {
        "names": (NewName("Katherine", "Okafor"),),
        "date_of_birth": date(2016, 4, 12),
        "gender": "2",
        "nhs_number": _nhs(99),
        "addresses": (NewAddress(("1 High Road", "London"), "N17 6AA"),),
        "carers": (),
    } | kwargs
    return child_records_create(
        children=[NewChildFactory.build(**fields)], source=FEED_SOURCE
    )[0]


#: One good row, one with a wrong NHS number check digit, and one that is
#: close to Katherine Okafor without being sure (no identifiers; a nickname,
#: a date of birth one digit out and the neighbouring postcode: between the
#: match thresholds).
GOOD = csv_row(given="Amara", family="Mensah", born="2015-06-01", nhs_number=_nhs(1))
BAD = csv_row(
    given="Ben", family="Ashworth", born="2015-01-02", nhs_number=BAD_NHS_NUMBER
)
NEAR = csv_row(given="Kathy", family="Okafor", born="2016-04-13", postcode="N17 6AB")


def _received(source: FeedSource, data: bytes) -> FeedRun:
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    return feed_run_process(receipt.run.pk)


def _imported(source: FeedSource, *rows: str) -> FeedRun:
    return _received(source, csv_feed(*rows))


def _urls(world: World) -> dict[str, tuple[str, str]]:
    """Every page of the workspace, for a run and rows of the school's feed."""
    run = FeedRunFactory(source=world.source)
    quarantined = FeedRowFactory(run=run)
    waiting = FeedRowFactory(run=run, state=RowState.WAITING, problems=[])
    return {
        "home": ("get", HOME),
        "csv-template": ("get", reverse("feeds:csv-template")),
        "upload": ("get", reverse("feeds:upload", args=[world.source.pk])),
        "upload-post": ("post", reverse("feeds:upload", args=[world.source.pk])),
        "run-list": ("get", RUNS),
        "run": ("get", reverse("feeds:run", args=[run.pk])),
        "run-progress": ("get", reverse("feeds:run-progress", args=[run.pk])),
        "review-queue": ("get", QUEUE),
        "review": ("get", reverse("feeds:review", args=[waiting.pk])),
        "review-post": ("post", reverse("feeds:review", args=[waiting.pk])),
        "row": ("get", reverse("feeds:row", args=[quarantined.pk])),
        "merge-list": ("get", reverse("feeds:merge-list")),
        "merge-new": ("get", reverse("feeds:merge-new")),
        "merge-confirm": ("post", reverse("feeds:merge-confirm")),
        "merge-undo": ("post", reverse("feeds:merge-undo", args=[uuid4()])),
        "retention": ("get", reverse("feeds:retention")),
    }


# Who gets in ------------------------------------------------------------------


def test_every_url_of_the_workspace_is_in_the_list(world):
    from django.urls import resolve

    from ingestion.urls import urlpatterns

    reached = {resolve(path).url_name for _, path in _urls(world).values()}
    assert reached == {pattern.name for pattern in urlpatterns}


def test_everyone_but_data_managers_gets_403_everywhere_and_changes_nothing(world):
    client = _client(world.teacher)
    urls = _urls(world)
    runs_before = FeedRun.objects.count()
    events_before = AccessEvent.objects.count()

    for name, (method, path) in urls.items():
        response = getattr(client, method)(path, {"decision": "dismiss"})
        assert response.status_code == 403, name
        assert "You cannot view this page" in _text(response), name

    assert FeedRun.objects.count() == runs_before
    # As in the auditor's workspace: the role check reads nothing, so it
    # writes no event.
    assert AccessEvent.objects.count() == events_before
    assert not FeedRow.objects.exclude(
        state__in=[RowState.QUARANTINED, RowState.WAITING]
    ).exists()


def test_a_data_manager_of_another_authority_gets_404_for_every_object(world):
    client = _client(world.outsider)

    for name, (method, path) in _urls(world).items():
        response = getattr(client, method)(path, {"decision": "dismiss"})
        if name in {"home", "csv-template", "run-list", "review-queue"} or (
            name.startswith(("merge-", "retention"))  # name no feed; own tests
        ):
            assert response.status_code in {200, 302}, name
        else:
            assert response.status_code == 404, name
            assert "Page not found" in _text(response), name

    assert FeedRow.objects.filter(state=RowState.WAITING).count() == 1


def test_missing_and_forbidden_look_the_same(world):
    client = _client(world.outsider)
    forbidden = FeedRunFactory(source=world.source)

    missing = client.get(reverse("feeds:run", args=[uuid4()]))
    other = client.get(reverse("feeds:run", args=[forbidden.pk]))

    assert missing.status_code == other.status_code == 404
    assert PER_RESPONSE.sub(b"", missing.content) == PER_RESPONSE.sub(
        b"", other.content
    )


def test_the_workspace_needs_a_second_factor(world, client):
    client.force_login(world.manager)

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second-factor"))


def test_pages_are_not_cached_and_show_the_feeds_navigation(world):
    client = _client(world.manager)
    for name, (method, path) in _urls(world).items():
        if method != "get" or name in {"csv-template", "run-progress"}:
            continue
        response = client.get(path)
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        page = _text(response)
        assert re.search(r'aria-current="page"> <strong[^>]*>Feeds<', page), name
        assert page.count("govuk-service-navigation__item--active") == 1, name


def test_the_feeds_navigation_item_is_for_data_managers_only(world):
    template = engines["django"].from_string(
        '{% include "includes/navigation_feeds.html" %}'
    )

    def rendered(user: User, verified: bool = True) -> str:
        request = RequestFactory().get("/")
        request.user = user
        user.is_verified = lambda: verified
        return template.render({"request": request}, request)

    assert ">Feeds<" in rendered(world.manager).replace(" ", "").replace("\n", "")
    assert "Feeds" not in rendered(world.teacher)
    assert "Feeds" not in rendered(world.manager, verified=False)


def test_a_post_without_its_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(world.manager)

    response = client.post(
        reverse("feeds:upload", args=[world.source.pk]),
        {"file": SimpleUploadedFile("feed.csv", csv_feed(GOOD))},
    )

    assert response.status_code == 403
    assert not FeedRun.objects.exists()


# The feeds home page ----------------------------------------------------------


def test_home_lists_the_sources_a_data_manager_manages(world):
    run = _imported(world.source, GOOD)

    page = _text(_client(world.manager).get(HOME))

    assert "Hilltop pupils" in page
    assert "Valley pupils" not in page
    assert "Hilltop Primary" in page
    assert "Generic CSV" in page
    assert "Nightly at 2am" in page
    assert "Finished" in page
    assert reverse("feeds:run", args=[run.pk]) in page
    assert (
        f'href="{reverse("feeds:upload", args=[world.source.pk])}">Upload a file'
        in page
    )


def test_a_local_authority_data_manager_manages_its_schools_feeds(world):
    page = _text(_client(world.la_manager).get(HOME))

    assert "Hilltop pupils" in page
    assert "Valley pupils" not in page


def test_the_listed_sources_are_exactly_those_the_policy_allows(world):
    from accounts.actors import actor_for_user
    from ingestion.policies import decide_feed_manage
    from ingestion.selectors import feed_facts_of

    authority_source = FeedSourceFactory(organisation=world.authority)
    sources = [world.source, world.other_source, authority_source]
    for user in (world.manager, world.la_manager, world.outsider):
        actor = actor_for_user(user, second_factor_verified=True)
        listed = {row.source.pk for row in feed_sources_list(actor=actor)}
        allowed = {
            s.pk for s in sources if decide_feed_manage(actor, feed_facts_of(s)).allowed
        }
        assert listed == allowed, user.username


def test_home_says_what_to_do_when_there_are_no_feeds(world):
    nobody = make_user(username="new.manager")
    grant(nobody, cast(Organisation, SchoolFactory()), Role.DATA_MANAGER)

    page = _text(_client(nobody).get(HOME))

    assert "No feeds are set up for your organisations yet" in page
    assert "contact the administrator" in page


def test_the_sources_list_takes_three_queries(world, django_assert_num_queries):
    from accounts.actors import actor_for_user

    FeedSourceFactory(organisation=world.school)
    _imported(world.source, GOOD, NEAR)
    actor = actor_for_user(world.manager, second_factor_verified=True)

    with django_assert_num_queries(3):
        rows = feed_sources_list(actor=actor)

    assert rows[0].source.name == "Hilltop pupils"
    assert {row.last_run is not None for row in rows} == {True, False}


# Uploading --------------------------------------------------------------------


def _upload(client: Client, source: FeedSource, data: bytes, name: str = "feed.csv"):
    return client.post(
        reverse("feeds:upload", args=[source.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_the_upload_page_says_what_it_takes(world):
    page = _text(
        _client(world.manager).get(reverse("feeds:upload", args=[world.source.pk]))
    )

    assert "Generic CSV" in page
    assert "100 MB" in page
    assert "250,000 children" in page
    assert f'href="{reverse("feeds:csv-template")}"' in page
    assert "Download a CSV template" in page
    assert 'enctype="multipart/form-data"' in page
    assert 'class="govuk-file-upload"' in page


def test_only_csv_feeds_offer_the_csv_template(world):
    ctf = FeedSourceFactory(organisation=world.school, format="ctf")

    page = _text(_client(world.manager).get(reverse("feeds:upload", args=[ctf.pk])))

    assert "Common Transfer File" in page
    assert "Download a CSV template" not in page


def test_the_csv_template_downloads_as_a_csv_attachment(world):
    response = _client(world.manager).get(reverse("feeds:csv-template"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    first_line = response.content.decode().splitlines()[0]
    assert first_line.split(",") == list(TEMPLATE_HEADER)


def test_an_upload_is_received_and_shows_its_run(world):
    response = _upload(_client(world.manager), world.source, csv_feed(GOOD))

    run = FeedRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feeds:run", args=[run.pk])
    assert run.channel == Channel.UPLOAD
    assert run.received_by_id == world.manager.pk
    assert run.status == RunStatus.QUEUED
    event = AccessEvent.objects.get(action=AccessAction.FEED_RECEIVE)
    assert (event.actor_id, event.outcome, event.reason) == (
        world.manager.pk,
        "allowed",
        "received",
    )
    page = _text(_client(world.manager).get(response["Location"]))
    assert "Waiting to start" in page


def test_a_file_received_before_shows_the_existing_run_and_imports_nothing(world):
    client = _client(world.manager)
    first = _upload(client, world.source, csv_feed(GOOD))

    again = _upload(client, world.source, csv_feed(GOOD), name="again.csv")

    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert FeedRun.objects.count() == 1
    assert FeedFile.objects.count() == 1
    page = _text(client.get(again["Location"]))
    assert "govuk-notification-banner" in page
    assert re.search(
        r"This file was already received on \d{1,2} \w+ \d{4}\. "
        r"Nothing was imported again\.",
        page,
    )


def test_a_file_too_large_is_an_error_and_nothing_is_stored(world, settings):
    settings.FEED_MAX_BYTES = 2 * 1024
    response = _upload(_client(world.manager), world.source, b"x" * (3 * 1024))

    assert response.status_code == 200
    page = _text(response)
    assert "<title>Error: Upload a file" in page
    assert "govuk-error-summary" in page
    assert 'href="#id_file">The selected file must be smaller than 2 KB' in page
    assert "govuk-file-upload--error" in page
    assert not FeedRun.objects.exists()
    assert not FeedFile.objects.exists()


def test_no_file_chosen_is_an_error(world):
    response = _client(world.manager).post(
        reverse("feeds:upload", args=[world.source.pk]), {}
    )

    assert response.status_code == 200
    assert 'href="#id_file">Select a file to upload' in _text(response)
    assert not FeedRun.objects.exists()


def test_an_empty_file_is_an_error(world):
    response = _upload(_client(world.manager), world.source, b"")

    assert "The selected file is empty" in _text(response)
    assert not FeedRun.objects.exists()


def test_uploading_to_another_authoritys_feed_is_refused_and_audited(world):
    response = _upload(_client(world.manager), world.other_source, csv_feed(GOOD))

    assert response.status_code == 404
    assert not FeedRun.objects.exists()
    event = AccessEvent.objects.get(action=AccessAction.FEED_RECEIVE)
    assert (event.actor_id, event.outcome, event.reason) == (
        world.manager.pk,
        "denied",
        "other_authority",
    )


def test_an_inactive_feed_takes_no_uploads(world):
    FeedSource.objects.filter(pk=world.source.pk).update(is_active=False)
    client = _client(world.manager)

    assert (
        client.get(reverse("feeds:upload", args=[world.source.pk])).status_code == 404
    )
    assert _upload(client, world.source, csv_feed(GOOD)).status_code == 404
    assert not FeedRun.objects.exists()


# Following a run ----------------------------------------------------------------


def test_the_run_page_shows_its_counters_and_the_quarantine_report(world):
    _existing_child()
    run = _imported(world.source, GOOD, BAD, NEAR)
    assert (run.created, run.quarantined, run.waiting) == (1, 1, 1)

    page = _text(_client(world.manager).get(reverse("feeds:run", args=[run.pk])))

    assert "Finished" in page
    counters = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Rows done 3 of 3 ( 100 %)" in counters
    assert "Imported 1 New children: 1 ." in counters
    assert "Not imported (quarantined) 1" in counters
    assert "Waiting for review 1" in counters
    # The report: the row, the field and the reason; no child data.
    bad = FeedRow.objects.get(run=run, state=RowState.QUARANTINED)
    assert reverse("feeds:row", args=[bad.pk]) in page
    assert "Line 3" in page
    assert "NHS number" in page
    assert bad.problems[0]["message"] in page
    assert "Ashworth" not in page
    assert f"{QUEUE}?run={run.pk}" in page
    assert "Upload a corrected file" in page
    # Finished: no polling script, no refresh link.
    assert "feed-progress.js" not in page
    assert ">Refresh<" not in page


def test_a_running_run_polls_for_progress_and_offers_a_refresh_link(world):
    run = FeedRunFactory(
        source=world.source, status=RunStatus.RUNNING, total_rows=2000, rows_done=500
    )

    page = _text(_client(world.manager).get(reverse("feeds:run", args=[run.pk])))

    assert re.search(r'<script type="module" src="[^"]*js/feed-progress\.js"', page)
    assert 'aria-live="polite"' in page
    assert "Importing: 500 of 2000 rows done (25%)." in page
    assert f'href="{reverse("feeds:run", args=[run.pk])}">Refresh</a>' in page
    assert f'data-progress-url="{reverse("feeds:run-progress", args=[run.pk])}"' in page
    assert "http-equiv" not in page


def test_the_progress_endpoint_gives_the_counters(world):
    run = FeedRunFactory(
        source=world.source,
        status=RunStatus.RUNNING,
        total_rows=10,
        rows_done=4,
        created=2,
        updated=1,
        unchanged=0,
        quarantined=1,
    )

    response = _client(world.manager).get(reverse("feeds:run-progress", args=[run.pk]))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(run.pk),
        "status": "running",
        "status_label": "Importing",
        "active": True,
        "total_rows": 10,
        "rows_done": 4,
        "percent_done": 40,
        "applied": 3,
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "quarantined": 1,
        "waiting": 0,
    }


def test_a_refused_file_says_why(world):
    run = _received(world.source, b"<?xml version='1.0'?><CTfile></CTfile>")

    page = _text(_client(world.manager).get(reverse("feeds:run", args=[run.pk])))

    assert run.status == RunStatus.REJECTED
    assert "File refused" in page
    assert "The file was refused. Nothing in it was imported." in page
    assert run.refusal_message in page


def test_the_quarantine_report_is_paged(world, settings):
    run = FeedRunFactory(source=world.source, quarantined=30)
    FeedRowFactory.create_batch(30, run=run)
    client = _client(world.manager)

    first = _text(client.get(reverse("feeds:run", args=[run.pk])))
    second = _text(client.get(reverse("feeds:run", args=[run.pk]) + "?page=2"))

    assert "30 rows not imported (page 1 of 2)" in first
    assert 'aria-label="Pages of rows not imported"' in first
    assert first.count("govuk-table__row") == 26  # header + 25
    assert second.count("govuk-table__row") == 6


def test_the_runs_list_filters_by_feed_and_status(world):
    second_source = FeedSourceFactory(organisation=world.school, name="Hilltop staff")
    FeedRunFactory(source=world.source, status=RunStatus.COMPLETED)
    FeedRunFactory(source=world.source, status=RunStatus.REJECTED)
    FeedRunFactory(source=second_source, status=RunStatus.COMPLETED)
    FeedRunFactory(source=world.other_source)
    client = _client(world.manager)

    everything = _text(client.get(RUNS))
    by_source = _text(client.get(RUNS, {"source": world.source.pk}))
    by_both = _text(client.get(RUNS, {"source": world.source.pk, "status": "rejected"}))

    assert "3 imports" in everything
    assert "Valley pupils" not in everything
    assert "2 imports match the filters" in by_source
    assert "1 import match the filters" in by_both
    assert "File refused" in by_both


def test_an_unknown_feed_in_the_filter_is_an_error(world):
    response = _client(world.manager).get(RUNS, {"source": world.other_source.pk})

    page = _text(response)
    assert "<title>Error: Imports" in page
    assert "Select one of the feeds listed" in page
    assert "Valley pupils" not in page


def test_the_runs_page_is_one_query_per_page(world, django_assert_num_queries):
    from accounts.actors import actor_for_user

    FeedRunFactory.create_batch(3, source=world.source)
    actor = actor_for_user(world.manager, second_factor_verified=True)

    with django_assert_num_queries(2):  # count, page
        page = feed_runs_page(actor=actor, filters=RunFilters())
        assert [run.source.organisation.name for run in page] == ["Hilltop Primary"] * 3


# A quarantined row --------------------------------------------------------------


def test_a_quarantined_row_shows_what_was_sent_beside_its_reasons(world):
    run = _imported(world.source, GOOD, BAD)
    bad = FeedRow.objects.get(run=run, state=RowState.QUARANTINED)

    page = _text(_client(world.manager).get(reverse("feeds:row", args=[bad.pk])))

    assert '<h1 class="govuk-heading-l">Line 3</h1>' in page
    assert "Ashworth" in page  # the row as sent, to its data manager
    assert BAD_NHS_NUMBER in page
    assert bad.problems[0]["message"] in page
    event = AccessEvent.objects.get(action=AccessAction.FEED_ROW_VIEW)
    assert (event.actor_id, event.outcome) == (world.manager.pk, "allowed")


def test_another_authoritys_row_is_not_found_and_the_attempt_audited(world):
    run = _imported(world.source, BAD)
    bad = FeedRow.objects.get(run=run)

    response = _client(world.outsider).get(reverse("feeds:row", args=[bad.pk]))

    assert response.status_code == 404
    event = AccessEvent.objects.get(action=AccessAction.FEED_ROW_VIEW)
    assert (event.actor_id, event.outcome, event.reason) == (
        world.outsider.pk,
        "denied",
        "other_authority",
    )


# The review queue -----------------------------------------------------------------


@pytest.fixture
def waiting(world) -> tuple[FeedRow, UUID]:
    """A row waiting for review, and the child it may be."""
    child = _existing_child()
    run = _imported(world.source, NEAR)
    row = FeedRow.objects.get(run=run)
    assert row.state == RowState.WAITING, row.match
    return row, child.id


def test_the_queue_lists_waiting_rows_of_the_data_managers_feeds(world, waiting):
    row, _child_id = waiting

    mine = _text(_client(world.manager).get(QUEUE))
    theirs = _text(_client(world.outsider).get(QUEUE))

    assert "1 row is waiting for review" in mine
    assert reverse("feeds:review", args=[row.pk]) in mine
    assert "Hilltop pupils" in mine
    assert "not enough to be sure" in mine
    assert "Okafor" not in mine  # the queue shows no child data
    assert "No rows are waiting for review" in theirs


def test_the_queue_takes_two_queries(world, waiting, django_assert_num_queries):
    from accounts.actors import actor_for_user

    actor = actor_for_user(world.manager, second_factor_verified=True)
    with django_assert_num_queries(2):
        page = feed_review_page(actor=actor)
        assert [row.run.source.name for row in page] == ["Hilltop pupils"]


def test_the_review_page_sets_the_row_beside_each_candidate(world, waiting):
    row, child_id = waiting

    page = _text(_client(world.manager).get(reverse("feeds:review", args=[row.pk])))

    assert "Kathy" in page
    assert "Candidate 1: Katherine Okafor" in page
    assert "12 April 2016" in page
    assert "2016-04-13" in page
    assert 'govuk-tag govuk-tag--green">Same' in page  # family name
    assert 'govuk-tag govuk-tag--yellow">Similar' in page  # nickname, date
    assert (
        "Link to this child: candidate 1, Katherine Okafor, born 12 April 2016" in page
    )
    assert "Create a new child" in page
    assert "Do not import this row" in page
    assert str(child_id) in page  # the radio's value: in the form, not a URL
    views = AccessEvent.objects.filter(action=AccessAction.FEED_ROW_VIEW)
    assert views.count() == 1
    opened = AccessEvent.objects.get(action=AccessAction.VIEW)
    assert (opened.child_id, opened.purpose) == (child_id, "data_management")


def test_linking_applies_the_row_to_the_chosen_child(world, waiting):
    row, child_id = waiting
    client = _client(world.manager)

    response = client.post(
        reverse("feeds:review", args=[row.pk]), {"decision": f"link:{child_id}"}
    )

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    row.refresh_from_db()
    assert (row.state, row.child_id, row.decided_by_id) == (
        RowState.LINKED,
        child_id,
        world.manager.pk,
    )
    run = FeedRun.objects.get(pk=row.run_id)
    assert run.waiting == 0
    assert run.updated + run.unchanged == 1
    page = _text(client.get(QUEUE))
    assert "The row has been linked to the child you chose." in page
    assert "No rows are waiting for review" in page
    decided = AccessEvent.objects.get(action=AccessAction.FEED_REVIEW)
    assert (decided.reason, decided.child_id) == ("decided_link", child_id)


def test_creating_a_new_child_from_the_row(world, waiting):
    row, child_id = waiting

    response = _client(world.manager).post(
        reverse("feeds:review", args=[row.pk]), {"decision": "new"}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.state == RowState.CREATED
    assert row.outcome == RowOutcome.CREATED
    assert row.child_id not in {None, child_id}
    assert FeedRun.objects.get(pk=row.run_id).created == 1


def test_not_importing_the_row(world, waiting):
    row, _child_id = waiting

    response = _client(world.manager).post(
        reverse("feeds:review", args=[row.pk]), {"decision": "dismiss"}
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.child_id) == (RowState.DISMISSED, None)
    run = FeedRun.objects.get(pk=row.run_id)
    assert (run.waiting, run.created, run.updated, run.unchanged) == (0, 0, 0, 0)


def test_no_decision_chosen_is_an_error(world, waiting):
    row, _child_id = waiting

    response = _client(world.manager).post(reverse("feeds:review", args=[row.pk]), {})

    page = _text(response)
    assert response.status_code == 200
    assert "<title>Error: Review line 2" in page
    assert 'href="#id_decision">Select what should happen to this row' in page
    row.refresh_from_db()
    assert row.state == RowState.WAITING


def test_a_child_not_shown_cannot_be_linked(world, waiting):
    row, _child_id = waiting
    stranger = _existing_child(names=(NewName("Zed", "Other"),), nhs_number=_nhs(7))

    response = _client(world.manager).post(
        reverse("feeds:review", args=[row.pk]), {"decision": f"link:{stranger.id}"}
    )

    assert "Select one of the options shown" in _text(response)
    row.refresh_from_db()
    assert row.state == RowState.WAITING


def test_the_services_refusal_is_shown_in_the_error_summary(world, waiting):
    row, child_id = waiting
    refusal = ReviewRefused("already_decided", "Someone has already decided this row.")

    with mock.patch("ingestion.views.reviews.feed_row_decide", side_effect=refusal):
        response = _client(world.manager).post(
            reverse("feeds:review", args=[row.pk]), {"decision": f"link:{child_id}"}
        )

    page = _text(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in page
    assert 'href="#id_decision">Someone has already decided this row.' in page


def test_a_decided_row_goes_to_its_own_page(world, waiting):
    row, _child_id = waiting
    client = _client(world.manager)
    client.post(reverse("feeds:review", args=[row.pk]), {"decision": "dismiss"})

    response = client.get(reverse("feeds:review", args=[row.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("feeds:row", args=[row.pk])
    assert "Reviewed: not imported" in _text(client.get(response["Location"]))


def test_another_authoritys_data_manager_cannot_decide(world, waiting):
    row, child_id = waiting

    response = _client(world.outsider).post(
        reverse("feeds:review", args=[row.pk]), {"decision": f"link:{child_id}"}
    )

    assert response.status_code == 404
    row.refresh_from_db()
    assert row.state == RowState.WAITING


def test_a_restricted_candidate_is_shown_without_details(world):
    elsewhere = LocalAuthorityFactory(name="Eastshire Council")
    _existing_child(shielded=True, responsible_authority_id=elsewhere.pk)
    run = _imported(world.source, NEAR)
    row = FeedRow.objects.get(run=run)
    assert row.state == RowState.WAITING, row.match

    page = _text(_client(world.manager).get(reverse("feeds:review", args=[row.pk])))

    assert (
        "A restricted record may match — contact the responsible authority’s "
        "shielding officer." in page
    )
    assert "Katherine" not in page
    assert "12 April 2016" not in page
    assert "Link to this child" not in page
    assert "Do not create a new child until the shielding officer" in page
