"""The Actor: the only thing access policies see of a user.

A frozen, plain value built once per request (or per task) from the user's
active role assignments, so policies stay pure functions that never touch the
ORM or the request.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User


@dataclass(frozen=True, slots=True)
class Grant:
    """One role at one organisation, with the local authority it sits in."""

    role: str
    organisation_id: int
    authority_id: int | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: identity, grants and second-factor state, as plain data."""

    user_id: UUID
    grants: frozenset[Grant] = field(default_factory=frozenset)
    second_factor_verified: bool = False
    display_name: str = ""

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(grant.role for grant in self.grants)

    @property
    def organisation_ids(self) -> frozenset[int]:
        return frozenset(grant.organisation_id for grant in self.grants)

    def organisations_with(self, role: str) -> frozenset[int]:
        """Organisations at which the actor holds ``role``."""
        return frozenset(g.organisation_id for g in self.grants if g.role == role)

    def authorities_with(self, role: str) -> frozenset[int]:
        """Local authorities in which the actor holds ``role``."""
        return frozenset(
            g.authority_id
            for g in self.grants
            if g.role == role and g.authority_id is not None
        )

    def primary_role(self) -> str:
        """A stable single role for the audit log: the first one alphabetically."""
        return min(self.roles, default="")


#: Set by ``accounts.backends.AccountBackend`` on the session's user: the
#: current grants, read in the same query as the user row this request.
GRANTS_ATTRIBUTE = "cp_current_grants"


def _current_grants(user: "User") -> frozenset[Grant]:
    loaded = getattr(user, GRANTS_ATTRIBUTE, None)
    if loaded is not None:
        return frozenset(
            Grant(role=role, organisation_id=organisation_id, authority_id=authority)
            for role, organisation_id, authority in loaded
        )
    assignments = user.role_assignments.filter(
        revoked_at__isnull=True, organisation__is_active=True
    ).select_related("organisation")
    return frozenset(
        Grant(
            role=assignment.role,
            organisation_id=assignment.organisation_id,
            authority_id=assignment.organisation.authority_id,
        )
        for assignment in assignments
    )


def actor_for_user(user: "User", *, second_factor_verified: bool) -> Actor:
    """Build the Actor for ``user`` from their active role assignments.

    Suspended or inactive users, and users whose vetting (enhanced DBS check)
    expired before today, get an Actor with no grants: every policy denies
    them by default, so access stops on the day vetting runs out without
    anyone having to act. Users with no recorded expiry (feed systems,
    operators) are not stopped by this rule. The session's user comes with
    its grants already read (``accounts.backends``); any other user costs a
    query.
    """
    vetting_expired = (
        user.vetting_expires_on is not None
        and user.vetting_expires_on < timezone.localdate()
    )
    if not user.is_active or user.suspended_at is not None or vetting_expired:
        return Actor(user_id=user.pk, display_name=str(user))
    return Actor(
        user_id=user.pk,
        grants=_current_grants(user),
        second_factor_verified=second_factor_verified,
        display_name=str(user),
    )


_REQUEST_ATTRIBUTE = "_actor"


def request_actor(request: "HttpRequest") -> Actor | None:
    """The signed-in user of ``request`` as an Actor; None for anonymous users.

    The second factor counts as verified when django-otp says so
    (``request.user.is_verified()``). Built once per request and kept on it,
    so the view and the navigation's template tags share one Actor.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    actor: Actor | None = getattr(request, _REQUEST_ATTRIBUTE, None)
    if actor is None:
        is_verified = getattr(user, "is_verified", None)
        actor = actor_for_user(
            user, second_factor_verified=bool(is_verified and is_verified())
        )
        setattr(request, _REQUEST_ATTRIBUTE, actor)
    return actor
