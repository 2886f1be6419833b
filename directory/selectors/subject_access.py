"""A child's subject access report: everything the directory holds about them,
and every access to their record, for a data manager answering the request.

The one read of this kind, and it goes through the same steps as every read
of child data: load, decide (``decide_subject_access``), audit (one
SUBJECT_ACCESS event per production, naming its format, with the purpose
data management; refusals too), then decrypt. Missing and forbidden records
raise the same ``ChildRecordUnavailable``.

Unlike a practitioner's view, the report leaves nothing out: sensitive
involvements with or without consent, ended involvements and flags, former
names, past addresses, withdrawn consents, provenance with the reasons for
corrections, merges, and the access log's events about the child (from
``audit.selectors.child_events``, the auditor's "who has viewed this child"
query, here for every action). Everything is turned into words here, so the
page and the PDF show the same report.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from django.apps import apps
from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.selectors import child_events
from audit.services import access_event_record
from contactpoint.crypto.fields import unseal
from directory.corrections import field_label
from directory.identifiers import format_directory_number, format_nhs_number
from directory.models import (
    Address,
    Carer,
    Child,
    ChildMerge,
    ChildName,
    ChildStatus,
    Consent,
    Involvement,
    NameKind,
    Provenance,
    SourceKind,
    WarningFlag,
)
from directory.policies import (
    ChildRecordFacts,
    Decision,
    Purpose,
    decide_subject_access,
)
from directory.selectors.corrections import people_names
from directory.selectors.reading import ChildRecordUnavailable

#: Statuses whose records a report covers: archived records are still held.
REPORTED_STATUSES = (ChildStatus.ACTIVE, ChildStatus.ARCHIVED)
NOT_KNOWN = "Not known"


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


@dataclass(frozen=True, slots=True)
class ReportName:
    kind: str
    given_names: str
    family_name: str
    recorded_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}".strip()


@dataclass(frozen=True, slots=True)
class ReportAddress:
    lines: tuple[str, ...]
    postcode: str
    is_current: bool
    moved_in_on: date | None
    moved_out_on: date | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ReportCarer:
    name: str
    relationship: str
    parental_responsibility: bool
    phone: str
    email: str
    address: str


@dataclass(frozen=True, slots=True)
class ReportConsent:
    given_by: str
    scope: str
    recorded_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportInvolvement:
    organisation_name: str
    service: str
    practitioner_name: str
    practitioner_role: str
    phone: str
    email: str
    is_lead_professional: bool
    sensitive: bool
    started_on: date
    ended_on: date | None
    source: str
    consents: tuple[ReportConsent, ...]


@dataclass(frozen=True, slots=True)
class ReportFlag:
    kind: str
    owning_organisation_name: str
    contact_name: str
    contact_phone: str
    contact_email: str
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True, slots=True)
class ReportProvenance:
    """Which source set what, and when (with the reason, for a correction)."""

    what: str
    source: str
    set_at: datetime
    is_correction: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ReportMerge:
    """Another record of the same child merged into this one (or this one
    merged into another), and whether it was undone."""

    description: str
    merged_at: datetime
    undone_at: datetime | None
    reason: str


@dataclass(frozen=True, slots=True)
class ReportAccess:
    """One event of the access log about the child."""

    seq: int
    occurred_at: datetime
    who: str
    role: str
    organisation: str
    action: str
    allowed: bool
    purpose: str
    break_glass: bool


@dataclass(frozen=True, slots=True)
class SubjectAccessReport:
    """Everything held about one child, in words, and who accessed it."""

    child_id: UUID
    directory_number: str
    status: str
    produced_at: datetime
    produced_by: str
    date_of_birth: date
    gender: str
    nhs_number: str
    upn: str
    date_of_death: date | None
    shielded: bool
    responsible_authority: str
    consent_to_retain_until_25: bool
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    names: tuple[ReportName, ...]
    addresses: tuple[ReportAddress, ...]
    carers: tuple[ReportCarer, ...]
    involvements: tuple[ReportInvolvement, ...]
    flags: tuple[ReportFlag, ...]
    provenance: tuple[ReportProvenance, ...]
    merges: tuple[ReportMerge, ...]
    accesses: tuple[ReportAccess, ...]

    @property
    def name(self) -> str:
        """The name the report is headed with: legal, else any."""
        for name in self.names:
            if name.kind == NameKind.LEGAL.label:
                return name.full_name
        return self.names[0].full_name if self.names else "Name not known"


def _load(child_id: UUID) -> Child | None:
    return (
        Child.unaudited.filter(pk=child_id, status__in=REPORTED_STATUSES)
        .select_related("responsible_authority")
        .prefetch_related(
            Prefetch("names", queryset=ChildName.unaudited.order_by("created_at")),
            Prefetch(
                "addresses",
                queryset=Address.unaudited.order_by("-is_current", "-created_at"),
            ),
            Prefetch("carers", queryset=Carer.unaudited.order_by("created_at")),
            Prefetch(
                "involvements",
                queryset=Involvement.unaudited.select_related("organisation")
                .prefetch_related(
                    Prefetch(
                        "consents",
                        queryset=Consent.unaudited.order_by("recorded_at"),
                    )
                )
                .order_by("started_on", "created_at"),
            ),
            Prefetch(
                "warning_flags",
                queryset=WarningFlag.unaudited.select_related(
                    "owning_organisation"
                ).order_by("starts_on", "created_at"),
            ),
            Prefetch(
                "provenance", queryset=Provenance.objects.order_by("set_at", "id")
            ),
        )
        .first()
    )


def subject_access_report(
    *,
    actor: Actor,
    child_id: UUID,
    report_format: ReportFormat,
    request_id: str = "",
) -> SubjectAccessReport:
    """The child's subject access report, if ``actor`` may produce it.

    Every attempt is audited as SUBJECT_ACCESS (purpose data management,
    the format in the detail) before anything is decrypted, so the report's
    own production is the first access it lists. Raises
    ChildRecordUnavailable for missing and forbidden records alike.
    """
    child = _load(child_id)
    decision = (
        Decision(False, "not_found")
        if child is None
        else decide_subject_access(
            actor,
            ChildRecordFacts(
                shielded=child.shielded,
                responsible_authority_id=child.responsible_authority_id,
            ),
        )
    )
    access_event_record(
        actor=actor,
        action=AccessAction.SUBJECT_ACCESS,
        allowed=decision.allowed,
        reason=decision.reason,
        child_id=child_id,
        purpose=Purpose.DATA_MANAGEMENT.value,
        detail=f"Subject access report as {report_format.value.upper()}.",
        shielded_record=child is not None and child.shielded,
        request_id=request_id,
    )
    if child is None or not decision.allowed:
        raise ChildRecordUnavailable
    return _report(actor, child)


def _report(actor: Actor, child: Child) -> SubjectAccessReport:
    provenance = list(child.provenance.all())
    merges = list(
        ChildMerge.objects.filter(Q(survivor=child) | Q(merged=child))
        .select_related("survivor", "merged")
        .order_by("merged_at")
    )
    people = people_names(
        {
            row.source_reference
            for row in provenance
            if row.source in {SourceKind.PERSON, SourceKind.CORRECTION}
        }
    )
    feeds = _feed_names(
        {row.source_reference for row in provenance if row.source == SourceKind.FEED}
    )
    died = unseal(child, "date_of_death")
    authority = child.responsible_authority
    return SubjectAccessReport(
        child_id=child.id,
        directory_number=format_directory_number(child.directory_number),
        status=child.get_status_display(),
        produced_at=timezone.now(),
        produced_by=actor.display_name,
        date_of_birth=date.fromisoformat(unseal(child, "date_of_birth") or ""),
        gender=child.get_gender_display(),
        nhs_number=_nhs_number(unseal(child, "nhs_number")),
        upn=unseal(child, "upn") or "",
        date_of_death=date.fromisoformat(died) if died else None,
        shielded=child.shielded,
        responsible_authority=authority.name if authority else NOT_KNOWN,
        consent_to_retain_until_25=child.consent_to_retain_until_25,
        created_at=child.created_at,
        updated_at=child.updated_at,
        archived_at=child.archived_at,
        names=tuple(
            ReportName(
                kind=name.get_kind_display(),
                given_names=unseal(name, "given_names") or "",
                family_name=unseal(name, "family_name") or "",
                recorded_at=name.created_at,
            )
            for name in child.names.all()
        ),
        addresses=tuple(
            ReportAddress(
                lines=tuple((unseal(address, "lines") or "").split("\n")),
                postcode=unseal(address, "postcode") or "",
                is_current=address.is_current,
                moved_in_on=address.moved_in_on,
                moved_out_on=address.moved_out_on,
                recorded_at=address.created_at,
            )
            for address in child.addresses.all()
        ),
        carers=tuple(
            ReportCarer(
                name=unseal(carer, "name") or "",
                relationship=carer.get_relationship_display(),
                parental_responsibility=carer.parental_responsibility,
                phone=unseal(carer, "phone") or "",
                email=unseal(carer, "email") or "",
                address=unseal(carer, "address") or "",
            )
            for carer in child.carers.all()
        ),
        involvements=tuple(_involvement(i) for i in child.involvements.all()),
        flags=tuple(
            ReportFlag(
                kind=flag.get_kind_display(),
                owning_organisation_name=flag.owning_organisation.name,
                contact_name=flag.contact_name,
                contact_phone=flag.contact_phone,
                contact_email=flag.contact_email,
                starts_on=flag.starts_on,
                ends_on=flag.ends_on,
            )
            for flag in child.warning_flags.all()
        ),
        provenance=tuple(_provenance(row, people, feeds) for row in provenance),
        merges=tuple(_merge(child, merge) for merge in merges),
        accesses=_accesses(child.id),
    )


def _nhs_number(value: str | None) -> str:
    return format_nhs_number(value) if value else ""


def _involvement(involvement: Involvement) -> ReportInvolvement:
    return ReportInvolvement(
        organisation_name=involvement.organisation.name,
        service=involvement.get_service_type_display(),
        practitioner_name=involvement.practitioner_name,
        practitioner_role=involvement.practitioner_role,
        phone=involvement.phone,
        email=involvement.email,
        is_lead_professional=involvement.is_lead_professional,
        sensitive=involvement.sensitive,
        started_on=involvement.started_on,
        ended_on=involvement.ended_on,
        source=involvement.get_source_display(),
        consents=tuple(
            ReportConsent(
                given_by=consent.get_given_by_display(),
                scope=consent.scope,
                recorded_at=consent.recorded_at,
                withdrawn_at=consent.withdrawn_at,
            )
            for consent in involvement.consents.all()
        ),
    )


def _feed_names(references: Collection[str]) -> dict[str, str]:
    """ "<feed> from <organisation>" by feed run id. Runs are the ingestion
    app's: looked up by name, since that app depends on this one."""
    run_ids = set()
    for reference in references:
        try:
            run_ids.add(UUID(reference))
        except ValueError:
            continue
    if not run_ids:
        return {}
    runs = apps.get_model("ingestion", "FeedRun")._default_manager.filter(
        pk__in=run_ids
    )
    return {
        str(run_id): f"{feed} from {organisation}"
        for run_id, feed, organisation in runs.values_list(
            "pk", "source__name", "source__organisation__name"
        )
    }


