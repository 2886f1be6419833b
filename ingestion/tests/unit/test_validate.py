from collections.abc import Mapping
from datetime import date

import pytest

from directory.records import (
    NewAddress,
    NewCarer,
    NewChild,
    NewInvolvement,
    NewName,
    NewWarningFlag,
)
from ingestion.pipeline import vocab
from ingestion.pipeline.records import (
    FieldProblem,
    Rejection,
    ValidationContext,
    ValidRecord,
)
from ingestion.pipeline.validate import validate
from ingestion.readers.base import RawRow

TODAY = date(2024, 9, 2)
CONTEXT = ValidationContext(
    today=TODAY,
    source_organisation_id=1,
    default_service_type="education",
    organisations_by_code={"100001": 7, "Y12345": 8},
    responsible_authority_id=50,
    service_types=frozenset({"education", "gp", "social_care"}),
    flag_kinds=frozenset({"child_protection_plan", "looked_after"}),
)
BASE = {
    "given_names": "Oliver",
    "family_name": "Testington",
    "date_of_birth": "2016-05-12",
}


def make_row(
    carers: tuple[Mapping[str, str], ...] = (),
    services: tuple[Mapping[str, str], ...] = (),
    flags: tuple[Mapping[str, str], ...] = (),
    **fields: str,
) -> RawRow:
    return RawRow(
        position=3,
        reference="line 4",
        fields={**BASE, **fields},
        carers=carers,
        services=services,
        flags=flags,
    )


def valid(row: RawRow) -> ValidRecord:
    result = validate(row, CONTEXT)
    assert isinstance(result, ValidRecord), result
    return result


def problems(row: RawRow) -> list[tuple[str, str]]:
    result = validate(row, CONTEXT)
    assert isinstance(result, Rejection), result
    return [(problem.field, problem.code) for problem in result.problems]


def rejected(row: RawRow) -> Rejection:
    result = validate(row, CONTEXT)
    assert isinstance(result, Rejection), result
    return result


# Valid rows ---------------------------------------------------------------------


def test_minimal_row_gives_a_child_with_defaults():
    record = valid(make_row())

    assert record == ValidRecord(
        position=3,
        reference="line 4",
        child=NewChild(
            names=(NewName("Oliver", "Testington"),),
            date_of_birth=date(2016, 5, 12),
            gender="0",
            responsible_authority_id=50,
        ),
    )


