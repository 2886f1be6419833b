"""A data manager corrects a detail of a record: the service, over the database."""

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import cast

import pytest
from django.core.exceptions import ValidationError

from accounts.actors import Actor, actor_for_user
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.tests.admin_world import grant, make_user
from accounts.tests.factories import LocalAuthorityFactory, SchoolFactory
from audit.models import AccessEvent
from contactpoint.crypto.fields import unseal
from directory.corrections import CorrectableDetail
from directory.models import Child, ChildName, NameKind, Provenance
from directory.policies import Purpose
from directory.records import NewAddress, NewName, SearchQuery
from directory.selectors import child_record_get, child_search, match_profile_decode
from directory.services.child_records import child_records_create
from directory.services.corrections import (
    CorrectedValue,
    CorrectionRefused,
    record_correct,
)
from directory.tests.factories import FEED_SOURCE, NewChildFactory

pytestmark = pytest.mark.django_db

REASON = "Mother showed the birth certificate at the office on 3 March"
VALID_NHS = "9990000018"
OTHER_VALID_NHS = "9990000026"
VALID_UPN = "Y201200015001"
OTHER_VALID_UPN = "M201200015002"


@dataclass
class World:
    authority: Organisation
    manager: User
    dm: Actor


@pytest.fixture
def world() -> World:
    authority = cast(Organisation, LocalAuthorityFactory(name="Northshire Council"))
    manager = make_user(username="dee.data", first_name="Dee", last_name="Data")
    grant(manager, authority, Role.DATA_MANAGER)
    return World(
        authority=authority,
        manager=manager,
        dm=actor_for_user(manager, second_factor_verified=True),
    )


def _child(**kwargs) -> uuid.UUID:
    return child_records_create(
        children=[NewChildFactory.build(**kwargs)], source=FEED_SOURCE
    )[0].id


def _correct(world: World, child_id, detail, reason=REASON, **value) -> None:
    record_correct(
        actor=world.dm,
        child_id=child_id,
        detail=detail,
        value=CorrectedValue(**value),
        reason=reason,
    )


def _read(world: World, child_id):
    return child_record_get(
        actor=world.dm, child_id=child_id, purpose=Purpose.DATA_MANAGEMENT
    )


def _corrections(child_id) -> list[tuple[str, str]]:
    return sorted(
        Provenance.objects.filter(child_id=child_id, source="correction").values_list(
            "record_type", "field"
        )
    )


