"""Identifiers and dates of birth: normalise, check, format and generate.

Pure Python, no Django, so ingestion and the services share one definition of
"a valid NHS number". Every refusal raises ``IdentifierError`` with a stable
``code`` (for rejection reports and form errors) and a ``message`` a person can
act on.

Messages about a check digit repeat the value entered, because the person
correcting it needs to see it. They therefore count as child data: log the
``code``, never the ``message``.
"""

import math
import random
import re
from datetime import date
from typing import Literal

IdentifierErrorCode = Literal[
    "nhs_number_format",
    "nhs_number_check_digit",
    "upn_format",
    "upn_check_letter",
    "postcode_format",
    "date_of_birth_format",
    "date_of_birth_invalid",
    "date_of_birth_future",
    "date_of_birth_too_old",
    "directory_number_format",
    "directory_number_check_digit",
    "name_missing",
    "name_incomplete",
]


class IdentifierError(ValueError):
    """A value that is not a valid identifier or date of birth.

    ``code`` is stable snake_case for machines; ``message`` is a GOV.UK-style
    sentence for people.
    """

    def __init__(self, code: IdentifierErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: IdentifierErrorCode = code
        self.message = message

    def __reduce__(self) -> tuple[type["IdentifierError"], tuple[str, str]]:
        # Keeps the error picklable (Celery results, multiprocessing) even
        # though __init__ takes two arguments.
        return (type(self), (self.code, self.message))


_TEN_DIGITS = re.compile(r"[0-9]{10}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_NHS_SEPARATORS = re.compile(r"[\s-]+")

# ---------------------------------------------------------------------------
# NHS number
# ---------------------------------------------------------------------------

_NHS_FORMAT_MESSAGE = "Enter the NHS number as 10 digits, like 943 476 5919"


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The modulus 11 check digit for the first nine digits of an NHS number.

    Weights 10 down to 2 apply to the nine digits; the check digit is
    11 - (sum mod 11), where 11 becomes 0. Returns None when the result is 10:
    no NHS number is ever issued with those nine digits.
    """
    if not _NINE_DIGITS.fullmatch(first_nine):
        raise IdentifierError("nhs_number_format", _NHS_FORMAT_MESSAGE)
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(raw: str) -> str:
    """Return the NHS number as 10 digits, or raise ``IdentifierError``.

    Spaces and hyphens are ignored ("943 476 5919", "943-476-5919"). The
    result always passes the modulus 11 check; test numbers (999...) are
    accepted, since they are valid in form.
    """
    digits = _NHS_SEPARATORS.sub("", raw)
    if not _TEN_DIGITS.fullmatch(digits):
        raise IdentifierError("nhs_number_format", _NHS_FORMAT_MESSAGE)
    if nhs_number_check_digit(digits[:9]) != int(digits[9]):
        raise IdentifierError(
            "nhs_number_check_digit",
            f"The NHS number {_group_nhs(digits)} is not valid: its check digit "
            "does not match. Check it has been copied correctly.",
        )
    return digits


def is_test_nhs_number(nhs: str) -> bool:
    """True when ``nhs`` lies in 999 000 0000 to 999 999 9999.

    That range is reserved for testing and never issued to a person. Spaces
    and hyphens are ignored; the check digit is not examined, and anything
    that is not 10 digits is not a test number.
    """
    digits = _NHS_SEPARATORS.sub("", nhs)
    return bool(_TEN_DIGITS.fullmatch(digits)) and digits.startswith("999")


def format_nhs_number(nhs: str) -> str:
    """The NHS number as people write it: "943 476 5919".

    Raises ``IdentifierError`` unless ``nhs`` is a valid NHS number.
    """
    return _group_nhs(normalise_nhs_number(nhs))


def make_test_nhs_number(rng: random.Random) -> str:
    """A valid NHS number (10 digits) from the never-issued 999 test range.

    Deterministic for a seeded ``rng``, so demo data is reproducible.
    """
    while True:
        first_nine = f"999{rng.randrange(1_000_000):06d}"
        check = nhs_number_check_digit(first_nine)
        # About one prefix in eleven has no valid check digit; draw again.
        if check is not None:
            return f"{first_nine}{check}"


class TestNhsNumbers:
    """Distinct valid NHS numbers from the 999 test range, in a seeded order.

    Drawing with ``make_test_nhs_number`` repeats numbers once a population
    nears the range's million; this walks the range as a permutation instead
    (a seeded stride coprime to the range), and shard ``shard`` of
    ``shards`` (one per seeding process) gets its own disjoint share, so no
    two children of one seeding share a number until the range runs out
    (about 909,000 valid numbers); after that numbers are drawn at random.
    """

    def __init__(self, rng: random.Random, shard: int = 0, shards: int = 1) -> None:
        self._rng, self._shard, self._shards = rng, shard, shards
        self._size = (1_000_000 - shard + shards - 1) // shards
        self._offset = rng.randrange(self._size)
        stride = 7_919 + rng.randrange(1_000)
        while math.gcd(stride, self._size) != 1:
            stride += 1
        self._stride, self._drawn = stride, 0

    def next(self) -> str:
        while self._drawn < self._size:
            serial = (self._offset + self._drawn * self._stride) % self._size
            self._drawn += 1
            first_nine = f"999{serial * self._shards + self._shard:06d}"
            check = nhs_number_check_digit(first_nine)
            if check is not None:
                return f"{first_nine}{check}"
        return make_test_nhs_number(self._rng)


def _group_nhs(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# ---------------------------------------------------------------------------
# UPN (DfE unique pupil number)
# ---------------------------------------------------------------------------
#
# Sources found (UK Government Data Standards Catalogue, "Unique Pupil Number"
# v2.0, agreed 18 November 2004; DfE school census error 1510 as quoted by MIS
# suppliers; python-stdnum's stdnum.gb.upn):
# - format Annnnnnnnnnnn, or AnnnnnnnnnnnA for a temporary UPN;
# - the 12 characters after the check letter are a 3-digit LA number, a
#   4-digit establishment number, the last 2 digits of the academic year and
#   a 3-digit serial (temporary: 2 digits and a letter);
# - the check letter is the sum of each character times its position (the
#   first, at character 2, has weight 2) mod 23, mapped 0->A ... 22->Z
#   skipping I, O and S; a temporary UPN's final letter counts as its index
#   in that same alphabet;
# - published examples: B801200005001 is valid (python-stdnum). The census
#   guide's worked example corrects B207000016049 to Q207000016049, but its
#   own products (4+28+9+60+48+117) sum to 266, not the 267 it prints, and
#   266 mod 23 = 13 is P in its own table: the valid UPN is P207000016049.
# The LA number is not checked against the list of LA codes: that list
# changes with local government reorganisation.

_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN_LETTER = "A-HJ-NP-RT-Z"
_UPN_BODY = re.compile(rf"[0-9]{{11}}[0-9{_UPN_LETTER}]")
_UPN = re.compile(rf"[{_UPN_LETTER}][0-9]{{11}}[0-9{_UPN_LETTER}]")
_UPN_FORMAT_MESSAGE = (
    "Enter the UPN as 13 characters: a letter then 12 digits, like "
    "B801200005001. A temporary UPN ends in a letter instead of a digit."
)


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it in a UPN.

    ``body`` is 11 digits then a digit or, for a temporary UPN, a letter from
    A-Z without I, O and S. Raises ``IdentifierError`` for anything else.
    """
    if not _UPN_BODY.fullmatch(body):
        raise IdentifierError("upn_format", _UPN_FORMAT_MESSAGE)
    total = sum(
        position * _upn_value(char) for position, char in enumerate(body, start=2)
    )
    return _UPN_ALPHABET[total % 23]


def normalise_upn(raw: str) -> str:
    """Return the UPN as 13 upper-case characters, or raise ``IdentifierError``.

    Spaces are removed and letters upper-cased. The result always has a
    matching check letter; temporary UPNs are accepted.
    """
    upn = re.sub(r"\s+", "", raw).upper()
    if not _UPN.fullmatch(upn):
        raise IdentifierError("upn_format", _UPN_FORMAT_MESSAGE)
    if upn_check_letter(upn[1:]) != upn[0]:
        raise IdentifierError(
            "upn_check_letter",
            f"The UPN {upn} is not valid: its first letter does not match the "
            "rest of the number. Check it has been copied correctly.",
        )
    return upn


def make_upn(rng: random.Random, la_code: int, establishment: int, year: int) -> str:
    """A valid permanent UPN with a random 3-digit serial.

    ``la_code`` is 0-999, ``establishment`` 0-9999 and ``year`` the last two
    digits of the academic year (0-99); out-of-range values raise ValueError.
    """
    return make_upn_with_serial(la_code, establishment, year, rng.randrange(1000))


def make_upn_with_serial(
    la_code: int, establishment: int, year: int, serial: int
) -> str:
    """A valid permanent UPN from its parts (``serial`` 0-999)."""
    if not 0 <= la_code <= 999:
        raise ValueError(f"la_code must be 0-999, not {la_code}")
    if not 0 <= establishment <= 9999:
        raise ValueError(f"establishment must be 0-9999, not {establishment}")
    if not 0 <= year <= 99:
        raise ValueError(f"year must be the last two digits (0-99), not {year}")
    if not 0 <= serial <= 999:
        raise ValueError(f"serial must be 0-999, not {serial}")
    body = f"{la_code:03d}{establishment:04d}{year:02d}{serial:03d}"
    return upn_check_letter(body) + body


def _upn_value(char: str) -> int:
    return int(char) if char.isdigit() else _UPN_ALPHABET.index(char)


# ---------------------------------------------------------------------------
# Postcode
# ---------------------------------------------------------------------------
#
# BS 7666 letter restrictions: first position never Q, V or X; second never
# I, J or Z; the letter in A9A is one of ABCDEFGHJKPSTUW; the letter in AA9A
# one of ABEHMNPRVWXY; the two inward letters never C, I, K, M, O or V.
_AREA_1 = "A-PR-UWYZ"
_AREA_2 = "A-HK-Y"
_A9A_LETTER = "ABCDEFGHJKPSTUW"
_AA9A_LETTER = "ABEHMNPRVWXY"
_INWARD = "ABD-HJLNP-UW-Z"
_POSTCODE = re.compile(
    rf"""
    (?P<outward>
        [{_AREA_1}][0-9]{{1,2}}               # A9, A99
      | [{_AREA_1}][{_AREA_2}][0-9]{{1,2}}    # AA9, AA99
      | [{_AREA_1}][0-9][{_A9A_LETTER}]       # A9A
      | [{_AREA_1}][{_AREA_2}][0-9][{_AA9A_LETTER}]  # AA9A
    )
    (?P<inward>[0-9][{_INWARD}]{{2}})
    | GIR0AA                                  # Girobank's historic code
    """,
    re.VERBOSE,
)
# NHS pseudo-postcodes: ZZ99 3VZ no fixed abode, ZZ99 3WZ not known,
# ZZ99 3CZ England not otherwise stated, ZZ99 3GZ Wales, ZZ99 1WZ Scotland,
# ZZ99 2WZ Northern Ireland, and ZZ99 9AA-style codes per country for people
# resident abroad. They break the BS 7666 letter rules, hence a separate
# pattern.
_PSEUDO_POSTCODE = re.compile(r"(?P<outward>ZZ99)(?P<inward>[0-9][A-Z]{2})")
_POSTCODE_FORMAT_MESSAGE = (
    "Enter a real postcode, like SW1A 1AA. If the child has no fixed abode, "
    "enter ZZ99 3VZ"
)


def normalise_postcode(raw: str) -> str:
    """Return the postcode in canonical form, "SW1A 1AA", or raise
    ``IdentifierError``.

    Case and spacing are ignored. Accepts every BS 7666 shape, GIR 0AA and
    the NHS ZZ99 pseudo-postcodes; the result is upper case with a single
    space before the 3-character inward code. Whether the postcode has ever
    been allocated is not checked.
    """
    compact = re.sub(r"\s+", "", raw).upper()
    if _POSTCODE.fullmatch(compact) or _PSEUDO_POSTCODE.fullmatch(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    raise IdentifierError("postcode_format", _POSTCODE_FORMAT_MESSAGE)


def postcode_district(postcode: str) -> str:
    """The outward code of a postcode: "SW1A" for "SW1A 1AA".

    Raises ``IdentifierError`` unless ``postcode`` is valid. For a
    pseudo-postcode the result is "ZZ99", which is no place at all: callers
    that group by district should test ``is_pseudo_postcode`` first.
    """
    return normalise_postcode(postcode).split(" ")[0]


def is_pseudo_postcode(pc: str) -> bool:
    """True for an NHS pseudo-postcode (ZZ99 ...), in any case or spacing.

    These stand for no fixed abode, not known, or resident abroad; they name
    no place.
    """
    return bool(_PSEUDO_POSTCODE.fullmatch(re.sub(r"\s+", "", pc).upper()))


# ---------------------------------------------------------------------------
# Date of birth
# ---------------------------------------------------------------------------

#: The directory holds children and young people under this age.
MAXIMUM_AGE = 25

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ISO_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
_UK_DATE = re.compile(r"(?P<day>[0-9]{1,2})/(?P<month>[0-9]{1,2})/(?P<year>[0-9]{4})")


def validate_date_of_birth(dob: date, *, today: date) -> date:
    """Return ``dob`` if it belongs to someone the directory may hold.

    Refuses a date after ``today`` and anyone aged 25 or more on ``today``.
    A child born on 29 February turns 25 on 1 March in a non-leap year, as
    birthdays are reckoned in England.
    """
    if dob > today:
        raise IdentifierError(
            "date_of_birth_future", "Date of birth must be today or in the past"
        )
    latest_too_old = _years_before(today, MAXIMUM_AGE)
    if dob <= latest_too_old:
        raise IdentifierError(
            "date_of_birth_too_old",
            f"Date of birth must be after {long_date(latest_too_old)}. The "
            "service holds records of children and young people under 25.",
        )
    return dob


def parse_date_of_birth(raw: str, *, today: date) -> date:
    """Parse and validate a date of birth written as YYYY-MM-DD or DD/MM/YYYY.

    Raises ``IdentifierError`` with ``date_of_birth_format`` for any other
    shape, ``date_of_birth_invalid`` for a date that does not exist
    (2015-02-31), and the codes of ``validate_date_of_birth`` otherwise.
    """
    text = raw.strip()
    match = _ISO_DATE.fullmatch(text) or _UK_DATE.fullmatch(text)
    if match is None:
        raise IdentifierError(
            "date_of_birth_format",
            "Enter the date of birth as day/month/year, like 27/03/2015, "
            "or as 2015-03-27",
        )
    try:
        dob = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise IdentifierError(
            "date_of_birth_invalid", "Date of birth must be a real date"
        ) from None
    return validate_date_of_birth(dob, today=today)


def _years_before(day: date, years: int) -> date:
    # 29 February maps to 28 February: someone born on 28 February of that
    # year has had their birthday by 29 February.
    if day.month == 2 and day.day == 29:
        return date(day.year - years, 2, 28)
    return day.replace(year=day.year - years)


def long_date(day: date) -> str:
    """A date as GOV.UK writes it, "2 March 2026", whatever the locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# ---------------------------------------------------------------------------
# Directory number
# ---------------------------------------------------------------------------
#
# 12 digits and a Damm check digit. Damm's operation table is a totally
# anti-symmetric quasigroup of order 10 with a zero diagonal (H. M. Damm,
# 2004), so one check digit catches every single-digit error and every
# adjacent transposition, unlike Luhn (misses 09<->90) or mod 11 (needs an X).

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_THIRTEEN_DIGITS = re.compile(r"[0-9]{13}")
_DIRECTORY_NUMBER_FORMAT_MESSAGE = (
    "Enter the directory number as 13 digits, like 1234 5678 9012 3"
)


def _damm(digits: str) -> str:
    # Appending the result to ``digits`` gives a string whose result is "0".
    interim = 0
    for char in digits:
        interim = _DAMM[interim][int(char)]
    return str(interim)


def directory_number_check_digit(twelve_digits: str) -> str:
    """The Damm check digit for the 12-digit serial of a directory number.

    Raises ``IdentifierError`` unless ``twelve_digits`` is 12 ASCII digits.
    """
    if not _TWELVE_DIGITS.fullmatch(twelve_digits):
        raise IdentifierError(
            "directory_number_format", _DIRECTORY_NUMBER_FORMAT_MESSAGE
        )
    return _damm(twelve_digits)


def make_directory_number(serial: int) -> str:
    """The 13-digit directory number for ``serial``: zero-padded, plus check.

    Distinct serials give distinct numbers. ``serial`` must be
    0 to 999 999 999 999; anything else raises ValueError.
    """
    if not 0 <= serial < 10**12:
        raise ValueError(f"serial must be 0 to 999999999999, not {serial}")
    body = f"{serial:012d}"
    return body + _damm(body)


def normalise_directory_number(raw: str) -> str:
    """Return the directory number as 13 digits, or raise ``IdentifierError``.

    Spaces are ignored. The result always passes the Damm check.
    """
    digits = re.sub(r"\s+", "", raw)
    if not _THIRTEEN_DIGITS.fullmatch(digits):
        raise IdentifierError(
            "directory_number_format", _DIRECTORY_NUMBER_FORMAT_MESSAGE
        )
    if _damm(digits) != "0":
        raise IdentifierError(
            "directory_number_check_digit",
            f"The directory number {_group_directory_number(digits)} is not "
            "valid: its last digit does not match. Check it has been copied "
            "correctly.",
        )
    return digits


def format_directory_number(n: str) -> str:
    """The directory number as people write it: "1234 5678 9012 3".

    Raises ``IdentifierError`` unless ``n`` is a valid directory number.
    """
    return _group_directory_number(normalise_directory_number(n))


def _group_directory_number(digits: str) -> str:
    return f"{digits[:4]} {digits[4:8]} {digits[8:12]} {digits[12:]}"