def test_full_row_is_normalised_into_the_directory_terms():
    row = make_row(
        source_key=" C-001 ",
        nhs_number="999 339 5633",
        upn="b801200005001",
        given_names="  Oliver   James ",
        former_family_name="Samplesby",
        preferred_given_name="Ollie",
        date_of_birth="12/05/2016",
        gender="M",
        address_lines="Flat 3\n 12 Example Road \n\nLeeds",
        postcode="ls14ap",
        carers=(
            {
                "name": "Sarah Testington",
                "relationship": "Mother",
                "parental_responsibility": "yes",
                "phone": "07700 900123",
                "email": "sarah@example.org",
                "address": "",
            },
        ),
        services=(
            {
                "service_type": "",
                "organisation_code": "",
                "started_on": "2020-09-01",
                "practitioner_name": "Ms  Teacher",
                "practitioner_role": "Designated safeguarding lead",
                "phone": "0113 496 0000",
                "email": "dsl@example.org",
                "lead_professional": "Y",
            },
            {"service_type": "GP", "organisation_code": "y12345"},
        ),
        flags=(
            {
                "kind": "Child protection plan",
                "organisation_code": "100001",
                "starts_on": "01/03/2024",
                "ends_on": "2025-03-01",
                "contact_name": "Duty Team",
                "contact_phone": "0113 496 0001",
                "contact_email": "duty@example.org",
            },
        ),
    )

    record = valid(row)

    assert record.source_key == "C-001"
    assert record.child == NewChild(
        names=(
            NewName("Oliver James", "Testington"),
            NewName("Oliver James", "Samplesby", kind="former"),
            NewName("Ollie", "Testington", kind="preferred"),
        ),
        date_of_birth=date(2016, 5, 12),
        gender="1",
        nhs_number="9993395633",
        upn="B801200005001",
        addresses=(
            NewAddress(
                lines=("Flat 3", "12 Example Road", "Leeds"), postcode="LS1 4AP"
            ),
        ),
        carers=(
            NewCarer(
                name="Sarah Testington",
                relationship="mother",
                parental_responsibility=True,
                phone="07700 900123",
                email="sarah@example.org",
                address=None,
            ),
        ),
        involvements=(
            NewInvolvement(
                organisation_id=1,
                service_type="education",
                started_on=date(2020, 9, 1),
                practitioner_name="Ms Teacher",
                practitioner_role="Designated safeguarding lead",
                phone="0113 496 0000",
                email="dsl@example.org",
                is_lead_professional=True,
            ),
            NewInvolvement(organisation_id=8, service_type="gp", started_on=TODAY),
        ),
        warning_flags=(
            NewWarningFlag(
                kind="child_protection_plan",
                owning_organisation_id=7,
                contact_name="Duty Team",
                contact_phone="0113 496 0001",
                starts_on=date(2024, 3, 1),
                contact_email="duty@example.org",
                ends_on=date(2025, 3, 1),
            ),
        ),
        responsible_authority_id=50,
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "0"),
        ("1", "1"),
        ("2", "2"),
        ("9", "9"),
        ("0", "0"),
        ("M", "1"),
        ("f", "2"),
        ("U", "0"),
        ("I", "9"),
        ("male", "1"),
        ("Female", "2"),
        ("other", "9"),
        ("UNKNOWN", "0"),
        ("Not known", "0"),
    ],
)
def test_gender_words_map_to_nhs_codes(raw, code):
    assert valid(make_row(gender=raw)).child.gender == code


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("", "other"),
        ("mother", "mother"),
        ("Mum", "mother"),
        ("FATHER", "father"),
        ("step_parent", "step_parent"),
        ("Step-parent", "step_parent"),
        ("stepfather", "step_parent"),
        ("Grandmother", "grandparent"),
        ("aunt", "other_relative"),
        ("other relative", "other_relative"),
        ("Foster carer", "foster_carer"),
        ("foster-parent", "foster_carer"),
        ("special guardian", "special_guardian"),
        ("Local authority", "local_authority"),
        ("local_authority", "local_authority"),
        ("other", "other"),
    ],
)
def test_carer_relationship_words_map_to_directory_values(raw, value):
    carer = {"name": "Sam Carer", "relationship": raw}

    record = valid(make_row(carers=(carer,)))

    assert record.child.carers[0].relationship == value


def test_every_relationship_word_in_the_message_is_accepted():
    for word in vocab.RELATIONSHIP_WORDS:
        assert vocab.relationship(word) is not None, word


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        ("", False),
        ("true", True),
        ("Yes", True),
        ("Y", True),
        ("1", True),
        ("false", False),
        ("NO", False),
        ("n", False),
        ("0", False),
    ],
)
def test_yes_no_words(raw, answer):
    carer = {"name": "Sam Carer", "parental_responsibility": raw}
    service = {"lead_professional": raw}

    child = valid(make_row(carers=(carer,), services=(service,))).child

    assert child.carers[0].parental_responsibility is answer
    assert child.involvements[0].is_lead_professional is answer


def test_address_without_postcode_and_postcode_without_address():
    lines_only = valid(make_row(address_lines="1 Road\nTown")).child.addresses
    postcode_only = valid(make_row(postcode="ZZ99 3VZ")).child.addresses

    assert lines_only == (NewAddress(lines=("1 Road", "Town"), postcode=""),)
    assert postcode_only == (NewAddress(lines=(), postcode="ZZ99 3VZ"),)


