"""Search rules (directory.search, directory.search_scoring): query problems,
blocking terms and scoring. Pure, no DB."""

import uuid
from datetime import date

import pytest

from directory.models import Gender
from directory.records import MatchProfile, SearchQuery
from directory.search import (
    GENDER_CODES,
    TOO_BROAD,
    WHOLE_QUERY,
    birth_year_variants,
    dob_variants,
    family_spellings,
    query_terms,
    rank_candidates,
    refusal_reason,
    search_audit_terms,
    search_query_problems,
    search_result,
    weighted_query_terms,
)
from directory.search_index import (
    FAMILY_DISTRICT,
    FAMILY_YEAR,
    GIVEN_DOB,
    IndexInputs,
    index_terms,
)
from directory.search_scoring import (
    FLOOR,
    GOOD,
    STRONG,
    candidate_score,
    dob_agreement,
    family_similarity,
    given_similarity,
    query_place,
    strength_words,
)

TODAY = date(2026, 3, 2)
DOB = date(2015, 11, 2)


def _profile(
    given: tuple[str, ...] = ("Victoria",),
    family: tuple[str, ...] = ("Climbié",),
    dob: date = DOB,
    gender: str = "2",
    postcodes: tuple[str, ...] = ("N17 6QA",),
) -> MatchProfile:
    return MatchProfile(
        child_id=uuid.uuid4(),
        given_names=given,
        family_names=family,
        date_of_birth=dob,
        gender=gender,
        postcodes=postcodes,
    )


def _query(**kwargs: object) -> SearchQuery:
    values: dict[str, object] = {
        "family_name": "Climbié",
        "given_name": "Victoria",
        "date_of_birth": DOB,
    }
    values.update(kwargs)
    return SearchQuery(**values)  # type: ignore[arg-type]


def _fields(query: SearchQuery) -> list[str]:
    return [field for field, _ in search_query_problems(query, today=TODAY)]


# --- Problems -----------------------------------------------------------------


def test_a_family_name_with_a_date_of_birth_is_enough():
    assert search_query_problems(_query(given_name=""), today=TODAY) == []


@pytest.mark.parametrize(
    "extra",
    [{"age_from": 9, "age_to": 11}, {"postcode": "N17 6QA"}, {"postcode": "n17"}],
)
def test_an_age_range_or_a_postcode_also_narrows_enough(extra):
    assert search_query_problems(_query(date_of_birth=None, **extra), today=TODAY) == []


def test_a_family_name_alone_is_refused_as_too_broad():
    problems = search_query_problems(_query(date_of_birth=None), today=TODAY)

    assert problems == [(WHOLE_QUERY, TOO_BROAD)]
    assert refusal_reason(problems) == "query_too_broad"
    assert "family name alone matches too many children" in TOO_BROAD


def test_the_family_name_is_required_and_must_fold_to_letters():
    assert _fields(_query(family_name="  ")) == ["family_name"]
    assert _fields(_query(family_name="Иванов")) == ["family_name"]
    assert refusal_reason([("family_name", "x")]) == "query_invalid"


@pytest.mark.parametrize(
    "dob", [date(2026, 3, 3), date(2001, 3, 2), date(1990, 1, 1)], ids=str
)
def test_date_of_birth_must_be_past_and_under_25(dob):
    assert _fields(_query(date_of_birth=dob)) == ["date_of_birth"]


def test_date_of_birth_on_the_day_before_the_25th_birthday_is_accepted():
    assert _fields(_query(date_of_birth=date(2001, 3, 3))) == []


@pytest.mark.parametrize(
    ("age_from", "age_to", "field"),
    [
        (-1, 3, "age_from"),
        (20, 25, "age_from"),
        (9, 7, "age_to"),
        (3, 9, "age_to"),
    ],
)
def test_age_ranges_must_be_sane(age_from, age_to, field):
    query = _query(date_of_birth=None, age_from=age_from, age_to=age_to)
    assert _fields(query) == [field]


def test_one_age_alone_means_that_age():
    assert _fields(_query(date_of_birth=None, age_to=7)) == []


def test_a_date_of_birth_and_an_age_range_together_are_refused():
    assert _fields(_query(age_from=9, age_to=11)) == ["age_from"]


@pytest.mark.parametrize("postcode", ["N17 6QAX", "Q1 1AA", "hello", "N", "SW1A1"])
def test_postcode_must_be_a_full_postcode_or_a_district(postcode):
    assert _fields(_query(postcode=postcode)) == ["postcode"]


