"""THE read gate for child data: load, decide with the policy, audit, return.

Every read of a child's record goes through a function here. Each one writes
an access event for allowed and denied attempts alike, and raises the single
``ChildRecordUnavailable`` for both "not found" and "forbidden", so nobody can
probe which children exist.
"""

import json
import operator
from collections.abc import Collection
from datetime import date
from functools import reduce
from uuid import UUID

from django.db.models import Case, IntegerField, Prefetch, Q, Sum, Value, When
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.fields import blind_index, unseal
from contactpoint.crypto.normalise import fold
from directory.models import (
    Address,
    BlindIndexEntry,
    Carer,
    Child,
    ChildName,
    ChildStatus,
    Consent,
    Involvement,
    WarningFlag,
)
from directory.policies import (
    ChildRecordFacts,
    Decision,
    InvolvementFacts,
    Purpose,
    decide_child_record_view,
    decide_child_search,
    decide_involvement_visible,
)
from directory.records import (
    CarerView,
    ChildRecord,
    ConsentView,
    InvolvementView,
    MatchProfile,
    NameView,
    RestrictedMatch,
    SearchOutcome,
    SearchQuery,
    SearchResult,
    WarningFlagView,
)
from directory.search import (
    CANDIDATE_CAP,
    RESULT_LIMIT,
    rank_candidates,
    refusal_reason,
    search_audit_terms,
    search_query_problems,
    search_result,
    weighted_query_terms,
)


class ChildRecordUnavailable(Exception):
    """The record does not exist or the actor may not see it (deliberately alike)."""


def _load_child(child_id: UUID) -> Child | None:
    today = timezone.localdate()
    current_involvements = Involvement.unaudited.filter(
        ended_on__isnull=True
    ) | Involvement.unaudited.filter(ended_on__gte=today)
    return (
        Child.unaudited.filter(pk=child_id, status=ChildStatus.ACTIVE)
        .prefetch_related(
            "names",
            Prefetch("addresses", queryset=Address.unaudited.filter(is_current=True)),
            "carers",
            Prefetch(
                "involvements",
                queryset=current_involvements.select_related("organisation")
                .prefetch_related(
                    Prefetch(
                        "consents",
                        queryset=Consent.unaudited.filter(
                            withdrawn_at__isnull=True
                        ).order_by("-recorded_at"),
                    )
                )
                .order_by("started_on"),
            ),
            Prefetch(
                "warning_flags",
                queryset=(
                    WarningFlag.unaudited.filter(ends_on__isnull=True)
                    | WarningFlag.unaudited.filter(ends_on__gte=today)
                )
                .select_related("owning_organisation")
                .order_by("starts_on"),
            ),
        )
        .first()
    )


def _facts(child: Child) -> ChildRecordFacts:
    involvements = list(child.involvements.all())
    return ChildRecordFacts(
        shielded=child.shielded,
        responsible_authority_id=child.responsible_authority_id,
        involved_organisation_ids=frozenset(i.organisation_id for i in involvements),
        involved_practitioner_ids=frozenset(
            i.practitioner_id for i in involvements if i.practitioner_id
        ),
    )


