"""How well a decrypted child matches a search query: a score from 0 to 100.

Pure: no Django, no I/O, no clock. ``directory.search`` ranks with it.

``candidate_score`` adds Fellegi-Sunter-style weights, roughly log2(m/u) per
field (m: how often the right child agrees, u: how often another child does),
with disagreement weights kept small because names change and dates are
mistyped, then rescales the sum to 0..100 between the worst and best totals
the fields the query gives allow:

=============  ====================================================  ========
field          agreement levels (points)                             disagree
=============  ====================================================  ========
family name    12 at Jaro-Winkler 1.0, falling linearly to -6 at 0.70   -6
given name      8 at Jaro-Winkler 1.0, falling linearly to -4 at 0.70   -4
date of birth  exact 13, day/month swapped 10, one digit wrong 8,       -10
               same year 0
age range      within 5, one year outside 0                            -10
postcode       same postcode 8, same district 4 (4 is the most a        -2
               district-only query gives)
gender         1 (male or female on both sides)                         -3
=============  ====================================================  ========

Names are compared folded (case, diacritics, apostrophes: Climbié =
Climbie), best over every name the child has (legal, preferred, former,
alias). Equal Metaphone codes count as at least 0.93 (Smyth = Smith), a
nickname of the same formal name as 0.95 (Katie = Catherine), a match on one
part of a hyphenated name as 0.97 of its similarity, a middle name as 0.9.
Scores of 85 and more read "Strong match", 70 "Good match", 55 "Possible
match"; below 55 a candidate is not shown.
"""

import re
from collections.abc import Iterable, Sequence
from datetime import date

from rapidfuzz.distance import JaroWinkler

from contactpoint.crypto.normalise import fold, name_parts
from directory.identifiers import IdentifierError, normalise_postcode
from directory.records import MatchProfile, SearchQuery
from directory.search_index import given_name_forms, phonetic, postcode_district

STRONG, GOOD, FLOOR = 85.0, 70.0, 55.0

EXACT, SWAPPED, ONE_DIGIT, SAME_YEAR, DIFFERENT = (
    "exact",
    "swapped",
    "one_digit",
    "same_year",
    "different",
)
FAMILY_WEIGHTS = (12.0, -6.0)
GIVEN_WEIGHTS = (8.0, -4.0)
DOB_WEIGHTS = {EXACT: 13.0, SWAPPED: 10.0, ONE_DIGIT: 8.0, SAME_YEAR: 0.0}
DOB_DISAGREE = -10.0
AGE_IN_RANGE, AGE_NEAR, AGE_DISAGREE = 5.0, 0.0, -10.0
POSTCODE_SAME, DISTRICT_SAME, POSTCODE_DISAGREE = 8.0, 4.0, -2.0
GENDER_AGREE, GENDER_DISAGREE = 1.0, -3.0
KNOWN_GENDERS = frozenset({"1", "2"})

SIMILARITY_FLOOR = 0.70
PHONETIC_SIMILARITY = 0.93
NICKNAME_SIMILARITY = 0.95
PART_FACTOR = 0.97
MIDDLE_NAME_FACTOR = 0.9


# --- Reading the query ---------------------------------------------------


def query_place(raw: str) -> tuple[str | None, str] | None:
    """(full postcode or None, district) for a full postcode or a district
    alone ("N17", "SW1A"); None when it is neither."""
    try:
        full = normalise_postcode(raw)
    except IdentifierError:
        district = re.sub(r"\s+", "", raw).upper()
        if not 2 <= len(district) <= 4:
            return None
        try:  # a district is valid when some postcode starts with it
            normalise_postcode(f"{district}1AA")
        except IdentifierError:
            return None
        return None, district
    return full, full.split(" ")[0]


def age_bounds(query: SearchQuery) -> tuple[int, int] | None:
    """(youngest, oldest) in whole years; one bound alone means that age."""
    low, high = query.age_from, query.age_to
    if low is None:
        return None if high is None else (high, high)
    return low, low if high is None else high


# --- Comparing ---------------------------------------------------------------


def _similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    score = JaroWinkler.normalized_similarity(a, b)
    if score < PHONETIC_SIMILARITY and phonetic(a) == phonetic(b):
        return PHONETIC_SIMILARITY
    return float(score)


def family_similarity(query_family: str, family_names: Iterable[str]) -> float:
    """Best similarity of ``query_family`` to any of the child's family names:
    whole names compared without spaces or hyphens, or one part to another."""
    whole = fold(query_family).replace(" ", "")
    parts = name_parts(query_family)
    best = 0.0
    for name in family_names:
        best = max(best, _similarity(whole, fold(name).replace(" ", "")))
        for mine in parts:
            for theirs in name_parts(name):
                best = max(best, PART_FACTOR * _similarity(mine, theirs))
    return best


