from pathlib import Path

import pytest

from ingestion.readers import ctf
from ingestion.readers.base import FeedFileRejected, Limits, RawRow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejection(data: bytes, limits: Limits = Limits()) -> FeedFileRejected:  # noqa: B008
    with pytest.raises(FeedFileRejected) as caught:
        ctf.read(data, limits)
    return caught.value


def one_contact(relationship: str) -> bytes:
    return (
        "<CTfile><CTFpupilData><Pupil><Surname>Codeby</Surname>"
        "<Forename>Ivy</Forename><Contacts><Contact><Surname>Codeby</Surname>"
        f"<Forename>Jon</Forename><Relationship>{relationship}</Relationship>"
        "</Contact></Contacts></Pupil></CTFpupilData></CTfile>"
    ).encode()


def test_header_gives_the_source_school():
    feed = ctf.read(fixture("ctf_valid.xml"))

    assert feed.header == {
        "document_name": "Common Transfer File",
        "source_lea": "873",
        "source_estab": "4567",
        "source_urn": "199999",
    }


def test_pupil_with_bs7666_address_contacts_and_school_history():
    pupil = ctf.read(fixture("ctf_valid.xml")).rows[0]
    home = "Flat 3\n12 Acacia Avenue\nLittle Example\nExampletown\nExampleshire"

    assert pupil == RawRow(
        position=1,
        reference="pupil 1",
        fields={
            "upn": "U873456723011",
            "given_names": "Olivia Grace May",
            "family_name": "Exampleton",
            "former_family_name": "Sampleson",
            "preferred_given_name": "Liv",
            "date_of_birth": "2014-09-02",
            "gender": "F",
            "address_lines": home,
            "postcode": "ZZ99 3CZ",
        },
        carers=(
            {
                "name": "Paula Exampleton",
                "relationship": "mother",
                "parental_responsibility": "true",
                "phone": "07700 900100",
                "email": "paula@example.org",
                "address": home + "\nZZ99 3CZ",
            },
            {
                "name": "Mr Sampleson",
                "relationship": "father",
                "parental_responsibility": "true",
                "phone": "",
                "email": "",
                "address": "Rose Cottage\nLong Lane\nSampleford\nZZ99 3WZ",
            },
        ),
        services=(
            {
                "service_type": "education",
                "organisation_code": "",
                "started_on": "2021-09-01",
                "ended_on": "2025-07-18",
            },
        ),
    )


def test_pupil_with_address_lines_older_gender_tag_and_other_contacts():
    pupil = ctf.read(fixture("ctf_valid.xml")).rows[1]

    assert pupil.fields["gender"] == "M"
    assert pupil.fields["address_lines"] == "4 Sample Road\nSampleford\nExampleshire"
    assert pupil.fields["postcode"] == "ZZ99 3WZ"
    assert [(c["name"], c["relationship"], c["phone"]) for c in pupil.carers] == [
        ("Ruth Fictional", "foster_carer", "01632 960200"),
        ("Tom Fictional", "other", ""),
    ]
    assert pupil.carers[0]["parental_responsibility"] == "false"
    assert pupil.services[0]["started_on"] == ""


def test_pupil_missing_most_details_is_still_yielded_for_validation():
    pupil = ctf.read(fixture("ctf_valid.xml")).rows[2]

    assert pupil.reference == "pupil 3"
    assert pupil.fields == {
        "upn": "",
        "given_names": "Uma",
        "family_name": "Placeholder",
        "former_family_name": "",
        "preferred_given_name": "",
        "date_of_birth": "",
        "gender": "",
        "address_lines": "",
        "postcode": "",
    }
    assert pupil.carers == ()


def test_namespaced_file_reads_like_a_plain_one():
    feed = ctf.read(fixture("ctf_namespaced.xml"))

    assert feed.header["source_urn"] == "199999"
    assert feed.rows[0].fields["upn"] == "X873456723013"
    assert feed.rows[0].fields["given_names"] == "Vera"


@pytest.mark.parametrize(
    ("code", "relationship"),
    [
        ("PAM", "mother"),
        ("PAF", "father"),
        ("STM", "step_parent"),
        ("STF", "step_parent"),
        ("FOM", "foster_carer"),
        ("FOF", "foster_carer"),
        ("REL", "other_relative"),
        ("FAM", "other_relative"),
        ("SWR", "local_authority"),
        ("CAR", "other"),
        ("CHM", "other"),
        ("OTH", "other"),
        ("pam", "mother"),
        ("QQQ", "other"),
        ("", ""),
    ],
)
def test_contact_relationship_codes_map_to_carer_relationships(code, relationship):
    (carer,) = ctf.read(one_contact(code)).rows[0].carers

    assert carer["relationship"] == relationship


def test_doctor_contact_is_not_a_carer():
    assert ctf.read(one_contact("DOC")).rows[0].carers == ()


def test_truncated_file_is_refused_as_malformed_with_the_line():
    refused = rejection(fixture("ctf_truncated.xml"))

    assert refused.code == "xml_malformed"
    assert "line 140" in refused.message
    assert "cut short" in refused.message


def test_malformed_file_is_refused():
    refused = rejection(fixture("ctf_malformed.xml"))

    assert refused.code == "xml_malformed"
    assert "line 7" in refused.message
    assert "The CTF file" in refused.message


def test_cin_census_file_is_refused_as_the_wrong_format():
    refused = rejection(fixture("cin_valid.xml"))

    assert refused.code == "wrong_format"
    assert "This is not a Common Transfer File" in refused.message
    assert "<Message>" in refused.message


def test_csv_file_is_refused_as_malformed_xml():
    assert rejection(fixture("csv_valid.csv")).code == "xml_malformed"


def test_windows_1252_file_is_refused():
    refused = rejection(fixture("ctf_windows1252.xml"))

    assert refused.code == "encoding"
    assert "line 6" in refused.message


@pytest.mark.parametrize("name", ["ctf_xxe.xml", "ctf_billion_laughs.xml"])
def test_entity_declarations_are_refused_unexpanded(name):
    refused = rejection(fixture(name))

    assert refused.code == "xml_forbidden"
    assert "DOCTYPE" in refused.message
    assert "root:" not in refused.message
    assert "lol" not in refused.message


def test_empty_file_is_refused():
    assert rejection(fixture("ctf_empty.xml")).code == "empty"


def test_file_without_pupils_is_refused():
    refused = rejection(fixture("ctf_no_pupils.xml"))

    assert refused.code == "empty"
    assert "no pupils" in refused.message


def test_more_pupils_than_the_limit_refuses_the_file():
    assert rejection(fixture("ctf_valid.xml"), Limits(max_rows=2)).code == (
        "too_many_rows"
    )
