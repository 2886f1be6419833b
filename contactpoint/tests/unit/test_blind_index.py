"""Truncated blind indexes, and the directory's index terms built on them."""

import dataclasses
import hashlib
import hmac
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactpoint.crypto.blind_index import MAX_BITS, BlindIndex, index_value
from contactpoint.crypto.keys import BlindIndexRoot
from directory.search_index import (
    DECLARED_INDEXES,
    FAMILY_DISTRICT,
    FAMILY_YEAR,
    GIVEN_DOB,
    NHS_NUMBER,
    UPN,
    IndexInputs,
    family_keys,
    given_keys,
    index_terms,
    postcode_district,
    union_inputs,
)

ROOT = BlindIndexRoot(bytes(range(32)))
OTHER_ROOT = BlindIndexRoot(bytes(range(1, 33)))
INDEX = BlindIndex(
    code=99,
    name="test_index",
    table="directory_child",
    fields=("family_name",),
    bits=16,
    input_bits=20.0,
)


def _with_bits(bits: int) -> BlindIndex:
    return dataclasses.replace(INDEX, bits=bits)


# --- index_value --------------------------------------------------------------


def test_index_value_is_deterministic() -> None:
    assert index_value(ROOT, INDEX, "SM0|2010") == index_value(ROOT, INDEX, "SM0|2010")


def test_index_value_is_the_truncated_hmac() -> None:
    key = ROOT.index_key(INDEX.table, INDEX.fields, INDEX.name)
    digest = hmac.new(key, b"SM0|2010", hashlib.sha256).digest()
    assert index_value(ROOT, INDEX, "SM0|2010") == int.from_bytes(digest[:2], "big")


@settings(max_examples=300)
@given(bits=st.integers(1, MAX_BITS), transformed=st.text())
def test_index_value_is_within_its_bits(bits: int, transformed: str) -> None:
    value = index_value(ROOT, _with_bits(bits), transformed)
    assert 0 <= value < 2**bits


@settings(max_examples=200)
@given(bits=st.integers(1, MAX_BITS), transformed=st.text())
def test_truncation_keeps_the_leading_bits(bits: int, transformed: str) -> None:
    # The key depends on the index's name, table and fields, not on its bits,
    # so a narrower index is a prefix of the wider one.
    full = index_value(ROOT, _with_bits(MAX_BITS), transformed)
    assert index_value(ROOT, _with_bits(bits), transformed) == full >> (MAX_BITS - bits)


def test_every_bucket_is_used_and_roughly_even() -> None:
    counts = Counter(index_value(ROOT, _with_bits(4), f"name{i}") for i in range(3200))
    assert set(counts) == set(range(16))
    assert all(120 <= c <= 280 for c in counts.values()), counts  # mean 200


def test_different_keys_give_different_values() -> None:
    wide = _with_bits(32)
    inputs = [f"K{i}|2010" for i in range(500)]
    same = sum(
        index_value(ROOT, wide, t) == index_value(OTHER_ROOT, wide, t) for t in inputs
    )
    assert same <= 1  # chance of any 32-bit agreement over 500 inputs ~ 1e-7


def test_different_indexes_give_different_values() -> None:
    one = _with_bits(32)
    other = dataclasses.replace(one, name="another_index")
    inputs = [f"K{i}|2010" for i in range(500)]
    same = sum(index_value(ROOT, one, t) == index_value(ROOT, other, t) for t in inputs)
    assert same <= 1


def test_different_inputs_spread_over_values() -> None:
    wide = _with_bits(32)
    values = {index_value(ROOT, wide, f"K{i}") for i in range(2000)}
    assert len(values) >= 1999


def test_index_value_does_not_normalise() -> None:
    # Callers pass already-transformed inputs (index_terms does the folding).
    wide = _with_bits(32)
    assert index_value(ROOT, wide, "smith") != index_value(ROOT, wide, "Smith")


@pytest.mark.parametrize("bits", [0, -1, MAX_BITS + 1, 64])
def test_bits_out_of_range_are_refused(bits: int) -> None:
    with pytest.raises(ValueError, match=r"bits must be 1\.\.32"):
        _with_bits(bits)


# --- search_index.index_terms ---------------------------------------------------


def _inputs(transformed: set[tuple[BlindIndex, str]], index: BlindIndex) -> set[str]:
    return {text for i, text in transformed if i == index}


def test_diacritics_give_the_same_family_key() -> None:
    assert family_keys("Climbié") == family_keys("Climbie") == family_keys("CLIMBIE")
    record = index_terms(IndexInputs(family_names=("Climbié",), birth_years=(1991,)))
    query = index_terms(IndexInputs(family_names=("Climbie",), birth_years=(1991,)))
    assert _inputs(record, FAMILY_YEAR) == _inputs(query, FAMILY_YEAR)
    assert record == query


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Smyth", "Smith"),
        ("Kowalski", "Kowalsky"),
        ("O'Brien", "OBrien"),
        ("O\u2019Brien", "O'Brien"),
        ("ＳＭＩＴＨ", "smith"),
    ],
)
def test_spelling_variants_share_a_family_key(one: str, other: str) -> None:
    assert family_keys(one) & family_keys(other)
    year = (2012,)
    assert _inputs(
        index_terms(IndexInputs(family_names=(one,), birth_years=year)), FAMILY_YEAR
    ) & _inputs(
        index_terms(IndexInputs(family_names=(other,), birth_years=year)), FAMILY_YEAR
    )