def test_query_place_reads_full_postcodes_and_districts():
    assert query_place("sw1a1aa") == ("SW1A 1AA", "SW1A")
    assert query_place(" sw1a ") == (None, "SW1A")
    assert query_place("N17") == (None, "N17")
    assert query_place("NOTAPOSTCODE") is None


def test_gender_must_be_one_of_the_models_choices():
    assert set(Gender.values) == GENDER_CODES
    assert _fields(_query(gender="F")) == ["gender"]
    assert _fields(_query(gender="2")) == []


def test_messages_never_quote_what_was_typed():
    query = _query(family_name="Zzyzx", postcode="Zzyzx", gender="Zzyzx")
    problems = search_query_problems(query, today=TODAY)
    assert problems
    assert not any("zzyzx" in message.lower() for _, message in problems)


def test_audit_terms_keep_every_field_given_as_strings():
    query = _query(postcode="N17 6QA", gender="2")
    assert search_audit_terms(query) == {
        "family_name": "Climbié",
        "given_name": "Victoria",
        "date_of_birth": "2015-11-02",
        "gender": "2",
        "postcode": "N17 6QA",
    }
    assert search_audit_terms(_query(date_of_birth=None, age_from=0, age_to=2)) == {
        "family_name": "Climbié",
        "given_name": "Victoria",
        "age_from": "0",
        "age_to": "2",
    }


# --- Blocking terms -------------------------------------------------------------


def test_dob_variants_swap_day_and_month_and_change_one_digit():
    variants = dob_variants(date(2015, 3, 7), today=TODAY)

    assert variants[date(2015, 3, 7)] == "exact"
    assert variants[date(2015, 7, 3)] == "swapped"
    assert variants[date(2015, 3, 8)] == "one_digit"
    assert variants[date(2016, 3, 7)] == "one_digit"
    assert variants[date(2015, 5, 7)] == "one_digit"
    assert date(2025, 3, 7) in variants
    assert date(2035, 3, 7) not in variants  # in the future
    assert date(1015, 3, 7) not in variants  # 25 or older
    assert all(TODAY.year - 25 <= d.year <= TODAY.year for d in variants)


def test_no_swap_when_the_day_cannot_be_a_month():
    variants = dob_variants(date(2015, 11, 23), today=TODAY)
    assert "swapped" not in variants.values()
    assert dob_variants(date(2015, 5, 5), today=TODAY)[date(2015, 5, 5)] == "exact"


def test_birth_year_variants_are_one_digit_away_and_under_25():
    assert birth_year_variants(2015, today=TODAY) == {
        2005,
        2010,
        2011,
        2012,
        2013,
        2014,
        2015,
        2016,
        2017,
        2018,
        2019,
        2025,
    }


def _child_terms(**kwargs: object) -> set:
    values: dict[str, object] = {
        "family_names": ("Climbié",),
        "given_names": ("Victoria",),
        "dates_of_birth": (DOB,),
        "postcodes": ("N17 6QA",),
    }
    values.update(kwargs)
    return index_terms(IndexInputs(**values))  # type: ignore[arg-type]


ERROR_KINDS = {
    "diacritics dropped": ({}, {"family_name": "CLIMBIE"}),
    "Kowalsky for Kowalski": (
        {"family_names": ("Kowalski",)},
        {"family_name": "Kowalsky"},
    ),
    "Smyth for Smith": ({"family_names": ("Smith",)}, {"family_name": "Smyth"}),
    "Bill for William": (
        {"given_names": ("William",)},
        {"family_name": "Zzyzx", "given_name": "Bill"},
    ),
    "Katie for Catherine": (
        {"given_names": ("Catherine Anne",)},
        {"family_name": "Zzyzx", "given_name": "Katie"},
    ),
    "one part of a hyphenated name": (
        {"family_names": ("Smith-Jones",)},
        {"family_name": "Jones"},
    ),
    "double-barrelled name with a space": (
        {"family_names": ("Lloyd-Davies",)},
        {"family_name": "Lloyd Davies"},
    ),
    "hyphenated query for a single name": (
        {"family_names": ("Smith",)},
        {"family_name": "Smith-Jones"},
    ),
    "former surname": (
        {"family_names": ("Manning", "Climbié")},
        {"family_name": "Manning"},
    ),
    "date of birth swapped": (
        {"family_names": ("Zzyzx",), "dates_of_birth": (date(2015, 3, 7),)},
        {"date_of_birth": date(2015, 7, 3)},
    ),
    "date of birth one digit wrong": (
        {"family_names": ("Zzyzx",)},
        {"date_of_birth": date(2015, 11, 3)},
    ),
    "birth year one digit wrong": ({}, {"date_of_birth": date(2016, 11, 2)}),
    "postcode moved within the district": (
        {},
        {"date_of_birth": None, "postcode": "N17 9ZZ"},
    ),
    "age range": ({}, {"date_of_birth": None, "age_from": 9, "age_to": 11}),
}


