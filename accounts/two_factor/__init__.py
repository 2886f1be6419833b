"""Second factors: authenticator apps (TOTP), backup codes, and resets.

What these services guarantee:

- A TOTP secret exists in clear only in memory and on the enrolment page; the
  database holds it sealed with the project's field encryption
  (``contactpoint.crypto``), bound to the device row.
- A TOTP code is accepted once. Verification locks the device row
  (``select_for_update``) and accepts only a time step later than the last
  one accepted, so two requests racing with the same code cannot both pass.
- A backup code is stored only as an HMAC-SHA256 keyed from SECRET_KEY and
  bound to its device, and is spent by one conditional UPDATE
  (``... WHERE used_at IS NULL``), so it cannot be used twice either.
- Wrong codes slow the next attempt down exponentially (django-otp's
  ThrottlingMixin), and every attempt, good or bad, is in the access log.
- Resetting a user's second factors, or changing their password, rotates
  their security stamp: every session they have open ends.

The package: ``codes`` (formats, generation, TOTP arithmetic, hashing: no
database), ``devices`` (what a user has, outcomes), ``totp``,
``backup_codes`` and ``resets``. Import from ``accounts.two_factor``.
"""

from accounts.models.devices import THROTTLE_FACTOR
from accounts.two_factor.backup_codes import (
    backup_code_attempt,
    backup_code_verify,
    backup_codes_generate,
)
from accounts.two_factor.codes import (
    BACKUP_CODE_ALPHABET,
    BACKUP_CODE_COUNT,
    BACKUP_CODE_LENGTH,
    TOTP_DIGITS,
    TOTP_SECRET_BYTES,
    TOTP_STEP_SECONDS,
    TOTP_TOLERANCE_STEPS,
    backup_code_display,
    backup_code_hash,
    backup_code_hashes,
    backup_code_is_well_formed,
    backup_code_normalise,
    backup_codes_make,
    totp_code_at,
    totp_code_is_well_formed,
    totp_code_normalise,
    totp_key_groups,
    totp_qr_svg,
    totp_secret_bytes,
    totp_secret_generate,
    totp_step_matching,
    totp_uri,
)
from accounts.two_factor.devices import (
    Attempt,
    SecondFactorOptions,
    TotpEnrolment,
    adevice_from_persistent_id,
    backup_codes_left,
    device_from_persistent_id,
    passkeys_added,
    second_factor_event_record,
    second_factor_options,
    throttled_until,
)
from accounts.two_factor.resets import (
    second_factors_reset,
    user_security_stamp_rotate,
)
from accounts.two_factor.totp import (
    totp_attempt,
    totp_confirm,
    totp_device_create,
    totp_enrolment_get,
    totp_verify,
)

__all__ = [
    "BACKUP_CODE_ALPHABET",
    "BACKUP_CODE_COUNT",
    "BACKUP_CODE_LENGTH",
    "THROTTLE_FACTOR",
    "TOTP_DIGITS",
    "TOTP_SECRET_BYTES",
    "TOTP_STEP_SECONDS",
    "TOTP_TOLERANCE_STEPS",
    "Attempt",
    "SecondFactorOptions",
    "TotpEnrolment",
    "adevice_from_persistent_id",
    "backup_code_attempt",
    "backup_code_display",
    "backup_code_hash",
    "backup_code_hashes",
    "backup_code_is_well_formed",
    "backup_code_normalise",
    "backup_code_verify",
    "backup_codes_generate",
    "backup_codes_left",
    "backup_codes_make",
    "device_from_persistent_id",
    "passkeys_added",
    "second_factor_event_record",
    "second_factor_options",
    "second_factors_reset",
    "throttled_until",
    "totp_attempt",
    "totp_code_at",
    "totp_code_is_well_formed",
    "totp_code_normalise",
    "totp_confirm",
    "totp_device_create",
    "totp_enrolment_get",
    "totp_key_groups",
    "totp_qr_svg",
    "totp_secret_bytes",
    "totp_secret_generate",
    "totp_step_matching",
    "totp_uri",
    "totp_verify",
    "user_security_stamp_rotate",
]
