"""AES-256-GCM field tokens: round trips, binding to (table, column, row, version),
and that every failure raises DecryptionError without leaking anything."""

import base64
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from contactpoint.crypto.aead import (
    FORMAT_V1,
    HEADER,
    MIN_TOKEN_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    FieldCipher,
    associated_data,
    token_key_version,
)
from contactpoint.crypto.errors import (
    CryptoError,
    DecryptionError,
    KeyConfigurationError,
)
from contactpoint.crypto.keys import FieldKeyRing

ROOT_1 = bytes(range(32))
ROOT_2 = bytes(range(100, 132))
ROOT_3 = bytes(range(200, 232))
TABLE = "directory_child"
COLUMN = "date_of_birth"
ROW = "6f1c2f0e-8a3b-4c39-9d5e-0a7f2b1c9e44"
OTHER_ROW = "0b5e7d1a-2c4f-4e8b-b1a9-3f6d8c2e7a10"
SECRET = "Victoria Adjo Climbié, 2 November 1991"


def _spec(roots: dict[int, bytes]) -> str:
    return ",".join(
        f"{version}:{base64.b64encode(root).decode()}"
        for version, root in roots.items()
    )


def _cipher(active: int = 1) -> FieldCipher:
    return FieldCipher(FieldKeyRing.parse(_spec({1: ROOT_1, 2: ROOT_2}), active))


@pytest.fixture
def cipher() -> FieldCipher:
    return _cipher()


def _seal(cipher: FieldCipher, plaintext: str = SECRET, **where: str) -> bytes:
    binding = {"table": TABLE, "column": COLUMN, "row_id": ROW} | where
    return cipher.encrypt(plaintext=plaintext, **binding)


def _open(cipher: FieldCipher, token: bytes, **where: str) -> str:
    binding = {"table": TABLE, "column": COLUMN, "row_id": ROW} | where
    return cipher.decrypt(token=token, **binding)


# --- round trips --------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        "Smith",
        "Climbié",
        "Zoë Ørsted-Łukasiewicz, Straße 5",
        "Дмитрий 李小龍 محمد",
        "👶🏽 🧒 👨‍👩‍👧",
        "",
        " ",
        "line one\nline two\r\n\ttabbed",
        "nul \x00 inside",
        "x" * 100_000,
        "é" * 50_000,
    ],
    ids=[
        "ascii",
        "diacritics",
        "mixed-latin",
        "non-latin",
        "emoji",
        "empty",
        "space",
        "control",
        "nul",
        "long",
        "long-multibyte",
    ],
)
def test_round_trip(cipher: FieldCipher, plaintext: str) -> None:
    token = _seal(cipher, plaintext)
    assert _open(cipher, token) == plaintext


@settings(max_examples=200)
@given(plaintext=st.text())
def test_round_trip_any_text(plaintext: str) -> None:
    cipher = _cipher()
    assert _open(cipher, _seal(cipher, plaintext)) == plaintext


def test_decrypt_accepts_memoryview_and_bytearray(cipher: FieldCipher) -> None:
    # psycopg returns bytea as memoryview; the token must not need copying first.
    token = _seal(cipher)
    assert _open(cipher, memoryview(token)) == SECRET  # type: ignore[arg-type]
    assert _open(cipher, bytearray(token)) == SECRET  # type: ignore[arg-type]


def test_token_layout(cipher: FieldCipher) -> None:
    plaintext = "Climbié"
    token = _seal(cipher, plaintext)
    assert token[0] == FORMAT_V1 == 1
    assert struct.unpack(">H", token[1:3]) == (1,)
    assert HEADER.size == 3
    assert len(token) == 3 + NONCE_BYTES + len(plaintext.encode()) + TAG_BYTES
    assert MIN_TOKEN_BYTES == 3 + 12 + 16
    # The token is exactly header ‖ nonce ‖ AES-GCM(ciphertext ‖ tag) under the
    # derived key and the documented associated data.
    key = cipher.keyring.field_key(1, TABLE, COLUMN)
    nonce = token[3:15]
    assert (
        AESGCM(key).decrypt(nonce, token[15:], associated_data(TABLE, COLUMN, ROW, 1))
        == plaintext.encode()
    )