def _problems(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


def _last_event() -> AccessEvent:
    return AccessEvent.objects.order_by("-seq")[0]


# Each detail ------------------------------------------------------------------


def test_correcting_the_legal_name_reseals_it_in_place_without_a_former_name(world):
    child_id = _child()

    _correct(
        world,
        child_id,
        CorrectableDetail.NAME,
        given_names="Victoria Adjo",
        family_name="Climbié",
    )

    record = _read(world, child_id)
    assert [(n.kind, n.given_names, n.family_name) for n in record.names] == [
        ("legal", "Victoria Adjo", "Climbié")
    ]
    assert not ChildName.unaudited.filter(child_id=child_id, kind=NameKind.FORMER)
    assert _corrections(child_id) == [("child_name", "given_names")]
    profile = match_profile_decode(Child.unaudited.get(pk=child_id))
    assert (profile.given_names, profile.family_names) == (
        ("Victoria Adjo",),
        ("Climbié",),
    )


def _scores(world: World, query: SearchQuery) -> dict[str, float]:
    """Family name shown -> score, of the search's results."""
    return {
        r.family_name: r.score
        for r in child_search(actor=world.dm, query=query).results
    }


def test_a_corrected_family_name_is_found_by_search_and_the_wrong_one_is_gone(
    world,
):
    _child(names=(NewName("Victoria", "Jones"),))
    born = dt.date(2015, 11, 2)
    smith = SearchQuery(family_name="Smith", given_name="Victoria", date_of_birth=born)
    jones = SearchQuery(family_name="Jones", given_name="Victoria", date_of_birth=born)
    before = _scores(world, smith)
    assert list(before) == ["Jones"]  # only a weak match on the given name

    child_id = child_search(actor=world.dm, query=jones).results[0].child_id
    _correct(
        world,
        child_id,
        CorrectableDetail.NAME,
        given_names="Victoria",
        family_name="Smith",
    )

    after = _scores(world, smith)
    assert list(after) == ["Smith"]
    assert after["Smith"] > before["Jones"]
    # A correction is not a change of name: the wrong name is not kept as a
    # former name, so searching for it finds the child only as weakly as
    # any other family name would.
    assert _scores(world, jones) == {"Smith": before["Jones"]}
    record = _read(world, child_id)
    assert [(n.kind, n.family_name) for n in record.names] == [("legal", "Smith")]


def test_the_blind_index_entries_follow_the_corrected_name(world):
    child_id = _child(names=(NewName("Victoria", "Jones"),))
    other_id = _child(names=(NewName("Victoria", "Smith"),), nhs_number=None)
    before = set(
        Child.unaudited.get(pk=child_id).index_entries.values_list("index", "value")
    )

    _correct(
        world,
        child_id,
        CorrectableDetail.NAME,
        given_names="Victoria",
        family_name="Smith",
    )

    after = set(
        Child.unaudited.get(pk=child_id).index_entries.values_list("index", "value")
    )
    same_name = set(
        Child.unaudited.get(pk=other_id).index_entries.values_list("index", "value")
    )
    assert after != before
    # Apart from the NHS number, the corrected record is now indexed exactly
    # like a child created with the corrected name.
    assert after - same_name == {
        entry
        for entry in after
        if entry[0] == 4  # NHS number index
    }


def test_correcting_a_name_shared_by_a_preferred_name_keeps_both_findable(world):
    child_id = _child(
        names=(
            NewName("Victoria", "Smyth", kind="legal"),
            NewName("Victoria", "Smyth", kind="preferred"),
        )
    )

    _correct(
        world,
        child_id,
        CorrectableDetail.NAME,
        given_names="Victoria",
        family_name="Smith",
    )

    profile = match_profile_decode(Child.unaudited.get(pk=child_id))
    assert profile.family_names[0] == "Smith"
    assert "Smyth" in profile.family_names  # the preferred name still holds it


def test_correcting_the_date_of_birth(world):
    child_id = _child()

    _correct(
        world,
        child_id,
        CorrectableDetail.DATE_OF_BIRTH,
        date_of_birth=dt.date(2015, 2, 11),
    )

    assert _read(world, child_id).date_of_birth == dt.date(2015, 2, 11)
    profile = match_profile_decode(Child.unaudited.get(pk=child_id))
    assert profile.date_of_birth == dt.date(2015, 2, 11)
    assert _corrections(child_id) == [("child", "date_of_birth")]


def test_correcting_the_gender(world):
    child_id = _child(gender="2")

    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")

    assert _read(world, child_id).gender == "1"
    assert match_profile_decode(Child.unaudited.get(pk=child_id)).gender == "1"


def test_correcting_the_nhs_number_normalises_it_and_indexes_it(world):
    child_id = _child()

    _correct(world, child_id, CorrectableDetail.NHS_NUMBER, nhs_number="999 000 0018")

    assert _read(world, child_id).nhs_number == VALID_NHS
    assert match_profile_decode(Child.unaudited.get(pk=child_id)).nhs_number == (
        VALID_NHS
    )
    # A second child may not now take the same number: the index finds it.
    other = _child(nhs_number=None)
    with pytest.raises(ValidationError) as error:
        _correct(world, other, CorrectableDetail.NHS_NUMBER, nhs_number=VALID_NHS)
    assert "Another child's record already has this NHS number" in str(
        _problems(error)["nhs_number"]
    )


def test_removing_an_nhs_number_recorded_in_error(world):
    child_id = _child()

    _correct(world, child_id, CorrectableDetail.NHS_NUMBER, nhs_number="")

    assert _read(world, child_id).nhs_number is None
    assert match_profile_decode(Child.unaudited.get(pk=child_id)).nhs_number is None
    assert not Child.unaudited.get(pk=child_id).index_entries.filter(index=4)


def test_correcting_the_upn(world):
    child_id = _child()

    _correct(world, child_id, CorrectableDetail.UPN, upn=VALID_UPN.lower())

    assert _read(world, child_id).upn == VALID_UPN
    assert _corrections(child_id) == [("child", "upn")]


def test_recording_and_removing_a_date_of_death(world):
    child_id = _child()

    _correct(
        world,
        child_id,
        CorrectableDetail.DATE_OF_DEATH,
        date_of_death=dt.date(2020, 6, 1),
    )
    assert _read(world, child_id).date_of_death == dt.date(2020, 6, 1)

    _correct(world, child_id, CorrectableDetail.DATE_OF_DEATH, date_of_death=None)
    assert _read(world, child_id).date_of_death is None
    assert _corrections(child_id) == [
        ("child", "date_of_death"),
        ("child", "date_of_death"),
    ]


def test_correcting_the_current_address_keeps_no_past_address(world):
    child_id = _child()

    _correct(
        world,
        child_id,
        CorrectableDetail.ADDRESS,
        address_lines=("21 Acacia Avenue", " Tottenham ", "", "London"),
        postcode="n17 6qb",
    )

    record = _read(world, child_id)
    assert record.current_address == ("21 Acacia Avenue", "Tottenham", "London")
    assert record.current_postcode == "N17 6QB"
    assert Child.unaudited.get(pk=child_id).addresses.count() == 1
    assert match_profile_decode(Child.unaudited.get(pk=child_id)).postcodes == (
        "N17 6QB",
    )
    assert _corrections(child_id) == [("address", "lines"), ("address", "postcode")]


def test_a_postcode_also_held_by_a_past_address_stays_in_the_profile(world):
    child_id = _child(
        addresses=(
            NewAddress(("1 Old Road",), "N17 6QA", is_current=False),
            NewAddress(("12 Acacia Avenue",), "N17 6QA"),
        )
    )

    _correct(
        world,
        child_id,
        CorrectableDetail.ADDRESS,
        address_lines=("12 Acacia Avenue",),
        postcode="N17 6QB",
    )

    postcodes = match_profile_decode(Child.unaudited.get(pk=child_id)).postcodes
    assert set(postcodes) == {"N17 6QA", "N17 6QB"}


# Provenance and audit ---------------------------------------------------------------


def test_a_correction_writes_provenance_with_the_reason_sealed(world):
    child_id = _child()

    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")

    row = Provenance.objects.get(child_id=child_id, source="correction")
    assert (row.record_type, row.record_id, row.field, row.source_reference) == (
        "child",
        child_id,
        "gender",
        str(world.manager.pk),
    )
    assert REASON.encode() not in bytes(row.reason)
    assert unseal(row, "reason") == REASON


def test_a_correction_is_audited_with_its_reason_encrypted(world):
    child_id = _child()

    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")

    event = _last_event()
    assert (event.action, event.outcome, event.reason, event.child_id) == (
        "record_correct",
        "allowed",
        "corrected",
        child_id,
    )
    assert unseal(event, "purpose_detail") == REASON
    assert "Gender" in event.detail
    assert REASON not in event.detail


def test_the_record_shows_corrections_to_data_managers_only(world):
    child_id = _child()
    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")
    school = cast(Organisation, SchoolFactory(parent_authority=world.authority))
    teacher = make_user(username="pat.teacher")
    grant(teacher, school, Role.PRACTITIONER)

    seen = _read(world, child_id).corrections
    practitioner_view = child_record_get(
        actor=actor_for_user(teacher, second_factor_verified=True),
        child_id=child_id,
        purpose=Purpose.PROVIDING_SERVICE,
    )

    assert [(c.field_name, c.corrected_by, c.reason) for c in seen] == [
        ("gender", "Dee Data", REASON)
    ]
    assert practitioner_view.gender == "1"
    assert practitioner_view.corrections == ()


# Refusals ---------------------------------------------------------------------------


def test_a_practitioner_may_not_correct_and_the_refusal_is_audited(world):
    child_id = _child()
    school = cast(Organisation, SchoolFactory(parent_authority=world.authority))
    teacher = make_user(username="pat.teacher")
    grant(teacher, school, Role.PRACTITIONER)

    with pytest.raises(CorrectionRefused):
        record_correct(
            actor=actor_for_user(teacher, second_factor_verified=True),
            child_id=child_id,
            detail=CorrectableDetail.GENDER,
            value=CorrectedValue(gender="1"),
            reason=REASON,
        )

    event = _last_event()
    assert (event.action, event.outcome, event.reason) == (
        "record_correct",
        "denied",
        "role_not_permitted",
    )
    assert _corrections(child_id) == []


def test_a_shielded_record_of_another_authority_is_refused_like_a_missing_one(world):
    elsewhere = LocalAuthorityFactory(name="Southshire Council")
    child_id = _child(shielded=True, responsible_authority_id=elsewhere.pk)

    with pytest.raises(CorrectionRefused) as shielded:
        _correct(world, child_id, CorrectableDetail.GENDER, gender="1")
    with pytest.raises(CorrectionRefused) as missing:
        _correct(world, uuid.uuid4(), CorrectableDetail.GENDER, gender="1")

    assert (shielded.value.code, missing.value.code) == ("record_shielded", "not_found")
    assert list(
        AccessEvent.objects.filter(action="record_correct").values_list(
            "outcome", "reason", "shielded_record"
        )
    ) == [("denied", "record_shielded", True), ("denied", "not_found", False)]


def test_a_shielded_record_of_the_managers_own_authority_may_be_corrected(world):
    child_id = _child(shielded=True, responsible_authority_id=world.authority.pk)

    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")

    assert _read(world, child_id).gender == "1"


@pytest.mark.parametrize(
    ("detail", "value", "field", "code"),
    [
        (CorrectableDetail.NHS_NUMBER, {"nhs_number": "9990000019"}, "nhs_number",
         "nhs_number_check_digit"),
        (CorrectableDetail.NHS_NUMBER, {"nhs_number": "12345"}, "nhs_number",
         "nhs_number_format"),
        (CorrectableDetail.UPN, {"upn": "A201200015001"}, "upn", "upn_check_letter"),
        (CorrectableDetail.ADDRESS, {"address_lines": ("1 Road",), "postcode": "N17"},
         "postcode", "postcode_format"),
        (CorrectableDetail.ADDRESS, {"address_lines": (" ",), "postcode": "N17 6QA"},
         "address_lines", "address_missing"),
        (CorrectableDetail.NAME, {"given_names": " ", "family_name": "Smith"},
         "given_names", "given_names_missing"),
        (CorrectableDetail.DATE_OF_BIRTH, {"date_of_birth": dt.date(2990, 1, 1)},
         "date_of_birth", "date_of_birth_future"),
        (CorrectableDetail.DATE_OF_BIRTH, {"date_of_birth": dt.date(1980, 1, 1)},
         "date_of_birth", "date_of_birth_too_old"),
        (CorrectableDetail.DATE_OF_DEATH, {"date_of_death": dt.date(2010, 1, 1)},
         "date_of_death", "date_of_death_before_birth"),
        (CorrectableDetail.DATE_OF_DEATH, {"date_of_death": None}, "date_of_death",
         "no_change"),
        (CorrectableDetail.GENDER, {"gender": "2"}, "gender", "no_change"),
        (CorrectableDetail.GENDER, {"gender": "x"}, "gender", "gender_missing"),
        (CorrectableDetail.NHS_NUMBER, {"nhs_number": "943 476 5919"}, "nhs_number",
         "no_change"),
        (CorrectableDetail.UPN, {"upn": ""}, "upn", "no_change"),
    ],
)  # fmt: skip
def test_invalid_values_are_refused_on_their_field_and_audited(
    world, detail, value, field, code
):
    child_id = _child(gender="2")

    with pytest.raises(ValidationError) as error:
        _correct(world, child_id, detail, **value)

    assert list(_problems(error)) == [field]
    assert [e.code for e in error.value.error_dict[field]] == [code]
    event = _last_event()
    assert (event.action, event.outcome, event.reason) == (
        "record_correct",
        "denied",
        code,
    )
    assert _corrections(child_id) == []


def test_a_reason_is_required_and_limited(world):
    child_id = _child()

    with pytest.raises(ValidationError) as missing:
        _correct(world, child_id, CorrectableDetail.GENDER, reason="  ", gender="1")
    with pytest.raises(ValidationError) as too_long:
        _correct(
            world, child_id, CorrectableDetail.GENDER, reason="x" * 501, gender="1"
        )

    assert _problems(missing) == {
        "reason": ["Enter why you are making this correction"]
    }
    assert _problems(too_long) == {
        "reason": ["The reason must be 500 characters or fewer"]
    }
    assert _read(world, child_id).gender == "2"


def test_a_date_of_birth_after_the_recorded_death_is_refused(world):
    child_id = _child()
    _correct(
        world,
        child_id,
        CorrectableDetail.DATE_OF_DEATH,
        date_of_death=dt.date(2016, 1, 1),
    )

    with pytest.raises(ValidationError) as error:
        _correct(
            world,
            child_id,
            CorrectableDetail.DATE_OF_BIRTH,
            date_of_birth=dt.date(2016, 6, 1),
        )

    assert (
        error.value.error_dict["date_of_birth"][0].code == "date_of_birth_after_death"
    )


def test_an_upn_held_by_another_active_child_is_refused_with_a_clear_message(world):
    _child(upn=OTHER_VALID_UPN, nhs_number=None)
    child_id = _child()

    with pytest.raises(ValidationError) as error:
        _correct(world, child_id, CorrectableDetail.UPN, upn=OTHER_VALID_UPN)

    assert _problems(error) == {
        "upn": [
            "Another child's record already has this unique pupil number. Check "
            "it has been copied correctly. If both records are the same child, "
            "merge them instead."
        ]
    }
    assert _last_event().reason == "identifier_held"


def test_an_nhs_number_of_a_merged_away_record_is_not_held(world):
    merged = _child(nhs_number=OTHER_VALID_NHS)
    Child.unaudited.filter(pk=merged).update(status="merged")
    child_id = _child(nhs_number=None)

    _correct(world, child_id, CorrectableDetail.NHS_NUMBER, nhs_number=OTHER_VALID_NHS)

    assert _read(world, child_id).nhs_number == OTHER_VALID_NHS


def test_a_record_without_a_current_address_has_none_to_correct(world):
    child_id = _child(addresses=())

    with pytest.raises(ValidationError) as error:
        _correct(
            world,
            child_id,
            CorrectableDetail.ADDRESS,
            address_lines=("1 Road",),
            postcode="N17 6QA",
        )

    assert error.value.error_dict["address_lines"][0].code == "no_current_address"


def test_the_profile_keeps_its_other_keys(world):
    child_id = _child(upn=VALID_UPN)

    _correct(world, child_id, CorrectableDetail.GENDER, gender="1")

    profile = json.loads(
        unseal(Child.unaudited.get(pk=child_id), "match_profile") or "{}"
    )
    assert profile["u"] == VALID_UPN
    assert profile["n"] == "9434765919"