def test_former_and_preferred_names_equal_to_the_legal_ones_are_dropped():
    row = make_row(former_family_name="TESTINGTON", preferred_given_name="oliver")

    assert valid(row).child.names == (NewName("Oliver", "Testington"),)


def test_empty_carer_is_skipped():
    carer = {"name": "", "relationship": "", "phone": " "}

    assert valid(make_row(carers=(carer,))).child.carers == ()


def test_empty_service_is_the_senders_own_from_today():
    (involvement,) = valid(make_row(services=({},))).child.involvements

    assert involvement == NewInvolvement(
        organisation_id=1, service_type="education", started_on=TODAY
    )


def test_flag_contact_defaults_to_empty_strings():
    flag = {"kind": "looked_after", "starts_on": "2024-01-01"}

    (warning,) = valid(make_row(flags=(flag,))).child.warning_flags

    assert warning == NewWarningFlag(
        kind="looked_after",
        owning_organisation_id=1,
        contact_name="",
        contact_phone="",
        starts_on=date(2024, 1, 1),
    )


def test_source_key_is_empty_when_the_row_has_none():
    assert valid(make_row()).source_key == ""


# One problem each ------------------------------------------------------------------

CARER = {"name": "Sam Carer", "relationship": "mother"}
SERVICE = {"service_type": "gp", "organisation_code": "Y12345"}
FLAG = {"kind": "looked_after", "starts_on": "2024-01-01"}


@pytest.mark.parametrize(
    ("row", "field", "code"),
    [
        (make_row(given_names=" "), "given_names", "name_missing"),
        (make_row(family_name=""), "family_name", "name_missing"),
        (make_row(date_of_birth=""), "date_of_birth", "date_of_birth_missing"),
        (make_row(date_of_birth="May 2016"), "date_of_birth", "date_of_birth_format"),
        (
            make_row(date_of_birth="2016-02-30"),
            "date_of_birth",
            "date_of_birth_invalid",
        ),
        (make_row(date_of_birth="2030-01-01"), "date_of_birth", "date_of_birth_future"),
        (
            make_row(date_of_birth="1990-01-01"),
            "date_of_birth",
            "date_of_birth_too_old",
        ),
        (make_row(nhs_number="99933956"), "nhs_number", "nhs_number_format"),
        (make_row(nhs_number="9993395634"), "nhs_number", "nhs_number_check_digit"),
        (make_row(upn="B8012000050"), "upn", "upn_format"),
        (make_row(upn="A801200005001"), "upn", "upn_check_letter"),
        (make_row(postcode="QQ1 1QQ"), "postcode", "postcode_format"),
        (make_row(gender="boy"), "gender", "gender_unknown"),
        (
            make_row(carers=({"relationship": "mother", "phone": "0113"},)),
            "carers[1].name",
            "carer_name_missing",
        ),
        (
            make_row(carers=({**CARER, "relationship": "mums partner"},)),
            "carers[1].relationship",
            "carer_relationship_unknown",
        ),
        (
            make_row(carers=({**CARER, "parental_responsibility": "maybe"},)),
            "carers[1].parental_responsibility",
            "boolean_invalid",
        ),
        (
            make_row(carers=({**CARER, "email": "sam.example.org"},)),
            "carers[1].email",
            "email_invalid",
        ),
        (
            make_row(services=({**SERVICE, "service_type": "plumbing"},)),
            "services[1].service_type",
            "service_type_unknown",
        ),
        (
            make_row(services=({**SERVICE, "organisation_code": "Z99999"},)),
            "services[1].organisation_code",
            "organisation_unknown",
        ),
        (
            make_row(services=({**SERVICE, "started_on": "Sept 2020"},)),
            "services[1].started_on",
            "date_format",
        ),
        (
            make_row(
                services=(
                    {**SERVICE, "started_on": "2024-01-01", "ended_on": "31/02/2024"},
                )
            ),
            "services[1].ended_on",
            "date_invalid",
        ),
        (
            make_row(
                services=(
                    {**SERVICE, "started_on": "2024-01-01", "ended_on": "2023-12-31"},
                )
            ),
            "services[1].ended_on",
            "service_end_before_start",
        ),
        (
            make_row(services=({**SERVICE, "ended_on": "2024-09-01"},)),
            "services[1].started_on",
            "service_start_missing",
        ),
        (
            make_row(services=({**SERVICE, "lead_professional": "lead"},)),
            "services[1].lead_professional",
            "boolean_invalid",
        ),
        (
            make_row(services=({**SERVICE, "email": "a@b"},)),
            "services[1].email",
            "email_invalid",
        ),
        (
            make_row(flags=({**FLAG, "kind": ""},)),
            "flags[1].kind",
            "flag_kind_missing",
        ),
        (
            make_row(flags=({**FLAG, "kind": "naughty_list"},)),
            "flags[1].kind",
            "flag_kind_unknown",
        ),
        (
            make_row(flags=({**FLAG, "organisation_code": "Z99999"},)),
            "flags[1].organisation_code",
            "organisation_unknown",
        ),
        (
            make_row(flags=({**FLAG, "starts_on": ""},)),
            "flags[1].starts_on",
            "flag_start_missing",
        ),
        (
            make_row(flags=({**FLAG, "starts_on": "1st Jan"},)),
            "flags[1].starts_on",
            "date_format",
        ),
        (
            make_row(flags=({**FLAG, "ends_on": "2023-12-31"},)),
            "flags[1].ends_on",
            "flag_end_before_start",
        ),
        (
            make_row(flags=({**FLAG, "contact_email": "duty at example"},)),
            "flags[1].contact_email",
            "email_invalid",
        ),
        (
            make_row(_row_problem="cells_count"),
            "row",
            "cells_count",
        ),
        (make_row(_row_problem="fhir_invalid"), "row", "fhir_invalid"),
        (make_row(_row_problem="xml_odd_element"), "row", "xml_odd_element"),
        (make_row(_row_problem="Not A Code!"), "row", "row_unreadable"),
    ],
)
def test_each_rule_gives_its_code_on_its_field(row, field, code):
    assert problems(row) == [(field, code)]


