"""Key ring parsing and the key hierarchy (HKDF per field, HMAC per index)."""

import base64
import hashlib
import hmac

import pytest

from contactpoint.crypto.errors import KeyConfigurationError
from contactpoint.crypto.keys import (
    KEY_BYTES,
    MAX_KEY_VERSION,
    BlindIndexRoot,
    FieldKeyRing,
)

ROOT_1 = bytes(range(32))
ROOT_2 = bytes(range(100, 132))
ROOT_7 = bytes(range(150, 182))
B64_1 = base64.b64encode(ROOT_1).decode()
B64_2 = base64.b64encode(ROOT_2).decode()
B64_7 = base64.b64encode(ROOT_7).decode()


def _rfc5869_sha256_32(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 for one 32-byte block, written out from RFC 5869."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


# --- parsing good specs ---------------------------------------------------------


def test_parse_two_versions_active_defaults_to_highest() -> None:
    ring = FieldKeyRing.parse(f"1:{B64_1},2:{B64_2}")
    assert ring.roots == {1: ROOT_1, 2: ROOT_2}
    assert ring.active_version == 2


def test_active_version_zero_means_highest_whatever_the_order() -> None:
    ring = FieldKeyRing.parse(f"7:{B64_7},1:{B64_1},2:{B64_2}", 0)
    assert ring.active_version == 7


def test_explicit_active_version() -> None:
    ring = FieldKeyRing.parse(f"1:{B64_1},2:{B64_2}", 1)
    assert ring.active_version == 1


def test_single_key() -> None:
    ring = FieldKeyRing.parse(f"1:{B64_1}")
    assert ring.roots == {1: ROOT_1}
    assert ring.active_version == 1


def test_whitespace_and_trailing_commas_are_tolerated() -> None:
    ring = FieldKeyRing.parse(f" 1 : {B64_1} ,\n 2:{B64_2}\n,", 2)
    assert ring.roots == {1: ROOT_1, 2: ROOT_2}
    assert ring.active_version == 2


def test_highest_version_allowed() -> None:
    ring = FieldKeyRing.parse(f"{MAX_KEY_VERSION}:{B64_1}")
    assert ring.active_version == MAX_KEY_VERSION == 65535


def test_published_test_keys_parse() -> None:
    from contactpoint.settings.published_test_keys import (
        TEST_BLIND_INDEX_KEY,
        TEST_FIELD_ENCRYPTION_KEYS,
    )

    ring = FieldKeyRing.parse(TEST_FIELD_ENCRYPTION_KEYS, 1)
    assert sorted(ring.roots) == [1, 2]
    assert ring.active_version == 1
    assert len(BlindIndexRoot.parse(TEST_BLIND_INDEX_KEY).root) == KEY_BYTES


# --- parsing bad specs ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "active", "message"),
    [
        ("", 0, "holds no key"),
        (" , ,", 0, "holds no key"),
        ("1:not*base64!", 0, "Field key version 1 is not valid base64"),
        ("1:QUJ", 0, "Field key version 1 is not valid base64"),
        (f"1:{B64_1}x", 0, "Field key version 1 is not valid base64"),
        (
            f"1:{base64.b64encode(bytes(16)).decode()}",
            0,
            "must decode to 32 bytes, not 16",
        ),
        (
            f"1:{base64.b64encode(bytes(33)).decode()}",
            0,
            "must decode to 32 bytes, not 33",
        ),
        ("1:", 0, "must decode to 32 bytes, not 0"),
        (f"1:{B64_1},1:{B64_2}", 0, "Key version 1 appears twice"),
        (f"1:{B64_1},01:{B64_2}", 0, "Key version 1 appears twice"),
        (f"0:{B64_1}", 0, "Key versions run from 1 to 65535, not 0"),
        (f"65536:{B64_1}", 0, "Key versions run from 1 to 65535, not 65536"),
        (f"-1:{B64_1}", 0, "must look like '1:<base64>,2:<base64>'"),
        (f"v1:{B64_1}", 0, "must look like '1:<base64>,2:<base64>'"),
        (B64_1, 0, "must look like '1:<base64>,2:<base64>'"),
        (f"1.5:{B64_1}", 0, "must look like '1:<base64>,2:<base64>'"),
        (f"1:{B64_1},2:{B64_2}", 3, "active field key version 3 is not among"),
        (f"1:{B64_1}", 65536, "active field key version 65536 is not among"),
        (f"1:{B64_1}", -1, "active field key version -1 is not among"),
    ],
    ids=[
        "empty",
        "only-commas",
        "bad-base64-chars",
        "bad-base64-padding",
        "bad-base64-trailing",
        "too-short",
        "too-long",
        "empty-key",
        "duplicate",
        "duplicate-leading-zero",
        "version-zero",
        "version-too-high",
        "negative-version",
        "non-numeric-version",
        "missing-version",
        "fractional-version",
        "active-missing",
        "active-too-high",
        "active-negative",
    ],
)
def test_bad_specs_raise_a_clear_error(spec: str, active: int, message: str) -> None:
    with pytest.raises(KeyConfigurationError, match=message) as excinfo:
        FieldKeyRing.parse(spec, active)
    # A configuration error never echoes key material into logs.
    for key in (B64_1, B64_2, B64_1[:16]):
        assert key not in str(excinfo.value)


