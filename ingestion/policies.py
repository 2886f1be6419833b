"""Who may do what with feeds. Pure: plain values in, a Decision out.

A data manager works on their own organisation's feeds; a data manager at a
local authority itself also on the feeds of the organisations in that
authority (its schools, practices and services): upload files,
follow runs, read quarantined rows and decide the review queue. A feed
system (API token) may only send files for its own organisation's sources.
Everyone else is refused, and every refusal is audited by the caller.
"""

from dataclasses import dataclass

from accounts.actors import Actor
from accounts.roles import Role
from directory.policies import Decision


@dataclass(frozen=True, slots=True)
class FeedFacts:
    """The source a request concerns: its organisation and that one's authority."""

    organisation_id: int
    authority_id: int | None


def council_authorities(actor: Actor) -> frozenset[int]:
    """Local authorities at which the actor is a data manager of the council
    itself (a school's data manager does not manage the GP practice's feed)."""
    return frozenset(
        grant.organisation_id
        for grant in actor.grants
        if grant.role == Role.DATA_MANAGER
        and grant.organisation_id == grant.authority_id
    )


def decide_feed_manage(actor: Actor, facts: FeedFacts) -> Decision:
    """May ``actor`` upload to, follow and review this source's feed?"""
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, "role_not_permitted")
    if facts.organisation_id in actor.organisations_with(Role.DATA_MANAGER):
        return Decision(True, "own_organisation")
    if facts.authority_id is not None and facts.authority_id in council_authorities(
        actor
    ):
        return Decision(True, "own_authority")
    return Decision(False, "other_authority")


def decide_feed_workspace(actor: Actor) -> Decision:
    """May ``actor`` see the feeds workspace at all (lists filtered per source)?"""
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    if Role.DATA_MANAGER not in actor.roles:
        return Decision(False, "role_not_permitted")
    return Decision(True, "granted")


def decide_feed_api_upload(actor: Actor, facts: FeedFacts) -> Decision:
    """May this feed system send a file for the source?"""
    if Role.FEED_SYSTEM not in actor.roles:
        return Decision(False, "role_not_permitted")
    if facts.organisation_id not in actor.organisations_with(Role.FEED_SYSTEM):
        return Decision(False, "other_organisation")
    return Decision(True, "own_organisation")