@pytest.mark.parametrize(("child", "query"), ERROR_KINDS.values(), ids=ERROR_KINDS)
def test_query_terms_reach_the_child_despite_the_error(child, query):
    assert not search_query_problems(_query(**query), today=TODAY)
    assert _child_terms(**child) & query_terms(_query(**query), today=TODAY)


def test_exact_terms_outweigh_widened_ones():
    weighted = weighted_query_terms(_query(postcode="N17"), today=TODAY)

    assert weighted[(FAMILY_YEAR, "KLMB|2015")] == 2
    assert weighted[(FAMILY_YEAR, "KLMB|2016")] == 1
    assert weighted[(GIVEN_DOB, "FKTR|2015-11-02")] == 2
    assert weighted[(GIVEN_DOB, "FKTR|2015-11-03")] == 1
    assert weighted[(FAMILY_DISTRICT, "KLMB|N17")] == 2
    assert {index for index, _ in weighted} == {FAMILY_YEAR, GIVEN_DOB, FAMILY_DISTRICT}


def _exact(weighted: dict) -> set:
    return {term for term, weight in weighted.items() if weight == 2}


def test_a_postcode_only_query_looks_up_the_district_alone():
    weighted = weighted_query_terms(
        _query(date_of_birth=None, postcode="N17 6QA"), today=TODAY
    )
    assert _exact(weighted) == {(FAMILY_DISTRICT, "KLMB|N17")}
    assert {index for index, _ in weighted} == {FAMILY_DISTRICT}


def test_age_range_covers_every_possible_birth_year():
    weighted = weighted_query_terms(
        _query(date_of_birth=None, given_name="", age_from=9, age_to=10), today=TODAY
    )
    assert _exact(weighted) == {
        (FAMILY_YEAR, f"KLMB|{year}") for year in (2015, 2016, 2017)
    }
    assert {index for index, _ in weighted} == {FAMILY_YEAR}


def test_spelling_variants_use_only_the_exact_years():
    weighted = weighted_query_terms(_query(family_name="Smit"), today=TODAY)
    assert weighted[(FAMILY_YEAR, "SM0|2015")] == 1
    assert (FAMILY_YEAR, "SM0|2016") not in weighted


# --- Scoring -----------------------------------------------------------------


def test_names_compare_without_case_or_diacritics():
    assert family_similarity("CLIMBIE", ["Climbié"]) == 1.0
    assert family_similarity("Smyth", ["Smith"]) >= 0.93
    assert family_similarity("Kowalsky", ["Kowalski"]) >= 0.93
    assert family_similarity("Jones", ["Smith-Jones"]) == pytest.approx(0.97)
    assert family_similarity("Lloyd Davies", ["Lloyd-Davies"]) == 1.0
    assert family_similarity("Manning", ["Climbié", "Manning"]) == 1.0
    assert family_similarity("Jones", ["Smith"]) < 0.7


def test_given_names_compare_with_nicknames_and_middle_names():
    assert given_similarity("Bill", ["William"]) == 0.95
    assert given_similarity("Katie", ["Catherine Anne"]) == 0.95
    assert given_similarity("Katie", ["Catherine", "Katie"]) == 1.0
    assert given_similarity("Anne", ["Catherine Anne"]) == pytest.approx(0.9)
    assert given_similarity("Zoe", ["Zoë"]) == 1.0
    assert given_similarity("Grace", ["Olivia"]) < 0.7


def test_dob_agreement_levels():
    assert dob_agreement(DOB, DOB) == "exact"
    assert dob_agreement(date(2015, 3, 7), date(2015, 7, 3)) == "swapped"
    assert dob_agreement(date(2015, 11, 3), DOB) == "one_digit"
    assert dob_agreement(date(2015, 1, 30), DOB) == "same_year"
    assert dob_agreement(date(2012, 1, 30), DOB) == "different"


def _score(profile: MatchProfile | None = None, **query: object) -> float:
    return candidate_score(_query(**query), profile or _profile(), today=TODAY)


def test_the_exact_child_scores_100():
    assert _score(postcode="N17 6QA", gender="2") == 100.0


