"""Is a feed record an existing child, a new child, or a question for a person?

Pure: no Django, no I/O. ``match_record`` compares a ``ValidRecord`` with the
candidates blocking found (``ingestion.pipeline.blocking``).

1. Identifiers first. A candidate holding the record's NHS number (else its
   UPN) is the child when the rest corroborates it: the date of birth agrees,
   or is a swap or a one-digit slip, and the family or the given name is
   similar -> LINK "nhs_number_agrees" / "upn_agrees". Otherwise, or when
   several candidates hold it, or a UPN holder has another NHS number ->
   REVIEW "nhs_number_conflict" / "upn_conflict".
2. Otherwise Fellegi-Sunter: each field's agreement level weighs log2(m/u)
   bits (m = P(level | same child), u = P(level | different children)),
   summed; a field missing on either side weighs 0. Names are compared best
   over every name on both sides (legal, former, ...), postcodes best over
   every address. ``u`` is for two children drawn at random, raised where a
   household makes fields agree together (a postcode is shared by siblings).

=============  ==========================================  =====  ======  ======
field          level                                       m      u       bits
=============  ==========================================  =====  ======  ======
family name    exact after folding (Climbié = Climbie)      .92   .004     7.85
               Jaro-Winkler >= .92, or one part of a        .03   .002     3.91
               double-barrelled name equal
               Metaphone keys shared (Smyth, Smith)         .015  .01      0.58
               disagree (a new surname, no former name)     .035  .984    -4.81
given name     exact first given name                       .90   .01      6.49
               nickname of the same formal name (Katie)     .04   .002     4.32
               Jaro-Winkler >= .92, or a middle name        .025  .0015    4.06
               Jaro-Winkler >= .80 (1)                      .004  .005    -0.32
               disagree (another name in use)               .005  .974    -7.61
date of birth  exact (u: 1 day in 18 years)                 .95   .00015  12.63
               day and month swapped                        .012  .00005   7.91
               one digit of DDMMYYYY wrong                  .02   .0025    3.00
               same year only                               .008  .055    -2.78
               disagree                                     .01   .94     -6.55
gender         agree (male/female on both sides)            .98   .5       0.97
               disagree (coding slips)                      .02   .5      -4.64
postcode       same postcode (u raised: siblings, flats)    .85   .0005   10.73
               same district (a feed serves few districts)  .07   .05      0.49
               disagree (about one child in ten moves)      .08   .9495   -3.57
address line   first line agrees, given the postcode        .80   .10      3.00
               disagrees                                    .15   .90     -2.58
NHS number     agree                                        .998  1e-6    19.93
               disagree (twins share everything else)       .001  ~1      -9.97
UPN            agree                                        .98   1e-6    19.90
               disagree (reissued, temporary -> permanent)  .02   ~1      -5.64
=============  ==========================================  =====  ======  ======

(1) A level the brief did not name: one keying slip leaves Jaro-Winkler under
.92 for about 12% of first names (short names: Amy/Amt .82) but under .80
for only 1%, while two different names reach .80 about 0.5% of the time.
Without it a typo and another child's name weigh the same.

``MatchProfile`` carries no address lines yet, so the address line is
"missing" (0 bits) for every candidate today.

3. Decision on the best candidate's total T: T >= UPPER and at least MARGIN
   ahead of the runner-up -> LINK "above_upper_threshold" (REVIEW
   "close_runner_up" when not: twins; REVIEW "nhs_number_conflict" when its
   NHS number differs); T < LOWER -> NEW "below_lower_threshold"; between ->
   REVIEW "between_thresholds". A NEW becomes REVIEW "shielded_candidate"
   when a shielded candidate scores LOWER - SHIELDED_MARGIN or more: a
   shielded child must never be duplicated into an unshielded record.
   Linking to a shielded child is allowed.

Thresholds, from the patterns that decide (without identifiers), checked
by ``ingestion/tests/unit/test_match_quality.py``:

- UPPER 25: above a new twin beside its co-twin (surname, date of birth,
  postcode, gender agree, given name disagrees: 24.6) and above a namesake
  born the same day elsewhere (family, given, date of birth, gender agree,
  postcode disagrees: 24.4; nationally about 0.07 such children per record),
  which is also the pattern of a child who moved out of the district: those
  go to review. Below a surname that disagrees with all else agreeing (26.0),
  a one-digit date slip (28.1), a move within the district (27.5).
- LOWER 14: above what chance alone gives at national scale, where each date
  of birth is shared by about 1,800 children: same surname and date of birth
  only (12.8, several per record) or same given name and date of birth only
  (11.7, about 18 per record) must not fill the review queue; above a new
  sibling at the same address (at most 12.6).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import inf, log2
from uuid import UUID

from rapidfuzz.distance import JaroWinkler

from contactpoint.crypto.normalise import compact, fold, name_parts
from directory.records import MatchProfile, NewChild
from directory.search_index import family_keys, given_name_forms, postcode_district
from directory.search_scoring import (
    DIFFERENT,
    EXACT,
    KNOWN_GENDERS,
    ONE_DIGIT,
    SAME_YEAR,
    SWAPPED,
    dob_agreement,
)
from ingestion.pipeline.records import (
    Candidate,
    CandidateScore,
    Match,
    MatchOutcome,
    ValidRecord,
)

FAMILY, GIVEN, DOB, GENDER = "family_name", "given_name", "date_of_birth", "gender"
POSTCODE, ADDRESS, NHS, UPN = "postcode", "address", "nhs_number", "upn"
AGREE, SIMILAR, PHONETIC, NICKNAME = "agree", "similar", "phonetic", "nickname"
CLOSE = "close"
DISTRICT, DISAGREE, MISSING, PARTIAL = "district", "disagree", "missing", "partial"

#: (m, u) per field and agreement level, best level first (docstring table).
M_U: dict[str, dict[str, tuple[float, float]]] = {
    FAMILY: {
        AGREE: (0.92, 0.004),
        SIMILAR: (0.03, 0.002),
        PHONETIC: (0.015, 0.01),
        DISAGREE: (0.035, 0.984),
    },
    GIVEN: {
        AGREE: (0.90, 0.01),
        NICKNAME: (0.04, 0.002),
        SIMILAR: (0.025, 0.0015),
        CLOSE: (0.004, 0.005),
        DISAGREE: (0.005, 0.974),
    },
    DOB: {
        EXACT: (0.95, 0.00015),
        SWAPPED: (0.012, 0.00005),
        ONE_DIGIT: (0.02, 0.0025),
        SAME_YEAR: (0.008, 0.055),
        DIFFERENT: (0.01, 0.94),
    },
    GENDER: {AGREE: (0.98, 0.5), DISAGREE: (0.02, 0.5)},
    POSTCODE: {
        AGREE: (0.85, 0.0005),
        DISTRICT: (0.07, 0.05),
        DISAGREE: (0.08, 0.9495),
    },
    ADDRESS: {AGREE: (0.80, 0.10), DISAGREE: (0.15, 0.90)},
    NHS: {AGREE: (0.998, 1e-6), DISAGREE: (0.001, 1 - 1e-6)},
    UPN: {AGREE: (0.98, 1e-6), DISAGREE: (0.02, 1 - 1e-6)},
}
#: log2(m/u) in bits; a missing field weighs 0.
WEIGHTS: dict[str, dict[str, float]] = {
    field: {level: round(log2(m / u), 2) for level, (m, u) in levels.items()}
    | {MISSING: 0.0}
    for field, levels in M_U.items()
}

#: Link at or above this total (bits), if MARGIN ahead of the runner-up.
UPPER = 25.0
#: Create a new child below this total.
LOWER = 14.0
#: How far the best must lead the runner-up to be linked without a person.
MARGIN = 6.0
#: A shielded candidate this close below LOWER still stops a NEW.
SHIELDED_MARGIN = 2.0
#: Candidates kept on a Match for the review page.
SHORTLIST = 3

SIMILAR_JW = 0.92
CLOSE_JW = 0.80
_NEAR_DATES = frozenset({EXACT, SWAPPED, ONE_DIGIT})
_SIMILAR_NAMES = frozenset({AGREE, SIMILAR, PHONETIC, NICKNAME})


# --- Comparing one field ------------------------------------------------------


def _best(field: str, levels: Iterable[str]) -> str:
    return max(levels, key=WEIGHTS[field].__getitem__, default=MISSING)


def _jaro_winkler(a: str, b: str) -> float:
    return float(JaroWinkler.normalized_similarity(a, b))


def _family_pair(ours: str, theirs: str) -> str:
    a, b = fold(ours).replace(" ", ""), fold(theirs).replace(" ", "")
    if not a or not b:
        return MISSING
    if a == b:
        return AGREE
    if _jaro_winkler(a, b) >= SIMILAR_JW or set(name_parts(ours)) & set(
        name_parts(theirs)
    ):
        return SIMILAR
    return PHONETIC if family_keys(ours) & family_keys(theirs) else DISAGREE


def family_level(ours: Iterable[str], theirs: Sequence[str]) -> str:
    """Best family-name level over every pair of names."""
    return _best(FAMILY, (_family_pair(a, b) for a in ours for b in theirs))


def _given_pair(ours: str, theirs: str) -> str:
    a, b = fold(ours).split(), fold(theirs).split()
    if not a or not b:
        return MISSING
    if a[0] == b[0]:
        return AGREE
    if given_name_forms(ours) & given_name_forms(theirs):
        return NICKNAME
    similarity = _jaro_winkler(a[0], b[0])
    if similarity >= SIMILAR_JW or a[0] in b[1:] or b[0] in a[1:]:
        return SIMILAR
    return CLOSE if similarity >= CLOSE_JW else DISAGREE


def given_level(ours: Iterable[str], theirs: Sequence[str]) -> str:
    """Best first-given-name level over every pair of names."""
    return _best(GIVEN, (_given_pair(a, b) for a in ours for b in theirs))


def gender_level(ours: str, theirs: str) -> str:
    if ours not in KNOWN_GENDERS or theirs not in KNOWN_GENDERS:
        return MISSING
    return AGREE if ours == theirs else DISAGREE


def postcode_level(ours: Iterable[str], theirs: Sequence[str]) -> str:
    """Best postcode level over every pair of addresses."""
    held = [(compact(p), postcode_district(p)) for p in theirs if p.strip()]
    levels = []
    for postcode in (p for p in ours if p.strip()):
        squashed, district = compact(postcode), postcode_district(postcode)
        for their_code, their_district in held:
            if squashed == their_code:
                levels.append(AGREE)
            else:
                levels.append(DISTRICT if district == their_district else DISAGREE)
    return _best(POSTCODE, levels)


def address_level(ours: Iterable[str], theirs: Iterable[str]) -> str:
    """First address lines, folded: agree when any pair is equal."""
    a = {fold(line) for line in ours} - {""}
    b = {fold(line) for line in theirs} - {""}
    if not a or not b:
        return MISSING
    return AGREE if a & b else DISAGREE


def identifier_level(ours: str | None, theirs: str | None) -> str:
    if not ours or not theirs:
        return MISSING
    return AGREE if compact(ours).upper() == compact(theirs).upper() else DISAGREE


def compare(child: NewChild, profile: MatchProfile) -> dict[str, str]:
    """The agreement level of every field of ``child`` against ``profile``."""
    return {
        FAMILY: family_level(
            (n.family_name for n in child.names), profile.family_names
        ),
        GIVEN: given_level((n.given_names for n in child.names), profile.given_names),
        DOB: dob_agreement(child.date_of_birth, profile.date_of_birth),
        GENDER: gender_level(child.gender, profile.gender),
        POSTCODE: postcode_level(
            (a.postcode for a in child.addresses), profile.postcodes
        ),
        # MatchProfile holds no address lines (module docstring).
        ADDRESS: address_level((a.lines[0] for a in child.addresses if a.lines), ()),
        NHS: identifier_level(child.nhs_number, profile.nhs_number),
        UPN: identifier_level(child.upn, profile.upn),
    }


def agreement(levels: dict[str, str]) -> dict[str, str]:
    """Plain agreement per field for the review page: "agree" at the field's
    best level, "disagree" at its worst, "missing", else "partial" (a typo, a
    nickname, a swapped date, the same district...)."""
    plain = {}
    for field, level in levels.items():
        order = list(M_U[field])
        if level in (MISSING, order[0], order[-1]):
            plain[field] = {order[0]: AGREE, order[-1]: DISAGREE}.get(level, MISSING)
        else:
            plain[field] = PARTIAL
    return plain


# --- Deciding -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """A candidate with its agreement level per field and total weight."""

    candidate: Candidate
    levels: dict[str, str]
    weight: float

    def public(self) -> CandidateScore:
        return CandidateScore(
            child_id=self.candidate.profile.child_id,
            weight=self.weight,
            agreement=agreement(self.levels),
        )


def score(child: NewChild, candidate: Candidate) -> ScoredCandidate:
    """Compare every field and add up the weights (bits, two decimals)."""
    levels = compare(child, candidate.profile)
    weight = round(sum(WEIGHTS[field][level] for field, level in levels.items()), 2)
    return ScoredCandidate(candidate, levels, weight)


def _corroborated(levels: dict[str, str]) -> bool:
    return levels[DOB] in _NEAR_DATES and (
        levels[FAMILY] in _SIMILAR_NAMES or levels[GIVEN] in _SIMILAR_NAMES
    )


def _rank(scored: ScoredCandidate) -> tuple[float, UUID]:
    return -scored.weight, scored.candidate.profile.child_id


def _shortlist(
    ranked: list[ScoredCandidate], *keep: ScoredCandidate
) -> tuple[CandidateScore, ...]:
    """The best SHORTLIST candidates, ``keep`` (the ones a decision names)
    always among them, best first."""
    kept = {id(s) for s in keep}
    chosen = [*keep, *(s for s in ranked if id(s) not in kept)][:SHORTLIST]
    return tuple(s.public() for s in sorted(chosen, key=_rank))


def _by_identifier(ranked: list[ScoredCandidate]) -> Match | None:
    for field, code in ((NHS, "nhs_number"), (UPN, "upn")):
        holders = [s for s in ranked if s.levels[field] == AGREE]
        if not holders:
            continue
        only = holders[0]
        if (
            len(holders) == 1
            and _corroborated(only.levels)
            and only.levels[NHS] != DISAGREE
        ):
            return Match(
                MatchOutcome.LINK,
                f"{code}_agrees",
                only.candidate.profile.child_id,
                _shortlist(ranked, only),
            )
        return Match(
            MatchOutcome.REVIEW, f"{code}_conflict", None, _shortlist(ranked, *holders)
        )
    return None


def _by_weight(ranked: list[ScoredCandidate]) -> Match:
    best, shortlist = ranked[0], _shortlist(ranked)
    runner_up = ranked[1].weight if len(ranked) > 1 else -inf
    if best.weight >= UPPER:
        if best.levels[NHS] == DISAGREE:
            return Match(MatchOutcome.REVIEW, "nhs_number_conflict", None, shortlist)
        if best.weight - runner_up < MARGIN:
            return Match(MatchOutcome.REVIEW, "close_runner_up", None, shortlist)
        child_id = best.candidate.profile.child_id
        return Match(MatchOutcome.LINK, "above_upper_threshold", child_id, shortlist)
    if best.weight >= LOWER:
        return Match(MatchOutcome.REVIEW, "between_thresholds", None, shortlist)
    floor = LOWER - SHIELDED_MARGIN
    for scored in ranked:
        if scored.candidate.shielded and scored.weight >= floor:
            shortlist = _shortlist(ranked, scored)
            return Match(MatchOutcome.REVIEW, "shielded_candidate", None, shortlist)
    return Match(MatchOutcome.NEW, "below_lower_threshold", None, shortlist)


def match_record(record: ValidRecord, candidates: Sequence[Candidate]) -> Match:
    """LINK, NEW or REVIEW for ``record`` (rules in the module docstring)."""
    unique = {c.profile.child_id: c for c in candidates}
    ranked = sorted((score(record.child, c) for c in unique.values()), key=_rank)
    if not ranked:
        return Match(MatchOutcome.NEW, "below_lower_threshold")
    return _by_identifier(ranked) or _by_weight(ranked)
