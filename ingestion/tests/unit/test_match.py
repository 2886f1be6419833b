"""Feed record linkage rules (ingestion.pipeline.blocking, .match). Pure, no DB."""

from datetime import date
from math import log2
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.records import NewAddress, NewChild, NewName
from directory.search_index import (
    FAMILY_DISTRICT,
    GIVEN_DOB,
    NHS_NUMBER,
    UPN,
    rank_members,
)
from ingestion.pipeline.blocking import (
    MemoryChildIndex,
    blocking_terms,
    profile_from_child,
)
from ingestion.pipeline.match import (
    LOWER,
    M_U,
    SHIELDED_MARGIN,
    UPPER,
    WEIGHTS,
    match_record,
    score,
)
from ingestion.pipeline.records import Candidate, MatchOutcome, ValidRecord

DOB = date(2016, 3, 9)
NHS_A, NHS_B = "9990000026", "9990000034"
UPN_A = "B801200005001"


def _child(
    *,
    given: str = "Victoria",
    family: str = "Adjo",
    dob: date = DOB,
    gender: str = "2",
    postcode: str = "N17 6QA",
    nhs: str | None = None,
    upn: str | None = None,
    former: str | None = None,
) -> NewChild:
    names: tuple[NewName, ...] = (NewName(given, family),)
    if former:
        names += (NewName(given, former, "former"),)
    return NewChild(
        names=names,
        date_of_birth=dob,
        gender=gender,
        nhs_number=nhs,
        upn=upn,
        addresses=(NewAddress(lines=("1 High Road",), postcode=postcode),),
    )


def _held(number: int, shielded: bool = False, **fields: object) -> Candidate:
    child = _child(**fields)  # type: ignore[arg-type]  # _child's keywords, mixed types
    return Candidate(profile_from_child(child, UUID(int=number)), shielded)


def _record(**fields: object) -> ValidRecord:
    child = _child(**fields)  # type: ignore[arg-type]  # _child's keywords, mixed types
    return ValidRecord(position=1, reference="R1", child=child)


def _weight(record: ValidRecord, candidate: Candidate) -> float:
    return score(record.child, candidate).weight


# --- The weights table -----------------------------------------------------------


def test_weights_are_log2_of_m_over_u_and_probabilities_sum_to_at_most_one():
    for field, levels in M_U.items():
        assert sum(m for m, _ in levels.values()) <= 1.0
        assert sum(u for _, u in levels.values()) <= 1.0 + 1e-9
        for level, (m, u) in levels.items():
            assert WEIGHTS[field][level] == pytest.approx(log2(m / u), abs=0.01)
        assert WEIGHTS[field]["missing"] == 0.0


def test_thresholds_leave_room_for_review():
    assert UPPER > LOWER > LOWER - SHIELDED_MARGIN > 0


# --- Blocking -------------------------------------------------------------------


def test_blocking_terms_weigh_index_bits_and_include_identifiers():
    terms = blocking_terms(_child(nhs=NHS_A, upn=UPN_A))
    assert terms[(NHS_NUMBER, NHS_A)] == NHS_NUMBER.bits
    assert terms[(UPN, UPN_A)] == UPN.bits
    assert all(weight == index.bits for (index, _), weight in terms.items())


def test_blocking_terms_are_not_widened():
    terms = blocking_terms(_child(dob=date(2016, 3, 9)))
    given_dates = {value.split("|")[1] for index, value in terms if index == GIVEN_DOB}
    assert given_dates == {"2016-03-09"}  # no swapped 2016-09-03, no one-digit


def test_blocking_covers_every_name_and_address_of_the_record():
    record = _child(family="Okafor", former="Adjo")
    families = {
        value.split("|")[0]
        for i, value in blocking_terms(record)
        if i == FAMILY_DISTRICT
    }
    assert len(families) == 2


