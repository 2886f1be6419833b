"""Searching for a child: policy, blind-index blocking, ranking, one audit event."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db import connection, connections
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import Organisation
from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.blind_index import BlindIndex
from contactpoint.crypto.fields import blind_index
from contactpoint.db_router import replica_reads
from contactpoint.metrics import search_counted
from directory.models import ChildStatus
from directory.policies import (
    ChildRecordFacts,
    Decision,
    Purpose,
    decide_child_record_view,
    decide_child_search,
)
from directory.records import (
    MatchProfile,
    RestrictedMatch,
    SearchOutcome,
    SearchQuery,
    SearchResult,
)
from directory.search import (
    CANDIDATE_CAP,
    PHASE_ONE_CAP,
    RESULT_LIMIT,
    rank_candidates,
    refusal_reason,
    search_audit_terms,
    search_query_problems,
    search_result,
    weighted_query_terms,
)
from directory.search_index import DECLARED_INDEXES
from directory.selectors.reading import match_profile_unseal


@dataclass(frozen=True, slots=True)
class _Candidate:
    """What the search keeps of a candidate besides its profile: whether,
    and by whom, it is shielded."""

    id: UUID
    shielded: bool
    responsible_authority_id: int | None
    #: The authority's public contact details, for a restricted match.
    authority: RestrictedMatch


#: The active candidates' profiles, with their responsible authority's
#: public contact details, in one round trip. Raw SQL over an array: the ORM
#: spent more building model instances for a couple of hundred candidates
#: than PostgreSQL spent finding them.
_CANDIDATES_LOAD_SQL = f"""
SELECT c.id, c.match_profile, c.shielded, c.responsible_authority_id,
       coalesce(a.name, ''), coalesce(a.phone, ''), coalesce(a.email, '')
