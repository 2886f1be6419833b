"""Identifier and date-of-birth rules. Pure: no Django, no database."""

import pickle
import random
import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.identifiers import (
    IdentifierError,
    directory_number_check_digit,
    format_directory_number,
    format_nhs_number,
    is_pseudo_postcode,
    is_test_nhs_number,
    make_directory_number,
    make_test_nhs_number,
    make_upn,
    nhs_number_check_digit,
    normalise_directory_number,
    normalise_nhs_number,
    normalise_postcode,
    normalise_upn,
    parse_date_of_birth,
    postcode_district,
    upn_check_letter,
    validate_date_of_birth,
)

DIGITS = "0123456789"

# Seeded generators, as the demo-data seeder uses them. (st.randoms() would
# let Hypothesis answer every draw with 0, and 999 000 000 has no valid
# check digit, so make_test_nhs_number would draw for ever.)
rngs = st.integers(0, 2**64).map(random.Random)


def _error(call, *args, **kwargs) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        call(*args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------
# IdentifierError
# ---------------------------------------------------------------------------


def test_identifier_error_is_a_value_error_carrying_code_and_message():
    error = IdentifierError("nhs_number_format", "Enter the NHS number")

    assert isinstance(error, ValueError)
    assert (error.code, error.message, str(error)) == (
        "nhs_number_format",
        "Enter the NHS number",
        "Enter the NHS number",
    )


def test_identifier_error_survives_pickling():
    error = pickle.loads(pickle.dumps(IdentifierError("upn_format", "Enter a UPN")))  # noqa: S301

    assert (error.code, error.message) == ("upn_format", "Enter a UPN")


# ---------------------------------------------------------------------------
# NHS number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 ", "943 - 476-5919"],
)
def test_published_example_nhs_number_is_valid_with_any_spacing(raw):
    assert normalise_nhs_number(raw) == "9434765919"


def test_check_digit_of_published_example():
    assert nhs_number_check_digit("943476591") == 9


def test_remainder_eleven_gives_check_digit_zero():
    # 2*10 + 1*2 = 22, 22 mod 11 = 0, 11 - 0 = 11 -> 0.
    assert nhs_number_check_digit("200000001") == 0
    assert normalise_nhs_number("2000000010") == "2000000010"


def test_remainder_ten_has_no_check_digit():
    # 1*10 + 2*9 + ... + 9*2 = 210, 210 mod 11 = 1, 11 - 1 = 10.
    assert nhs_number_check_digit("123456789") is None


@pytest.mark.parametrize("last", DIGITS)
def test_no_nhs_number_is_valid_when_the_remainder_is_ten(last):
    error = _error(normalise_nhs_number, f"123456789{last}")

    assert error.code == "nhs_number_check_digit"


def test_wrong_check_digit_names_the_number_and_what_to_do():
    error = _error(normalise_nhs_number, "9434765910")

    assert error.code == "nhs_number_check_digit"
    assert error.message == (
        "The NHS number 943 476 5910 is not valid: its check digit does not "
        "match. Check it has been copied correctly."
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "943476591",
        "94347659190",
        "943476591A",
        "NHS9434765919",
        "943.476.5919",
        "943/476/5919",
        "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669",
    ],
)
def test_anything_but_ten_digits_is_a_format_error(raw):
    error = _error(normalise_nhs_number, raw)

    assert error.code == "nhs_number_format"
    assert error.message == "Enter the NHS number as 10 digits, like 943 476 5919"


@pytest.mark.parametrize("first_nine", ["94347659", "9434765919", "94347659A", ""])
def test_check_digit_needs_exactly_nine_digits(first_nine):
    assert _error(nhs_number_check_digit, first_nine).code == "nhs_number_format"