def _decrypt_record(actor: Actor, child: Child, decision: Decision) -> ChildRecord:
    address = next(iter(child.addresses.all()), None)
    involvements: list[InvolvementView] = []
    hidden = 0
    for involvement in child.involvements.all():
        # Only consents not withdrawn are loaded, so a withdrawal hides it again.
        consent = next(iter(involvement.consents.all()), None)
        visible = decide_involvement_visible(
            actor,
            InvolvementFacts(
                sensitive=involvement.sensitive,
                organisation_id=involvement.organisation_id,
                has_consent=consent is not None,
            ),
        )
        if not visible.allowed:
            hidden += 1
            continue
        involvements.append(
            InvolvementView(
                id=involvement.id,
                organisation_id=involvement.organisation_id,
                organisation_name=involvement.organisation.name,
                service_type=involvement.service_type,
                practitioner_name=involvement.practitioner_name,
                practitioner_role=involvement.practitioner_role,
                phone=involvement.phone,
                email=involvement.email,
                is_lead_professional=involvement.is_lead_professional,
                started_on=involvement.started_on,
                ended_on=involvement.ended_on,
                sensitive=involvement.sensitive,
                consent=ConsentView(
                    id=consent.id,
                    given_by=consent.given_by,
                    scope=consent.scope,
                    recorded_at=consent.recorded_at,
                )
                if consent
                else None,
            )
        )
    return ChildRecord(
        id=child.id,
        directory_number=child.directory_number,
        gender=child.gender,
        date_of_birth=date.fromisoformat(unseal(child, "date_of_birth") or ""),
        names=tuple(
            NameView(
                kind=name.kind,
                given_names=unseal(name, "given_names") or "",
                family_name=unseal(name, "family_name") or "",
            )
            for name in child.names.all()
        ),
        current_address=tuple((unseal(address, "lines") or "").split("\n"))
        if address
        else (),
        current_postcode=unseal(address, "postcode") if address else None,
        nhs_number=unseal(child, "nhs_number"),
        upn=unseal(child, "upn"),
        shielded=child.shielded,
        carers=tuple(
            CarerView(
                name=unseal(carer, "name") or "",
                relationship=carer.relationship,
                parental_responsibility=carer.parental_responsibility,
                phone=unseal(carer, "phone"),
                email=unseal(carer, "email"),
                address=unseal(carer, "address"),
            )
            for carer in child.carers.all()
        ),
        involvements=tuple(involvements),
        warning_flags=tuple(
            WarningFlagView(
                id=flag.id,
                kind=flag.kind,
                owning_organisation_name=flag.owning_organisation.name,
                contact_name=flag.contact_name,
                contact_phone=flag.contact_phone,
                contact_email=flag.contact_email,
                starts_on=flag.starts_on,
                ends_on=flag.ends_on,
            )
            for flag in child.warning_flags.all()
        ),
        hidden_involvements=hidden,
        access_reason=decision.reason,
    )


def child_record_get(
    *,
    actor: Actor,
    child_id: UUID,
    purpose: Purpose | None,
    purpose_detail: str = "",
    break_glass: bool = False,
    request_id: str = "",
) -> ChildRecord:
    """Return the child's record as ``actor`` may see it. Every attempt is audited.

    Missing, merged-away and forbidden records raise the same
    ChildRecordUnavailable. Sensitive involvements the actor may not see are
    left out and only counted.
    """
    child = _load_child(child_id)
    decision = (
        Decision(False, "not_found")
        if child is None
        else decide_child_record_view(
            actor, _facts(child), purpose, break_glass=break_glass
        )
    )
    access_event_record(
        actor=actor,
        action=AccessAction.VIEW,
        allowed=decision.allowed,
        reason=decision.reason,
        child_id=child_id,
        purpose=purpose.value if purpose else "",
        purpose_detail=purpose_detail,
        break_glass=break_glass and decision.allowed,
        shielded_record=child is not None and child.shielded,
        request_id=request_id,
    )
    if child is None or not decision.allowed:
        raise ChildRecordUnavailable
    return _decrypt_record(actor, child, decision)


def match_profile_decode(child: Child) -> MatchProfile:
    """Decrypt one child's match profile. Callers are selectors that audit."""
    data = json.loads(unseal(child, "match_profile") or "{}")
    return MatchProfile(
        child_id=child.id,
        given_names=tuple(data["g"]),
        family_names=tuple(data["f"]),
        date_of_birth=date.fromisoformat(data["d"]),
        gender=data["s"],
        postcodes=tuple(data["p"]),
        nhs_number=data.get("n"),
        upn=data.get("u"),
    )


def child_id_for_directory_number(number: str) -> UUID | None:
    """The id of the child with directory number ``number``, or None.

    For the auditor's screens, which look children up by number. A directory
    number is not personal data and nothing of the record is read, so this
    lookup is not audited itself: the caller audits what it then shows.
    ``number`` is compared exactly (13 digits, as normalised by
    ``directory.identifiers.normalise_directory_number``); merged and archived
    children are found too, since their history still matters.
    """
    found: UUID | None = (
        Child.unaudited.filter(directory_number=number)
        .values_list("id", flat=True)
        .first()
    )
    return found


def directory_numbers_for(child_ids: Collection[UUID]) -> dict[UUID, str]:
    """Directory numbers of the children ``child_ids``, in one query.

    Ids of children that no longer exist are left out of the answer.
    Directory numbers are not personal data, so this is not audited.
    """
    if not child_ids:
        return {}
    return dict(
        Child.unaudited.filter(pk__in=list(child_ids)).values_list(
            "id", "directory_number"
        )
    )


