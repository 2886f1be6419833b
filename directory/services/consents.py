"""Recording and withdrawing consent to share a sensitive involvement.

A sensitive involvement (sexual health, mental health, substance misuse) is
shown only to the organisation that provides it, until consent to share it is
recorded (``directory.policies.decide_involvement_visible``). Only a
practitioner at that organisation may record the consent, or withdraw it
(``directory.policies.decide_consent_change``): they are the ones who heard it
given. An involvement has at most one current consent; withdrawing it stamps
``withdrawn_at``, and the read gate loads only consents not withdrawn, so the
involvement is hidden again on the next read.

Every attempt is audited like an involvement change: a refusal is recorded
before it is raised, and a change before it is made. The access log's detail
is not encrypted, so it never names the service (nor its organisation).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AccessAction
from audit.services import access_event_change, access_event_record
from directory.models import ChildStatus, Consent, Involvement
from directory.policies import Decision, InvolvementFacts, decide_consent_change
from directory.services.involvements import provenance_by_person

#: Who a recorded consent lets see the involvement. The read gate shows a
#: consented involvement to every practitioner who may open the record, so
#: no narrower scope is offered: it could not be kept.
CONSENT_SCOPE = "All practitioners using the directory"

CONSENT_ALREADY_RECORDED = "Consent to share this involvement is already recorded"


class ConsentRefused(Exception):
    """The actor may not make this change. ``code`` is the audited reason.

    ``unavailable`` is True when the child, involvement or consent does not
    exist or is not the actor's organisation's to change: callers show the
    same "not found" page for both, so nobody can learn that a sensitive
    involvement exists by trying its address.
    """

    def __init__(self, code: str, message: str, *, unavailable: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.unavailable = unavailable


@dataclass(frozen=True, slots=True)
class _Target:
    involvement: Involvement
    current_consent_id: UUID | None


def _refuse(
    actor: Actor,
    action: str,
    child_id: UUID,
    decision: Decision,
    message: str,
) -> ConsentRefused:
    access_event_record(
        actor=actor,
        action=action,
        allowed=False,
        reason=decision.reason,
        child_id=child_id,
        detail=f"Refused: {message}",
    )
    # Only a second factor the actor can give is worth saying; every other
    # refusal looks like a missing page.
    return ConsentRefused(
        decision.reason,
        message,
        unavailable=decision.reason != "second_factor_missing",
    )


def _current_involvement(
    child_id: UUID, involvement_id: UUID, today: date
) -> Involvement | None:
    """The child's current involvement ``involvement_id``, if the child is active."""
    return (
        Involvement.unaudited.filter(
            pk=involvement_id, child_id=child_id, child__status=ChildStatus.ACTIVE
        )
        .filter(Involvement.current_on(today))
        .only("id", "child_id", "organisation_id", "sensitive")
        .first()
    )


def _current_consent_id(involvement_id: UUID) -> UUID | None:
    found: UUID | None = (
        Consent.unaudited.filter(
            involvement_id=involvement_id, withdrawn_at__isnull=True
        )
        .values_list("id", flat=True)
        .first()
    )
    return found


def _allowed_target(
    *, actor: Actor, action: str, child_id: UUID, involvement: Involvement, refusal: str
) -> _Target:
    """The involvement with its current consent, once the rule allows the
    change; otherwise the refusal, audited."""
    consent_id = _current_consent_id(involvement.id)
    decision = decide_consent_change(
        actor,
        InvolvementFacts(
            sensitive=involvement.sensitive,
            organisation_id=involvement.organisation_id,
            has_consent=consent_id is not None,
        ),
    )
    if not decision.allowed:
        raise _refuse(actor, action, child_id, decision, refusal)
    return _Target(involvement=involvement, current_consent_id=consent_id)


def _not_found(actor: Actor, action: str, child_id: UUID) -> ConsentRefused:
    return _refuse(
        actor,
        action,
        child_id,
        Decision(False, "not_found"),
        "The involvement is not available.",
    )