def _provenance(
    row: Provenance, people: dict[str, str], feeds: dict[str, str]
) -> ReportProvenance:
    reference = row.source_reference
    if row.source == SourceKind.FEED:
        source = "Data feed: " + feeds.get(reference, f"reference {reference}")
    elif row.source == SourceKind.CORRECTION:
        source = "Corrected by " + people.get(reference, "a data manager")
    else:
        source = "Recorded by " + people.get(reference, "a person")
    is_correction = row.source == SourceKind.CORRECTION
    return ReportProvenance(
        what=field_label(row.record_type, row.field),
        source=source,
        set_at=row.set_at,
        is_correction=is_correction,
        reason=(unseal(row, "reason") or "") if is_correction else "",
    )


def _merge(child: Child, merge: ChildMerge) -> ReportMerge:
    if merge.survivor_id == child.id:
        description = (
            f"Record {format_directory_number(merge.merged.directory_number)} "
            "was found to be the same child and merged into this one"
        )
    else:
        description = (
            "This record was found to be the same child as record "
            f"{format_directory_number(merge.survivor.directory_number)} and "
            "merged into it"
        )
    return ReportMerge(
        description=description,
        merged_at=merge.merged_at,
        undone_at=merge.undone_at,
        reason=unseal(merge, "reason") or "",
    )


def _accesses(child_id: UUID) -> tuple[ReportAccess, ...]:
    return tuple(
        ReportAccess(
            seq=row.event.seq,
            occurred_at=row.event.occurred_at,
            who=row.user_name or "The system or someone not signed in",
            role=row.role_label,
            organisation=row.organisation_name,
            action=row.action_label,
            allowed=row.allowed,
            purpose=row.purpose_label,
            break_glass=row.event.break_glass,
        )
        for row in child_events(child_id=child_id, actions=None, purpose_details=False)
    )
