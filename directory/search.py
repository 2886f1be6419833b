"""Finding a child: is a query specific enough, which blind-index terms it looks
up, and how the scored candidates become results.

Pure: no Django, no I/O, no clock (``today`` is passed in).
``directory.selectors.child_search`` does the I/O around these rules: the
policy, one lookup of the terms, decryption, the audit event. Scoring is in
``directory.search_scoring`` (its docstring lists the weights).

Blocking. ``query_terms`` forms the same (index, input) pairs that
``search_index.index_terms`` stores for children, widened for the errors people
make: every part of a hyphenated or double-barrelled family name and the joined
form (``family_keys``), the given name with its formal forms (``given_keys``:
Katie -> katie, catherine), the date of birth with day and month swapped and
with any one digit wrong, birth years with any one digit wrong, and the
family name with a spelling confusion that Metaphone keeps apart undone
(``family_spellings``: Smit, Wylson, Lewys). Former names and aliases need
nothing here: they are indexed with the child.
"""

from collections.abc import Iterable, Sequence
from datetime import date

from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.normalise import fold
from directory.identifiers import (
    MAXIMUM_AGE,
    IdentifierError,
    validate_date_of_birth,
)
from directory.records import MatchProfile, SearchQuery, SearchResult
from directory.search_index import IndexInputs, index_terms, postcode_district
from directory.search_scoring import (
    EXACT,
    FLOOR,
    ONE_DIGIT,
    SWAPPED,
    age_bounds,
    candidate_score,
    query_place,
    strength_words,
)

#: Candidates decrypted per search at most, those sharing most (and most exact)
#: index values with the query first. Beyond it the outcome says ``capped``.
CANDIDATE_CAP = 300
#: Phase 1 (typed terms only): the child typed correctly has the highest
#: blocking weight, so a short list suffices.
PHASE_ONE_CAP = 100
#: Results shown at most.
RESULT_LIMIT = 20
#: Widest age range accepted, in years (age_to - age_from).
MAX_AGE_SPAN = 5
OLDEST_AGE = MAXIMUM_AGE - 1
#: directory.models.Gender values (a test keeps the two equal).
GENDER_CODES = frozenset({"0", "1", "2", "9"})
#: Django forms' key for a problem with the query as a whole.
WHOLE_QUERY = "__all__"
TOO_BROAD = (
    "Add the child's date of birth, an age range or a postcode: a family name "
    "alone matches too many children"
)

# Blocking weights: a child sharing an exact term outranks one sharing only a
# widened one when candidates exceed CANDIDATE_CAP.
EXACT_TERM, WIDENED_TERM = 2, 1

#: Spelling confusions Metaphone does not absorb, undone on the query's family
#: name (after its first letter) to form WIDENED_TERM lookups: Smit -> Smith,
#: Wylson -> Wilson, Lewys -> Lewis, Rikhardson -> Richardson, Prike -> Price,
#: Thomson -> Thompson. Smyth/Smith, Kowalsky/Kowalski and doubled letters
#: need none: their Metaphone codes are equal already.
SPELLINGS = (
    ("y", "i"),
    ("i", "y"),
    ("t", "th"),
    ("th", "t"),
    ("kh", "ch"),
    ("k", "c"),
    ("ms", "mps"),
    ("mps", "ms"),
)


# --- Validation -------------------------------------------------------------