@pytest.mark.parametrize(
    ("row", "value"),
    [
        (make_row(nhs_number="999 339 5634"), "999 339 5634"),
        (make_row(nhs_number="9993395634"), "999 339 5634"),
        (make_row(nhs_number="12345"), "12345"),
        (make_row(upn="A801200005001"), "A801200005001"),
        (make_row(postcode="QQ1 1QQ"), "QQ1 1QQ"),
        (make_row(date_of_birth="2016-02-30"), "2016-02-30"),
        (make_row(date_of_birth="1990-01-01"), "1990"),
        (make_row(gender="boy"), "boy"),
        (make_row(carers=({**CARER, "relationship": "mums partner"},)), "partner"),
        (make_row(carers=({**CARER, "email": "sam.example.org"},)), "sam."),
        (make_row(services=({**SERVICE, "service_type": "plumbing"},)), "plumbing"),
        (make_row(services=({**SERVICE, "started_on": "Sept 2020"},)), "Sept"),
        (make_row(flags=({**FLAG, "kind": "naughty_list"},)), "naughty"),
        (make_row(carers=({**CARER, "parental_responsibility": "maybe"},)), "maybe"),
    ],
)
def test_messages_never_quote_the_refused_value(row, value):
    for problem in rejected(row).problems:
        assert value not in problem.message
        assert value.replace(" ", "") not in problem.message.replace(" ", "")


def test_unknown_organisation_message_names_the_public_code():
    row = make_row(services=({**SERVICE, "organisation_code": "Z99999"},))

    (problem,) = rejected(row).problems

    assert problem.message == (
        "No organisation with code Z99999 is known to the directory: ask your "
        "administrator to add it."
    )