def test_token_never_contains_the_plaintext(cipher: FieldCipher) -> None:
    token = _seal(cipher, "Climbie Climbie Climbie Climbie")
    assert b"Climbie" not in token
    assert b"Climbie" not in base64.b64encode(token)


def test_two_encryptions_of_the_same_value_differ(cipher: FieldCipher) -> None:
    tokens = {_seal(cipher) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {t[HEADER.size : HEADER.size + NONCE_BYTES] for t in tokens}
    assert len(nonces) == 50
    assert all(_open(cipher, t) == SECRET for t in tokens)


def test_active_version_is_written_and_old_versions_still_open() -> None:
    old = _cipher(active=1)
    new = _cipher(active=2)
    token_1 = _seal(old)
    token_2 = _seal(new)
    assert token_key_version(token_1) == 1
    assert token_key_version(token_2) == 2
    # Both versions are in the ring, so both tokens open with either cipher.
    assert _open(new, token_1) == _open(old, token_2) == SECRET


def test_encrypt_with_explicit_version(cipher: FieldCipher) -> None:
    token = cipher.encrypt_with_version(
        table=TABLE, column=COLUMN, row_id=ROW, plaintext=SECRET, version=2
    )
    assert token_key_version(token) == 2
    assert _open(cipher, token) == SECRET


def test_encrypt_with_unknown_version_raises(cipher: FieldCipher) -> None:
    with pytest.raises(KeyConfigurationError, match="No field key with version 9"):
        cipher.encrypt_with_version(
            table=TABLE, column=COLUMN, row_id=ROW, plaintext=SECRET, version=9
        )


# --- tampering ------------------------------------------------------------------


@settings(max_examples=300)
@given(data=st.data(), plaintext=st.text(max_size=40))
def test_flipping_any_bit_of_any_byte_fails(
    data: st.DataObject, plaintext: str
) -> None:
    cipher = _cipher()
    token = bytearray(_seal(cipher, plaintext))
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    token[position] ^= mask
    with pytest.raises(DecryptionError):
        _open(cipher, bytes(token))


@pytest.mark.parametrize(
    ("region", "position"),
    [
        ("format byte", 0),
        ("key version high byte", 1),
        ("key version low byte", 2),
        ("first nonce byte", 3),
        ("last nonce byte", 3 + NONCE_BYTES - 1),
        ("first body byte", 3 + NONCE_BYTES),
        ("first tag byte", -TAG_BYTES),
        ("last tag byte", -1),
    ],
)
def test_flipping_a_byte_in_each_region_fails(
    cipher: FieldCipher, region: str, position: int
) -> None:
    token = bytearray(_seal(cipher, "Smith"))
    token[position] ^= 0x01
    with pytest.raises(DecryptionError):
        _open(cipher, bytes(token))


def test_appending_bytes_fails(cipher: FieldCipher) -> None:
    with pytest.raises(DecryptionError):
        _open(cipher, _seal(cipher) + b"\x00")


# --- binding to where the value is stored -------------------------------------------


def test_token_moved_to_another_row_fails(cipher: FieldCipher) -> None:
    with pytest.raises(DecryptionError):
        _open(cipher, _seal(cipher), row_id=OTHER_ROW)


def test_token_moved_to_another_column_fails(cipher: FieldCipher) -> None:
    with pytest.raises(DecryptionError):
        _open(cipher, _seal(cipher), column="nhs_number")


def test_token_moved_to_another_table_fails(cipher: FieldCipher) -> None:
    with pytest.raises(DecryptionError):
        _open(cipher, _seal(cipher), table="directory_carer")


def test_token_moved_to_same_column_name_in_another_table_fails(
    cipher: FieldCipher,
) -> None:
    token = _seal(cipher, table="directory_childname", column="family_name")
    with pytest.raises(DecryptionError):
        _open(cipher, token, table="directory_carer", column="family_name")


def test_row_ids_are_compared_exactly(cipher: FieldCipher) -> None:
    token = _seal(cipher)
    for variant in (ROW.upper(), ROW.replace("-", ""), ROW + " ", ""):
        with pytest.raises(DecryptionError):
            _open(cipher, token, row_id=variant)


def test_token_relabelled_with_another_version_fails(cipher: FieldCipher) -> None:
    token = _seal(cipher)
    assert token_key_version(token) == 1
    relabelled = HEADER.pack(FORMAT_V1, 2) + token[HEADER.size :]
    assert token_key_version(relabelled) == 2
    with pytest.raises(DecryptionError):
        _open(cipher, relabelled)


def test_version_is_bound_in_associated_data_not_only_in_the_key() -> None:
    # Two versions sharing the same root key must still not accept each
    # other's tokens: the version is part of the associated data.
    cipher = FieldCipher(FieldKeyRing.parse(_spec({1: ROOT_1, 2: ROOT_1}), 1))
    token = _seal(cipher)
    relabelled = HEADER.pack(FORMAT_V1, 2) + token[HEADER.size :]
    with pytest.raises(DecryptionError):
        _open(cipher, relabelled)


def test_token_under_an_unknown_key_version_fails() -> None:
    token = _seal(_cipher(active=2))
    only_version_1 = FieldCipher(FieldKeyRing.parse(_spec({1: ROOT_1})))
    with pytest.raises(DecryptionError, match="No key with version 2") as excinfo:
        _open(only_version_1, token)
    assert SECRET not in str(excinfo.value)


def test_token_under_a_different_root_with_the_same_version_fails() -> None:
    token = _seal(_cipher())
    impostor = FieldCipher(FieldKeyRing.parse(_spec({1: ROOT_3})))
    with pytest.raises(DecryptionError):
        _open(impostor, token)


# --- truncated and garbage tokens -------------------------------------------------


def test_every_truncation_fails(cipher: FieldCipher) -> None:
    token = _seal(cipher, "Smith")
    for length in range(len(token)):
        with pytest.raises(DecryptionError):
            _open(cipher, token[:length])


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x01",
        b"\x01\x00\x01",
        b"Climbie",
        "Victoria Climbié".encode(),
        b"\x00" * 64,
        b"\x01\x00\x01" + b"\x00" * (NONCE_BYTES + TAG_BYTES),
        b"\x02\x00\x01" + os.urandom(NONCE_BYTES + TAG_BYTES + 8),
        b"\x01\xff\xff" + os.urandom(NONCE_BYTES + TAG_BYTES + 8),
    ],
    ids=[
        "empty",
        "format-only",
        "header-only",
        "legacy-plaintext",
        "legacy-utf8-plaintext",
        "zeros",
        "empty-body-zero-tag",
        "unknown-format",
        "unknown-version",
    ],
)
def test_garbage_fails(cipher: FieldCipher, garbage: bytes) -> None:
    with pytest.raises(DecryptionError):
        _open(cipher, garbage)


