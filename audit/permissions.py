"""Who may act in the auditor's workspace: one rule, audited when it refuses."""

from django.core.exceptions import PermissionDenied

from accounts.actors import Actor
from accounts.roles import Role
from audit.services import access_event_record


def auditor_required(actor: Actor, action: str, what: str) -> str:
    """Allow an auditor with a verified second factor; otherwise record the
    refusal and raise PermissionDenied. Returns the reason code."""
    if not actor.second_factor_verified:
        reason = "second_factor_missing"
    elif Role.AUDITOR not in actor.roles:
        reason = "role_not_permitted"
    else:
        return "granted"
    access_event_record(
        actor=actor,
        action=action,
        allowed=False,
        reason=reason,
        detail=f"Refused: {what}",
    )
    raise PermissionDenied("Only auditors can do this.")
