"""A child's subject access report: the audited selector, the page and the PDF."""

import base64
import datetime as dt
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import cast

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.test import Client
from django.urls import reverse
from reportlab.platypus import Paragraph, Table

from accounts.actors import Actor, actor_for_user
from accounts.middleware import SECOND_FACTOR_AT
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from accounts.tests.second_factors import verified_session_key
from audit.models import AccessEvent
from contactpoint.crypto.fields import unseal
from directory.corrections import CorrectableDetail
from directory.identifiers import format_directory_number
from directory.policies import Purpose
from directory.records import (
    NewAddress,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)
from directory.selectors import ChildRecordUnavailable, child_record_get
from directory.selectors.subject_access import (
    ReportFormat,
    SubjectAccessReport,
    subject_access_report,
)
from directory.services.child_records import child_records_create
from directory.services.corrections import CorrectedValue, record_correct
from directory.subject_access_pdf import subject_access_pdf, subject_access_story
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

CLINIC = "Riverside Sexual Health Clinic"
REASON = "The school confirmed the spelling from the admission form"


@dataclass
class World:
    authority: Organisation
    school: Organisation
    manager: User
    teacher: User
    auditor: User
    dm: Actor
    child_id: uuid.UUID
    number: str


def _verified(user: User) -> Actor:
    return actor_for_user(user, second_factor_verified=True)


@pytest.fixture
def world() -> World:
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
    manager = make_user(username="dee.data", first_name="Dee", last_name="Data")
    grant(manager, authority, Role.DATA_MANAGER)
    teacher = make_user(username="pat.teacher", first_name="Pat", last_name="Teacher")
    grant(teacher, school, Role.PRACTITIONER)
    auditor = make_user(username="ana.audit", first_name="Ana", last_name="Audit")
    grant(auditor, authority, Role.AUDITOR)
    created = child_records_create(
        children=[
            NewChildFactory.build(
                names=(
                    NewName("Victoria", "Climbié"),
                    NewName("Anna", "Kouao", kind="former"),
                ),
                addresses=(
                    NewAddress(("1 Old Road", "Ealing"), "W5 2AA", is_current=False),
                    NewAddress(("12 Acacia Avenue", "Tottenham"), "N17 6QA"),
                ),
                involvements=(
                    NewInvolvement(
                        clinic.pk,
                        "sexual_health",
                        dt.date(2025, 9, 1),
                        practitioner_name="Jo Nurse",
                        practitioner_role="Specialist nurse",
                        phone="020 7946 0777",
                    ),
                    NewInvolvement(
                        school.pk,
                        "education",
                        dt.date(2020, 9, 1),
                        ended_on=dt.date(2021, 7, 20),
                        practitioner_name="Ms Former",
                    ),
                ),
                warning_flags=(
                    NewWarningFlag(
                        kind="child_in_need",
                        owning_organisation_id=authority.pk,
                        contact_name="Sam Social",
                        contact_phone="020 7946 0999",
                        starts_on=dt.date(2019, 1, 1),
                        ends_on=dt.date(2020, 1, 1),
                    ),
                ),
                responsible_authority_id=authority.pk,
            )
        ],
        source=FEED_SOURCE,
    )[0]
    return World(
        authority=authority,
        school=school,
        manager=manager,
        teacher=teacher,
        auditor=auditor,
        dm=_verified(manager),
        child_id=created.id,
        number=created.directory_number,
    )


def _report(world: World, actor: Actor | None = None, **kwargs) -> SubjectAccessReport:
    return subject_access_report(
        actor=actor or world.dm,
        child_id=kwargs.pop("child_id", world.child_id),
        report_format=kwargs.pop("report_format", ReportFormat.HTML),
    )


def _subject_access_events(world: World) -> list[tuple[str, str, str, str]]:
    return list(
        AccessEvent.objects.filter(action="subject_access")
        .order_by("seq")
        .values_list("outcome", "reason", "purpose", "detail")
    )


