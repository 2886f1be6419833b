"""Plain input and output values of the directory's services and selectors.

Views, the API, ingestion and the seeder hand these to ``directory.services``;
``directory.selectors`` hand decrypted ones back. They never carry ciphertext.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Source:
    """Who sets a value: a feed run or a person (for provenance)."""

    kind: str  # directory.models.SourceKind value
    reference: str
    #: What involvements remember as their source when it differs from
    #: ``reference``: a feed's involvements name the feed source (so a snapshot
    #: can end those it no longer reports), provenance names the run.
    involvement_reference: str = ""

    @property
    def involvement_source(self) -> str:
        return self.involvement_reference or self.reference


@dataclass(frozen=True, slots=True)
class NewName:
    given_names: str
    family_name: str
    kind: str = "legal"


@dataclass(frozen=True, slots=True)
class NewAddress:
    lines: tuple[str, ...]
    postcode: str
    is_current: bool = True
    moved_in_on: date | None = None
    moved_out_on: date | None = None


@dataclass(frozen=True, slots=True)
class NewCarer:
    name: str
    relationship: str
    parental_responsibility: bool = False
    phone: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NewInvolvement:
    organisation_id: int
    service_type: str
    started_on: date
    practitioner_id: UUID | None = None
    practitioner_name: str = ""
    practitioner_role: str = ""
    phone: str = ""
    email: str = ""
    is_lead_professional: bool = False
    ended_on: date | None = None
    consent_given_by: str | None = None


@dataclass(frozen=True, slots=True)
class NewWarningFlag:
    kind: str
    owning_organisation_id: int
    contact_name: str
    contact_phone: str
    starts_on: date
    contact_email: str = ""
    ends_on: date | None = None


@dataclass(frozen=True, slots=True)
class NewChild:
    names: tuple[NewName, ...]
    date_of_birth: date
    gender: str = "0"
    nhs_number: str | None = None
    upn: str | None = None
    addresses: tuple[NewAddress, ...] = ()
    carers: tuple[NewCarer, ...] = ()
    involvements: tuple[NewInvolvement, ...] = ()
    warning_flags: tuple[NewWarningFlag, ...] = ()
    shielded: bool = False
    responsible_authority_id: int | None = None
    consent_to_retain_until_25: bool = False


@dataclass(frozen=True, slots=True)
class MatchProfile:
    """What a search or a feed match compares, decrypted from one token."""

    child_id: UUID
    given_names: tuple[str, ...]
    family_names: tuple[str, ...]
    date_of_birth: date
    gender: str
    postcodes: tuple[str, ...]
    nhs_number: str | None = None
    upn: str | None = None


@dataclass(frozen=True, slots=True)
class CarerView:
    name: str
    relationship: str
    parental_responsibility: bool
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class ConsentView:
    """The current consent to share a sensitive involvement."""

    id: UUID
    given_by: str  # directory.models.Consent.GivenBy value
    scope: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class InvolvementView:
    id: UUID
    organisation_id: int
    organisation_name: str
    service_type: str
    practitioner_name: str
    practitioner_role: str
    phone: str
    email: str
    is_lead_professional: bool
    started_on: date
    ended_on: date | None
    sensitive: bool
    consent: ConsentView | None = None


@dataclass(frozen=True, slots=True)
class WarningFlagView:
    id: UUID
    kind: str
    owning_organisation_name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True, slots=True)
class NameView:
    kind: str
    given_names: str
    family_name: str


@dataclass(frozen=True, slots=True)
class CorrectionView:
    """A data manager's correction of one field (directory/services/corrections.py)."""

    record_type: str  # Provenance.record_type: child, child_name, address
    field_name: str
    corrected_at: datetime
    corrected_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """A decrypted record, filtered by the access policy for one actor."""

    id: UUID
    directory_number: str
    gender: str
    date_of_birth: date
    names: tuple[NameView, ...]
    current_address: tuple[str, ...]
    current_postcode: str | None
    nhs_number: str | None
    upn: str | None
    shielded: bool
    carers: tuple[CarerView, ...] = ()
    involvements: tuple[InvolvementView, ...] = ()
    warning_flags: tuple[WarningFlagView, ...] = ()
    hidden_involvements: int = 0
    access_reason: str = field(default="")
    responsible_authority_id: int | None = None
    date_of_death: date | None = None
    #: Filled only for readers who may correct the record (data managers).
    corrections: tuple[CorrectionView, ...] = ()


# Search ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a practitioner typed. Validated by directory.search before use.

    ``date_of_birth`` or an age range (``age_from``/``age_to``, whole years)
    or ``postcode`` must accompany ``family_name``; ``postcode`` may be a
    full postcode or only its district ("N17").
    """

    family_name: str
    given_name: str = ""
    date_of_birth: date | None = None
    age_from: int | None = None
    age_to: int | None = None
    gender: str = ""
    postcode: str = ""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One ranked candidate: only what tells children apart."""

    child_id: UUID
    given_names: str
    family_name: str
    date_of_birth: date
    gender: str
    postcode_district: str
    score: float  # 0..100
    strength: str  # plain words, e.g. "Strong match"


@dataclass(frozen=True, slots=True)
class RestrictedMatch:
    """A shielded child may match: who to contact, and nothing about them."""

    authority_name: str
    contact_phone: str
    contact_email: str


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    results: tuple[SearchResult, ...]
    restricted: tuple[RestrictedMatch, ...] = ()
    #: True when more candidates matched than the list shows.
    capped: bool = False


# Feeds ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvolvementState:
    id: UUID
    organisation_id: int
    service_type: str
    started_on: date
    ended_on: date | None


@dataclass(frozen=True, slots=True)
class FlagState:
    id: UUID
    kind: str
    owning_organisation_id: int
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True, slots=True)
class FeedChildState:
    """What a feed compares an incoming row with: one existing child."""

    profile: MatchProfile
    shielded: bool
    current_postcode: str | None
    involvements: tuple[InvolvementState, ...] = ()
    flags: tuple[FlagState, ...] = ()


@dataclass(frozen=True, slots=True)
class ChildChanges:
    """What a feed row changes in an existing child (empty: nothing)."""

    child_id: UUID
    #: A new legal name; the current legal name becomes a former name.
    new_legal_name: NewName | None = None
    #: A new current address; the current one is kept as a past address.
    new_address: NewAddress | None = None
    set_nhs_number: str | None = None
    set_upn: str | None = None
    set_gender: str | None = None
    add_involvements: tuple[NewInvolvement, ...] = ()
    end_involvements: tuple[tuple[UUID, date], ...] = ()
    add_flags: tuple[NewWarningFlag, ...] = ()
    end_flags: tuple[tuple[UUID, date], ...] = ()

    @property
    def changes_identity(self) -> bool:
        return bool(
            self.new_legal_name
            or self.new_address
            or self.set_nhs_number
            or self.set_upn
            or self.set_gender
        )

    @property
    def is_empty(self) -> bool:
        return not (
            self.changes_identity
            or self.add_involvements
            or self.end_involvements
            or self.add_flags
            or self.end_flags
        )