def given_similarity(query_given: str, given_names: Iterable[str]) -> float:
    """Best similarity of the query's first given name to the child's first
    given names (nicknames of one formal name count as NICKNAME_SIMILARITY),
    or to a middle name (scaled by MIDDLE_NAME_FACTOR)."""
    words = fold(query_given).split()
    if not words:
        return 0.0
    first, forms = words[0], given_name_forms(query_given)
    best = 0.0
    for name in given_names:
        theirs = fold(name).split()
        if not theirs:
            continue
        best = max(best, _similarity(first, theirs[0]))
        if forms & given_name_forms(name):
            best = max(best, NICKNAME_SIMILARITY if first != theirs[0] else 1.0)
        for middle in theirs[1:]:
            best = max(best, MIDDLE_NAME_FACTOR * _similarity(first, middle))
    return best


def dob_agreement(asked: date, held: date) -> str:
    """EXACT, SWAPPED, ONE_DIGIT, SAME_YEAR or DIFFERENT."""
    if asked == held:
        return EXACT
    if (asked.year, asked.month, asked.day) == (held.year, held.day, held.month):
        return SWAPPED
    a, b = f"{asked:%d%m%Y}", f"{held:%d%m%Y}"
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return ONE_DIGIT
    return SAME_YEAR if asked.year == held.year else DIFFERENT


def _scaled(similarity: float, weights: tuple[float, float]) -> float:
    agree, disagree = weights
    share = (similarity - SIMILARITY_FLOOR) / (1.0 - SIMILARITY_FLOOR)
    return disagree + (agree - disagree) * min(max(share, 0.0), 1.0)


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _postcode_points(
    place: tuple[str | None, str], postcodes: Sequence[str]
) -> tuple[float, float]:
    full, district = place
    best = POSTCODE_DISAGREE
    for held in postcodes:
        if full is not None and held.replace(" ", "") == full.replace(" ", ""):
            best = max(best, POSTCODE_SAME)
        elif postcode_district(held) == district:
            best = max(best, DISTRICT_SAME)
    return best, POSTCODE_SAME if full is not None else DISTRICT_SAME


def candidate_score(query: SearchQuery, profile: MatchProfile, *, today: date) -> float:
    """How well ``profile`` matches a valid ``query``, 0..100 (module docstring)."""
    family = _scaled(
        family_similarity(query.family_name, profile.family_names), FAMILY_WEIGHTS
    )
    total, best, worst = family, FAMILY_WEIGHTS[0], FAMILY_WEIGHTS[1]
    if fold(query.given_name):
        total += _scaled(
            given_similarity(query.given_name, profile.given_names), GIVEN_WEIGHTS
        )
        best, worst = best + GIVEN_WEIGHTS[0], worst + GIVEN_WEIGHTS[1]
    ages = age_bounds(query)
    if query.date_of_birth is not None:
        level = dob_agreement(query.date_of_birth, profile.date_of_birth)
        total += DOB_WEIGHTS.get(level, DOB_DISAGREE)
        best, worst = best + DOB_WEIGHTS[EXACT], worst + DOB_DISAGREE
    elif ages is not None:
        age = _age_on(profile.date_of_birth, today)
        if ages[0] <= age <= ages[1]:
            total += AGE_IN_RANGE
        elif ages[0] - 1 <= age <= ages[1] + 1:
            total += AGE_NEAR
        else:
            total += AGE_DISAGREE
        best, worst = best + AGE_IN_RANGE, worst + AGE_DISAGREE
    place = query_place(query.postcode) if query.postcode.strip() else None
    if place is not None:
        points, most = _postcode_points(place, profile.postcodes)
        total, best, worst = total + points, best + most, worst + POSTCODE_DISAGREE
    if query.gender in KNOWN_GENDERS:
        if profile.gender in KNOWN_GENDERS:
            total += GENDER_AGREE if profile.gender == query.gender else GENDER_DISAGREE
        best, worst = best + GENDER_AGREE, worst + GENDER_DISAGREE
    return round(100.0 * (total - worst) / (best - worst), 1)


def strength_words(score: float) -> str:
    """Plain words for a score; "" below FLOOR (such candidates are not shown)."""
    if score >= STRONG:
        return "Strong match"
    if score >= GOOD:
        return "Good match"
    if score >= FLOOR:
        return "Possible match"
    return ""