def _client(user: User) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = verified_session_key(user)
    return client


def _text(response) -> str:
    return " ".join(response.content.decode().split())


# The selector -------------------------------------------------------------------


def test_the_report_holds_everything_including_what_practitioners_cannot_see(world):
    record_correct(
        actor=world.dm,
        child_id=world.child_id,
        detail=CorrectableDetail.GENDER,
        value=CorrectedValue(gender="1"),
        reason=REASON,
    )

    report = _report(world)

    assert report.directory_number == format_directory_number(world.number)
    assert report.name == "Victoria Climbié"
    assert [(n.kind, n.full_name) for n in report.names] == [
        ("Legal name", "Victoria Climbié"),
        ("Former name", "Anna Kouao"),
    ]
    assert [(a.postcode, a.is_current) for a in report.addresses] == [
        ("N17 6QA", True),
        ("W5 2AA", False),
    ]
    assert report.nhs_number == "943 476 5919"
    assert report.gender == "Male"
    assert [c.name for c in report.carers] == ["Marie-Thérèse Kouao"]
    assert [
        (i.organisation_name, i.sensitive, i.ended_on) for i in report.involvements
    ] == [
        ("Hilltop Primary", False, dt.date(2021, 7, 20)),
        (CLINIC, True, None),
    ]
    assert [(f.kind, f.ends_on) for f in report.flags] == [
        ("Child in need plan", dt.date(2020, 1, 1))
    ]
    assert [(p.what, p.source, p.reason) for p in report.provenance] == [
        ("The whole record, when it was created", "Data feed: reference test-feed", ""),
        ("Gender", "Corrected by Dee Data", REASON),
    ]
    assert report.responsible_authority == "Northshire Council"


def test_the_report_lists_every_access_to_the_record_including_its_own(world):
    child_record_get(
        actor=_verified(world.teacher),
        child_id=world.child_id,
        purpose=Purpose.PROVIDING_SERVICE,
        purpose_detail="Checking who the school nurse is",
    )
    with pytest.raises(ChildRecordUnavailable):
        child_record_get(actor=_verified(world.auditor), child_id=world.child_id,
                         purpose=Purpose.OTHER)  # fmt: skip

    report = _report(world)

    assert [
        (a.who, a.role, a.organisation, a.action, a.allowed, a.purpose)
        for a in report.accesses
    ] == [
        (
            "Dee Data",
            "Data manager",
            "Northshire Council",
            "Produce a subject access report",
            True,
            "Data management",
        ),
        ("Ana Audit", "Auditor", "Northshire Council", "View record", False, "Other"),
        (
            "Pat Teacher",
            "Practitioner",
            "Hilltop Primary",
            "View record",
            True,
            "Providing a service",
        ),
    ]


def test_producing_the_report_is_audited_once_with_its_format(world):
    _report(world, report_format=ReportFormat.PDF)

    assert _subject_access_events(world) == [
        ("allowed", "granted_responsible_authority", "data_management",
         "Subject access report as PDF.")
    ]  # fmt: skip


def test_the_report_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    record_correct(
        actor=world.dm,
        child_id=world.child_id,
        detail=CorrectableDetail.GENDER,
        value=CorrectedValue(gender="1"),
        reason=REASON,
    )
    # child, names, addresses, carers, involvements, consents, flags,
    # provenance; the audit event (append, flush); merges; the people named
    # by provenance; the events, their people, organisations and directory
    # numbers.
    with django_assert_num_queries(16):
        _report(world)


@pytest.mark.parametrize(
    ("who", "reason"),
    [("teacher", "role_not_permitted"), ("auditor", "role_not_permitted")],
)
def test_practitioners_and_auditors_cannot_produce_it_and_are_audited(
    world, who, reason
):
    with pytest.raises(ChildRecordUnavailable):
        _report(world, _verified(getattr(world, who)))

    assert _subject_access_events(world) == [
        ("denied", reason, "data_management", "Subject access report as HTML.")
    ]


