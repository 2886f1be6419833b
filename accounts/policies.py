"""Who may administer whom: pure rules, default deny.

Each rule takes an Actor and plain facts about the target account and returns
a Decision whose reason is a stable code stored on the access event. No
Django, no ORM, no I/O (an import-linter contract enforces it), so the whole
rule set is tested as a matrix (role x action x target) in milliseconds.

Scope: an administrator at a local authority administers that authority and
every organisation whose parent authority it is; an administrator at any
other organisation administers that organisation only.

Separation of duties: nobody changes their own account (roles, suspension,
second factor, unlock, tokens); an auditor changes nothing, even one who also
holds the administrator role; administrators see no child data (nothing here
decides about children). Every action needs a verified second factor.
"""

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from accounts.actors import Actor
from accounts.roles import Role


class AdminAction(StrEnum):
    """What an administrator does to an account."""

    USER_VIEW = "user_view"
    USER_INVITE = "user_invite"
    INVITATION_WITHDRAW = "invitation_withdraw"
    ROLE_GRANT = "role_grant"
    ROLE_REVOKE = "role_revoke"
    USER_SUSPEND = "user_suspend"
    USER_REACTIVATE = "user_reactivate"
    SECOND_FACTOR_RESET = "second_factor_reset"
    ACCOUNT_UNLOCK = "account_unlock"
    TOKEN_ISSUE = "token_issue"  # noqa: S105 - an action's name, not a secret
    TOKEN_REVOKE = "token_revoke"  # noqa: S105 - an action's name, not a secret


#: Actions that only read: everything else changes an account.
READ_ACTIONS = frozenset({AdminAction.USER_VIEW})

#: Actions about a role at one organisation: that organisation must be in scope.
ROLE_ACTIONS = frozenset(
    {
        AdminAction.USER_INVITE,
        AdminAction.INVITATION_WITHDRAW,
        AdminAction.ROLE_GRANT,
        AdminAction.ROLE_REVOKE,
    }
)

#: Actions that take access away: an administrator of any one of the user's
#: organisations may act, so a person working in two areas can always be
#: stopped by either.
PROTECTIVE_ACTIONS = frozenset(
    {AdminAction.USER_VIEW, AdminAction.USER_SUSPEND, AdminAction.TOKEN_REVOKE}
)

#: Actions that give access back or hand over a way in: every one of the
#: user's organisations must be in scope, so one area cannot reopen an account
#: another area relies on being closed.
RESTORING_ACTIONS = frozenset(
    {
        AdminAction.USER_REACTIVATE,
        AdminAction.SECOND_FACTOR_RESET,
        AdminAction.ACCOUNT_UNLOCK,
        AdminAction.TOKEN_ISSUE,
    }
)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


#: What each refusal means, for the person refused.
REFUSAL_MESSAGES = {
    "role_not_permitted": "Only administrators can manage accounts.",
    "second_factor_missing": (
        "Confirm it is you with your second factor before managing accounts."
    ),
    "auditor_changes_nothing": (
        "Auditors cannot change accounts, even when they hold another role."
    ),
    "own_account": (
        "You cannot change your own account. Ask another administrator to do it."
    ),
    "out_of_scope": (
        "This account or organisation is outside the organisations you administer."
    ),
    "not_a_feed_system": "API tokens can only be issued to feed systems.",
    "feed_system_kept_separate": (
        "The feed system role is only for feed-system accounts, and a feed "
        "system cannot hold a person's role."
    ),
}


class AdminActionRefused(Exception):
    """The policy said no: ``reason_code`` is stable, ``message`` plain English."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message

    @classmethod
    def of(cls, decision: Decision) -> "AdminActionRefused":
        return cls.of_reason(decision.reason)

    @classmethod
    def of_reason(cls, reason_code: str) -> "AdminActionRefused":
        return cls(reason_code, REFUSAL_MESSAGES[reason_code])


@dataclass(frozen=True, slots=True)
class OrganisationRef:
    """An organisation as the policy sees it: its id and its local authority."""

    id: int
    authority_id: int | None


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What the policy needs to know about the account acted on.

    ``user_id`` is None when the person has no account yet (an invitation).
    ``organisations`` are where the user works: the organisations of their
    current roles, or of their past roles when they hold none now.
    ``role_organisation`` and ``role`` say which role a grant, revocation or
    invitation is about.
    """

    user_id: UUID | None
    organisations: frozenset[OrganisationRef] = frozenset()
    role_organisation: OrganisationRef | None = None
    role: str | None = None
    is_feed_system: bool = False


@dataclass(frozen=True, slots=True)
class AdminScope:
    """Where an actor administers: whole authorities and single organisations."""

    authority_ids: frozenset[int]
    organisation_ids: frozenset[int]

    def __bool__(self) -> bool:
        return bool(self.authority_ids or self.organisation_ids)

    def covers(self, organisation: OrganisationRef) -> bool:
        return organisation.id in self.organisation_ids or (
            organisation.authority_id is not None
            and organisation.authority_id in self.authority_ids
        )


