"""The audit signing key and the public keys checkpoints are verified with."""

from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.core.signals import setting_changed

from audit.chain import key_id, public_key_load, signing_key_load


@lru_cache(maxsize=1)
def signing_key() -> Ed25519PrivateKey:
    return signing_key_load(settings.AUDIT_SIGNING_KEY)


@lru_cache(maxsize=1)
def verify_keys() -> dict[str, Ed25519PublicKey]:
    """Every key a checkpoint may be signed with, by key id."""
    keys = [signing_key().public_key()]
    keys += [public_key_load(raw) for raw in settings.AUDIT_PREVIOUS_PUBLIC_KEYS]
    return {key_id(key): key for key in keys}


def _settings_changed(*, setting: str, **_: object) -> None:
    if setting.startswith("AUDIT_"):
        signing_key.cache_clear()
        verify_keys.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="audit.keys")
