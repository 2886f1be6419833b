"""The words feeds use, mapped to the directory's codes, and small parsers.

Pure: no Django. The directory's codes are written here as plain strings
(``directory.models`` is private to the directory): ``GENDER_CODES`` values are
``Gender`` values, ``RELATIONSHIPS`` values are ``CarerRelationship`` values.
Every lookup is case-insensitive and treats "-", "_" and runs of spaces alike,
so "Step-parent", "step_parent" and "STEP PARENT" are one word.
"""

import re
from datetime import date

#: NHS Data Dictionary person gender codes (1 male, 2 female, 9 indeterminate,
#: 0 not known), from the NHS codes themselves, CTF-style letters and FHIR's
#: AdministrativeGender (male | female | other | unknown).
GENDER_CODES: dict[str, str] = {
    "1": "1",
    "2": "2",
    "9": "9",
    "0": "0",
    "m": "1",
    "f": "2",
    "i": "9",
    "u": "0",
    "male": "1",
    "female": "2",
    "other": "9",
    "indeterminate": "9",
    "not specified": "9",
    "unknown": "0",
    "not known": "0",
}

#: The words a data manager may use, in the order the message lists them.
RELATIONSHIP_WORDS = (
    "mother",
    "father",
    "step-parent",
    "grandparent",
    "other relative",
    "foster carer",
    "special guardian",
    "local authority",
    "other",
)

_RELATIONSHIP_GROUPS: dict[str, tuple[str, ...]] = {
    "mother": (
        "mother",
        "mum",
        "birth mother",
        "natural mother",
        "adoptive mother",
    ),
    "father": (
        "father",
        "dad",
        "birth father",
        "natural father",
        "adoptive father",
    ),
    "step_parent": (
        "step parent",
        "stepparent",
        "step mother",
        "stepmother",
        "step father",
        "stepfather",
    ),
    "grandparent": (
        "grandparent",
        "grandmother",
        "grandfather",
        "great grandparent",
        "great grandmother",
        "great grandfather",
    ),
    "other_relative": (
        "other relative",
        "relative",
        "family member",
        "extended family member",
        "aunt",
        "uncle",
        "sibling",
        "brother",
        "sister",
        "half brother",
        "half sister",
        "step brother",
        "stepbrother",
        "step sister",
        "stepsister",
        "cousin",
    ),
    "foster_carer": (
        "foster carer",
        "foster parent",
        "foster mother",
        "foster father",
    ),
    "special_guardian": ("special guardian",),
    "local_authority": ("local authority", "corporate parent"),
    "other": ("other", "guardian", "friend", "family friend", "neighbour"),
}

#: Normalised word -> CarerRelationship value.
RELATIONSHIPS: dict[str, str] = {
    word: value for value, words in _RELATIONSHIP_GROUPS.items() for word in words
}

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})

_SEPARATORS = re.compile(r"[\s_-]+")
_ISO_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
_UK_DATE = re.compile(r"(?P<day>[0-9]{1,2})/(?P<month>[0-9]{1,2})/(?P<year>[0-9]{4})")
# Deliberately loose: one "@", no spaces, a dot in the domain. Whether the
# mailbox exists is for the sender to know.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def word(raw: str) -> str:
    """``raw`` lower-cased, with "-", "_" and whitespace runs as one space."""
    return _SEPARATORS.sub(" ", raw).strip().lower()


def code_word(raw: str) -> str:
    """``raw`` as a directory code: lower-cased, words joined by "_"."""
    return word(raw).replace(" ", "_")


def gender_code(raw: str) -> str | None:
    """The NHS gender code for ``raw`` ("0" when empty), or None if unknown."""
    return GENDER_CODES.get(word(raw)) if raw.strip() else "0"


def relationship(raw: str) -> str | None:
    """The CarerRelationship value for ``raw``, or None if it is not known."""
    return RELATIONSHIPS.get(word(raw))


def yes_no(raw: str) -> bool | None:
    """True/False for yes/no words (empty is False), or None if neither."""
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def looks_like_email(raw: str) -> bool:
    return bool(_EMAIL.fullmatch(raw.strip()))


