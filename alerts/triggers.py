"""What the directory tells this app, on the request's path.

The directory's read gate calls ``record_opened`` after every granted
opening, and the involvement service calls ``involvement_recorded`` after a
person records one. Each asks one cheap, indexed question first (has the
child a current warning flag owned outside the reader's organisations? has
it a lead professional other than them?), so an ordinary opening costs one
query and nothing else. Only when someone may need telling is an
``AlertEvent`` written and its task queued, after the caller's writes
commit, with the event's id only.

A broker that cannot be reached never fails the reader's request
(``alerts.events``).
"""

from uuid import UUID

from django.utils import timezone

from accounts.actors import Actor
from accounts.roles import Role
from alerts.events import alert_event_queue_on_commit, alert_event_record
from alerts.rules import AlertKind
from directory.alerting import (
    flag_outside_exists,
    lead_professional_other_than,
)
from directory.policies import Purpose


def record_opened(
    *,
    actor: Actor,
    child_id: UUID,
    purpose: Purpose | None,
    purpose_detail: str = "",
    break_glass: bool = False,
) -> None:
    """A practitioner opened the child's record (the gate granted it).

    Queues the flag and lead-professional alerts when the child has a
    current warning flag owned by an organisation the practitioner does not
    work for. Break-glass openings are told to the responsible authority
    separately and at once (``directory.services.break_glass``); here they
    count as openings like any other, marked as break glass.
    """
    if Role.PRACTITIONER not in actor.roles:
        return
    if not flag_outside_exists(
        child_id=child_id,
        organisation_ids=actor.organisation_ids,
        today=timezone.localdate(),
    ):
        return
    event = alert_event_record(
        kind=AlertKind.RECORD_OPENED,
        child_id=child_id,
        actor_id=actor.user_id,
        purpose=purpose.value if purpose else "",
        purpose_detail=purpose_detail,
        break_glass=break_glass,
    )
    alert_event_queue_on_commit(event.id)


def involvement_recorded(*, actor: Actor, child_id: UUID, involvement_id: UUID) -> None:
    """``actor`` recorded an involvement with the child: queue telling the
    child's lead professional, when there is one other than the actor."""
    if not lead_professional_other_than(
        child_id=child_id, user_id=actor.user_id, today=timezone.localdate()
    ):
        return
    event = alert_event_record(
        kind=AlertKind.INVOLVEMENT_ADDED,
        child_id=child_id,
        actor_id=actor.user_id,
        involvement_id=involvement_id,
    )
    alert_event_queue_on_commit(event.id)
