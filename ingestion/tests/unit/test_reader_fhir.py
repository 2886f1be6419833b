import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion.pipeline.records import ValidationContext, ValidRecord
from ingestion.pipeline.validate import validate
from ingestion.readers import fhir
from ingestion.readers.base import FeedFileRejected, Limits, RawRow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ROLE = fhir.ROLE_CODE_SYSTEM
V2 = fhir.CONTACT_ROLE_SYSTEM


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejection(data: bytes, limits: Limits = Limits()) -> FeedFileRejected:  # noqa: B008
    with pytest.raises(FeedFileRejected) as caught:
        fhir.read(data, limits)
    return caught.value


def patient(**elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Testington", "given": ["Oliver"]}],
        "birthDate": "2016-05-12",
        **elements,
    }


def bundle(*resources: dict[str, Any], **elements: Any) -> bytes:
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": resource} for resource in resources],
        **elements,
    }
    return json.dumps(document).encode()


def only_row(*resources: dict[str, Any]) -> RawRow:
    (row,) = fhir.read(bundle(*resources)).rows
    return row


# The valid fixture ----------------------------------------------------------


def test_valid_bundle_yields_each_patient_with_identity_carers_and_gp():
    feed = fhir.read(fixture("fhir_valid.json"))

    assert feed.rows[0] == RawRow(
        position=1,
        reference="entry 1",
        fields={
            "source_key": "pat-0001",
            "nhs_number": "9993395633",
            "given_names": "Oliver James",
            "family_name": "Testington",
            "former_family_name": "Samplesby",
            "preferred_given_name": "Ollie",
            "date_of_birth": "2016-05-12",
            "gender": "male",
            "address_lines": "Flat 3\n12 Example Road\nLeeds",
            "postcode": "LS1 4AP",
        },
        carers=(
            {
                "name": "Sarah Testington",
                "relationship": "mother",
                "phone": "07700 900123",
                "email": "sarah.testington@example.org",
            },
        ),
        services=(
            {"service_type": "gp", "organisation_code": "Y12345", "started_on": ""},
        ),
    )


def test_positions_count_patients_and_references_name_bundle_entries():
    feed = fhir.read(fixture("fhir_valid.json"))

    assert [(row.position, row.reference) for row in feed.rows] == [
        (1, "entry 1"),
        (2, "entry 3"),
        (3, "entry 5"),
    ]


def test_entries_that_are_not_patients_are_ignored_and_counted():
    feed = fhir.read(fixture("fhir_valid.json"))

    assert feed.header == {"bundle_type": "collection", "ignored_entries": "2"}


def test_home_address_is_preferred_to_a_temporary_one():
    row = fhir.read(fixture("fhir_valid.json")).rows[1]

    assert row.fields["address_lines"] == "7 Sample Street\nHull"
    assert row.fields["postcode"] == "HU2 8AA"


def test_gp_without_ods_code_and_organisation_contacts_are_skipped():
    row = fhir.read(fixture("fhir_valid.json")).rows[1]

    assert row.services == (
        {"service_type": "gp", "organisation_code": "Y54321", "started_on": ""},
    )
    assert row.carers == (
        {
            "name": "Karim Exampleton",
            "relationship": "father",
            "phone": "0113 496 0000",
            "address": "7 Sample Street, Hull, HU2 8AA",
        },
    )


def test_patient_without_id_or_nhs_number_leaves_them_out():
    row = fhir.read(fixture("fhir_valid.json")).rows[2]

    assert "source_key" not in row.fields
    assert "nhs_number" not in row.fields
    assert row.fields["given_names"] == "Jordan"
    assert row.fields["gender"] == "unknown"
    assert row.carers[0]["relationship"] == "Foster carer"


def test_every_valid_fixture_patient_passes_validation():
    context = ValidationContext(
        today=date(2024, 9, 2),
        source_organisation_id=1,
        default_service_type="gp",
        organisations_by_code={"Y12345": 10, "Y54321": 11},
        service_types=frozenset({"gp"}),
    )
    feed = fhir.read(fixture("fhir_valid.json"))

    results = [validate(row, context) for row in feed.rows]

    assert all(isinstance(result, ValidRecord) for result in results), results


# Refused files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("fhir_truncated.json", "json_malformed"),
        ("fhir_not_bundle.json", "wrong_format"),
        ("fhir_empty.json", "empty"),
        ("fhir_windows1252.json", "encoding"),
    ],
)
def test_unusable_files_are_refused_whole(name, code):
    assert rejection(fixture(name)).code == code