def test_ranking_sums_the_best_weight_per_index_then_orders_by_child_id():
    a, b, c = UUID(int=3), UUID(int=1), UUID(int=2)
    # a is under two terms of the given-name index: it counts once.
    per_index = [(12, [a, b, a]), (16, [c])]
    assert rank_members(per_index, limit=10) == [(c, 16), (b, 12), (a, 12)]
    assert rank_members(per_index, limit=3) == [(c, 16), (b, 12), (a, 12)]
    assert rank_members(per_index, limit=1) == [(c, 16)]
    # Sharing two indexes beats either alone; the 16 bytes sort as the ids do.
    per_index = [(10, [a, b]), (12, [a]), (16, [c])]
    assert rank_members(per_index, limit=2) == [(a, 22), (c, 16)]
    as_bytes = [(w, [x.bytes for x in ids]) for w, ids in per_index]
    assert rank_members(as_bytes, limit=3) == [
        (a.bytes, 22),
        (c.bytes, 16),
        (b.bytes, 10),
    ]


def test_a_weight_too_crowded_for_the_limit_is_left_out_whole():
    """Hundreds of children under one truncated value are strangers: which of
    them would be compared would be decided by their ids, so none is."""
    twin, sibling = UUID(int=900), UUID(int=901)
    crowd = [UUID(int=n) for n in range(300)]
    per_index = [(10, [*crowd, twin, sibling]), (12, [twin]), (16, [twin])]
    assert rank_members(per_index, limit=10) == [(twin, 38)]
    # Room for the whole crowd: all of it, in child-id order.
    ranked = rank_members(per_index, limit=302)
    assert ranked[:2] == [(twin, 38), (crowd[0], 10)]
    assert len(ranked) == 302
    assert ranked[-1] == (sibling, 10)
    # A crowded weight also leaves out every lower one.
    per_index = [(12, crowd), (10, [sibling])]
    assert rank_members(per_index, limit=10) == []


def test_memory_index_ranks_the_child_sharing_most_first_and_never_hashes(
    monkeypatch: pytest.MonkeyPatch,
):
    def refuse(*args: object) -> int:
        raise AssertionError("the in-memory index must not compute HMACs")

    monkeypatch.setattr("contactpoint.crypto.blind_index.index_value", refuse)
    twin_a = _held(1, given="Amara", nhs=NHS_A)
    twin_b = _held(2, given="Chidi", nhs=NHS_B)
    stranger = _held(3, given="Amara", family="Zielinska", postcode="M1 1AA")
    index = MemoryChildIndex(
        (c.profile, c.shielded) for c in (stranger, twin_b, twin_a)
    )
    found = index.candidates(_child(given="Amara", nhs=NHS_A))
    assert [c.profile.child_id for c in found] == [
        UUID(int=1),
        UUID(int=2),
        UUID(int=3),
    ]
    assert len(index.candidates(_child(given="Amara"), limit=2)) == 2
    assert (
        index.candidates(
            _child(family="Nobody", postcode="ZE1 0AA", dob=date(2020, 1, 1))
        )
        == []
    )


# --- Identifiers first ------------------------------------------------------------


def test_same_nhs_number_and_agreeing_details_link():
    match = match_record(_record(nhs=NHS_A), [_held(1, nhs=NHS_A), _held(2)])
    assert (match.outcome, match.reason, match.child_id) == (
        MatchOutcome.LINK,
        "nhs_number_agrees",
        UUID(int=1),
    )


def test_same_nhs_number_links_despite_a_swapped_date_and_a_new_surname():
    record = _record(nhs=NHS_A, family="Okafor", dob=date(2016, 9, 3))
    match = match_record(record, [_held(1, nhs=NHS_A)])
    assert (match.outcome, match.reason) == (MatchOutcome.LINK, "nhs_number_agrees")


def test_same_nhs_number_with_conflicting_details_goes_to_review():
    record = _record(nhs=NHS_A, given="Kwame", family="Mensah", dob=date(2012, 1, 5))
    match = match_record(record, [_held(1, nhs=NHS_A)])
    assert (match.outcome, match.reason) == (MatchOutcome.REVIEW, "nhs_number_conflict")
    assert match.candidates[0].child_id == UUID(int=1)


