"""A person's change to a child's record, refused: audited, then raised.

The involvement and warning-flag services refuse the same way: the denial is
written to the access log first (it can never be rolled back by the error
that follows), then the caller gets an exception carrying the audited reason
code, a message a person can act on, and whether the thing asked about is
"unavailable" (missing and forbidden alike answer "not found").
"""

from typing import TypeVar
from uuid import UUID

from accounts.actors import Actor
from audit.services import access_event_record
from directory.policies import Decision


class RecordChangeRefused(Exception):
    """The actor may not make this change. ``code`` is the audited reason.

    ``unavailable`` is True when the child (or the thing on it) does not
    exist or the actor may not see it: callers answer "not found" for both,
    as for records.
    """

    def __init__(self, code: str, message: str, *, unavailable: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.unavailable = unavailable


Refused = TypeVar("Refused", bound=RecordChangeRefused)


def refusal_audited(
    refused: type[Refused],
    *,
    actor: Actor,
    action: str,
    child_id: UUID | None,
    decision: Decision,
    message: str,
    unavailable: bool = False,
) -> Refused:
    """Record the denial, then return the ``refused`` exception to raise."""
    access_event_record(
        actor=actor,
        action=action,
        allowed=False,
        reason=decision.reason,
        child_id=child_id,
        detail=f"Refused: {message}",
    )
    return refused(decision.reason, message, unavailable=unavailable)