def test_a_data_manager_of_another_authority_cannot_produce_it(world):
    elsewhere = cast(Organisation, LocalAuthorityFactory(name="Southshire Council"))
    other = make_user(username="other.data")
    grant(other, elsewhere, Role.DATA_MANAGER)

    with pytest.raises(ChildRecordUnavailable):
        _report(world, _verified(other))

    assert _subject_access_events(world)[0][:2] == (
        "denied",
        "not_responsible_authority",
    )


def test_missing_records_look_like_forbidden_ones(world):
    with pytest.raises(ChildRecordUnavailable):
        _report(world, child_id=uuid.uuid4())

    assert _subject_access_events(world)[0][:2] == ("denied", "not_found")


def test_a_shielded_record_is_reported_by_its_authoritys_data_managers(world):
    shielded = child_records_create(
        children=[
            NewChildFactory.build(
                shielded=True, responsible_authority_id=world.authority.pk
            )
        ],
        source=FEED_SOURCE,
    )[0]

    report = _report(world, child_id=shielded.id)

    assert report.shielded
    assert AccessEvent.objects.get(action="subject_access").shielded_record


def test_an_archived_record_is_still_reported(world):
    from directory.models import Child

    Child.unaudited.filter(pk=world.child_id).update(status="archived")

    assert _report(world).status == "Archived"


# The PDF ----------------------------------------------------------------------------


def _plain_text(flowables) -> str:
    """The text of paragraphs, and of paragraphs inside tables."""
    parts: list[str] = []
    for flowable in flowables:
        if isinstance(flowable, Paragraph):
            parts.append(flowable.getPlainText())
        elif isinstance(flowable, Table):
            parts.extend(
                cell.getPlainText()
                for row in flowable._cellvalues
                for cell in row
                if isinstance(cell, Paragraph)
            )
        elif hasattr(flowable, "_content"):  # KeepTogether
            parts.append(_plain_text(flowable._content))
    return " ".join(parts)


def test_the_pdf_story_holds_the_record_and_the_accesses(world):
    child_record_get(
        actor=_verified(world.teacher),
        child_id=world.child_id,
        purpose=Purpose.PROVIDING_SERVICE,
    )

    text = _plain_text(subject_access_story(_report(world)))

    for expected in (
        format_directory_number(world.number),
        "Victoria Climbié",
        "Anna Kouao",
        "W5 2AA",
        CLINIC,
        "Sensitive service",
        "Child in need plan",
        "Marie-Thérèse Kouao",
        "Pat Teacher",
        "Providing a service",
        "Produce a subject access report",
    ):
        assert expected in text


def _info(pdf: bytes) -> str:
    """The document information dictionary's text (not compressed)."""
    match = re.search(rb"<<[^<>]*/Title[^<>]*>>", pdf)
    assert match is not None
    return match.group().decode("latin-1")


def test_the_pdf_is_a_pdf_with_title_author_and_language(world):
    report = _report(world)

    pdf = subject_access_pdf(report, service_name="Child Contact Directory")

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    info = _info(pdf)
    assert f"directory number {report.directory_number}" in info
    assert "Dee Data, Child Contact Directory" in info
    assert b"/Lang (en-GB)" in pdf
    assert b"/DisplayDocTitle true" in pdf
    assert b"/FontFile2" in pdf  # the font is embedded
    streams = [
        zlib.decompress(base64.a85decode(stream.strip(), adobe=True))
        for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
        if stream.strip().endswith(b"~>")  # page content: ASCII85 over Flate
    ]
    assert any(b" Tj" in stream for stream in streams)  # text is drawn