def test_same_upn_links_and_a_different_nhs_number_makes_it_a_conflict():
    agrees = match_record(_record(upn=UPN_A), [_held(1, upn=UPN_A)])
    assert (agrees.outcome, agrees.reason) == (MatchOutcome.LINK, "upn_agrees")
    clash = match_record(
        _record(upn=UPN_A, nhs=NHS_B), [_held(1, upn=UPN_A, nhs=NHS_A)]
    )
    assert (clash.outcome, clash.reason) == (MatchOutcome.REVIEW, "upn_conflict")


# --- Twins --------------------------------------------------------------------------


TWINS = (
    _held(1, given="Amara", gender="2", nhs=NHS_A),
    _held(2, given="Chidi", gender="1", nhs=NHS_B),
)


def test_a_twin_is_linked_by_nhs_number():
    match = match_record(_record(given="Chidi", gender="1", nhs=NHS_B), TWINS)
    assert (match.outcome, match.child_id) == (MatchOutcome.LINK, UUID(int=2))


def test_a_twin_without_identifiers_is_linked_when_the_given_names_differ_clearly():
    match = match_record(_record(given="Amara"), TWINS)
    assert (match.outcome, match.reason, match.child_id) == (
        MatchOutcome.LINK,
        "above_upper_threshold",
        UUID(int=1),
    )


def test_twins_that_cannot_be_told_apart_go_to_review():
    same_gender = (
        _held(1, given="Ella", gender="2"),
        _held(2, given="Ellie", gender="2"),
    )
    match = match_record(_record(given="Elle", gender="2"), same_gender)
    assert (match.outcome, match.reason) == (MatchOutcome.REVIEW, "close_runner_up")


def test_a_new_twin_is_never_linked_to_its_co_twin():
    co_twin = [_held(1, given="Amara", gender="2", nhs=NHS_A)]
    with_numbers = match_record(_record(given="Chidi", gender="1", nhs=NHS_B), co_twin)
    without = match_record(_record(given="Zuri", gender="2"), co_twin)
    assert with_numbers.outcome is not MatchOutcome.LINK
    assert (without.outcome, without.reason) == (
        MatchOutcome.REVIEW,
        "between_thresholds",
    )


def test_a_different_nhs_number_stops_a_link_by_weight():
    held = _held(1, nhs=NHS_A)
    assert _weight(_record(nhs=NHS_B), held) >= UPPER
    match = match_record(_record(nhs=NHS_B), [held])
    assert (match.outcome, match.reason) == (MatchOutcome.REVIEW, "nhs_number_conflict")


# --- Errors the weights forgive -----------------------------------------------------


@pytest.mark.parametrize(
    ("held_given", "sent", "field", "plain"),
    [
        ("Catherine", {"given": "Katie"}, "given_name", "partial"),
        ("Victoria", {"dob": date(2016, 9, 3)}, "date_of_birth", "partial"),
        ("Victoria", {"dob": date(2016, 3, 8)}, "date_of_birth", "partial"),
        ("Victoria", {"family": "Adjoh"}, "family_name", "partial"),
        ("Victoria", {"postcode": "N17 9ZZ"}, "postcode", "partial"),
        ("Victoria", {"family": "Okafor", "former": "Adjo"}, "family_name", "agree"),
    ],
    ids=["nickname", "swap", "one_digit", "family_typo", "moved_nearby", "former"],
)
def test_one_error_still_links_and_shows_as_partial(
    held_given: str, sent: dict[str, object], field: str, plain: str
):
    held = _held(1, given=held_given)
    other = _held(2, given="Zuri", dob=date(2014, 5, 1))
    record = _record(**({"given": held_given} | sent))
    match = match_record(record, [held, other])
    assert (match.outcome, match.child_id) == (MatchOutcome.LINK, UUID(int=1))
    assert match.candidates[0].agreement[field] == plain


def test_candidate_former_names_are_compared():
    held = _held(1, family="Okafor", former="Adjo")
    assert match_record(_record(family="Adjo"), [held]).outcome is MatchOutcome.LINK


# --- Thresholds -------------------------------------------------------------------


