"""What every page of the auditor's workspace shares: who may look, and
events decorated with the names behind their ids (in bulk: one query each
for the people, organisations and directory numbers on a page).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.core.exceptions import PermissionDenied

from accounts.actors import Actor
from accounts.models import Organisation, User
from accounts.policies import Decision
from accounts.roles import Role
from audit.models import AccessAction, AccessEvent, Outcome
from directory.policies import Purpose
from directory.selectors import directory_numbers_for

PURPOSE_LABELS = {
    Purpose.PROVIDING_SERVICE: "Providing a service",
    Purpose.ASSESSING_REFERRAL: "Assessing a referral",
    Purpose.CHILD_PROTECTION: "Child protection",
    Purpose.DATA_MANAGEMENT: "Data management",
    Purpose.OTHER: "Other",
}


def decide_audit_workspace(actor: Actor) -> Decision:
    """May ``actor`` open the auditor's workspace? Auditors with a second factor."""
    if Role.AUDITOR not in actor.roles:
        return Decision(False, "role_not_permitted")
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    return Decision(True, "auditor")


def audit_workspace_check(*, actor: Actor) -> None:
    """Raise PermissionDenied (the 403 page) unless ``actor`` is a verified auditor."""
    if not decide_audit_workspace(actor).allowed:
        raise PermissionDenied("Only auditors can use the audit workspace.")


def label(choices: type[AccessAction] | type[Outcome], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def purpose_label(value: str) -> str:
    try:
        return PURPOSE_LABELS[Purpose(value)]
    except ValueError:
        return value


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event with the names behind its ids."""

    event: AccessEvent
    user_name: str = ""
    user_email: str = ""
    organisation_name: str = ""
    directory_number: str = ""
    #: Whose account an administrative action changed.
    subject_name: str = ""
    purpose_detail: str = ""

    @property
    def action_label(self) -> str:
        return label(AccessAction, self.event.action)

    @property
    def purpose_label(self) -> str:
        return purpose_label(self.event.purpose) if self.event.purpose else ""

    @property
    def role_label(self) -> str:
        try:
            return Role(self.event.actor_role).label
        except ValueError:
            return self.event.actor_role

    @property
    def allowed(self) -> bool:
        return self.event.outcome == Outcome.ALLOWED


def people_by_id(ids: set[UUID]) -> dict[UUID, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=ids)} if ids else {}


def _organisation_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))


def _name_and_email(user: User) -> str:
    return f"{user} ({user.email})" if user.email else str(user)


def event_rows(events: Sequence[AccessEvent]) -> list[EventRow]:
    """Decorate ``events`` with names and numbers: three queries at most."""
    people = people_by_id(
        {e.actor_id for e in events if e.actor_id}
        | {e.subject_user_id for e in events if e.subject_user_id}
    )
    organisations = _organisation_names(
        {e.organisation_id for e in events if e.organisation_id}
    )
    numbers = directory_numbers_for({e.child_id for e in events if e.child_id})
    rows = []
    for event in events:
        person = people.get(event.actor_id) if event.actor_id else None
        subject = people.get(event.subject_user_id) if event.subject_user_id else None
        rows.append(
            EventRow(
                event=event,
                user_name=str(person) if person else "",
                user_email=person.email if person else "",
                organisation_name=organisations.get(event.organisation_id or 0, ""),
                directory_number=numbers.get(event.child_id, "")
                if event.child_id
                else "",
                subject_name=_name_and_email(subject) if subject else "",
            )
        )
    return rows
