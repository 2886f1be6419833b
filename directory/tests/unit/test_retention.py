"""The retention rules (directory/retention.py), each at its boundary day.

Pure: no database. Each rule is checked on the day before it applies and on
the day it does.
"""

import uuid
from datetime import date, timedelta

import pytest

from directory.retention import (
    LifecycleFacts,
    LifecycleRule,
    PlannedAction,
    anniversary,
    archive_readable,
    archive_readable_until,
    lifecycle_action,
    lifecycle_plan,
)

CHILD = uuid.UUID(int=1)
BORN = date(2012, 6, 16)
DAY = timedelta(days=1)


def _active(**fields) -> LifecycleFacts:
    return LifecycleFacts(child_id=CHILD, date_of_birth=BORN, **fields)


def _rule_on(facts: LifecycleFacts, today: date) -> LifecycleRule | None:
    action = lifecycle_action(facts, today)
    return action.rule if action else None


def test_archived_on_the_18th_birthday_not_the_day_before():
    birthday = date(2030, 6, 16)

    assert _rule_on(_active(), birthday - DAY) is None
    assert lifecycle_action(_active(), birthday) == PlannedAction(
        CHILD, LifecycleRule.ARCHIVE_AT_18, birthday
    )
    # A run that missed the day still archives (the rule is "on or after").
    assert _rule_on(_active(), birthday + 30 * DAY) == LifecycleRule.ARCHIVE_AT_18


def test_consent_to_stay_moves_archiving_to_the_25th_birthday():
    consented = _active(consent_to_retain_until_25=True)
    birthday = date(2037, 6, 16)

    assert _rule_on(consented, date(2030, 6, 16)) is None
    assert _rule_on(consented, birthday - DAY) is None
    assert _rule_on(consented, birthday) == LifecycleRule.ARCHIVE_AT_25


def test_archived_a_year_after_a_recorded_death():
    died = date(2024, 3, 10)
    facts = _active(date_of_death=died)

    assert _rule_on(facts, date(2025, 3, 9)) is None
    assert lifecycle_action(facts, date(2025, 3, 10)) == PlannedAction(
        CHILD, LifecycleRule.ARCHIVE_AFTER_DEATH, date(2025, 3, 10)
    )


def test_the_18th_birthday_still_applies_when_it_comes_before_a_year_after_death():
    facts = _active(date_of_death=date(2030, 5, 1))

    assert _rule_on(facts, date(2030, 6, 16)) == LifecycleRule.ARCHIVE_AT_18


def test_death_archives_before_the_25th_birthday_of_a_consenting_young_person():
    facts = _active(consent_to_retain_until_25=True, date_of_death=date(2031, 1, 5))

    assert _rule_on(facts, date(2032, 1, 4)) is None
    assert _rule_on(facts, date(2032, 1, 5)) == LifecycleRule.ARCHIVE_AFTER_DEATH


def test_purged_6_years_after_archiving_not_the_day_before():
    archived = LifecycleFacts(child_id=CHILD, archived_on=date(2030, 6, 16))

    assert _rule_on(archived, date(2036, 6, 15)) is None
    assert lifecycle_action(archived, date(2036, 6, 16)) == PlannedAction(
        CHILD, LifecycleRule.PURGE, date(2036, 6, 16)
    )


def test_an_archived_record_is_never_archived_again():
    archived = LifecycleFacts(child_id=CHILD, archived_on=date(2030, 6, 16))

    assert _rule_on(archived, date(2030, 6, 17)) is None


def test_archived_records_are_readable_for_one_year():
    archived_on = date(2030, 6, 16)

    assert archive_readable_until(archived_on) == date(2031, 6, 16)
    assert archive_readable(archived_on, archived_on)
    assert archive_readable(archived_on, date(2031, 6, 15))
    assert not archive_readable(archived_on, date(2031, 6, 16))


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2012, 2, 29), 18, date(2030, 3, 1)),  # 2030 has no 29 February
        (date(2012, 2, 29), 20, date(2032, 2, 29)),
        (date(2012, 2, 28), 18, date(2030, 2, 28)),
        (date(2012, 12, 31), 6, date(2018, 12, 31)),
    ],
)
def test_anniversaries_of_29_february_fall_on_1_march(day, years, expected):
    assert anniversary(day, years) == expected


def test_born_on_29_february_is_archived_on_1_march_in_a_common_year():
    facts = LifecycleFacts(child_id=CHILD, date_of_birth=date(2012, 2, 29))

    assert _rule_on(facts, date(2030, 2, 28)) is None
    assert _rule_on(facts, date(2030, 3, 1)) == LifecycleRule.ARCHIVE_AT_18


def test_the_plan_keeps_only_what_is_due_in_the_order_given():
    due = LifecycleFacts(child_id=uuid.UUID(int=2), date_of_birth=date(2010, 1, 1))
    young = LifecycleFacts(child_id=uuid.UUID(int=3), date_of_birth=date(2020, 1, 1))
    old_archive = LifecycleFacts(
        child_id=uuid.UUID(int=4), archived_on=date(2020, 1, 1)
    )
    neither = LifecycleFacts(child_id=uuid.UUID(int=5))

    plan = lifecycle_plan([due, young, old_archive, neither], date(2028, 1, 1))

    assert [(a.child_id.int, a.rule) for a in plan] == [
        (2, LifecycleRule.ARCHIVE_AT_18),
        (4, LifecycleRule.PURGE),
    ]
