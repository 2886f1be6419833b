"""Who may manage a feed, use the workspace, or send a file by API."""

import pytest

from accounts.roles import Role
from accounts.tests.factories import actor
from ingestion.policies import (
    FeedFacts,
    decide_feed_api_upload,
    decide_feed_manage,
    decide_feed_workspace,
)

COUNCIL, SCHOOL, PRACTICE, OTHER_COUNCIL = 1, 2, 3, 9
SCHOOL_FEED = FeedFacts(organisation_id=SCHOOL, authority_id=COUNCIL)
PRACTICE_FEED = FeedFacts(organisation_id=PRACTICE, authority_id=COUNCIL)


@pytest.mark.parametrize(
    ("grants", "facts", "reason"),
    [
        ([(Role.DATA_MANAGER, COUNCIL, COUNCIL)], SCHOOL_FEED, "own_authority"),
        ([(Role.DATA_MANAGER, SCHOOL, COUNCIL)], SCHOOL_FEED, "own_organisation"),
        # A school's data manager does not manage the practice's feed.
        ([(Role.DATA_MANAGER, SCHOOL, COUNCIL)], PRACTICE_FEED, "other_authority"),
        (
            [(Role.DATA_MANAGER, OTHER_COUNCIL, OTHER_COUNCIL)],
            SCHOOL_FEED,
            "other_authority",
        ),
        ([(Role.PRACTITIONER, COUNCIL, COUNCIL)], SCHOOL_FEED, "role_not_permitted"),
        ([(Role.FEED_SYSTEM, SCHOOL, COUNCIL)], SCHOOL_FEED, "role_not_permitted"),
    ],
)
def test_who_manages_a_feed(grants, facts, reason):
    decision = decide_feed_manage(actor(*grants), facts)
    assert decision.reason == reason
    assert decision.allowed == reason.startswith("own_")


def test_a_second_factor_is_required():
    who = actor((Role.DATA_MANAGER, COUNCIL, COUNCIL), verified=False)
    assert decide_feed_manage(who, SCHOOL_FEED).reason == "second_factor_missing"
    assert decide_feed_workspace(who).reason == "second_factor_missing"


def test_a_feed_system_sends_only_for_its_own_organisation():
    system = actor((Role.FEED_SYSTEM, SCHOOL, COUNCIL))
    assert decide_feed_api_upload(system, SCHOOL_FEED).allowed
    assert decide_feed_api_upload(system, PRACTICE_FEED).reason == "other_organisation"
    manager = actor((Role.DATA_MANAGER, SCHOOL, COUNCIL))
    assert decide_feed_api_upload(manager, SCHOOL_FEED).reason == "role_not_permitted"