@pytest.mark.parametrize(
    ("nhs", "expected"),
    [
        ("9990000000", True),
        ("999 000 0000", True),
        ("999-999-9999", True),
        ("9991408916", True),
        ("9989999999", False),
        ("9434765919", False),
        ("999000000", False),
        ("99900000000", False),
        ("", False),
        ("999ABCDEFG", False),
    ],
)
def test_test_range_is_999_000_0000_to_999_999_9999(nhs, expected):
    assert is_test_nhs_number(nhs) is expected


@pytest.mark.parametrize("raw", ["9434765919", "943-476-5919", "943 4765919"])
def test_format_nhs_number_groups_three_three_four(raw):
    assert format_nhs_number(raw) == "943 476 5919"


def test_format_nhs_number_refuses_an_invalid_number():
    assert _error(format_nhs_number, "9434765910").code == "nhs_number_check_digit"


@given(rngs)
def test_made_test_nhs_numbers_are_always_valid_and_in_the_test_range(rng):
    nhs = make_test_nhs_number(rng)

    assert re.fullmatch(r"999[0-9]{7}", nhs)
    assert normalise_nhs_number(nhs) == nhs
    assert is_test_nhs_number(nhs)


def test_made_test_nhs_numbers_are_reproducible_from_a_seed():
    first = [make_test_nhs_number(random.Random(7)) for _ in range(3)]
    second = [make_test_nhs_number(random.Random(7)) for _ in range(3)]

    assert first == second


@given(
    st.from_regex(r"[0-9]{9}", fullmatch=True).filter(
        lambda nine: nhs_number_check_digit(nine) is not None
    ),
    st.integers(0, 9),
    st.sampled_from(DIGITS),
)
def test_mod_11_catches_every_single_digit_change(first_nine, position, digit):
    nhs = f"{first_nine}{nhs_number_check_digit(first_nine)}"
    assert normalise_nhs_number(nhs) == nhs
    changed = nhs[:position] + digit + nhs[position + 1 :]
    if changed == nhs:
        return

    assert _error(normalise_nhs_number, changed).code == "nhs_number_check_digit"


# ---------------------------------------------------------------------------
# UPN
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # python-stdnum's documented valid example.
        ("B801200005001", "B801200005001"),
        ("b801200005001", "B801200005001"),
        ("B801 2000 05001", "B801200005001"),
        (" b 801 200 005 001 ", "B801200005001"),
        # The DfE census guide's worked example, with its arithmetic
        # corrected: the weighted sum is 266, and 266 mod 23 = 13 = P.
        ("P207000016049", "P207000016049"),
    ],
)
def test_valid_upn_is_upper_cased_without_spaces(raw, expected):
    assert normalise_upn(raw) == expected


def test_check_letter_of_published_example():
    # 8*2 + 1*4 + 2*5 + 5*10 + 1*13 = 93, 93 mod 23 = 1 = B.
    assert upn_check_letter("801200005001") == "B"


@pytest.mark.parametrize(
    ("upn", "why"),
    [
        # 8*2 + 1*4 + 2*5 + 5*10 + A(0)*13 = 80, 80 mod 23 = 11 = M.
        ("M80120000500A", "final A counts as 0"),
        # 80 + Z(22)*13 = 366, 366 mod 23 = 21 = Y.
        ("Y80120000500Z", "final Z counts as 22"),
        ("m80120000500a", "lower case"),
    ],
)
def test_temporary_upn_ending_in_a_letter_is_valid(upn, why):
    assert normalise_upn(upn) == upn.upper(), why


def test_check_letter_counts_a_temporary_final_letter_as_its_alphabet_index():
    assert upn_check_letter("80120000500A") == "M"
    assert upn_check_letter("80120000500Z") == "Y"


