"""Key hierarchy: root keys from the environment, derived keys per field/index.

- Field encryption: one 256-bit root key per version, from
  ``CP_FIELD_ENCRYPTION_KEYS`` ("1:<base64>,2:<base64>"). The key for one
  column is HKDF-SHA256(root, salt=table, info="field-encryption" ‖ column), so
  a key leaked for one column opens no other.
- Blind indexes: one 256-bit root key from ``CP_BLIND_INDEX_KEY``. The key for
  one index is HMAC-SHA256(root, table ‖ columns ‖ index name).

Keys never live in the database. Derived keys are cached in memory per process.
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contactpoint.crypto.errors import KeyConfigurationError

KEY_BYTES = 32
MAX_KEY_VERSION = 0xFFFF


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigurationError(f"{what} is not valid base64.") from exc
    if len(key) != KEY_BYTES:
        raise KeyConfigurationError(
            f"{what} must decode to {KEY_BYTES} bytes, not {len(key)}."
        )
    return key


@dataclass(frozen=True, slots=True)
class FieldKeyRing:
    """The field-encryption root keys by version, and which one encrypts."""

    roots: dict[int, bytes]
    active_version: int

    @classmethod
    def parse(cls, spec: str, active_version: int = 0) -> "FieldKeyRing":
        """Parse "1:<base64>,2:<base64>"; ``active_version`` 0 means the highest."""
        roots: dict[int, bytes] = {}
        for part in (p for p in spec.split(",") if p.strip()):
            version_text, sep, key_text = part.partition(":")
            version_text = version_text.strip()
            if not sep or not (version_text.isascii() and version_text.isdigit()):
                raise KeyConfigurationError(
                    "CP_FIELD_ENCRYPTION_KEYS must look like '1:<base64>,2:<base64>'."
                )
            version = int(version_text)
            if not 1 <= version <= MAX_KEY_VERSION:
                raise KeyConfigurationError(
                    f"Key versions run from 1 to {MAX_KEY_VERSION}, not {version}."
                )
            if version in roots:
                raise KeyConfigurationError(f"Key version {version} appears twice.")
            roots[version] = _decode_key(key_text, f"Field key version {version}")
        if not roots:
            raise KeyConfigurationError("CP_FIELD_ENCRYPTION_KEYS holds no key.")
        active = active_version or max(roots)
        if active not in roots:
            raise KeyConfigurationError(
                f"The active field key version {active} is not among the keys."
            )
        return cls(roots=roots, active_version=active)

    def field_key(self, version: int, table: str, column: str) -> bytes:
        """The AES-256 key for one column under one root version."""
        root = self.roots.get(version)
        if root is None:
            raise KeyConfigurationError(f"No field key with version {version}.")
        return _derive_field_key(root, table, column)


@lru_cache(maxsize=1024)
def _derive_field_key(root: bytes, table: str, column: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=table.encode(),
        info=b"field-encryption\x00" + column.encode(),
    ).derive(root)


@dataclass(frozen=True, slots=True)
class BlindIndexRoot:
    """The blind-index root key."""

    root: bytes

    @classmethod
    def parse(cls, text: str) -> "BlindIndexRoot":
        return cls(root=_decode_key(text, "CP_BLIND_INDEX_KEY"))

    def index_key(self, table: str, columns: tuple[str, ...], name: str) -> bytes:
        """The HMAC key for one declared index."""
        return _derive_index_key(self.root, table, columns, name)


@lru_cache(maxsize=256)
def _derive_index_key(
    root: bytes, table: str, columns: tuple[str, ...], name: str
) -> bytes:
    message = b"\x00".join(
        [b"blind-index", table.encode(), ",".join(columns).encode(), name.encode()]
    )
    return hmac.new(root, message, hashlib.sha256).digest()
