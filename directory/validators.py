"""Django validators for model and form fields, over ``directory.identifiers``.

Each validator accepts exactly what the matching pure function accepts and
raises ``ValidationError`` with the same message and code, so a form, the
admin and a feed import report the same problem in the same words. They
check only: normalising the stored value is the service's job.
"""

from collections.abc import Callable
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

from directory import identifiers


def _validating(check: Callable[[str], object], value: str) -> None:
    try:
        check(value)
    except identifiers.IdentifierError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc


def validate_nhs_number(value: str) -> None:
    """Refuse anything but a 10-digit NHS number with a matching check digit."""
    _validating(identifiers.normalise_nhs_number, value)


def validate_upn(value: str) -> None:
    """Refuse anything but a UPN (permanent or temporary) whose check letter
    matches."""
    _validating(identifiers.normalise_upn, value)


def validate_postcode(value: str) -> None:
    """Refuse anything but a BS 7666 postcode, GIR 0AA or an NHS ZZ99
    pseudo-postcode."""
    _validating(identifiers.normalise_postcode, value)


def validate_directory_number(value: str) -> None:
    """Refuse anything but a 13-digit directory number passing the Damm check."""
    _validating(identifiers.normalise_directory_number, value)


def validate_date_of_birth(value: date) -> None:
    """Refuse a date of birth in the future or of someone aged 25 or more.

    "Today" is the date in the project's time zone (Europe/London), not UTC,
    so a baby born just after midnight in the UK is not refused as future.
    """
    try:
        identifiers.validate_date_of_birth(value, today=timezone.localdate())
    except identifiers.IdentifierError as exc:
        raise ValidationError(exc.message, code=exc.code) from exc