def search_query_problems(query: SearchQuery, *, today: date) -> list[tuple[str, str]]:
    """(field, message) for everything that stops ``query`` being searched.

    A family name is needed, with a date of birth, an age range or a postcode:
    a surname alone would list too many children (browsing). Messages never
    quote what was typed.
    """
    problems: list[tuple[str, str]] = []
    if not query.family_name.strip():
        problems.append(("family_name", "Enter the child's family name"))
    elif not fold(query.family_name):
        problems.append(
            (
                "family_name",
                "Enter the family name in the letters A to Z: a name written "
                "only in another script cannot be searched",
            )
        )
    ages = age_bounds(query)
    if query.date_of_birth is not None:
        try:
            validate_date_of_birth(query.date_of_birth, today=today)
        except IdentifierError as exc:
            problems.append(("date_of_birth", exc.message))
        if ages is not None:
            problems.append(
                ("age_from", "Enter a date of birth or an age range, not both")
            )
    elif ages is not None:
        problems.extend(_age_problems(*ages))
    if query.postcode.strip() and query_place(query.postcode) is None:
        problems.append(
            (
                "postcode",
                "Enter a full postcode, like SW1A 1AA, or only its first part, "
                "like SW1A",
            )
        )
    if query.gender and query.gender not in GENDER_CODES:
        problems.append(("gender", "Choose the child's gender from the list"))
    if query.date_of_birth is None and ages is None and not query.postcode.strip():
        problems.append((WHOLE_QUERY, TOO_BROAD))
    return problems


def _age_problems(low: int, high: int) -> list[tuple[str, str]]:
    if not (0 <= low <= OLDEST_AGE and 0 <= high <= OLDEST_AGE):
        return [
            (
                "age_from",
                f"Enter ages from 0 to {OLDEST_AGE}: the directory holds children "
                f"and young people under {MAXIMUM_AGE}",
            )
        ]
    if low > high:
        return [("age_to", "The second age must be the same as or more than the first")]
    if high - low > MAX_AGE_SPAN:
        return [("age_to", f"Enter an age range of {MAX_AGE_SPAN} years or fewer")]
    return []


def refusal_reason(problems: Sequence[tuple[str, str]]) -> str:
    """The audit reason code for a refused query."""
    return (
        "query_too_broad" if (WHOLE_QUERY, TOO_BROAD) in problems else "query_invalid"
    )


def search_audit_terms(query: SearchQuery) -> dict[str, str]:
    """The query as the audit log keeps it (encrypted): every field given."""
    values = {
        "family_name": query.family_name,
        "given_name": query.given_name,
        "date_of_birth": query.date_of_birth.isoformat() if query.date_of_birth else "",
        "age_from": "" if query.age_from is None else str(query.age_from),
        "age_to": "" if query.age_to is None else str(query.age_to),
        "gender": query.gender,
        "postcode": query.postcode,
    }
    return {key: value for key, value in values.items() if value.strip()}


# --- Blocking ---------------------------------------------------------------


def _holdable(day: date, today: date) -> bool:
    try:
        validate_date_of_birth(day, today=today)
    except IdentifierError:
        return False
    return True


def dob_variants(dob: date, *, today: date) -> dict[date, str]:
    """The date (EXACT), day and month swapped (SWAPPED) and every date with one
    digit of DDMMYYYY changed (ONE_DIGIT); only dates of someone under 25."""
    found = {dob: EXACT}
    if dob.day <= 12 and dob.day != dob.month:
        found[date(dob.year, dob.day, dob.month)] = SWAPPED
    digits = f"{dob.day:02d}{dob.month:02d}{dob.year:04d}"
    for position, original in enumerate(digits):
        for digit in "0123456789":
            if digit == original:
                continue
            text = f"{digits[:position]}{digit}{digits[position + 1 :]}"
            try:
                variant = date(int(text[4:]), int(text[2:4]), int(text[:2]))
            except ValueError:
                continue
            found.setdefault(variant, ONE_DIGIT)
    return {day: kind for day, kind in found.items() if _holdable(day, today)}


def birth_year_variants(year: int, *, today: date) -> set[int]:
    """``year`` and every year one digit away, in which a child now under 25
    could have been born."""
    earliest = today.year - MAXIMUM_AGE
    text = f"{year:04d}"
    years = {year} | {
        int(f"{text[:i]}{digit}{text[i + 1 :]}")
        for i in range(4)
        for digit in "0123456789"
    }
    return {y for y in years if earliest <= y <= today.year}