@pytest.mark.parametrize(
    "upn",
    [
        "A801200005001",
        "C801200005001",
        # The census guide's printed answer, one letter off: see above.
        "Q207000016049",
        "N80120000500A",
    ],
)
def test_wrong_check_letter_is_refused(upn):
    error = _error(normalise_upn, upn)

    assert error.code == "upn_check_letter"
    assert error.message == (
        f"The UPN {upn} is not valid: its first letter does not match the rest "
        "of the number. Check it has been copied correctly."
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "B80120000500",
        "B8012000050011",
        "1801200005001",
        "X80120000A001",
        "B-801200005001",
        "I801200005001",
        "O801200005001",
        "S801200005001",
        "M80120000500I",
        "M80120000500O",
        "M80120000500S",
        "MM0120000500A",
    ],
)
def test_malformed_upn_is_a_format_error(raw):
    error = _error(normalise_upn, raw)

    assert error.code == "upn_format"
    assert "13 characters" in error.message


@pytest.mark.parametrize("body", ["80120000500", "8012000050011", "8012000A5001", ""])
def test_check_letter_needs_a_twelve_character_body(body):
    assert _error(upn_check_letter, body).code == "upn_format"


@given(
    rngs,
    st.integers(0, 999),
    st.integers(0, 9999),
    st.integers(0, 99),
)
def test_made_upns_are_always_valid_and_carry_their_parts(rng, la, school, year):
    upn = make_upn(rng, la_code=la, establishment=school, year=year)

    assert normalise_upn(upn) == upn
    assert upn[1:10] == f"{la:03d}{school:04d}{year:02d}"
    assert upn[10:].isdigit()


@pytest.mark.parametrize(
    ("la_code", "establishment", "year"),
    [(-1, 2000, 5), (1000, 2000, 5), (801, -1, 5), (801, 10_000, 5), (801, 2000, 2025)],
)
def test_make_upn_refuses_parts_that_do_not_fit(la_code, establishment, year):
    with pytest.raises(ValueError, match="must be"):
        make_upn(random.Random(1), la_code, establishment, year)


@given(
    rngs,
    st.integers(1, 12),
    st.sampled_from(DIGITS),
)
def test_upn_check_letter_catches_every_single_digit_change(rng, position, digit):
    upn = make_upn(rng, 801, 2000, 5)
    changed = upn[:position] + digit + upn[position + 1 :]
    if changed == upn:
        return

    assert _error(normalise_upn, changed).code == "upn_check_letter"