def consent_record(
    *,
    actor: Actor,
    child_id: UUID,
    involvement_id: UUID,
    given_by: str,
    today: date | None = None,
) -> UUID:
    """Record that ``given_by`` (a Consent.GivenBy value) consents to share
    the child's sensitive involvement ``involvement_id`` with every
    practitioner using the directory. Returns the consent's id.

    Raises ConsentRefused (audited; ``unavailable`` for a missing child or
    involvement, or one the actor's organisation does not provide) and
    ValidationError, keyed ``given_by``, for an unknown giver or when a
    consent is already current.
    """
    today = today or timezone.localdate()
    action = AccessAction.CREATE
    involvement = _current_involvement(child_id, involvement_id, today)
    if involvement is None:
        raise _not_found(actor, action, child_id)
    target = _allowed_target(
        actor=actor,
        action=action,
        child_id=child_id,
        involvement=involvement,
        refusal=(
            "Only a practitioner at the providing organisation can record "
            "consent to share a sensitive involvement."
        ),
    )
    if target.current_consent_id is not None:
        raise ValidationError({"given_by": CONSENT_ALREADY_RECORDED})
    consent = Consent(
        id=uuid.uuid4(),
        involvement_id=involvement.id,
        given_by=given_by,
        scope=CONSENT_SCOPE,
        recorded_by_id=actor.user_id,
    )
    consent.full_clean(exclude=["involvement"])
    giver = Consent.GivenBy(given_by).label.lower()
    detail = f"Recorded consent, given by {giver}, to share a sensitive involvement."
    with access_event_change(
        actor=actor,
        action=action,
        reason="consent_recorded",
        child_id=child_id,
        detail=detail,
    ):
        # The involvement's row lock makes two submissions take turns, so
        # the second finds the first's consent and records nothing.
        Involvement.unaudited.select_for_update().filter(pk=involvement.id).exists()
        if _current_consent_id(involvement.id) is not None:
            raise ValidationError({"given_by": CONSENT_ALREADY_RECORDED})
        consent.save(force_insert=True)
        provenance_by_person(
            actor=actor,
            child_id=child_id,
            record_type="consent",
            record_id=consent.id,
            field="*",
        )
    return consent.id


def consent_withdraw(
    *,
    actor: Actor,
    child_id: UUID,
    consent_id: UUID,
    today: date | None = None,
) -> UUID:
    """Withdraw the current consent ``consent_id`` to share one of the
    child's sensitive involvements; from the next read the involvement is
    hidden again from other organisations. Returns the involvement's id.

    Raises ConsentRefused (audited; ``unavailable`` for a missing or already
    withdrawn consent, or one on an involvement the actor's organisation does
    not provide).
    """
    today = today or timezone.localdate()
    action = AccessAction.UPDATE
    involvement_id: UUID | None = (
        Consent.unaudited.filter(pk=consent_id, withdrawn_at__isnull=True)
        .values_list("involvement_id", flat=True)
        .first()
    )
    involvement = (
        _current_involvement(child_id, involvement_id, today)
        if involvement_id is not None
        else None
    )
    if involvement is None:
        raise _not_found(actor, action, child_id)
    _allowed_target(
        actor=actor,
        action=action,
        child_id=child_id,
        involvement=involvement,
        refusal=(
            "Only a practitioner at the providing organisation can withdraw "
            "consent to share a sensitive involvement."
        ),
    )
    with access_event_change(
        actor=actor,
        action=action,
        reason="consent_withdrawn",
        child_id=child_id,
        detail="Withdrew consent to share a sensitive involvement.",
    ):
        consent = (
            Consent.unaudited.select_for_update()
            .filter(pk=consent_id, withdrawn_at__isnull=True)
            .first()
        )
        if consent is None:  # withdrawn by someone else a moment ago
            raise ValidationError("This consent has already been withdrawn")
        consent.withdrawn_at = timezone.now()
        consent.full_clean(exclude=["involvement"])
        consent.save(update_fields=["withdrawn_at"])
        provenance_by_person(
            actor=actor,
            child_id=child_id,
            record_type="consent",
            record_id=consent.id,
            field="withdrawn_at",
        )
    return involvement.id