def test_choice_messages_list_the_allowed_values():
    service = make_row(services=({**SERVICE, "service_type": "plumbing"},))
    flag = make_row(flags=({**FLAG, "kind": ""},))

    assert "education, gp, social_care" in rejected(service).problems[0].message
    assert "child_protection_plan, looked_after" in rejected(flag).problems[0].message
    carer = make_row(carers=({**CARER, "relationship": "mums partner"},))
    assert "step-parent" in rejected(carer).problems[0].message


def test_cells_count_message_gives_both_counts():
    row = make_row(_row_problem="cells_count", _cells_found="7", _cells_expected="9")

    assert rejected(row).problems == (
        FieldProblem(
            "row",
            "cells_count",
            "This line has 7 cells but the header has 9: check for a missing "
            "comma or a line cut short.",
        ),
    )


def test_fhir_invalid_message_carries_the_readers_detail():
    row = make_row(
        _row_problem="fhir_invalid", _row_problem_detail="birthDate: value_error"
    )

    (problem,) = rejected(row).problems

    assert problem.message == (
        "This Patient resource is not valid FHIR: birthDate: value_error."
    )


def test_every_problem_in_the_row_is_reported():
    row = RawRow(
        position=9,
        reference="entry 9",
        fields={
            "_row_problem": "fhir_invalid",
            "given_names": "",
            "family_name": "",
            "date_of_birth": "2016-13-01",
            "nhs_number": "9993395634",
            "gender": "x",
            "postcode": "nowhere",
        },
        carers=({"relationship": "pal"},),
        services=({"service_type": "magic", "organisation_code": "NOPE"},),
        flags=({"kind": "bad"},),
    )

    result = validate(row, CONTEXT)

    assert isinstance(result, Rejection)
    assert (result.position, result.reference) == (9, "entry 9")
    assert [(p.field, p.code) for p in result.problems] == [
        ("row", "fhir_invalid"),
        ("given_names", "name_missing"),
        ("family_name", "name_missing"),
        ("date_of_birth", "date_of_birth_invalid"),
        ("nhs_number", "nhs_number_check_digit"),
        ("gender", "gender_unknown"),
        ("postcode", "postcode_format"),
        ("carers[1].name", "carer_name_missing"),
        ("carers[1].relationship", "carer_relationship_unknown"),
        ("services[1].service_type", "service_type_unknown"),
        ("services[1].organisation_code", "organisation_unknown"),
        ("flags[1].kind", "flag_kind_unknown"),
        ("flags[1].starts_on", "flag_start_missing"),
    ]


def test_nested_fields_are_numbered_from_one_in_file_order():
    row = make_row(
        carers=(CARER, {**CARER, "relationship": "??"}),
        services=(SERVICE, SERVICE, {**SERVICE, "ended_on": "x"}),
        flags=(FLAG, {**FLAG, "ends_on": "2020-01-01"}),
    )

    assert problems(row) == [
        ("carers[2].relationship", "carer_relationship_unknown"),
        ("services[3].started_on", "service_start_missing"),
        ("services[3].ended_on", "date_format"),
        ("flags[2].ends_on", "flag_end_before_start"),
    ]


def test_every_static_message_is_a_full_sentence():
    for code, message in vocab.MESSAGES.items():
        assert message[0].isupper(), code
        assert message.endswith("."), code


def test_values_longer_than_the_directory_keeps_are_quarantined():
    long_phone = "0" * 33
    result = validate(
        make_row(
            services=({"phone": long_phone, "practitioner_name": "A" * 151},),
            flags=(
                {
                    "kind": "looked_after",
                    "starts_on": "2024-01-02",
                    "contact_phone": long_phone,
                },
            ),
        ),
        CONTEXT,
    )
    assert isinstance(result, Rejection)
    assert {(p.field, p.code) for p in result.problems} == {
        ("services[1].phone", "too_long"),
        ("services[1].practitioner_name", "too_long"),
        ("flags[1].contact_phone", "too_long"),
    }
    assert all(long_phone not in p.message for p in result.problems)
