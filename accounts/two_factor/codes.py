"""Second-factor codes and keys: their formats, how they are made, TOTP
arithmetic and backup-code hashing. No database, no request."""

import base64
import secrets
import uuid
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.oath import TOTP

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
#: Steps either side of now that still count: covers a phone clock that is a
#: little out and a code typed just as it changed.
TOTP_TOLERANCE_STEPS = 1
#: 160 bits, as RFC 4226 recommends: 32 base32 characters.
TOTP_SECRET_BYTES = 20

BACKUP_CODE_COUNT = 10
BACKUP_CODE_LENGTH = 10
#: Digits and lower-case letters without 0, 1, i, l and o, which are easily
#: mistaken for each other when copied from paper.
BACKUP_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_BACKUP_CODE_HMAC_SALT = "accounts.two_factor.backup_code"


_SEPARATORS = str.maketrans("", "", " -\t\n\r\u00a0")


def totp_code_normalise(code: str) -> str:
    """The code without the spaces and hyphens people type or paste into it."""
    return code.translate(_SEPARATORS)


def totp_code_is_well_formed(normalised: str) -> bool:
    return (
        len(normalised) == TOTP_DIGITS
        and normalised.isascii()
        and (normalised.isdigit())
    )


def backup_code_normalise(code: str) -> str:
    """Backup codes ignore case, spaces and hyphens."""
    return code.translate(_SEPARATORS).casefold()


def backup_code_is_well_formed(normalised: str) -> bool:
    return len(normalised) == BACKUP_CODE_LENGTH and all(
        character in BACKUP_CODE_ALPHABET for character in normalised
    )


def backup_code_display(code: str) -> str:
    """Show a backup code as two groups of five: ``7hk4m-2pq9x``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def totp_secret_generate() -> str:
    """A fresh TOTP secret, base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(TOTP_SECRET_BYTES)).decode("ascii")


def totp_key_groups(secret: str) -> str:
    """The secret in groups of four characters, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_uri(*, issuer: str, account: str, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TOTP_DIGITS,
            "period": TOTP_STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def totp_qr_svg(uri: str, *, label: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no script, no style).

    ``label`` is its accessible name.
    """
    code = qrcode.QRCode(
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=12,
        border=4,
    )
    code.add_data(uri)
    code.make(fit=True)
    svg: str = code.make_image().to_string(encoding="unicode")
    escaped = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace(
        "<svg ",
        f'<svg class="app-qr-code" role="img" aria-label="{escaped}" '
        'focusable="false" ',
        1,
    )


def totp_step_matching(key: bytes, code: str, *, at: float) -> int | None:
    """The time step within the tolerance of ``at`` whose code is ``code``."""
    totp = TOTP(key, step=TOTP_STEP_SECONDS, digits=TOTP_DIGITS)
    totp.time = at
    for drift in range(-TOTP_TOLERANCE_STEPS, TOTP_TOLERANCE_STEPS + 1):
        totp.drift = drift
        expected = f"{totp.token():0{TOTP_DIGITS}d}"
        if constant_time_compare(expected, code):
            step: int = totp.t()
            return step
    return None


def totp_code_at(secret: str, *, at: float) -> str:
    """The code an authenticator app shows at ``at`` (for tests and support)."""
    totp = TOTP(totp_secret_bytes(secret), step=TOTP_STEP_SECONDS, digits=TOTP_DIGITS)
    totp.time = at
    return f"{totp.token():0{TOTP_DIGITS}d}"


def totp_secret_bytes(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 8)
    return base64.b32decode(padded, casefold=True)


def backup_codes_make(count: int = BACKUP_CODE_COUNT) -> list[str]:
    """``count`` different random backup codes (normalised form)."""
    codes: list[str] = []
    while len(codes) < count:
        code = "".join(
            secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH)
        )
        if code not in codes:
            codes.append(code)
    return codes


def backup_code_hash(
    *, device_id: uuid.UUID, code: str, secret: str | bytes | None = None
) -> str:
    """HMAC-SHA256 of a normalised code, bound to its device.

    The key comes from SECRET_KEY (``secret`` picks a fallback key), so a
    database dump alone cannot test guesses offline.
    """
    return salted_hmac(
        _BACKUP_CODE_HMAC_SALT,
        f"{device_id}:{code}",
        secret=secret,
        algorithm="sha256",
    ).hexdigest()


def backup_code_hashes(device_id: uuid.UUID, code: str) -> list[str]:
    """The code's hash under SECRET_KEY and every fallback key still accepted."""
    return [
        backup_code_hash(device_id=device_id, code=code),
        *(
            backup_code_hash(device_id=device_id, code=code, secret=fallback)
            for fallback in settings.SECRET_KEY_FALLBACKS
        ),
    ]