def test_malformed_json_says_where():
    message = rejection(fixture("fhir_truncated.json")).message

    assert "line 100" in message
    assert "column" in message


@pytest.mark.parametrize(
    "data",
    [b"", b"  \n", b"{}", b"[]", b'"Bundle"', b'{"resourceType": "Parameters"}'],
)
def test_files_that_are_not_bundles_are_refused(data):
    assert rejection(data).code in {"empty", "wrong_format"}


def test_a_bundle_without_a_type_is_invalid_and_names_the_element_only():
    data = json.dumps(
        {"resourceType": "Bundle", "entry": [{"resource": patient()}]}
    ).encode()

    refused = rejection(data)

    assert refused.code == "bundle_invalid"
    assert "(type: model_field_validation.missing)" in refused.message


def test_a_bundle_whose_entry_is_not_a_list_is_invalid():
    assert rejection(bundle(entry={"resource": patient()})).code == "bundle_invalid"


def test_a_bundle_without_patients_is_empty():
    refused = rejection(bundle({"resourceType": "Organization", "name": "X"}))

    assert refused.code == "empty"
    assert "Patient" in refused.message


def test_deeply_nested_json_is_refused_not_crashed():
    assert rejection(b"[" * 100_000 + b"]" * 100_000).code == "json_malformed"


def test_more_patients_than_the_limit_refuses_the_file():
    data = bundle(patient(), patient(), patient())

    assert rejection(data, Limits(max_rows=2)).code == "too_many_rows"
    assert len(fhir.read(data, Limits(max_rows=3)).rows) == 3


# Invalid Patients are quarantined, not refused ---------------------------------


def test_invalid_patient_is_yielded_marked_and_its_neighbours_read():
    feed = fhir.read(fixture("fhir_invalid_patient.json"))

    good, bad = feed.rows
    assert "_row_problem" not in good.fields
    assert bad.fields["_row_problem"] == "fhir_invalid"
    assert bad.fields["_row_problem_detail"] == (
        "birthDate: value_error; (unknown element): extra_forbidden"
    )
    assert bad.fields["given_names"] == "Amira"


def test_invalid_patient_detail_never_carries_values_from_the_file():
    detail = (
        fhir.read(fixture("fhir_invalid_patient.json"))
        .rows[1]
        .fields["_row_problem_detail"]
    )

    assert "2015-13-45" not in detail
    assert "Smudge" not in detail
    assert "nickname" not in detail


def test_wrongly_shaped_patient_is_read_defensively():
    row = only_row(
        {
            "resourceType": "Patient",
            "name": "Oliver Testington",
            "address": [{"line": "1 Road", "postalCode": 42}],
            "contact": "mum",
            "generalPractitioner": [{"identifier": [1, 2]}],
        }
    )

    assert row.fields["_row_problem"] == "fhir_invalid"
    assert "name: list_type" in row.fields["_row_problem_detail"]
    assert row.fields["address_lines"] == "1 Road"
    assert row.carers == ()
    assert row.services == ()


def test_detail_lists_at_most_five_errors():
    row = only_row(patient(**{f"extra{number}": number for number in range(8)}))

    assert row.fields["_row_problem_detail"].endswith("; and 3 more")


# UK Core rules -------------------------------------------------------------------


def test_nhs_number_comes_only_from_the_nhs_number_system():
    row = only_row(
        patient(
            identifier=[
                {"system": "https://example.org/mrn", "value": "H123"},
                {"system": fhir.NHS_NUMBER_SYSTEM, "value": "999 339 5633"},
            ]
        )
    )

    assert row.fields["nhs_number"] == "999 339 5633"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            [
                {"use": "usual", "family": "Usual", "given": ["Ollie"]},
                {"use": "official", "family": "Legal", "given": ["Oliver", "J"]},
            ],
            {
                "given_names": "Oliver J",
                "family_name": "Legal",
                "preferred_given_name": "Ollie",
            },
        ),
        (
            [{"use": "usual", "family": "Usual", "given": ["Ollie"]}],
            {"given_names": "Ollie", "family_name": "Usual"},
        ),
        (
            [
                {"use": "maiden", "family": "Before", "given": ["Ann"]},
                {"family": "After", "given": ["Ann"]},
            ],
            {
                "given_names": "Ann",
                "family_name": "After",
                "former_family_name": "Before",
            },
        ),
        (
            [
                {"use": "official", "family": "Same", "given": ["Ann"]},
                {"use": "old", "family": "same", "given": ["Annie"]},
            ],
            {"given_names": "Ann", "family_name": "Same"},
        ),
        ([{"use": "old", "family": "Only", "given": ["Ann"]}], {}),
    ],
)
def test_names_follow_uk_core_uses(names, expected):
    row = only_row({"resourceType": "Patient", "name": names})

    found = {
        key: value
        for key, value in row.fields.items()
        if key.endswith(("_name", "_names"))
    }
    assert found == expected