def admin_scope(actor: Actor) -> AdminScope:
    """The organisations ``actor`` administers, from their administrator grants.

    A grant at a local authority (its own authority) covers the authority and
    its member organisations; any other grant covers its organisation only.
    """
    grants = [g for g in actor.grants if g.role == Role.ADMINISTRATOR]
    return AdminScope(
        authority_ids=frozenset(
            g.organisation_id for g in grants if g.organisation_id == g.authority_id
        ),
        organisation_ids=frozenset(g.organisation_id for g in grants),
    )


def decide_admin_workspace(actor: Actor) -> Decision:
    """May ``actor`` open the administrator's workspace at all?"""
    if not admin_scope(actor):
        return Decision(False, "role_not_permitted")
    if not actor.second_factor_verified:
        return Decision(False, "second_factor_missing")
    return Decision(True, "granted")


def decide_admin_action(  # noqa: PLR0911 - one return per rule, in order
    actor: Actor, action: AdminAction, target: TargetFacts
) -> Decision:
    """May ``actor`` take ``action`` on the account described by ``target``?

    Default deny. Reasons, in the order they are checked:
    ``role_not_permitted`` (no administrator role), ``second_factor_missing``,
    ``auditor_changes_nothing``, ``own_account``, ``out_of_scope``,
    ``not_a_feed_system`` (tokens are for feed systems only) and
    ``feed_system_kept_separate`` (a feed system's account holds no person's
    roles, and a person's account never holds the feed-system role).
    """
    workspace = decide_admin_workspace(actor)
    if not workspace.allowed:
        return workspace
    changes = action not in READ_ACTIONS
    if changes and Role.AUDITOR in actor.roles:
        return Decision(False, "auditor_changes_nothing")
    if changes and target.user_id is not None and target.user_id == actor.user_id:
        return Decision(False, "own_account")
    if not _in_scope(admin_scope(actor), action, target):
        return Decision(False, "out_of_scope")
    if action == AdminAction.TOKEN_ISSUE and not target.is_feed_system:
        return Decision(False, "not_a_feed_system")
    if action in {AdminAction.ROLE_GRANT, AdminAction.USER_INVITE} and (
        (target.role == Role.FEED_SYSTEM) != target.is_feed_system
    ):
        return Decision(False, "feed_system_kept_separate")
    return Decision(True, "granted")


def _in_scope(scope: AdminScope, action: AdminAction, target: TargetFacts) -> bool:
    if action in ROLE_ACTIONS:
        if target.role_organisation is None or not scope.covers(
            target.role_organisation
        ):
            return False
        # A grant or removal also needs the person to be someone this
        # administrator already looks after: nobody adopts another area's
        # staff by giving them a role.
        return target.user_id is None or any(
            scope.covers(o) for o in target.organisations
        )
    if action in PROTECTIVE_ACTIONS:
        return any(scope.covers(o) for o in target.organisations)
    if action in RESTORING_ACTIONS:
        return bool(target.organisations) and all(
            scope.covers(o) for o in target.organisations
        )
    return False


# --- Which second factors a user may sign in with ------------------------------

#: Roles that see the most (shielded records, the audit log, everyone's
#: accounts): they must sign in with a passkey, which phishing cannot relay.
PASSKEY_REQUIRED_ROLES = frozenset(
    {Role.ADMINISTRATOR, Role.AUDITOR, Role.SHIELDING_OFFICER}
)
PASSKEY = "passkey"
TOTP = "totp"
BACKUP_CODE = "backup_code"


@dataclass(frozen=True, slots=True)
class SecondFactorRule:
    """What a user may sign in with, and whether they must add a passkey.

    ``methods`` are the second factors accepted at sign-in (and to confirm
    it's you). ``must_add_passkey``: after signing in with one of them, the
    user may open nothing but the pages that add a passkey.
    """

    passkey_required: bool
    methods: frozenset[str]
    must_add_passkey: bool


def decide_second_factor_methods(
    roles: frozenset[str], *, has_passkey: bool
) -> SecondFactorRule:
    """The second factors ``roles`` allow, given whether a passkey exists.

    Passkey-required roles with a passkey use only the passkey (no codes: a
    lost passkey is an administrator's second-factor reset); without one they
    sign in once with a code and must then add a passkey. Everyone else uses
    an authenticator app or a backup code, or a passkey if they added one.
    """
    required = bool(roles & PASSKEY_REQUIRED_ROLES)
    if required and has_passkey:
        return SecondFactorRule(True, frozenset({PASSKEY}), must_add_passkey=False)
    if required:
        return SecondFactorRule(
            True, frozenset({TOTP, BACKUP_CODE}), must_add_passkey=True
        )
    methods = {TOTP, BACKUP_CODE} | ({PASSKEY} if has_passkey else set())
    return SecondFactorRule(False, frozenset(methods), must_add_passkey=False)