# ---------------------------------------------------------------------------
# Postcode
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical", "district"),
    [
        ("M1 1AE", "M1 1AE", "M1"),  # A9 9AA
        ("B33 8TH", "B33 8TH", "B33"),  # A99 9AA
        ("CR2 6XH", "CR2 6XH", "CR2"),  # AA9 9AA
        ("DN55 1PT", "DN55 1PT", "DN55"),  # AA99 9AA
        ("W1A 0AX", "W1A 0AX", "W1A"),  # A9A 9AA
        ("EC1A 1BB", "EC1A 1BB", "EC1A"),  # AA9A 9AA
        ("GIR 0AA", "GIR 0AA", "GIR"),
        ("sw1a 1aa", "SW1A 1AA", "SW1A"),
        ("SW1A1AA", "SW1A 1AA", "SW1A"),
        ("  sw1a   1aa ", "SW1A 1AA", "SW1A"),
        ("m11ae", "M1 1AE", "M1"),
        ("gir0aa", "GIR 0AA", "GIR"),
        ("N17 6QA", "N17 6QA", "N17"),
        ("E1W 1AA", "E1W 1AA", "E1W"),
    ],
)
def test_every_postcode_shape_is_accepted_in_canonical_form(raw, canonical, district):
    assert normalise_postcode(raw) == canonical
    assert postcode_district(raw) == district
    assert not is_pseudo_postcode(raw)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("ZZ99 3VZ", "ZZ99 3VZ"),  # no fixed abode
        ("ZZ99 3WZ", "ZZ99 3WZ"),  # not known
        ("ZZ99 3CZ", "ZZ99 3CZ"),  # England, not otherwise stated
        ("zz993vz", "ZZ99 3VZ"),
        ("ZZ99 1WZ", "ZZ99 1WZ"),  # Scotland
    ],
)
def test_nhs_pseudo_postcodes_are_accepted(raw, canonical):
    assert normalise_postcode(raw) == canonical
    assert is_pseudo_postcode(raw)
    assert postcode_district(raw) == "ZZ99"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "empty"),
        ("SW1A1A", "inward code too short"),
        ("SW1A 1AAA", "inward code too long"),
        ("SW1A", "outward code only"),
        ("1AA 1AA", "area starts with a digit"),
        ("Q1 1AA", "Q is not used first"),
        ("V1 1AA", "V is not used first"),
        ("X1 1AA", "X is not used first"),
        ("AI1 1AA", "I is not used second"),
        ("AJ1 1AA", "J is not used second"),
        ("AZ1 1AA", "Z is not used second"),
        ("W1I 1AA", "I is not used third in A9A"),
        ("W1L 1AA", "L is not used third in A9A"),
        ("EC1C 1AA", "C is not used fourth in AA9A"),
        ("EC1D 1AA", "D is not used fourth in AA9A"),
        ("SW1A 1CA", "C is not used in the inward code"),
        ("SW1A 1AI", "I is not used in the inward code"),
        ("SW1A 1KA", "K is not used in the inward code"),
        ("SW1A 1AM", "M is not used in the inward code"),
        ("SW1A 1OA", "O is not used in the inward code"),
        ("SW1A 1AV", "V is not used in the inward code"),
        ("SW123 1AA", "district too long"),
        ("SW1A-1AA", "hyphen"),
        ("GIR 0AB", "GIR is only GIR 0AA"),
        ("ZZ98 3VZ", "ZZ is only valid as ZZ99"),
        ("ZZ99 VZ3", "pseudo inward code is 9AA"),
        ("ZZ99", "pseudo outward code only"),
    ],
)
def test_invalid_postcode_is_refused(raw, why):
    error = _error(normalise_postcode, raw)

    assert error.code == "postcode_format", why
    assert error.message.startswith("Enter a real postcode, like SW1A 1AA")
    assert not is_pseudo_postcode(raw)


def test_district_of_an_invalid_postcode_is_refused():
    assert _error(postcode_district, "Q1 1AA").code == "postcode_format"


_AREA_1 = "ABCDEFGHIJKLMNOPRSTUWYZ"
_AREA_2 = "ABCDEFGHKLMNOPQRSTUVWXY"
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
_OUTWARD_SHAPES = (
    f"[{_AREA_1}][0-9]",
    f"[{_AREA_1}][0-9][0-9]",
    f"[{_AREA_1}][{_AREA_2}][0-9]",
    f"[{_AREA_1}][{_AREA_2}][0-9][0-9]",
    f"[{_AREA_1}][0-9][ABCDEFGHJKPSTUW]",
    f"[{_AREA_1}][{_AREA_2}][0-9][ABEHMNPRVWXY]",
)


@given(
    st.sampled_from(_OUTWARD_SHAPES).flatmap(
        lambda shape: st.from_regex(shape, fullmatch=True)
    ),
    st.from_regex(f"[0-9][{_INWARD}][{_INWARD}]", fullmatch=True),
    st.sampled_from(["", " ", "  "]),
    st.booleans(),
)
def test_any_bs7666_postcode_normalises_to_one_canonical_form(
    outward, inward, gap, lower
):
    raw = f"{outward}{gap}{inward}"
    if lower:
        raw = raw.lower()
    canonical = normalise_postcode(raw)

    assert canonical == f"{outward} {inward}"
    assert normalise_postcode(canonical) == canonical
    assert postcode_district(raw) == outward


# ---------------------------------------------------------------------------
# Date of birth
# ---------------------------------------------------------------------------

TODAY = date(2025, 6, 15)


def test_a_child_born_today_is_accepted():
    assert validate_date_of_birth(TODAY, today=TODAY) == TODAY


def test_a_date_of_birth_in_the_future_is_refused():
    error = _error(validate_date_of_birth, TODAY + timedelta(days=1), today=TODAY)

    assert error.code == "date_of_birth_future"
    assert error.message == "Date of birth must be today or in the past"


