"""The values passed between the pure pipeline stages (STYLE.md B4).

parse (ingestion/readers) -> ``RawRow``
validate -> ``ValidRecord`` | ``Rejection``
match -> ``Match``
plan -> ``RowPlan`` per row

No Django here; child values travel as ``directory.records`` dataclasses.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from directory.records import MatchProfile, NewChild


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why one field of one row cannot be used.

    ``code`` is stable (e.g. "nhs_number_check_digit"); ``message`` tells a
    data manager what is wrong and what to do. Messages never quote the value
    (the row's fields are shown beside them, to those allowed to see them).
    """

    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row quarantined by validation (or as a duplicate within its file)."""

    position: int
    reference: str
    problems: tuple[FieldProblem, ...]


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What validation may consult, as plain values (a snapshot per run)."""

    today: date
    #: The sending organisation; its own services carry its id.
    source_organisation_id: int
    #: The service type of the sender's involvement when a row names none.
    default_service_type: str
    #: Known organisations by their public code (school URN, ODS code, GSS code).
    organisations_by_code: Mapping[str, int] = field(default_factory=dict)
    #: The responsible local authority of children first created by this feed.
    responsible_authority_id: int | None = None
    #: Allowed values (directory.models.ServiceType / FlagKind values; passed in
    #: so this stays free of Django).
    service_types: frozenset[str] = frozenset()
    flag_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ValidRecord:
    """A row that passed validation, normalised into the directory's terms.

    ``child`` carries the identity plus the involvements and flags the row
    reports (organisation ids resolved). ``source_key`` is the sender's own id
    for the child when the format has one (else empty).
    """

    position: int
    reference: str
    child: NewChild
    source_key: str = ""


class MatchOutcome(StrEnum):
    LINK = "link"  # the row is this existing child
    NEW = "new"  # nobody like this yet: create a child
    REVIEW = "review"  # a person must decide


@dataclass(frozen=True, slots=True)
class CandidateScore:
    child_id: UUID
    #: Fellegi-Sunter total weight in bits (log2 of m/u summed over fields).
    weight: float
    #: Per field: "agree", "partial", "disagree" or "missing" (for the review page).
    agreement: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Match:
    outcome: MatchOutcome
    #: Stable code for why, e.g. "nhs_number_agrees", "nhs_number_conflict",
    #: "above_upper_threshold", "between_thresholds", "below_lower_threshold",
    #: "shielded_candidate".
    reason: str
    child_id: UUID | None = None
    #: Best candidates first (at most a handful), for the review queue.
    candidates: tuple[CandidateScore, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """An existing child offered by blocking: decrypted profile + facts."""

    profile: MatchProfile
    shielded: bool = False
