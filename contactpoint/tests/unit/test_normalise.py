"""Normalisation before blind indexing: spellings a person calls the same name
must give the same index input."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactpoint.crypto.normalise import compact, fold, name_parts

FOLDED = re.compile(r"[0-9a-z ]*")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Climbié", "Climbie"),
        ("CLIMBIÉ", "climbie"),
        ("Clímbíe", "Climbie"),
        ("Zoë", "Zoe"),
        ("Ñúñez", "Nunez"),
        ("Łukasz", "Lukasz"),
        ("Øyvind", "Oyvind"),
        ("Đorđević", "Dordevic"),
        ("Æthelred", "Aethelred"),
        ("Œuvre", "Oeuvre"),
        ("Þór", "Thor"),
        ("Straße", "Strasse"),
        ("STRASSE", "strasse"),
        ("Weiẞ", "Weiss"),
        ("İpek", "Ipek"),
        ("Yıldız", "Yildiz"),
        ("O'Brien", "OBrien"),
        ("O\u2019Brien", "OBrien"),
        ("O\u2018Brien", "OBrien"),
        ("O\u02bcBrien", "OBrien"),
        ("O`Brien", "OBrien"),
        ("D'Arcy-Smith", "darcy smith"),
        ("ＳＭＩＴＨ", "Smith"),
        ("ｓｍｉｔｈ", "smith"),
        ("\ufb01nn", "Finn"),
        ("  Smith   Jones ", "smith jones"),
        ("Smith\tJones", "Smith Jones"),
        ("Smith-Jones", "Smith Jones"),
        ("Smith\u2013Jones", "Smith Jones"),
        ("Smith\u2010Jones", "Smith Jones"),
        ("Smith_Jones", "Smith Jones"),
        ("St. John", "St John"),
        ("Smith\u00a0Jones", "Smith Jones"),
        ("Smith\u3000Jones", "Smith Jones"),
    ],
)
def test_same_name_folds_the_same(one: str, other: str) -> None:
    assert fold(one) == fold(other)


def test_fold_examples() -> None:
    assert fold("Climbié") == "climbie"
    assert fold("O'Brien") == "obrien"
    assert fold("  Smith   Jones ") == "smith jones"
    assert fold("Smith-Jones") == "smith jones"
    assert fold("ＫＯＷＡＬＳＫＩ") == "kowalski"
    assert fold("Straße") == "strasse"
    assert fold("") == ""
    assert fold("   ") == ""
    assert fold("-'\u2019-") == ""


def test_fold_keeps_digits() -> None:
    assert fold("SW1A 1AA") == "sw1a 1aa"
    assert fold("９４３ ４７６ ５９１９") == "943 476 5919"


def test_case_folding_is_full_not_lower() -> None:
    # str.lower() leaves "ß" alone and gets some Greek and Cherokee wrong;
    # casefold() is the Unicode caseless-matching form.
    assert fold("MASSE") == fold("Maße")
    assert fold("ǅ") == fold("dž") == "dz"


def test_acute_accent_used_as_apostrophe() -> None:
    assert fold("O\u00b4Brien") == "obrien"


def test_dropped_symbols_leave_single_spaces() -> None:
    assert fold("Smith & Jones") == "smith jones"


def test_scripts_without_latin_folding_fold_to_nothing() -> None:
    # A known limit: non-Latin names produce no index input at all (they are
    # not searchable by blind index), rather than a misleading one.
    assert fold("Іван") == ""
    assert name_parts("李") == []


# --- name parts -------------------------------------------------------------------


def test_hyphenated_name_has_parts_and_joined_form() -> None:
    assert name_parts("Smith-Jones") == ["smith", "jones", "smithjones"]


def test_spaced_name_has_parts_and_joined_form() -> None:
    assert name_parts("  Smith   Jones ") == ["smith", "jones", "smithjones"]


def test_single_name_has_one_part() -> None:
    assert name_parts("O'Brien") == ["obrien"]
    assert name_parts("Climbié") == ["climbie"]


def test_apostrophes_do_not_split() -> None:
    assert name_parts("O\u2019Brien") == name_parts("OBrien") == ["obrien"]


def test_name_parts_deduplicates_in_order() -> None:
    assert name_parts("Smith-Smith") == ["smith", "smithsmith"]
    assert name_parts("Jones Smith-Jones") == ["jones", "smith", "jonessmithjones"]


def test_name_parts_of_nothing() -> None:
    assert name_parts("") == []
    assert name_parts(" - ") == []


# --- compact ----------------------------------------------------------------------


def test_compact_removes_every_space() -> None:
    assert compact(" sw1a  1aa ") == "sw1a1aa"
    assert compact("943-476-5919") == "9434765919"
    assert compact("A 123 456 789 012") == "a123456789012"


# --- properties -------------------------------------------------------------------


@settings(max_examples=500)
@given(text=st.text())
def test_fold_output_is_plain_ascii(text: str) -> None:
    folded = fold(text)
    assert FOLDED.fullmatch(folded)
    assert folded == folded.strip()


@settings(max_examples=500)
@given(text=st.text())
def test_fold_is_stable_on_its_own_output(text: str) -> None:
    folded = fold(text)
    assert fold(folded).split() == folded.split()


@settings(max_examples=500)
@given(text=st.text())
def test_name_parts_are_non_empty_unique_and_folded(text: str) -> None:
    parts = name_parts(text)
    assert all(p and re.fullmatch(r"[0-9a-z]+", p) for p in parts)
    assert len(parts) == len(set(parts))
    assert name_parts(" ".join(fold(text).split())) == parts


@settings(max_examples=300)
@given(text=st.text())
def test_compact_is_fold_without_spaces(text: str) -> None:
    assert compact(text) == fold(text).replace(" ", "")
    assert " " not in compact(text)


@settings(max_examples=300)
@given(text=st.text(alphabet=st.characters(categories=["Lu", "Ll"])))
def test_case_does_not_matter(text: str) -> None:
    assert fold(text.upper()) == fold(text.lower()) == fold(text)