def test_a_young_person_of_24_years_364_days_is_accepted():
    dob = date(2000, 6, 16)

    assert validate_date_of_birth(dob, today=TODAY) == dob


def test_a_young_person_on_their_25th_birthday_is_refused():
    error = _error(validate_date_of_birth, date(2000, 6, 15), today=TODAY)

    assert error.code == "date_of_birth_too_old"
    assert error.message == (
        "Date of birth must be after 15 June 2000. The service holds records "
        "of children and young people under 25."
    )


def test_an_adult_is_refused():
    assert (
        _error(validate_date_of_birth, date(1960, 1, 1), today=TODAY).code
        == "date_of_birth_too_old"
    )


@pytest.mark.parametrize(
    ("today", "accepted"),
    [
        (date(2025, 2, 28), True),
        (date(2025, 3, 1), False),
    ],
)
def test_a_leap_day_baby_turns_25_on_1_march(today, accepted):
    leap_day = date(2000, 2, 29)
    if accepted:
        assert validate_date_of_birth(leap_day, today=today) == leap_day
    else:
        error = _error(validate_date_of_birth, leap_day, today=today)
        assert error.code == "date_of_birth_too_old"


def test_on_29_february_the_cut_off_is_28_february():
    today = date(2024, 2, 29)

    assert validate_date_of_birth(date(1999, 3, 1), today=today) == date(1999, 3, 1)
    error = _error(validate_date_of_birth, date(1999, 2, 28), today=today)
    assert error.code == "date_of_birth_too_old"
    assert "after 28 February 1999" in error.message
    assert validate_date_of_birth(today, today=today) == today


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2015-03-27", date(2015, 3, 27)),
        ("27/03/2015", date(2015, 3, 27)),
        ("7/3/2015", date(2015, 3, 7)),
        (" 2015-03-27 ", date(2015, 3, 27)),
        ("2016-02-29", date(2016, 2, 29)),
        ("29/02/2016", date(2016, 2, 29)),
        ("2025-06-15", TODAY),
    ],
)
def test_iso_and_uk_dates_are_parsed(raw, expected):
    assert parse_date_of_birth(raw, today=TODAY) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2015-02-31",
        "31/02/2015",
        "2015-02-29",
        "29/02/2015",
        "2015-13-01",
        "2015-00-10",
        "00/01/2015",
        "32/01/2015",
        "0000-01-01",
    ],
)
def test_impossible_dates_are_refused(raw):
    error = _error(parse_date_of_birth, raw, today=TODAY)

    assert error.code == "date_of_birth_invalid"
    assert error.message == "Date of birth must be a real date"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "27-03-2015",
        "2015/03/27",
        "27 March 2015",
        "20150327",
        "2015-3-27",
        "27/03/15",
        "2015-03-27T00:00",
        "\u0662\u0660\u0661\u0665-03-27",
    ],
)
def test_unrecognised_date_shapes_are_refused(raw):
    error = _error(parse_date_of_birth, raw, today=TODAY)

    assert error.code == "date_of_birth_format"
    assert "27/03/2015" in error.message


def test_parsed_dates_are_also_checked_for_age():
    assert _error(parse_date_of_birth, "2025-06-16", today=TODAY).code == (
        "date_of_birth_future"
    )
    assert _error(parse_date_of_birth, "15/06/2000", today=TODAY).code == (
        "date_of_birth_too_old"
    )


# ---------------------------------------------------------------------------
# Directory number (Damm)
# ---------------------------------------------------------------------------


def test_damm_check_digit_matches_published_examples():
    # Leading zeros leave Damm's interim digit at 0, so these are the
    # textbook examples 572 -> 4 and 11294 -> 6.
    assert directory_number_check_digit("000000000572") == "4"
    assert directory_number_check_digit("000000011294") == "6"


