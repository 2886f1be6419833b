"""GOV.UK date inputs for Django forms: three boxes checked as one date.

Shared by every form with a date (the auditor's filters, the practitioner's
search and involvement forms). Messages follow the GOV.UK Design System's
date input pattern; each error sits on the box that needs changing (the
error summary links there), and a date wrong as a whole highlights all three.
"""

from datetime import date
from typing import Any

from django import forms

DATE_PARTS = ("day", "month", "year")


def date_part(label: str, *, max_length: int | None = None) -> forms.CharField:
    """One optional box of a date input (``<prefix>_day`` and so on)."""
    return forms.CharField(label=label, required=False, max_length=max_length)


class DateInputsMixin(forms.Form):
    """Read GOV.UK date inputs: fields ``<prefix>_day``, ``_month``, ``_year``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Dates wrong as a whole, not in one box (all three are highlighted).
        self.whole_date_errors: set[str] = set()

    def date_from_parts(
        self, prefix: str, label: str, *, required_message: str = ""
    ) -> date | None:
        """The date, or None (with an error when partial, wrong or required)."""
        values = {
            part: str(self.cleaned_data.get(f"{prefix}_{part}") or "").strip()
            for part in DATE_PARTS
        }
        if not any(values.values()):
            if required_message:
                self.whole_date_wrong(prefix, required_message)
            return None
        missing = [part for part in DATE_PARTS if not values[part]]
        if missing:
            self.add_error(
                f"{prefix}_{missing[0]}",
                f"{label} must include a {' and '.join(missing)}",
            )
            return None
        if not all(value.isdigit() for value in values.values()):
            self.whole_date_wrong(prefix, f"{label} must be a real date")
            return None
        if len(values["year"]) != 4:  # GOV.UK asks for 4 digits
            self.add_error(f"{prefix}_year", "Year must include 4 numbers")
            return None
        try:
            return date(int(values["year"]), int(values["month"]), int(values["day"]))
        except ValueError:
            self.whole_date_wrong(prefix, f"{label} must be a real date")
            return None

    def whole_date_wrong(self, prefix: str, message: str) -> None:
        """An error about the date as a whole: on the day box (the summary
        links there), with all three boxes highlighted."""
        self.whole_date_errors.add(prefix)
        self.add_error(f"{prefix}_day", message)

    def date_error(self, prefix: str) -> str:
        """The first error of a date's boxes (a date shows one error)."""
        for part in DATE_PARTS:
            errors = self.errors.get(f"{prefix}_{part}")
            if errors:
                return str(errors[0])
        return ""
