"""Second-factor codes: normalisation, formats and the backup-code alphabet.

Pure functions: no database (pytest-django would refuse a query here).
"""

import base64
import string
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.two_factor import (
    BACKUP_CODE_ALPHABET,
    BACKUP_CODE_COUNT,
    BACKUP_CODE_LENGTH,
    backup_code_display,
    backup_code_is_well_formed,
    backup_code_normalise,
    backup_codes_make,
    totp_code_at,
    totp_code_is_well_formed,
    totp_code_normalise,
    totp_key_groups,
    totp_qr_svg,
    totp_secret_generate,
    totp_step_matching,
    totp_uri,
)

RFC_6238_KEY = b"12345678901234567890"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("123\u00a0456", "123456"),
    ],
)
def test_totp_codes_ignore_spaces_and_hyphens(typed, normalised):
    assert totp_code_normalise(typed) == normalised


@pytest.mark.parametrize(
    ("code", "well_formed"),
    [
        ("123456", True),
        ("12345", False),
        ("1234567", False),
        ("12345a", False),
        ("١٢٣٤٥٦", False),  # Arabic-Indic digits are digits, but not ours
        ("", False),
    ],
)
def test_totp_codes_are_six_ascii_digits(code, well_formed):
    assert totp_code_is_well_formed(code) is well_formed


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("7hk4m-2pq9x", "7hk4m2pq9x"),
        ("7HK4M 2PQ9X", "7hk4m2pq9x"),
        (" 7hk4m - 2pq9x ", "7hk4m2pq9x"),
    ],
)
def test_backup_codes_ignore_case_spaces_and_hyphens(typed, normalised):
    assert backup_code_normalise(typed) == normalised
    assert backup_code_is_well_formed(normalised)


def test_backup_code_alphabet_has_no_easily_confused_characters():
    assert set(BACKUP_CODE_ALPHABET).isdisjoint(set("01ilo"))
    assert set(BACKUP_CODE_ALPHABET) <= set(string.ascii_lowercase + string.digits)
    assert len(set(BACKUP_CODE_ALPHABET)) == len(BACKUP_CODE_ALPHABET) == 31


def test_backup_codes_are_ten_different_codes_of_ten_unambiguous_characters():
    codes = backup_codes_make()

    assert len(codes) == BACKUP_CODE_COUNT == len(set(codes))
    for code in codes:
        assert len(code) == BACKUP_CODE_LENGTH
        assert set(code) <= set(BACKUP_CODE_ALPHABET)
        assert backup_code_is_well_formed(code)


@pytest.mark.parametrize(
    "code", ["0hk4m2pq9x", "7hk4m2pq9", "7hk4m2pq9xx", "7hk4m2pq9!"]
)
def test_malformed_backup_codes_are_refused(code):
    assert not backup_code_is_well_formed(code)


def test_backup_codes_are_shown_in_two_groups_of_five():
    assert backup_code_display("7hk4m2pq9x") == "7hk4m-2pq9x"


def test_totp_secret_is_160_random_bits_in_base32():
    secret = totp_secret_generate()

    assert len(secret) == 32
    assert len(base64.b32decode(secret)) == 20
    assert secret != totp_secret_generate()


def test_manual_key_is_shown_in_groups_of_four():
    assert totp_key_groups("ABCDEFGHIJKLMNOP") == "ABCD EFGH IJKL MNOP"


def test_otpauth_uri_names_the_service_and_the_account():
    uri = totp_uri(
        issuer="Child contact directory",
        account="sam@example.org",
        secret="JBSWY3DPEHPK3PXP",
    )

    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Child%20contact%20directory:sam@example.org"
    assert parse_qs(parts.query) == {
        "secret": ["JBSWY3DPEHPK3PXP"],
        "issuer": ["Child contact directory"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }


def test_qr_code_is_an_inline_svg_with_an_accessible_name_and_no_script():
    svg = totp_qr_svg("otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP", label='QR "code"')

    assert svg.startswith("<svg ")
    assert 'role="img"' in svg
    assert 'aria-label="QR &quot;code&quot;"' in svg
    assert "<script" not in svg
    assert "style=" not in svg


@pytest.mark.parametrize(
    ("at", "expected"),
    # RFC 6238 appendix B (SHA-1), last six digits.
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924")],
)
def test_totp_codes_match_the_rfc_6238_test_vectors(at, expected):
    secret = base64.b32encode(RFC_6238_KEY).decode()

    assert totp_code_at(secret, at=at) == expected


def test_a_code_matches_its_own_step_and_one_step_either_side_only():
    at = 1_700_000_000.0
    step = int(at // 30)
    secret = base64.b32encode(RFC_6238_KEY).decode()

    for offset in (-1, 0, 1):
        code = totp_code_at(secret, at=at + 30 * offset)
        assert totp_step_matching(RFC_6238_KEY, code, at=at) == step + offset
    for offset in (-2, 2):
        code = totp_code_at(secret, at=at + 30 * offset)
        assert totp_step_matching(RFC_6238_KEY, code, at=at) is None