def test_nickname_and_formal_name_share_a_given_name_key() -> None:
    assert given_keys("Katie") & given_keys("Catherine")
    born = (date(2014, 3, 9),)
    katie = index_terms(IndexInputs(given_names=("Katie",), dates_of_birth=born))
    catherine = index_terms(
        IndexInputs(given_names=("Catherine Mary",), dates_of_birth=born)
    )
    assert _inputs(katie, GIVEN_DOB) & _inputs(catherine, GIVEN_DOB)


def test_hyphenated_family_name_matches_a_query_for_either_part() -> None:
    record = index_terms(
        IndexInputs(
            family_names=("Smith-Jones",),
            dates_of_birth=(date(2010, 5, 1),),
            postcodes=("SW1A 1AA",),
        )
    )
    for part in ("Jones", "Smith", "Smith Jones", "SmithJones"):
        query = index_terms(IndexInputs(family_names=(part,), birth_years=(2010,)))
        assert query, part
        assert _inputs(query, FAMILY_YEAR) <= _inputs(record, FAMILY_YEAR), part
        by_district = index_terms(
            IndexInputs(family_names=(part,), postcodes=("sw1a1aa",))
        )
        assert by_district <= record, part


def test_a_different_birth_year_does_not_match() -> None:
    record = index_terms(IndexInputs(family_names=("Jones",), birth_years=(2010,)))
    query = index_terms(IndexInputs(family_names=("Jones",), birth_years=(2011,)))
    assert not record & query


def test_record_and_query_use_the_same_function() -> None:
    born = date(2009, 12, 31)
    record = index_terms(
        IndexInputs(
            family_names=("Kowalski",),
            given_names=("Katie",),
            dates_of_birth=(born,),
            postcodes=("M1 1AE",),
        )
    )
    assert (FAMILY_YEAR, "KWLSK|2009") in record
    assert (FAMILY_DISTRICT, "KWLSK|M1") in record
    assert (GIVEN_DOB, "KT|2009-12-31") in record
    assert (GIVEN_DOB, "K0RN|2009-12-31") in record


def test_identifiers_are_compacted() -> None:
    terms = index_terms(IndexInputs(nhs_number="943 476 5919", upn="a123-456 789012"))
    assert terms == {(NHS_NUMBER, "9434765919"), (UPN, "A123456789012")}


def test_postcode_district() -> None:
    assert postcode_district("SW1A 1AA") == "SW1A"
    assert postcode_district("sw1a1aa") == "SW1A"
    assert postcode_district(" m1  1ae ") == "M1"
    assert postcode_district("M1") == "M1"


def test_union_inputs_merges_every_name_and_address() -> None:
    merged = union_inputs(
        [
            IndexInputs(family_names=("Smith",), given_names=("Katie",)),
            IndexInputs(family_names=("Jones", "Smith"), postcodes=("M1 1AE",)),
            IndexInputs(dates_of_birth=(date(2010, 1, 2),), nhs_number="9434765919"),
            IndexInputs(upn="A123456789012", nhs_number="0000000000"),
        ]
    )
    assert merged.family_names == ("Smith", "Jones")
    assert merged.given_names == ("Katie",)
    assert merged.postcodes == ("M1 1AE",)
    assert merged.nhs_number == "9434765919"
    assert merged.upn == "A123456789012"


# --- nothing from date of birth or postcode alone --------------------------------


def test_no_declared_index_reads_date_of_birth_or_postcode_alone() -> None:
    name_fields = {"family_name", "given_names"}
    for index in DECLARED_INDEXES:
        if {"date_of_birth", "postcode"} & set(index.fields):
            assert name_fields & set(index.fields), index.name
        assert set(index.fields) - {"date_of_birth", "postcode"}, index.name


def test_dates_years_and_postcodes_alone_give_no_term() -> None:
    assert not index_terms(
        IndexInputs(
            dates_of_birth=(date(2010, 5, 1),),
            birth_years=(2010, 2011),
            postcodes=("SW1A 1AA", "M1 1AE"),
        )
    )


NAMES_THAT_FOLD_TO_NOTHING = ["", "   ", "-", "'", "\u2019", " - ' ", "Іван", "李"]


@settings(max_examples=200)
@given(
    family=st.sampled_from(NAMES_THAT_FOLD_TO_NOTHING),
    given_name=st.sampled_from(NAMES_THAT_FOLD_TO_NOTHING),
    born=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    postcode=st.sampled_from(["SW1A 1AA", "M1 1AE", "B33 8TH", ""]),
)
def test_empty_names_never_leave_a_date_or_postcode_only_term(
    family: str, given_name: str, born: date, postcode: str
) -> None:
    assert not index_terms(
        IndexInputs(
            family_names=(family,),
            given_names=(given_name,),
            dates_of_birth=(born,),
            birth_years=(born.year,),
            postcodes=(postcode,),
        )
    )


@settings(max_examples=300)
@given(
    family=st.text(max_size=30),
    given_name=st.text(max_size=30),
    born=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    postcode=st.text(max_size=10),
)
def test_every_compound_term_has_a_name_part(
    family: str, given_name: str, born: date, postcode: str
) -> None:
    terms = index_terms(
        IndexInputs(
            family_names=(family,),
            given_names=(given_name,),
            dates_of_birth=(born,),
            postcodes=(postcode,),
        )
    )
    for index, transformed in terms:
        assert index in (FAMILY_YEAR, FAMILY_DISTRICT, GIVEN_DOB)
        name, sep, rest = transformed.partition("|")
        assert sep, transformed
        assert name, transformed
        assert "|" not in rest
