"""When a record is archived, read, and purged: pure rules, no Django.

The nightly lifecycle job (directory/services/lifecycle.py) decrypts each
child's dates, hands them here as ``LifecycleFacts`` and applies what
``lifecycle_plan`` returns; the access policy asks ``archive_readable``.
Everything is a function of plain dates, so every rule is tested at its
boundary day without a database (docs/retention.md).

- Archive on the 18th birthday, or the 25th where the young person
  consented to stay; or one year after a recorded death; whichever is first.
- An archived record is readable by data managers for one year.
- Purge six years after archiving.

Anniversaries of 29 February fall on 1 March in other years: a person born
on 29 February reaches an age on 1 March, and a record is never archived or
purged a day early.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

ADULT_AGE = 18
#: With the young person's consent to stay in the directory.
CONSENTED_AGE = 25
YEARS_AFTER_DEATH = 1
#: How long data managers may still read an archived record.
ARCHIVE_READABLE_YEARS = 1
#: From archiving to destruction.
PURGE_AFTER_YEARS = 6


class LifecycleRefused(Exception):
    """The actor may not use the retention report (the attempt is audited)."""


class LifecycleRule(StrEnum):
    """Why the job archives or purges a record; counted per run."""

    ARCHIVE_AT_18 = "archive_at_18"
    ARCHIVE_AT_25 = "archive_at_25"
    ARCHIVE_AFTER_DEATH = "archive_after_death"
    PURGE = "purge"

    @property
    def archives(self) -> bool:
        return self is not LifecycleRule.PURGE


#: Each rule in plain words, in the order reports list them.
RULE_LABELS: dict[LifecycleRule, str] = {
    LifecycleRule.ARCHIVE_AT_18: "Archive: 18th birthday",
    LifecycleRule.ARCHIVE_AT_25: "Archive: 25th birthday (consented to stay)",
    LifecycleRule.ARCHIVE_AFTER_DEATH: "Archive: a year after death",
    LifecycleRule.PURGE: "Purge: 6 years after archiving",
}


def anniversary(day: date, years: int) -> date:
    """``day`` plus whole ``years``; 29 February becomes 1 March when the
    target year has no 29 February."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not _is_leap(year):
        return date(year, 3, 1)
    return day.replace(year=year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True, slots=True)
class LifecycleFacts:
    """One child as the job sees it. Exactly one of ``date_of_birth`` (an
    active record, decrypted) and ``archived_on`` (an archived record, whose
    dates need not be decrypted) is set."""

    child_id: UUID
    date_of_birth: date | None = None
    date_of_death: date | None = None
    consent_to_retain_until_25: bool = False
    archived_on: date | None = None


@dataclass(frozen=True, slots=True)
class PlannedAction:
    child_id: UUID
    rule: LifecycleRule
    #: The day the rule first applied (on or before the run's day).
    due_on: date


def archive_due(facts: LifecycleFacts) -> tuple[LifecycleRule, date] | None:
    """The rule that archives an active record first, and its day."""
    if facts.date_of_birth is None:
        return None
    if facts.consent_to_retain_until_25:
        due = (
            LifecycleRule.ARCHIVE_AT_25,
            anniversary(facts.date_of_birth, CONSENTED_AGE),
        )
    else:
        due = (LifecycleRule.ARCHIVE_AT_18, anniversary(facts.date_of_birth, ADULT_AGE))
    if facts.date_of_death is not None:
        after_death = anniversary(facts.date_of_death, YEARS_AFTER_DEATH)
        if after_death < due[1]:
            due = (LifecycleRule.ARCHIVE_AFTER_DEATH, after_death)
    return due


def purge_due_on(archived_on: date) -> date:
    return anniversary(archived_on, PURGE_AFTER_YEARS)


def archive_readable_until(archived_on: date) -> date:
    """The first day an archived record is no longer readable by anyone."""
    return anniversary(archived_on, ARCHIVE_READABLE_YEARS)


def archive_readable(archived_on: date, today: date) -> bool:
    return today < archive_readable_until(archived_on)


def lifecycle_action(facts: LifecycleFacts, today: date) -> PlannedAction | None:
    """What the job does to one record on ``today``, if anything."""
    if facts.archived_on is not None:
        purge_on = purge_due_on(facts.archived_on)
        if today >= purge_on:
            return PlannedAction(facts.child_id, LifecycleRule.PURGE, purge_on)
        return None
    due = archive_due(facts)
    if due is not None and today >= due[1]:
        return PlannedAction(facts.child_id, *due)
    return None


def lifecycle_plan(
    children: Iterable[LifecycleFacts], today: date
) -> list[PlannedAction]:
    """The actions due on ``today`` for ``children``, in their order.

    Pure: the dry run and the run call it alike, so the report shows what
    the run then does.
    """
    return [
        action
        for facts in children
        if (action := lifecycle_action(facts, today)) is not None
    ]