@settings(max_examples=300)
@given(stored=st.binary(max_size=200))
def test_decryption_never_returns_stored_bytes(stored: bytes) -> None:
    """Arbitrary stored bytes never come back as a value: they raise."""
    cipher = _cipher()
    with pytest.raises(DecryptionError):
        _open(cipher, stored)


@settings(max_examples=100)
@given(stored=st.binary(min_size=MIN_TOKEN_BYTES, max_size=200))
def test_well_formed_header_with_random_body_fails(stored: bytes) -> None:
    cipher = _cipher()
    with pytest.raises(DecryptionError):
        _open(cipher, HEADER.pack(FORMAT_V1, 1) + stored[HEADER.size :])


def test_token_key_version_rejects_short_or_unknown_tokens() -> None:
    with pytest.raises(DecryptionError):
        token_key_version(b"\x01\x00\x01")
    with pytest.raises(DecryptionError):
        token_key_version(b"\x09" + b"\x00" * MIN_TOKEN_BYTES)


def test_decryption_error_is_a_crypto_error() -> None:
    assert issubclass(DecryptionError, CryptoError)
    assert issubclass(KeyConfigurationError, CryptoError)


# --- error messages leak nothing ------------------------------------------------------


def _failures(cipher: FieldCipher) -> list[DecryptionError]:
    token = _seal(cipher)
    tampered = bytearray(token)
    tampered[-1] ^= 0x80
    attempts: list[Callable[[], str]] = [
        lambda: _open(cipher, bytes(tampered)),
        lambda: _open(cipher, token, row_id=OTHER_ROW),
        lambda: _open(cipher, token, column="upn"),
        lambda: _open(cipher, HEADER.pack(FORMAT_V1, 2) + token[HEADER.size :]),
        lambda: _open(cipher, HEADER.pack(FORMAT_V1, 7) + token[HEADER.size :]),
        lambda: _open(cipher, token[:20]),
        lambda: _open(cipher, SECRET.encode()),
    ]
    errors = []
    for attempt in attempts:
        with pytest.raises(DecryptionError) as excinfo:
            attempt()
        errors.append(excinfo.value)
    return errors