def test_ended_and_work_addresses_are_not_current():
    row = only_row(
        patient(
            address=[
                {"use": "work", "line": ["Office"], "postalCode": "LS2 7AB"},
                {"line": ["Old"], "postalCode": "LS3 1AA", "period": {"end": "2020"}},
                {"use": "old", "line": ["Older"], "postalCode": "LS4 2AA"},
            ]
        )
    )

    assert "address_lines" not in row.fields
    assert "postcode" not in row.fields


def test_repeated_gp_references_give_one_service_each_practice():
    gp = {"identifier": {"system": fhir.ODS_CODE_SYSTEM, "value": "Y12345"}}

    row = only_row(patient(generalPractitioner=[gp, gp]))

    assert len(row.services) == 1


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


@pytest.mark.parametrize(
    ("relationship", "gender", "expected"),
    [
        ([coded(ROLE, "MTH")], None, "mother"),
        ([coded(ROLE, "NFTH")], None, "father"),
        ([coded(ROLE, "STPMTH")], None, "step-parent"),
        ([coded(ROLE, "MGRMTH")], None, "grandparent"),
        ([coded(ROLE, "MTHFOST")], None, "foster carer"),
        ([coded(ROLE, "AUNT")], None, "other relative"),
        ([coded(ROLE, "FRND")], None, "other"),
        ([coded(ROLE, "PRN")], "female", "mother"),
        ([coded(ROLE, "PRN")], "male", "father"),
        ([coded(ROLE, "PRN")], None, "other"),
        ([coded(V2, "N"), coded(ROLE, "GRFTH")], None, "grandparent"),
        ([coded(V2, "C")], None, "other"),
        ([coded(V2, "N"), {"text": "Special guardian"}], None, "Special guardian"),
        (
            [{"coding": [{"system": "http://snomed.info/sct", "display": "Mother"}]}],
            None,
            "Mother",
        ),
    ],
)
def test_contact_relationships_become_words_validation_knows(
    relationship, gender, expected
):
    contact: dict[str, Any] = {
        "relationship": relationship,
        "name": {"given": ["Sam"], "family": "Carer"},
    }
    if gender:
        contact["gender"] = gender

    row = only_row(patient(contact=[contact]))

    assert row.carers == ({"name": "Sam Carer", "relationship": expected},)


@pytest.mark.parametrize(
    "contact",
    [
        {"name": {"text": "No Relationship"}},
        {"relationship": [coded(V2, "I")], "name": {"text": "Insurer"}},
        {
            "relationship": [coded(ROLE, "MTH")],
            "name": {"text": "Past"},
            "period": {"end": "2020-01-01"},
        },
    ],
)
def test_contacts_that_are_not_current_carers_are_skipped(contact):
    assert only_row(patient(contact=[contact])).carers == ()


def test_ended_telecom_is_skipped():
    contact = {
        "relationship": [coded(ROLE, "MTH")],
        "name": {"text": "Sam Carer"},
        "telecom": [
            {"system": "phone", "value": "0113 496 0001", "period": {"end": "2020"}},
            {"system": "phone", "value": "0113 496 0002"},
        ],
    }

    row = only_row(patient(contact=[contact]))

    assert row.carers[0]["phone"] == "0113 496 0002"


def test_references_never_carry_child_data():
    feed = fhir.read(fixture("fhir_valid.json"))

    for row in feed.rows:
        assert row.reference.startswith("entry ")
        assert row.reference.removeprefix("entry ").isdigit()


KEYS = [
    "name",
    "given",
    "family",
    "use",
    "line",
    "city",
    "postalCode",
    "period",
    "end",
    "identifier",
    "system",
    "value",
    "contact",
    "relationship",
    "coding",
    "code",
    "text",
    "telecom",
    "address",
    "generalPractitioner",
    "gender",
    "birthDate",
    "id",
]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_patient_shape_is_read_or_marked_never_crashes(body):
    resource = {**body, "resourceType": "Patient"} if isinstance(body, dict) else body
    data = bundle(resource) if isinstance(resource, dict) else bundle()

    try:
        feed = fhir.read(data)
    except FeedFileRejected:
        return
    for row in feed.rows:
        assert all(isinstance(value, str) for value in row.fields.values())