def test_make_directory_number_pads_the_serial_and_appends_the_check_digit():
    assert make_directory_number(123_456_789_012) == "1234567890123"
    assert make_directory_number(572) == "0000000005724"
    assert make_directory_number(0) == "0000000000000"
    assert make_directory_number(10**12 - 1)[:12] == "9" * 12


@pytest.mark.parametrize("serial", [-1, 10**12])
def test_make_directory_number_refuses_serials_that_do_not_fit(serial):
    with pytest.raises(ValueError, match="serial"):
        make_directory_number(serial)


@pytest.mark.parametrize(
    "twelve", ["", "12345678901", "1234567890123", "12345678901A", "1234 5678 9012"]
)
def test_directory_number_check_digit_needs_twelve_digits(twelve):
    error = _error(directory_number_check_digit, twelve)

    assert error.code == "directory_number_format"


@pytest.mark.parametrize(
    "raw", ["1234567890123", "1234 5678 9012 3", " 1234 56789012 3 "]
)
def test_directory_number_is_normalised_and_formatted(raw):
    assert normalise_directory_number(raw) == "1234567890123"
    assert format_directory_number(raw) == "1234 5678 9012 3"


def test_directory_number_with_wrong_check_digit_is_refused():
    error = _error(normalise_directory_number, "1234 5678 9012 4")

    assert error.code == "directory_number_check_digit"
    assert error.message == (
        "The directory number 1234 5678 9012 4 is not valid: its last digit "
        "does not match. Check it has been copied correctly."
    )


@pytest.mark.parametrize(
    "raw",
    ["", "123456789012", "12345678901234", "123456789012A", "1234-5678-9012-3"],
)
def test_malformed_directory_number_is_a_format_error(raw):
    error = _error(normalise_directory_number, raw)

    assert error.code == "directory_number_format"
    assert error.message == (
        "Enter the directory number as 13 digits, like 1234 5678 9012 3"
    )


def test_format_directory_number_refuses_an_invalid_number():
    assert _error(format_directory_number, "1234567890124").code == (
        "directory_number_check_digit"
    )


serials = st.integers(0, 10**12 - 1)


@given(serials)
def test_made_directory_numbers_are_always_valid(serial):
    number = make_directory_number(serial)

    assert len(number) == 13
    assert int(number[:12]) == serial
    assert normalise_directory_number(number) == number


@given(serials, st.integers(0, 12), st.integers(1, 9))
def test_damm_detects_every_single_digit_change(serial, position, shift):
    number = make_directory_number(serial)
    wrong = str((int(number[position]) + shift) % 10)
    changed = number[:position] + wrong + number[position + 1 :]

    assert _error(normalise_directory_number, changed).code == (
        "directory_number_check_digit"
    )


@given(serials, st.integers(0, 11))
def test_damm_detects_every_adjacent_transposition(serial, position):
    number = make_directory_number(serial)
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]

    assert _error(normalise_directory_number, swapped).code == (
        "directory_number_check_digit"
    )


# Damm's check is a chain of table look-ups; distinct interim digits stay
# distinct through every later look-up (each column is a permutation). So a
# change is detected everywhere once it is detected for every interim digit,
# and a leading digit p reaches every interim digit (row 0 is a permutation).
# The two tests below are therefore exhaustive.


def test_damm_detects_every_substitution_exhaustively():
    for p in DIGITS:
        for a in DIGITS:
            body = f"{p}{a}0000000000"
            check = directory_number_check_digit(body)
            for b in DIGITS.replace(a, ""):
                with pytest.raises(IdentifierError):
                    normalise_directory_number(f"{p}{b}0000000000{check}")


def test_damm_detects_every_adjacent_transposition_exhaustively():
    for p in DIGITS:
        for a in DIGITS:
            for b in DIGITS.replace(a, ""):
                check = directory_number_check_digit(f"{p}{a}{b}000000000")
                with pytest.raises(IdentifierError):
                    normalise_directory_number(f"{p}{b}{a}000000000{check}")
