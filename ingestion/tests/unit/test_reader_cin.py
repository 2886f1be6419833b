from pathlib import Path

import pytest

from ingestion.readers import cin
from ingestion.readers.base import FeedFileRejected, Limits, RawRow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKER = {
    "contact_name": "Alex Caseworker",
    "contact_phone": "01632 960300",
    "contact_email": "alex.caseworker@la.example.org",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rejection(data: bytes, limits: Limits = Limits()) -> FeedFileRejected:  # noqa: B008
    with pytest.raises(FeedFileRejected) as caught:
        cin.read(data, limits)
    return caught.value


def test_header_gives_the_local_authority_code():
    assert cin.read(fixture("cin_valid.xml")).header == {"la_code": "873"}


def test_child_with_extension_and_open_protection_plan():
    child = cin.read(fixture("cin_valid.xml")).rows[0]

    assert child == RawRow(
        position=1,
        reference="child 1",
        fields={
            "source_key": "LA-0001",
            "nhs_number": "9991357912",
            "upn": "Q201123424003",
            "given_names": "Zara Jane",
            "family_name": "Exampleton",
            "date_of_birth": "2017-05-12",
            "gender": "2",
            "address_lines": "Flat 3\n12 Acacia Avenue\nExampletown",
            "postcode": "ZZ99 3CZ",
        },
        services=(
            {
                "service_type": "social_care",
                "organisation_code": "",
                "started_on": "2024-11-04",
                "ended_on": "",
                "practitioner_name": "Alex Caseworker",
                "practitioner_role": "Social worker",
                "phone": "01632 960300",
                "email": "alex.caseworker@la.example.org",
            },
        ),
        flags=(
            {
                "kind": "child_protection_plan",
                "organisation_code": "",
                "starts_on": "2024-12-02",
                "ends_on": "",
                **WORKER,
            },
        ),
    )


def test_closed_episode_and_open_episode_without_a_plan():
    child = cin.read(fixture("cin_valid.xml")).rows[1]

    assert child.fields["gender"] == "M"  # the 2024 census's <Sex>
    assert [(s["started_on"], s["ended_on"]) for s in child.services] == [
        ("2022-01-10", "2023-03-01"),
        ("2025-01-20", ""),
    ]
    assert [(f["kind"], f["starts_on"], f["ends_on"]) for f in child.flags] == [
        ("child_protection_plan", "2022-02-14", "2022-12-19"),
        ("child_in_need", "2025-01-20", ""),
    ]
    assert child.flags[1]["contact_name"] == "Bo Duty"
    assert child.flags[1]["contact_email"] == ""


def test_census_only_child_with_ended_plan_and_no_further_action_referral():
    child = cin.read(fixture("cin_valid.xml")).rows[2]

    assert child.fields == {
        "source_key": "LA-0003",
        "nhs_number": "",
        "upn": "",
        "given_names": "",
        "family_name": "",
        "date_of_birth": "2020-02-29",
        "gender": "0",
        "address_lines": "",
        "postcode": "",
    }
    assert len(child.services) == 2
    assert child.services[0]["practitioner_name"] == ""
    assert child.services[0]["practitioner_role"] == ""
    # The plan ended but the episode is open: a child in need from the referral.
    # The "no further action" referral gives a service but no flag.
    assert [(f["kind"], f["starts_on"], f["ends_on"]) for f in child.flags] == [
        ("child_protection_plan", "2024-07-01", "2025-01-13"),
        ("child_in_need", "2024-06-03", ""),
    ]


def test_namespaced_census_reads_like_a_plain_one():
    data = (
        b'<Message xmlns="urn:example:cin"><Header><Source><LEA>873</LEA></Source>'
        b"</Header><Children><Child><ChildIdentifiers><LAchildID>LA-7</LAchildID>"
        b"</ChildIdentifiers></Child></Children></Message>"
    )

    feed = cin.read(data)

    assert feed.header == {"la_code": "873"}
    assert feed.rows[0].fields["source_key"] == "LA-7"


def test_ctf_file_is_refused_as_the_wrong_format():
    refused = rejection(fixture("ctf_valid.xml"))

    assert refused.code == "wrong_format"
    assert "not a Children in Need census file" in refused.message
    assert "<CTfile>" in refused.message


def test_other_message_file_without_children_is_refused_as_the_wrong_format():
    refused = rejection(b"<Message><Header/><Learner/></Message>")

    assert refused.code == "wrong_format"
    assert "<Children>" in refused.message


def test_truncated_file_is_refused_as_malformed_with_the_line():
    refused = rejection(fixture("cin_truncated.xml"))

    assert refused.code == "xml_malformed"
    assert "line 96" in refused.message
    assert "Children in Need census" in refused.message


def test_malformed_file_is_refused():
    refused = rejection(fixture("cin_malformed.xml"))

    assert refused.code == "xml_malformed"
    assert "line 13" in refused.message


def test_windows_1252_file_is_refused():
    refused = rejection(fixture("cin_windows1252.xml"))

    assert refused.code == "encoding"
    assert "line 7" in refused.message


@pytest.mark.parametrize("name", ["cin_xxe.xml", "cin_billion_laughs.xml"])
def test_entity_declarations_are_refused_unexpanded(name):
    refused = rejection(fixture(name))

    assert refused.code == "xml_forbidden"
    assert "DOCTYPE" in refused.message
    assert "root:" not in refused.message


def test_empty_file_is_refused():
    assert rejection(fixture("cin_empty.xml")).code == "empty"


def test_file_without_children_is_refused():
    refused = rejection(fixture("cin_no_children.xml"))

    assert refused.code == "empty"
    assert "no children" in refused.message


def test_more_children_than_the_limit_refuses_the_file():
    assert rejection(fixture("cin_valid.xml"), Limits(max_rows=2)).code == (
        "too_many_rows"
    )
