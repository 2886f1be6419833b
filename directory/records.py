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