def test_no_candidates_means_a_new_child():
    match = match_record(_record(), [])
    assert (match.outcome, match.reason) == (MatchOutcome.NEW, "below_lower_threshold")


def test_a_sibling_at_the_same_address_is_a_new_child():
    sibling = _held(1, given="Kofi", gender="1", dob=date(2012, 7, 30))
    match = match_record(_record(), [sibling])
    assert (match.outcome, match.reason) == (MatchOutcome.NEW, "below_lower_threshold")
    assert match.candidates[0].weight < LOWER


def test_a_weight_between_the_thresholds_goes_to_review():
    held = _held(1, postcode="M1 1AA")  # moved out of the district
    assert LOWER <= _weight(_record(), held) < UPPER
    match = match_record(_record(), [held])
    assert (match.outcome, match.reason) == (MatchOutcome.REVIEW, "between_thresholds")


# --- Shielded children -------------------------------------------------------------


def _near_miss(shielded: bool) -> tuple[ValidRecord, Candidate]:
    record = _record(gender="0", dob=date(2016, 3, 8), postcode="M1 1AA")
    return record, _held(1, shielded=shielded)


def test_a_near_shielded_child_turns_new_into_review():
    record, unshielded = _near_miss(shielded=False)
    assert LOWER - SHIELDED_MARGIN <= _weight(record, unshielded) < LOWER
    assert match_record(record, [unshielded]).outcome is MatchOutcome.NEW
    record, shielded = _near_miss(shielded=True)
    match = match_record(record, [_held(2, given="Zuri", family="Mensah"), shielded])
    assert (match.outcome, match.reason) == (MatchOutcome.REVIEW, "shielded_candidate")
    assert UUID(int=1) in {c.child_id for c in match.candidates}


def test_linking_to_a_shielded_child_is_allowed():
    match = match_record(_record(), [_held(1, shielded=True)])
    assert (match.outcome, match.child_id) == (MatchOutcome.LINK, UUID(int=1))


# --- What a match carries --------------------------------------------------------


def test_match_keeps_the_best_three_candidates_with_their_agreement():
    held = [
        _held(n, given=given)
        for n, given in enumerate(("Victoria", "Vicky", "Zuri", "Kofi", "Ama"), 1)
    ]
    match = match_record(_record(), held)
    assert len(match.candidates) == 3
    weights = [c.weight for c in match.candidates]
    assert weights == sorted(weights, reverse=True)
    assert match.candidates[0].agreement == {
        "family_name": "agree",
        "given_name": "agree",
        "date_of_birth": "agree",
        "gender": "agree",
        "postcode": "agree",
        "address": "missing",
        "nhs_number": "missing",
        "upn": "missing",
    }


def test_the_same_child_offered_twice_is_scored_once():
    held = _held(1)
    match = match_record(_record(), [held, held])
    assert len(match.candidates) == 1


@given(
    st.lists(
        st.tuples(
            st.sampled_from([10, 12, 16, 22]),
            st.lists(st.integers(min_value=0, max_value=40), max_size=30),
        ),
        max_size=5,
    ),
    st.integers(min_value=0, max_value=12),
)
def test_ranking_agrees_with_sorting_everyone(per_index, limit):
    """The intersections-and-counts ranking equals the obvious one: every
    child's summed weight (each index once), sorted by weight then id, whole
    weights kept while they fit in the limit."""
    as_ids = [(w, [UUID(int=n) for n in ids]) for w, ids in per_index]
    totals: dict[UUID, int] = {}
    for weight, ids in as_ids:
        for child in set(ids):
            totals[child] = totals.get(child, 0) + weight
    expected: list[tuple[UUID, int]] = []
    for weight in sorted(set(totals.values()), reverse=True):
        tier = sorted(child for child, total in totals.items() if total == weight)
        if len(expected) + len(tier) > limit:
            break
        expected.extend((child, weight) for child in tier)
    assert rank_members(as_ids, limit) == expected
    as_sets = [(w, frozenset(x.bytes for x in ids)) for w, ids in as_ids]
    assert rank_members(as_sets, limit) == [(c.bytes, w) for c, w in expected]