def family_spellings(family_name: str) -> set[str]:
    """The folded family name with one SPELLINGS confusion undone in one place
    after its first letter: "Smit" -> {"smith"}, "Wylson" -> {"wilson"}."""
    folded, found = fold(family_name), set()
    for wrong, right in SPELLINGS:
        at = folded.find(wrong, 1)
        while at != -1:
            found.add(f"{folded[:at]}{right}{folded[at + len(wrong) :]}")
            at = folded.find(wrong, at + 1)
    return found - {folded}


def _inputs(
    families: Iterable[str],
    givens: Iterable[str],
    place: tuple[str | None, str] | None = None,
    dates: Iterable[date] = (),
    years: Iterable[int] = (),
) -> IndexInputs:
    postcodes: tuple[str, ...] = ()
    if place is not None:
        # index_terms keeps the outward code of a postcode, so a district
        # alone is given a placeholder inward code.
        postcodes = (place[0] or f"{place[1]} 0AA",)
    return IndexInputs(
        family_names=tuple(families),
        given_names=tuple(givens),
        dates_of_birth=tuple(dates),
        birth_years=tuple(years),
        postcodes=postcodes,
    )


def weighted_query_terms(
    query: SearchQuery, *, today: date
) -> dict[tuple[BlindIndex, str], int]:
    """Every blocking term of a valid ``query``, weighted EXACT_TERM when it
    comes from what was typed and WIDENED_TERM when from a variant. Spelling
    variants of the family name are looked up with the exact years and
    district only, to keep the number of terms down."""
    place = query_place(query.postcode) if query.postcode.strip() else None
    family = (query.family_name,)
    given = (query.given_name,) if query.given_name.strip() else ()
    dob, ages = query.date_of_birth, age_bounds(query)
    if dob is not None:
        years: tuple[int, ...] = (dob.year,)
        exact = index_terms(_inputs(family, given, place, dates=(dob,)))
        widened = index_terms(
            _inputs(
                family,
                given,
                dates=dob_variants(dob, today=today),
                years=birth_year_variants(dob.year, today=today),
            )
        )
    else:
        years = (
            tuple(range(today.year - ages[1] - 1, today.year - ages[0] + 1))
            if ages
            else ()
        )
        exact, widened = index_terms(_inputs(family, given, place, years=years)), set()
    spellings = family_spellings(query.family_name)
    widened |= index_terms(_inputs(spellings, (), place, years=years))
    return dict.fromkeys(widened - exact, WIDENED_TERM) | dict.fromkeys(
        exact, EXACT_TERM
    )


def query_terms(query: SearchQuery, *, today: date) -> set[tuple[BlindIndex, str]]:
    """The (index, transformed input) pairs a valid ``query`` looks up."""
    return set(weighted_query_terms(query, today=today))


# --- Results -----------------------------------------------------------------


def rank_candidates(
    query: SearchQuery, profiles: Iterable[MatchProfile], *, today: date
) -> list[tuple[MatchProfile, float]]:
    """Profiles scoring FLOOR or more, best first (ties by child id, so a
    search always lists the same children in the same order)."""
    scored = [(p, candidate_score(query, p, today=today)) for p in profiles]
    kept = [(p, score) for p, score in scored if score >= FLOOR]
    kept.sort(key=lambda item: (-item[1], str(item[0].child_id)))
    return kept


def search_result(profile: MatchProfile, score: float) -> SearchResult:
    """What a result shows: the first (legal) name, date of birth, gender and
    the district of the first address only."""
    return SearchResult(
        child_id=profile.child_id,
        given_names=profile.given_names[0] if profile.given_names else "",
        family_name=profile.family_names[0] if profile.family_names else "",
        date_of_birth=profile.date_of_birth,
        gender=profile.gender,
        postcode_district=(
            postcode_district(profile.postcodes[0]) if profile.postcodes else ""
        ),
        score=score,
        strength=strength_words(score),
    )