def children_with_family_name(
    *, child_ids: Collection[UUID], family_name: str
) -> set[UUID]:
    """Those of ``child_ids`` with ``family_name`` in their family: for the
    nightly anomaly scan (audit/reports.py), which has no actor.

    A child matches when the family name of any of their names (legal,
    preferred, former, alias), or of any carer, equals ``family_name`` once
    both are folded (contactpoint/crypto/normalise.py: Climbié = Climbie,
    O'Brien = OBrien, Smith-Jones = "smith jones"). A carer holds one name,
    so the carer's family name is taken as the end of it: "Marie-Thérèse
    Kouao" matches "Kouao", and "Ann Smith-Jones" matches "Jones" as well as
    "Smith-Jones" (a finding is for a person to judge, so the wider match is
    kept).

    The decrypted names never leave this function: only the matching ids do,
    and the one access event written says how many children were checked and
    matched. With nothing to check, nothing is read and nothing is recorded.

    Users hold no home address in this system, so "children at the user's
    address" cannot be checked until user addresses are held.
    """
    wanted = fold(family_name)
    ids = set(child_ids)
    if not wanted or not ids:
        return set()
    matched = {
        name.child_id
        for name in ChildName.unaudited.filter(child_id__in=ids).only(
            "id", "child_id", "family_name"
        )
        if fold(unseal(name, "family_name") or "") == wanted
    }
    matched |= {
        carer.child_id
        for carer in Carer.unaudited.filter(child_id__in=ids - matched).only(
            "id", "child_id", "name"
        )
        if f" {fold(unseal(carer, 'name') or '')}".endswith(f" {wanted}")
    }
    access_event_record(
        actor=None,
        action=AccessAction.ANOMALY_SCAN,
        allowed=True,
        reason="surname_check",
        detail=(
            f"Compared the family names of {len(ids)} children with one "
            f"surname: {len(matched)} matched."
        ),
    )
    return matched


class SearchRefused(Exception):
    """The search was not run, and the attempt was audited as denied.

    ``reason`` is the audit code: a policy refusal ("second_factor_missing",
    "role_not_permitted"), "query_too_broad" or "query_invalid".
    ``problems`` are (field, message) pairs a person can act on, empty for a
    policy refusal. ``str()`` carries only the reason code, safe to log.
    """

    def __init__(self, reason: str, problems: Collection[tuple[str, str]] = ()):
        self.reason = reason
        self.problems = list(problems)
        super().__init__(f"Search refused: {reason}")