class DateError(ValueError):
    """A date that cannot be read; ``code`` is "date_format" or "date_invalid"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_date(raw: str) -> date:
    """A date written as YYYY-MM-DD or DD/MM/YYYY, or ``DateError``."""
    text = raw.strip()
    match = _ISO_DATE.fullmatch(text) or _UK_DATE.fullmatch(text)
    if match is None:
        raise DateError("date_format")
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise DateError("date_invalid") from None


# Messages -----------------------------------------------------------------
#
# What a data manager reads beside a quarantined row. None quotes the value
# that was refused: the row's fields are shown next to them, only to those
# allowed to see them.

_DATE_HELP = "like 2024-09-01 or 01/09/2024"

MESSAGES: dict[str, str] = {
    "given_names.name_missing": "Enter the child's given names: the row has none.",
    "family_name.name_missing": "Enter the child's family name: the row has none.",
    "date_of_birth_missing": (
        "Enter the child's date of birth, like 27/03/2015 or 2015-03-27."
    ),
    "date_of_birth_format": (
        "Enter the date of birth as day/month/year, like 27/03/2015, or as 2015-03-27."
    ),
    "date_of_birth_invalid": "The date of birth must be a real date.",
    "date_of_birth_future": "The date of birth must be today or in the past.",
    "nhs_number_format": "Enter the NHS number as 10 digits, like 943 476 5919.",
    "nhs_number_check_digit": (
        "The NHS number is not valid: its check digit does not match. Check it "
        "has been copied correctly, or leave it empty if it is not known."
    ),
    "upn_format": (
        "Enter the UPN as 13 characters: a letter then 12 digits, like "
        "B801200005001. A temporary UPN ends in a letter instead of a digit."
    ),
    "upn_check_letter": (
        "The UPN is not valid: its first letter does not match the rest of the "
        "number. Check it has been copied correctly."
    ),
    "postcode_format": (
        "Enter a real postcode, like SW1A 1AA. If the child has no fixed abode, "
        "enter ZZ99 3VZ."
    ),
    "gender_unknown": (
        "The gender is not one this directory understands. Use 1, 2, 9 or 0 "
        "(NHS codes); M, F, I or U; male, female, other or unknown; or leave "
        "it empty if it is not known."
    ),
    "carer_name_missing": (
        "Enter the carer's name, or leave all of this carer's fields empty."
    ),
    "carer_relationship_unknown": (
        "The relationship is not one this directory records. Use one of: "
        + ", ".join(RELATIONSHIP_WORDS)
        + "."
    ),
    "boolean_invalid": "Enter yes or no (true/false, y/n and 1/0 also work).",
    "email_invalid": (
        "Enter an email address in the correct format, like name@example.com."
    ),
    "date_format": f"Enter the date as year-month-day or day/month/year, {_DATE_HELP}.",
    "date_invalid": "The date must be a real date.",
    "service_start_missing": (
        f"Enter the date the service started, {_DATE_HELP}: a service with an "
        "end date needs one."
    ),
    "service_end_before_start": (
        "The service's end date is before its start date: check both dates."
    ),
    "flag_start_missing": f"Enter the date the warning flag starts, {_DATE_HELP}.",
    "flag_end_before_start": (
        "The warning flag's end date is before its start date: check both dates."
    ),
    "fhir_invalid": "This Patient resource is not valid FHIR R4.",
    "cells_count": (
        "This line does not have as many cells as the header: check for a "
        "missing comma or a line cut short."
    ),
    "row_unreadable": (
        "This row could not be read in the way its format requires. Check it in "
        "the file and send it again."
    ),
}


def cells_count_message(cells: int, header: int) -> str:
    return (
        f"This line has {cells} cells but the header has {header}: check for a "
        "missing comma or a line cut short."
    )


def fhir_invalid_message(detail: str) -> str:
    return f"This Patient resource is not valid FHIR: {detail}."


def choice_message(what: str, allowed: frozenset[str]) -> str:
    """'The <what> is not one this directory records. Use one of: a, b.'"""
    return (
        f"The {what} is not one this directory records. Use one of: "
        f"{', '.join(sorted(allowed))}."
    )


def flag_kind_missing_message(allowed: frozenset[str]) -> str:
    return f"Enter the kind of warning flag, one of: {', '.join(sorted(allowed))}."


def organisation_unknown_message(code: str) -> str:
    # An organisation code (URN, ODS, GSS) is public data: quoting it helps.
    return (
        f"No organisation with code {code} is known to the directory: ask your "
        "administrator to add it."
    )


def duplicate_row_message(first_reference: str) -> str:
    return f"This row repeats {first_reference}; only the first was used."


IDENTIFIER_LABELS = {
    "nhs_number": "NHS number",
    "upn": "UPN",
    "source_key": "sender's id for the child",
}


def identifier_repeated_message(field: str, first_reference: str) -> str:
    return (
        f"The same {IDENTIFIER_LABELS[field]} is also on {first_reference}; send "
        "one row per child."
    )