@pytest.mark.parametrize(
    ("profile", "query"),
    [
        (_profile(), {"family_name": "Climbie"}),
        (_profile(family=("Kowalski",)), {"family_name": "Kowalsky"}),
        (_profile(family=("Smith",)), {"family_name": "Smyth"}),
        (_profile(given=("William",)), {"given_name": "Bill"}),
        (_profile(given=("Catherine",)), {"given_name": "Katie"}),
        (_profile(family=("Smith-Jones",)), {"family_name": "Jones"}),
        (_profile(family=("Lloyd-Davies",)), {"family_name": "Lloyd Davies"}),
        (_profile(family=("Climbié", "Manning")), {"family_name": "Manning"}),
        (_profile(dob=date(2015, 3, 7)), {"date_of_birth": date(2015, 7, 3)}),
        (_profile(), {"date_of_birth": date(2015, 11, 3)}),
        (_profile(), {"date_of_birth": None, "postcode": "N17 9ZZ"}),
    ],
    ids=[
        "diacritics",
        "Kowalsky",
        "Smyth",
        "Bill",
        "Katie",
        "hyphenated part",
        "double-barrelled",
        "former surname",
        "dob swapped",
        "dob one digit",
        "moved within district",
    ],
)
def test_each_kind_of_error_still_scores_a_strong_match(profile, query):
    assert _score(profile, **query) >= STRONG


def test_date_of_birth_agreement_ranks_exact_swapped_one_digit_same_year():
    profile = _profile(dob=date(2015, 3, 7))
    scores = [
        _score(profile, date_of_birth=day)
        for day in (
            date(2015, 3, 7),
            date(2015, 7, 3),
            date(2015, 3, 8),
            date(2015, 1, 30),
            date(2012, 1, 30),
        )
    ]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


def test_postcode_agreement_ranks_same_postcode_then_district():
    scores = [
        _score(postcode=postcode) for postcode in ("N17 6QA", "N17 9ZZ", "E1 6AN")
    ]
    assert scores[0] > scores[1] > scores[2]
    assert _score(postcode="N17") == 100.0


def test_gender_agreement_counts_only_when_both_are_known():
    assert _score(gender="2") > _score(gender="1")
    assert _score(_profile(gender="0"), gender="1") > _score(gender="1")
    assert _score(gender="0") == 100.0


def test_an_age_range_scores_children_of_those_ages():
    in_range = _score(date_of_birth=None, age_from=9, age_to=11)
    near = _score(date_of_birth=None, age_from=11, age_to=12)
    far = _score(date_of_birth=None, age_from=1, age_to=3)
    assert in_range == 100.0
    assert in_range > near > far


def test_a_different_child_falls_below_the_floor():
    other = _profile(given=("Oliver",), family=("Smith",), dob=date(2012, 6, 9))
    assert _score(other, postcode="N17 6QA", gender="2") < FLOOR


def test_a_sibling_scores_lower_than_the_child():
    sibling = _profile(given=("Grace",), dob=date(2013, 4, 1))
    assert _score(sibling) < _score()


def test_strength_words():
    assert strength_words(100) == "Strong match"
    assert strength_words(STRONG) == "Strong match"
    assert strength_words(GOOD) == "Good match"
    assert strength_words(FLOOR) == "Possible match"
    assert strength_words(FLOOR - 0.1) == ""


def test_rank_candidates_drops_the_floor_and_orders_best_first():
    exact, near = _profile(), _profile(dob=date(2015, 11, 3))
    stranger = _profile(given=("Oliver",), family=("Smith",), dob=date(2012, 6, 9))

    ranked = rank_candidates(_query(), [stranger, near, exact], today=TODAY)

    assert [p for p, _ in ranked] == [exact, near]


def test_a_result_shows_the_first_name_and_the_district_only():
    profile = _profile(family=("Climbié", "Manning"), given=("Victoria", "Anna"))
    result = search_result(profile, 91.5)

    assert (result.given_names, result.family_name) == ("Victoria", "Climbié")
    assert result.postcode_district == "N17"
    assert result.strength == "Strong match"


def test_family_spellings_undo_confusions_metaphone_keeps_apart():
    assert "smith" in family_spellings("Smit")
    assert "wilson" in family_spellings("Wylson")
    assert "richardson" in family_spellings("Rikhardson")
    assert "thompson" in family_spellings("Thomson")
    assert "smit" not in family_spellings("Smit")


@pytest.mark.parametrize(
    ("held", "typed"),
    [("Smith", "Smit"), ("Wilson", "Wylson"), ("Lewis", "Lewys"), ("Price", "Prike")],
)
def test_a_misspelt_family_name_with_only_a_postcode_still_reaches_the_child(
    held, typed
):
    query = _query(family_name=typed, date_of_birth=None, postcode="N17 9ZZ")
    weighted = weighted_query_terms(query, today=TODAY)

    shared = _child_terms(family_names=(held,)) & set(weighted)

    assert shared
    assert {weighted[term] for term in shared} == {1}
