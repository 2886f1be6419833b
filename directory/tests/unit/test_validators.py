"""The Django validators pass the pure rules' message and code through.

No database: these run under pytest-django's block on unmarked DB access.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from directory.validators import (
    validate_date_of_birth,
    validate_directory_number,
    validate_nhs_number,
    validate_postcode,
    validate_upn,
)


def _refusal(validator, value) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator(value)
    return info.value


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (validate_nhs_number, "943 476 5919"),
        (validate_nhs_number, "9434765919"),
        (validate_upn, "B801200005001"),
        (validate_upn, "M80120000500A"),
        (validate_postcode, "sw1a1aa"),
        (validate_postcode, "ZZ99 3VZ"),
        (validate_directory_number, "1234 5678 9012 3"),
    ],
)
def test_valid_values_pass(validator, value):
    validator(value)


@pytest.mark.parametrize(
    ("validator", "value", "code", "message"),
    [
        (
            validate_nhs_number,
            "9434765910",
            "nhs_number_check_digit",
            "The NHS number 943 476 5910 is not valid: its check digit does not "
            "match. Check it has been copied correctly.",
        ),
        (
            validate_nhs_number,
            "94347659",
            "nhs_number_format",
            "Enter the NHS number as 10 digits, like 943 476 5919",
        ),
        (
            validate_upn,
            "A801200005001",
            "upn_check_letter",
            "The UPN A801200005001 is not valid: its first letter does not match "
            "the rest of the number. Check it has been copied correctly.",
        ),
        (
            validate_upn,
            "B8012000",
            "upn_format",
            "Enter the UPN as 13 characters: a letter then 12 digits, like "
            "B801200005001. A temporary UPN ends in a letter instead of a digit.",
        ),
        (
            validate_postcode,
            "Q1 1AA",
            "postcode_format",
            "Enter a real postcode, like SW1A 1AA. If the child has no fixed "
            "abode, enter ZZ99 3VZ",
        ),
        (
            validate_directory_number,
            "1234 5678 9012 4",
            "directory_number_check_digit",
            "The directory number 1234 5678 9012 4 is not valid: its last digit "
            "does not match. Check it has been copied correctly.",
        ),
        (
            validate_directory_number,
            "1234",
            "directory_number_format",
            "Enter the directory number as 13 digits, like 1234 5678 9012 3",
        ),
    ],
)
def test_invalid_values_raise_validation_error_with_the_rule_code(
    validator, value, code, message
):
    error = _refusal(validator, value)

    assert error.code == code
    assert error.messages == [message]


# 23:30 UTC on 14 June 2025 is 00:30 BST on 15 June in Europe/London.
JUST_AFTER_MIDNIGHT_IN_LONDON = datetime(2025, 6, 14, 23, 30, tzinfo=UTC)


@time_machine.travel(JUST_AFTER_MIDNIGHT_IN_LONDON, tick=False)
def test_a_baby_born_today_in_london_is_accepted_before_utc_reaches_that_day():
    validate_date_of_birth(date(2025, 6, 15))


@time_machine.travel(JUST_AFTER_MIDNIGHT_IN_LONDON, tick=False)
def test_a_date_of_birth_after_today_in_london_is_refused():
    error = _refusal(validate_date_of_birth, date(2025, 6, 16))

    assert error.code == "date_of_birth_future"
    assert error.messages == ["Date of birth must be today or in the past"]


@time_machine.travel(JUST_AFTER_MIDNIGHT_IN_LONDON, tick=False)
def test_a_young_person_aged_25_today_in_london_is_refused():
    error = _refusal(validate_date_of_birth, date(2000, 6, 15))

    assert error.code == "date_of_birth_too_old"
    assert "under 25" in error.messages[0]


@time_machine.travel(JUST_AFTER_MIDNIGHT_IN_LONDON, tick=False)
def test_a_young_person_aged_24_is_accepted():
    validate_date_of_birth(date(2000, 6, 16))