def child_search(
    *,
    actor: Actor,
    query: SearchQuery,
    request_id: str = "",
    today: date | None = None,
) -> SearchOutcome:
    """Find children matching ``query`` for ``actor``; exactly one access event.

    Refused searches (by the policy, or a query that is invalid or too broad
    to be more than browsing) are audited as denied, then raise SearchRefused.
    Otherwise the query's blind-index terms select at most CANDIDATE_CAP
    active children in one lookup; their match profiles are decrypted, scored
    and ranked (directory/search.py), and at most RESULT_LIMIT shown.

    Shielded children appear as results only to the shielding officers and
    data managers of their responsible authority (the rule of
    ``decide_child_record_view``). To everyone else each responsible
    authority of a matching shielded child appears once, as a RestrictedMatch
    saying whom to contact (all empty when no authority is recorded).

    The access event keeps, encrypted, the query as typed and the ids of every
    child the search revealed: the results shown, in rank order, then the
    shielded children behind the restricted matches, so the log says whose
    existence a search disclosed; ``shielded_record`` is set when there are
    any. Merged and archived children are never candidates.

    Queries: one index lookup, one load of the candidates, the audit event.
    """
    today = today or timezone.localdate()
    asked = search_audit_terms(query)
    decision = decide_child_search(actor)
    problems = search_query_problems(query, today=today) if decision.allowed else []
    if problems:
        decision = Decision(False, refusal_reason(problems))
    if not decision.allowed:
        access_event_record(
            actor=actor,
            action=AccessAction.SEARCH,
            allowed=False,
            reason=decision.reason,
            query_terms=asked,
            request_id=request_id,
        )
        raise SearchRefused(decision.reason, problems)
    candidate_ids, overflow = _search_candidates(
        weighted_query_terms(query, today=today)
    )
    children = {
        child.id: child
        for child in Child.unaudited.filter(
            pk__in=candidate_ids, status=ChildStatus.ACTIVE
        )
        .select_related("responsible_authority")
        .only(
            "id",
            "match_profile",
            "shielded",
            "responsible_authority__name",
            "responsible_authority__phone",
            "responsible_authority__email",
        )
    }
    shown: list[SearchResult] = []
    restricted: dict[int | None, list[UUID]] = {}
    for profile, score in rank_candidates(
        query, map(match_profile_decode, children.values()), today=today
    ):
        child = children[profile.child_id]
        if child.shielded and not _sees_shielded(actor, child):
            restricted.setdefault(child.responsible_authority_id, []).append(child.id)
        else:
            shown.append(search_result(profile, score))
    outcome = SearchOutcome(
        results=tuple(shown[:RESULT_LIMIT]),
        restricted=tuple(
            _restricted_match(children[ids[0]]) for ids in restricted.values()
        ),
        capped=overflow or len(shown) > RESULT_LIMIT,
    )
    hidden = [child_id for ids in restricted.values() for child_id in ids]
    access_event_record(
        actor=actor,
        action=AccessAction.SEARCH,
        allowed=True,
        reason=decision.reason,
        detail=_search_detail(outcome),
        shielded_record=bool(hidden),
        request_id=request_id,
        query_terms=asked,
        result_ids=[r.child_id for r in outcome.results] + hidden,
    )
    return outcome


def _search_detail(outcome: SearchOutcome) -> str:
    """Counts only, for the log's clear columns."""
    shown, restricted = len(outcome.results), len(outcome.restricted)
    return (
        f"Showed {shown} {'child' if shown == 1 else 'children'} and "
        f"{restricted} restricted {'match' if restricted == 1 else 'matches'}"
        + (", and more matched than shown." if outcome.capped else ".")
    )


def _search_candidates(
    terms: dict[tuple[BlindIndex, str], int],
) -> tuple[list[UUID], bool]:
    """Ids of active children sharing index values with ``terms``, those with
    the highest total weight first, at most CANDIDATE_CAP; and whether more
    matched. One query: the terms reach SQL only as truncated HMAC values."""
    weights: dict[tuple[int, int], int] = {}
    for (index, transformed), weight in terms.items():
        key = (index.code, blind_index(index, transformed))
        weights[key] = max(weights.get(key, 0), weight)
    values_by_weight: dict[tuple[int, int], list[int]] = {}
    for (code, value), weight in sorted(weights.items()):
        values_by_weight.setdefault((code, weight), []).append(value)
    if not values_by_weight:
        return [], False
    conditions = [
        (Q(index=code, value__in=values), weight)
        for (code, weight), values in values_by_weight.items()
    ]
    rows = list(
        BlindIndexEntry.objects.filter(
            reduce(operator.or_, (q for q, _ in conditions)),
            child__status=ChildStatus.ACTIVE,
        )
        .values("child_id")
        .annotate(
            weight=Sum(
                Case(
                    *(When(q, then=Value(weight)) for q, weight in conditions),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
        )
        .order_by("-weight", "child_id")
        .values_list("child_id", "weight")[: CANDIDATE_CAP + 1]
    )
    return [child_id for child_id, _ in rows[:CANDIDATE_CAP]], len(rows) > CANDIDATE_CAP


def _sees_shielded(actor: Actor, child: Child) -> bool:
    """Whether ``actor`` may open this shielded child's record without breaking
    glass (any stated purpose will do), so sees it listed like any other."""
    facts = ChildRecordFacts(
        shielded=True, responsible_authority_id=child.responsible_authority_id
    )
    return decide_child_record_view(actor, facts, Purpose.DATA_MANAGEMENT).allowed


def _restricted_match(child: Child) -> RestrictedMatch:
    authority = child.responsible_authority
    if authority is None:
        return RestrictedMatch(authority_name="", contact_phone="", contact_email="")
    return RestrictedMatch(
        authority_name=authority.name,
        contact_phone=authority.phone,
        contact_email=authority.email,
    )