def test_the_pdf_prints_names_in_any_script(world):
    from contactpoint.crypto.fields import seal
    from directory.models import ChildName

    name = ChildName.unaudited.get(child_id=world.child_id, kind="legal")
    seal(name, "given_names", "Łucja <b>&amp;")
    name.save(update_fields=["given_names"])

    report = _report(world)
    pdf = subject_access_pdf(report, service_name="Child Contact Directory")

    assert report.name == "Łucja <b>&amp; Climbié"
    assert "Łucja <b>&amp; Climbié" in _plain_text(subject_access_story(report))
    assert pdf.startswith(b"%PDF-")


# The pages ----------------------------------------------------------------------------


def _url(world: World, pdf: bool = False) -> str:
    name = "directory:subject-access-pdf" if pdf else "directory:subject-access"
    return reverse(name, args=[world.child_id])


def test_the_page_shows_the_report_and_is_audited_as_html(world):
    child_record_get(
        actor=_verified(world.teacher),
        child_id=world.child_id,
        purpose=Purpose.PROVIDING_SERVICE,
    )

    response = _client(world.manager).get(_url(world))

    assert response.status_code == 200
    text = _text(response)
    assert '<h1 class="govuk-heading-l">Subject access report</h1>' in text
    assert format_directory_number(world.number) in text
    assert CLINIC in text
    assert "Pat Teacher" in text
    assert "Providing a service" in text
    assert "css/subject_access_print.css" in text
    assert 'media="print"' in text
    assert _url(world, pdf=True) in text
    assert [e[3] for e in _subject_access_events(world)] == [
        "Subject access report as HTML."
    ]


def test_the_pdf_download_is_a_pdf_and_is_audited_as_pdf(world):
    response = _client(world.manager).get(_url(world, pdf=True))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    number = format_directory_number(world.number).replace(" ", "")
    assert response["Content-Disposition"] == (
        f'attachment; filename="subject-access-report-{number}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    assert [e[3] for e in _subject_access_events(world)] == [
        "Subject access report as PDF."
    ]


@pytest.mark.parametrize("pdf", [False, True])
def test_both_need_a_second_factor_given_in_the_last_five_minutes(world, pdf):
    client = _client(world.manager)
    session = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    session[SECOND_FACTOR_AT] = time.time() - 3600
    session.save()

    response = client.get(_url(world, pdf=pdf))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:confirm-identity"))
    assert _subject_access_events(world) == []


@pytest.mark.parametrize("who", ["teacher", "auditor"])
@pytest.mark.parametrize("pdf", [False, True])
def test_practitioners_and_auditors_get_not_found(world, who, pdf):
    response = _client(getattr(world, who)).get(_url(world, pdf=pdf))

    assert response.status_code == 404
    assert _subject_access_events(world)[0][:2] == ("denied", "role_not_permitted")


def test_the_record_page_links_to_the_report_for_the_authoritys_data_manager(world):
    record = reverse("directory:record", args=[world.child_id])
    manager = _client(world.manager)
    manager.post(record, {"purpose": "data_management"})
    teacher = _client(world.teacher)
    teacher.post(record, {"purpose": "providing_service"})

    assert _url(world) in _text(manager.get(record))
    assert reverse("directory:correct", args=[world.child_id]) in _text(
        manager.get(record)
    )
    assert _url(world) not in _text(teacher.get(record))
    assert "Correct a detail" not in _text(teacher.get(record))
    # Opening the record page produced no report.
    assert _subject_access_events(world) == []


def test_unreadable_purpose_details_do_not_reach_the_report(world):
    child_record_get(
        actor=_verified(world.teacher),
        child_id=world.child_id,
        purpose=Purpose.OTHER,
        purpose_detail="Neighbour Mrs Smith rang about shouting",
    )

    response = _client(world.manager).get(_url(world))

    event = AccessEvent.objects.get(purpose="other")
    assert unseal(event, "purpose_detail") == "Neighbour Mrs Smith rang about shouting"
    assert "Mrs Smith" not in _text(response)
