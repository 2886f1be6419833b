"""Accounts models: users, organisations, roles, second factors, invitations,
API tokens."""

from accounts.models.api_tokens import ApiToken
from accounts.models.devices import (
    BackupCode,
    BackupCodeDevice,
    SecondFactorReset,
    TotpDevice,
)
from accounts.models.invitations import Invitation
from accounts.models.users import (
    CODE_SCHEMES,
    Organisation,
    OrganisationKind,
    RoleAssignment,
    User,
)

# isort: split
# Last: django-otp-webauthn's models module asks for the user model on import.
from accounts.models.passkeys import PasskeyAttestation, PasskeyCredential

__all__ = [
    "CODE_SCHEMES",
    "ApiToken",
    "BackupCode",
    "BackupCodeDevice",
    "Invitation",
    "Organisation",
    "OrganisationKind",
    "PasskeyAttestation",
    "PasskeyCredential",
    "RoleAssignment",
    "SecondFactorReset",
    "TotpDevice",
    "User",
]