def test_error_messages_never_contain_plaintext_or_token(cipher: FieldCipher) -> None:
    token_fragments = {_seal(cipher).hex()[:16]}
    for error in _failures(cipher):
        for text in (str(error), repr(error), str(error.__cause__ or "")):
            assert SECRET not in text
            assert "Climbi" not in text
            assert ROW not in text
            assert not any(fragment in text for fragment in token_fragments)
            assert base64.b64encode(ROOT_1).decode() not in text


# --- associated data encoding ---------------------------------------------------------


def test_associated_data_encoding_is_exactly_as_documented() -> None:
    expected = (
        b"\x00\x15contactpoint-field-v1"
        b"\x00\x0fdirectory_child"
        b"\x00\x0ddate_of_birth"
        b"\x00\x24" + ROW.encode() + b"\x00\x011"
    )
    assert associated_data(TABLE, COLUMN, ROW, 1) == expected


def test_associated_data_version_is_decimal_text() -> None:
    assert associated_data("t", "c", "r", 65535).endswith(b"\x00\x0565535")


def test_associated_data_is_unambiguous() -> None:
    # Length prefixes stop "ab"+"c" colliding with "a"+"bc".
    assert associated_data("ab", "c", "1", 1) != associated_data("a", "bc", "1", 1)
    assert associated_data("t", "c1", "2", 1) != associated_data("t", "c", "12", 1)
    assert associated_data("t", "c", "1", 12) != associated_data("t", "c", "11", 2)


# --- purity --------------------------------------------------------------------------


def test_pure_crypto_modules_need_no_django_settings() -> None:
    # contactpoint/__init__.py loads the Celery app, and kombu imports a few
    # django.utils helpers if Django is installed; that is harmless. What must
    # hold is that the pure modules never load settings, the ORM or the app
    # registry, so they run (and are tested) without any Django configuration.
    code = (
        "import sys\n"
        "import contactpoint.crypto.aead, contactpoint.crypto.keys\n"
        "import contactpoint.crypto.normalise, contactpoint.crypto.blind_index\n"
        "import contactpoint.crypto.planner, contactpoint.crypto.errors\n"
        "import directory.search_index\n"
        "heavy = [m for m in sys.modules if m.split('.')[:2] in "
        "(['django', 'conf'], ['django', 'db'], ['django', 'apps'])]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[3]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
