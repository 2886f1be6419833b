"""Who is told what: the alert rules as pure functions, without Django.

Three rules (docs/alerts.md):

- **Record opened.** When a practitioner opens a child's record and the child
  has an active warning flag owned by an organisation the practitioner does
  not work for, the contact of each such flag and the child's lead
  professional are told. Nobody is told of their own opening, and a flag's
  own organisation's practitioners (its contact's colleagues) trigger nothing
  for that flag.
- **Break glass.** Every restricted-record opening by breaking glass goes at
  once to the responsible authority's shielding officers and every auditor;
  when there is nobody to tell, to the authority's own mailbox.
- **New involvement.** A practitioner who records an involvement with a child
  is announced to the child's lead professional (not to themselves), unless
  the involvement is sensitive and the lead professional's organisation does
  not provide it.

An import-linter contract keeps this module free of Django, so the rules are
tested as plain functions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from directory.policies import Purpose


class AlertKind(StrEnum):
    RECORD_OPENED = "record_opened"
    BREAK_GLASS = "break_glass"
    INVOLVEMENT_ADDED = "involvement_added"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    AlertKind.RECORD_OPENED: "Record opened by another organisation",
    AlertKind.BREAK_GLASS: "Restricted record opened in an emergency",
    AlertKind.INVOLVEMENT_ADDED: "New practitioner working with a child",
}

#: Alerts gathered into one per person and child while the window lasts.
#: Break glass is never batched: each one needs looking at, at once.
BATCHED_KINDS = frozenset({AlertKind.RECORD_OPENED, AlertKind.INVOLVEMENT_ADDED})


class AlertReason(StrEnum):
    """Why this person is told: the access log's reason for an ALERT_SEND."""

    LEAD_PROFESSIONAL = "lead_professional"
    FLAG_CONTACT = "flag_contact"
    SHIELDING_OFFICER = "shielding_officer"
    AUDITOR = "auditor"
    AUTHORITY_MAILBOX = "authority_mailbox"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    AlertReason.LEAD_PROFESSIONAL: "You are the child's lead professional",
    AlertReason.FLAG_CONTACT: "You are the contact for a warning flag on the record",
    AlertReason.SHIELDING_OFFICER: (
        "You are a shielding officer for the record's responsible authority"
    ),
    AlertReason.AUDITOR: "You are an auditor",
    AlertReason.AUTHORITY_MAILBOX: (
        "The responsible authority has nobody else to tell"
    ),
}

#: The stated purpose, as the person told reads it. An empty purpose means
#: the reader was named on one of the child's involvements, so the record
#: opened without asking why.
PURPOSE_LABELS = {
    Purpose.PROVIDING_SERVICE: "Providing a service to the child",
    Purpose.ASSESSING_REFERRAL: "Assessing a referral about the child",
    Purpose.CHILD_PROTECTION: "A child protection concern",
    Purpose.DATA_MANAGEMENT: "Checking or correcting records",
    Purpose.OTHER: "Another reason",
    "": "Already working with the child (no reason needed)",
}


def purpose_label(purpose: str) -> str:
    return PURPOSE_LABELS.get(purpose, "Not recorded")


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person (or mailbox) to tell. ``user_id`` gets the in-app alert;
    ``email`` (may be empty) gets the e-mail."""

    reason: AlertReason
    user_id: UUID | None
    email: str

    @property
    def key(self) -> str:
        """One alert per key: the account, or the address when there is none."""
        return f"user:{self.user_id}" if self.user_id else f"email:{self.email}"


@dataclass(frozen=True, slots=True)
class Person:
    """An active account that can be told, with its e-mail address."""

    user_id: UUID
    email: str


@dataclass(frozen=True, slots=True)
class FlagContact:
    """A current warning flag's owner and contact. ``user`` is the active
    account whose e-mail address is the contact's, if there is one."""

    owning_organisation_id: int
    email: str
    user: Person | None = None


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    """One entry per person: the first reason wins (the list's order)."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.key, recipient)
    return list(seen.values())


def record_opened_recipients(
    *,
    viewer_id: UUID,
    viewer_organisation_ids: frozenset[int],
    flags: Sequence[FlagContact],
    lead_professional: Person | None,
) -> list[Recipient]:
    """Who to tell that ``viewer_id`` opened the record of a child with
    ``flags`` (current flags only) and ``lead_professional``.

    Nobody, unless one of the flags is owned by an organisation the viewer
    does not work for; then those flags' contacts and the lead
    professional, never the viewer themself.
    """
    outside = [
        flag
        for flag in flags
        if flag.owning_organisation_id not in viewer_organisation_ids
    ]
    if not outside:
        return []
    recipients: list[Recipient] = []
    if lead_professional is not None:
        recipients.append(
            Recipient(
                AlertReason.LEAD_PROFESSIONAL,
                lead_professional.user_id,
                lead_professional.email,
            )
        )
    for flag in outside:
        if flag.user is not None:
            # The e-mail goes to the flag's contact address either way.
            recipients.append(
                Recipient(
                    AlertReason.FLAG_CONTACT,
                    flag.user.user_id,
                    normalise_email(flag.email),
                )
            )
        elif flag.email.strip():
            recipients.append(
                Recipient(AlertReason.FLAG_CONTACT, None, normalise_email(flag.email))
            )
    return [r for r in _unique(recipients) if r.user_id != viewer_id]


def break_glass_recipients(
    *,
    opener_id: UUID,
    shielding_officers: Sequence[Person],
    auditors: Sequence[Person],
    authority_email: str,
) -> list[Recipient]:
    """Who to tell of a break-glass opening: the responsible authority's
    shielding officers and every auditor, except the opener; when there is
    nobody, the authority's mailbox (if it has one)."""
    everyone = _unique(
        [
            *(
                Recipient(AlertReason.SHIELDING_OFFICER, p.user_id, p.email)
                for p in shielding_officers
            ),
            *(Recipient(AlertReason.AUDITOR, p.user_id, p.email) for p in auditors),
        ]
    )
    recipients = [r for r in everyone if r.user_id != opener_id]
    if not recipients and authority_email.strip():
        return [
            Recipient(
                AlertReason.AUTHORITY_MAILBOX, None, normalise_email(authority_email)
            )
        ]
    return recipients


def involvement_added_recipients(
    *,
    practitioner_id: UUID | None,
    lead_professional: Person | None,
    visible_to_lead_professional: bool,
) -> list[Recipient]:
    """Who to tell that ``practitioner_id`` recorded an involvement: the lead
    professional, when there is one, it is not them, and they may see it."""
    if (
        lead_professional is None
        or lead_professional.user_id == practitioner_id
        or not visible_to_lead_professional
    ):
        return []
    return [
        Recipient(
            AlertReason.LEAD_PROFESSIONAL,
            lead_professional.user_id,
            lead_professional.email,
        )
    ]
