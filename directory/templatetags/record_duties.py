"""``{% record_duties record as duties %}``: which data manager's links to show;
``{% correction_label correction %}``: the field a correction changed.

The record page offers "Correct a detail" and "Subject access report" only
to those the policy lets do them (``decide_record_correction``,
``decide_subject_access``) for the request's Actor; the pages and services
ask the same policy again, so a hidden link is a convenience, not the rule.
"""

from dataclasses import dataclass
from typing import Any

from django import template

from accounts.actors import request_actor
from directory.corrections import field_label
from directory.policies import (
    ChildRecordFacts,
    decide_record_correction,
    decide_subject_access,
)
from directory.records import ChildRecord, CorrectionView

register = template.Library()


@dataclass(frozen=True, slots=True)
class RecordDuties:
    may_correct: bool = False
    may_report_subject_access: bool = False

    @property
    def any(self) -> bool:
        return self.may_correct or self.may_report_subject_access


@register.simple_tag(takes_context=True)
def record_duties(context: dict[str, Any], record: ChildRecord) -> RecordDuties:
    request = context.get("request")
    actor = request_actor(request) if request is not None else None
    if actor is None:
        return RecordDuties()
    facts = ChildRecordFacts(
        shielded=record.shielded,
        responsible_authority_id=record.responsible_authority_id,
    )
    return RecordDuties(
        may_correct=decide_record_correction(actor, facts).allowed,
        may_report_subject_access=decide_subject_access(actor, facts).allowed,
    )


@register.simple_tag
def correction_label(correction: CorrectionView) -> str:
    """Which field a correction changed, in words."""
    return field_label(correction.record_type, correction.field_name)
