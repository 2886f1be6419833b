"""AES-256-GCM for one field value, bound to where it is stored.

Token layout (bytes)::

    0      format (0x01)
    1..2   key version, unsigned big-endian
    3..14  96-bit random nonce
    15..   ciphertext ‖ 128-bit GCM tag

The associated data binds the ciphertext to (table, column, row id, key
version), each length-prefixed, so a ciphertext copied to another row, another
column or relabelled with another key version fails to authenticate.
"""

import os
import struct
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contactpoint.crypto.errors import DecryptionError
from contactpoint.crypto.keys import FieldKeyRing

FORMAT_V1 = 1
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER = struct.Struct(">BH")
MIN_TOKEN_BYTES = HEADER.size + NONCE_BYTES + TAG_BYTES


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">H", len(p)) + p for p in parts)


@lru_cache(maxsize=4096)
def _associated_prefix(table: str, column: str) -> bytes:
    return _length_prefixed(b"contactpoint-field-v1", table.encode(), column.encode())


@lru_cache(maxsize=64)
def _version_part(version: int) -> bytes:
    return _length_prefixed(str(version).encode())


def associated_data(table: str, column: str, row_id: str, version: int) -> bytes:
    """The canonical associated data; documented in docs/crypto.md.

    Each part is length-prefixed (2 bytes, big-endian): a fixed label, the
    table, the column, the row id and the key version in decimal.
    """
    row = str(row_id).encode()
    return (
        _associated_prefix(table, column)
        + len(row).to_bytes(2, "big")
        + row
        + _version_part(version)
    )


def token_key_version(token: bytes) -> int:
    """The key version a token was sealed under (without decrypting it)."""
    if len(token) < MIN_TOKEN_BYTES or token[0] != FORMAT_V1:
        raise DecryptionError("The stored value is not a recognised ciphertext.")
    return int(HEADER.unpack_from(token)[1])


@dataclass(frozen=True, slots=True)
class FieldCipher:
    """Encrypts and decrypts single field values with a key ring."""

    keyring: FieldKeyRing
    _aeads: dict[tuple[int, str, str], AESGCM] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _aead(self, version: int, table: str, column: str) -> AESGCM:
        """One AESGCM object per (version, table, column), built once."""
        slot = (version, table, column)
        aead = self._aeads.get(slot)
        if aead is None:
            aead = AESGCM(self.keyring.field_key(version, table, column))
            self._aeads[slot] = aead
        return aead

    def encrypt(self, *, table: str, column: str, row_id: str, plaintext: str) -> bytes:
        version = self.keyring.active_version
        return self.encrypt_with_version(
            table=table,
            column=column,
            row_id=row_id,
            plaintext=plaintext,
            version=version,
        )

    def encrypt_with_version(
        self, *, table: str, column: str, row_id: str, plaintext: str, version: int
    ) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead(version, table, column).encrypt(
            nonce,
            plaintext.encode("utf-8"),
            associated_data(table, column, row_id, version),
        )
        return HEADER.pack(FORMAT_V1, version) + nonce + sealed

    def decrypt(self, *, table: str, column: str, row_id: str, token: bytes) -> str:
        """Return the plaintext, or raise DecryptionError. Never returns the token."""
        token = bytes(token)
        version = token_key_version(token)
        try:
            aead = self._aead(version, table, column)
        except Exception as exc:
            raise DecryptionError(
                f"No key with version {version} is configured for this value."
            ) from exc
        nonce = token[HEADER.size : HEADER.size + NONCE_BYTES]
        try:
            plaintext = aead.decrypt(
                nonce,
                token[HEADER.size + NONCE_BYTES :],
                associated_data(table, column, row_id, version),
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"A value in {table}.{column} failed authentication: it was "
                "altered, moved from another row or column, or sealed with a "
                "different key."
            ) from exc
        return plaintext.decode("utf-8")
