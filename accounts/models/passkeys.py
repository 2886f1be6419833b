"""Passkeys (WebAuthn credentials, django-otp-webauthn) as a second factor.

The package's own abstract models, with UUID primary keys like the project's
other devices. Only public keys are stored: a database dump holds nothing a
passkey signs with.
"""

from __future__ import annotations

import uuid

from django.db import models
from django_otp_webauthn.models import (
    AbstractWebAuthnAttestation,
    AbstractWebAuthnCredential,
)


class PasskeyCredential(AbstractWebAuthnCredential):  # type: ignore[misc]  # untyped package
    """One passkey a user registered (``OTP_WEBAUTHN_CREDENTIAL_MODEL``)."""

    id: models.UUIDField[uuid.UUID, uuid.UUID] = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False
    )

    class Meta(AbstractWebAuthnCredential.Meta):  # type: ignore[misc]
        verbose_name = "passkey"
        indexes = [
            models.Index(
                fields=["credential_id_sha256"], name="passkey_credential_sha256_idx"
            ),
        ]


class PasskeyAttestation(AbstractWebAuthnAttestation):  # type: ignore[misc]  # untyped package
    """The authenticator's attestation at registration, kept for reference."""

    credential: models.OneToOneField[PasskeyCredential, PasskeyCredential] = (
        models.OneToOneField(
            PasskeyCredential,
            on_delete=models.CASCADE,
            related_name="attestation",
            editable=False,
        )
    )

    class Meta(AbstractWebAuthnAttestation.Meta):  # type: ignore[misc]
        verbose_name = "passkey attestation"