def test_unicode_digit_version_raises_key_configuration_error() -> None:
    with pytest.raises(KeyConfigurationError):
        FieldKeyRing.parse(f"\u00b2:{B64_1}")


def test_blind_index_root_parses_and_rejects() -> None:
    assert BlindIndexRoot.parse(f" {B64_1}\n").root == ROOT_1
    with pytest.raises(KeyConfigurationError, match="CP_BLIND_INDEX_KEY is not valid"):
        BlindIndexRoot.parse("%%%")
    with pytest.raises(KeyConfigurationError, match="CP_BLIND_INDEX_KEY must decode"):
        BlindIndexRoot.parse(base64.b64encode(bytes(31)).decode())


# --- field keys ------------------------------------------------------------------


@pytest.fixture
def ring() -> FieldKeyRing:
    return FieldKeyRing.parse(f"1:{B64_1},2:{B64_2}", 1)


def test_field_key_is_hkdf_sha256_with_table_salt_and_column_info(
    ring: FieldKeyRing,
) -> None:
    expected = _rfc5869_sha256_32(
        ROOT_1, b"directory_child", b"field-encryption\x00date_of_birth"
    )
    assert ring.field_key(1, "directory_child", "date_of_birth") == expected


def test_field_keys_are_deterministic_and_32_bytes(ring: FieldKeyRing) -> None:
    key = ring.field_key(1, "directory_child", "upn")
    assert key == ring.field_key(1, "directory_child", "upn")
    assert len(key) == KEY_BYTES
    assert key not in (ROOT_1, ROOT_2)


def test_field_keys_differ_per_table_column_and_version(ring: FieldKeyRing) -> None:
    keys = {
        ring.field_key(version, table, column)
        for version in (1, 2)
        for table in ("directory_child", "directory_childname", "directory_carer")
        for column in ("date_of_birth", "family_name", "given_names", "name")
    }
    assert len(keys) == 2 * 3 * 4


def test_field_key_for_unknown_version_raises(ring: FieldKeyRing) -> None:
    with pytest.raises(KeyConfigurationError, match="No field key with version 3"):
        ring.field_key(3, "directory_child", "upn")


# --- index keys ------------------------------------------------------------------


def test_index_key_is_hmac_over_documented_message() -> None:
    root = BlindIndexRoot(ROOT_7)
    expected = hmac.new(
        ROOT_7,
        b"blind-index\x00directory_child\x00family_name,date_of_birth\x00fy",
        hashlib.sha256,
    ).digest()
    key = root.index_key("directory_child", ("family_name", "date_of_birth"), "fy")
    assert key == expected


def test_index_keys_differ_per_index_table_and_columns() -> None:
    root = BlindIndexRoot(ROOT_7)
    keys = [
        root.index_key("directory_child", ("family_name", "date_of_birth"), "a"),
        root.index_key("directory_child", ("family_name", "date_of_birth"), "b"),
        root.index_key("directory_child", ("family_name", "postcode"), "a"),
        root.index_key("directory_child", ("date_of_birth", "family_name"), "a"),
        root.index_key("directory_other", ("family_name", "date_of_birth"), "a"),
    ]
    assert len(set(keys)) == len(keys)
    assert all(len(k) == KEY_BYTES for k in keys)


def test_index_keys_differ_per_root() -> None:
    columns = ("nhs_number",)
    assert BlindIndexRoot(ROOT_1).index_key(
        "directory_child", columns, "nhs_number"
    ) != BlindIndexRoot(ROOT_2).index_key("directory_child", columns, "nhs_number")


def test_field_and_index_keys_from_the_same_root_differ() -> None:
    ring = FieldKeyRing.parse(f"1:{B64_1}")
    index = BlindIndexRoot(ROOT_1).index_key("directory_child", ("upn",), "upn")
    assert ring.field_key(1, "directory_child", "upn") != index