FROM directory_child AS c
LEFT JOIN {Organisation._meta.db_table} AS a ON a.id = c.responsible_authority_id
WHERE c.id = ANY(%s::uuid[]) AND c.status = %s
"""  # noqa: S608 - a table name from the model, no input


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
    and ranked (directory/search.py), and at most RESULT_LIMIT shown. Phase 1
    blocks only on what was typed; phase 2, widened to misspellings, swapped
    or mistyped dates and neighbouring years, runs only when phase 1 finds
    no strong match (at a million children phase 1 reads a few hundred index
    entries, phase 2 tens of thousands).

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

    Queries: per phase one index lookup and one load of the candidates; then
    the audit event.
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
        search_counted(outcome=decision.reason)
        raise SearchRefused(decision.reason, problems)
    terms = weighted_query_terms(query, today=today)
    # Phase 1 looks only at what was typed (a few hundred index rows even at
    # a national scale); only when that finds no strong match does phase 2
    # widen to misspellings, swapped dates and neighbouring years.
    typed = {term: weight for term, weight in terms.items() if weight >= TYPED_WEIGHT}
    children, ranked, overflow = _candidates_ranked(query, typed, today, PHASE_ONE_CAP)
    if not ranked or ranked[0][1] < STRONG_SCORE:
        children, ranked, overflow = _candidates_ranked(
            query, terms, today, CANDIDATE_CAP
        )
    shown: list[SearchResult] = []
    restricted: dict[int | None, list[UUID]] = {}
    for profile, score in ranked:
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
    search_counted(
        outcome="results" if outcome.results or outcome.restricted else "no_results"
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


#: Weights from directory.search: what was typed, and what was widened.
TYPED_WEIGHT = 2
#: Blocking weights: an index's truncation in bits says how rare a shared
#: value is (12 bits: one child in 4,096 shares it by chance), so a match
#: counts its bits, times 5 when typed and 3 when only a variant matched.
#: A child scores its best match per index, summed over the indexes: two
#: widened matches (a misspelt name and a mistyped date) outrank one typed
#: match shared by hundreds of children by chance.
_TYPED_FACTOR, _WIDENED_FACTOR = 5, 3
#: A score that ends the search after phase 1 ("Strong match" and above).
STRONG_SCORE = 85.0

#: Each child's best weight per index, summed over the indexes, in one
#: aggregation (a FILTERed max per declared index) rather than a GROUP BY
#: per (child, index) and another per child: a fifth less time on a widened
#: phase-2 query that meets 20,000 index entries at a million children.
_BEST_PER_INDEX = " + ".join(
    f"coalesce(max(q.weight) FILTER (WHERE q.index = {index.code}), 0)"
    for index in DECLARED_INDEXES
)
_CANDIDATES_SQL = f"""
SELECT e.child_id, {_BEST_PER_INDEX} AS weight
FROM unnest(%s::smallint[], %s::bigint[], %s::integer[]) AS q(index, value, weight)
JOIN directory_blindindexentry e ON e.index = q.index AND e.value = q.value
GROUP BY e.child_id
ORDER BY weight DESC, e.child_id
LIMIT %s
"""  # noqa: S608 - index codes from the declarations, no input


def _candidates_ranked(
    query: SearchQuery,
    terms: dict[tuple[BlindIndex, str], int],
    today: date,
    cap: int,
) -> tuple[dict[UUID, _Candidate], list[tuple[MatchProfile, float]], bool]:
    """Block on ``terms``, load the active candidates, decrypt and rank them."""
    candidate_ids, overflow = _search_candidates(terms, cap)
    # On the primary, never the replica: status and shielding must be current.
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_LOAD_SQL, [candidate_ids, ChildStatus.ACTIVE.value])
        rows = cursor.fetchall()
    children = {
        row[0]: _Candidate(
            id=row[0],
            shielded=row[2],
            responsible_authority_id=row[3],
            authority=RestrictedMatch(
                authority_name=row[4], contact_phone=row[5], contact_email=row[6]
            ),
        )
        for row in rows
    }
    profiles = (match_profile_unseal(row[0], row[1]) for row in rows)
    ranked = rank_candidates(query, profiles, today=today)
    return children, ranked, overflow


def _search_candidates(
    terms: dict[tuple[BlindIndex, str], int], cap: int
) -> tuple[list[UUID], bool]:
    """Ids of children sharing index values with ``terms``, those with the
    highest total weight first, at most ``cap``; and whether more
    matched. One query, answered from the (index, value, child) index alone:
    the terms reach SQL only as truncated HMAC values. Children who are not
    active are dropped when their profiles load."""
    weights: dict[tuple[int, int], int] = {}
    for (index, transformed), weight in terms.items():
        key = (index.code, blind_index(index, transformed))
        factor = _TYPED_FACTOR if weight >= TYPED_WEIGHT else _WIDENED_FACTOR
        blocking = index.bits * factor
        weights[key] = max(weights.get(key, 0), blocking)
    if not weights:
        return [], False
    keys = sorted(weights)
    # The heaviest read of a search may lag the primary by a moment (a child
    # created just now is not yet found): contactpoint/db_router.py.
    with replica_reads() as alias, connections[alias].cursor() as cursor:
        cursor.execute(
            _CANDIDATES_SQL,
            [
                [code for code, _ in keys],
                [value for _, value in keys],
                [weights[key] for key in keys],
                cap + 1,
            ],
        )
        rows = cursor.fetchall()
    return [child_id for child_id, _ in rows[:cap]], len(rows) > cap


def _sees_shielded(actor: Actor, child: _Candidate) -> bool:
    """Whether ``actor`` may open this shielded child's record without breaking
    glass (any stated purpose will do), so sees it listed like any other."""
    facts = ChildRecordFacts(
        shielded=True, responsible_authority_id=child.responsible_authority_id
    )
    return decide_child_record_view(actor, facts, Purpose.DATA_MANAGEMENT).allowed


def _restricted_match(child: _Candidate) -> RestrictedMatch:
    """Whom to contact about a shielded match: its responsible authority (all
    empty when none is recorded)."""
    return child.authority
