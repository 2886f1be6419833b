"""Forms for the auditor's workspace: they parse and check input only.

Error messages follow the GOV.UK Design System ("Enter …", "… must be a
real date"). Dates are GOV.UK date inputs: three boxes (day, month, year)
checked together, each error linked to the box that needs changing.
"""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django import forms

from audit.models import AccessAction, AnomalyKind, Outcome
from audit.reports import NEWS_NOTE_MAX_LENGTH, REVIEW_NOTE_MAX_LENGTH
from audit.selectors import PURPOSE_LABELS, EventFilters
from contactpoint.govuk_forms import DateInputsMixin, date_part
from directory.identifiers import (
    IdentifierError,
    format_directory_number,
    normalise_directory_number,
)
from directory.selectors import child_id_for_directory_number

NUMBER_FORMAT_MESSAGE = "Enter the directory number as 13 digits, like 1234 5678 9012 3"


def _text_filter(label: str, help_text: str) -> forms.CharField:
    """An optional text box of up to 200 characters, with GOV.UK's "too long"."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=200,
        help_text=help_text,
        error_messages={"max_length": f"{label} must be 200 characters or fewer"},
    )


def _directory_number(help_text: str, *, required: bool = True) -> forms.CharField:
    """A child's directory number box; directory_number_clean checks it."""
    return forms.CharField(
        label="Child’s directory number",
        required=required,
        max_length=40,
        help_text=help_text,
        error_messages={
            "required": "Enter the child’s directory number",
            "max_length": NUMBER_FORMAT_MESSAGE,
        },
    )


def _choice_filter(
    label: str, anything: str, choices: Iterable[tuple[str, str]]
) -> forms.ChoiceField:
    """An optional select whose first option, ``anything``, filters nothing."""
    return forms.ChoiceField(
        label=label, required=False, choices=[("", anything), *choices]
    )


def directory_number_clean(raw: str) -> tuple[str, UUID]:
    """The normalised number and the child's id, or a ValidationError."""
    try:
        number = normalise_directory_number(raw)
    except IdentifierError as error:
        raise forms.ValidationError(error.message) from error
    child_id = child_id_for_directory_number(number)
    if child_id is None:
        raise forms.ValidationError(
            f"No child has the directory number {format_directory_number(number)}. "
            "Check it has been copied correctly."
        )
    return number, child_id


class EventFilterForm(DateInputsMixin):
    """The events list's filters (GET); also the export's."""

    user = _text_filter("User", "Part of their name or email address.")
    organisation = _text_filter(
        "Organisation", "Part of its name, or its code (for example a URN)."
    )
    child = _directory_number("13 digits, like 1234 5678 9012 3.", required=False)
    action = _choice_filter("Action", "Any action", AccessAction.choices)
    outcome = _choice_filter("Outcome", "Any outcome", Outcome.choices)
    purpose = _choice_filter(
        "Purpose",
        "Any purpose",
        [(p.value, label) for p, label in PURPOSE_LABELS.items()],
    )
    from_day = date_part("Day")
    from_month = date_part("Month")
    from_year = date_part("Year")
    to_day = date_part("Day")
    to_month = date_part("Month")
    to_year = date_part("Year")

    def clean_child(self) -> tuple[str, UUID] | None:
        raw: str = self.cleaned_data.get("child", "")
        return directory_number_clean(raw) if raw.strip() else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from = self.date_from_parts("from", "From date")
        date_to = self.date_from_parts("to", "To date")
        if date_from and date_to and date_to < date_from:
            self.whole_date_wrong(
                "to", "To date must be the same as or after the from date"
            )
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        return cleaned

    def to_filters(self) -> EventFilters:
        """The filters; an invalid form filters nothing (the page shows errors)."""
        if not self.is_valid():
            return EventFilters()
        data = self.cleaned_data
        child = data.get("child")
        return EventFilters(
            user=data.get("user", "").strip(),
            organisation=data.get("organisation", "").strip(),
            child_id=child[1] if child else None,
            directory_number=child[0] if child else "",
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            purpose=data.get("purpose", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    @property
    def from_error(self) -> str:
        return self.date_error("from")

    @property
    def to_error(self) -> str:
        return self.date_error("to")

    @property
    def from_whole(self) -> bool:
        return "from" in self.whole_date_errors

    @property
    def to_whole(self) -> bool:
        return "to" in self.whole_date_errors

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(
            value for name, value in self.data.items() if name != "page"
        )


class ChildHistoryForm(forms.Form):
    number = _directory_number(
        "13 digits, like 1234 5678 9012 3. It is on every record."
    )

    def clean_number(self) -> tuple[str, UUID]:
        return directory_number_clean(self.cleaned_data["number"])


REVIEWED_CHOICES = [("", "Any"), ("no", "Not reviewed yet"), ("yes", "Reviewed")]


class FindingFilterForm(forms.Form):
    kind = _choice_filter("Kind", "Any kind", AnomalyKind.choices)
    reviewed = forms.ChoiceField(
        label="Reviewed", required=False, choices=REVIEWED_CHOICES
    )

    def values(self) -> tuple[str, bool | None]:
        """(kind, reviewed) for the selector; invalid values filter nothing."""
        data = self.cleaned_data if self.is_valid() else {}
        reviewed = data.get("reviewed")
        return data.get("kind", ""), None if not reviewed else reviewed == "yes"

    @property
    def is_filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="What you found",
        help_text="Say what you checked and what you concluded. "
        "This is kept with the finding and your name.",
        max_length=REVIEW_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter what you found",
            "max_length": (
                f"What you found must be {REVIEW_NOTE_MAX_LENGTH} characters or fewer"
            ),
        },
    )


class NewsListAddForm(forms.Form):
    number = _directory_number("13 digits, like 1234 5678 9012 3.")
    note = forms.CharField(
        label="Why they are on the list",
        help_text="For example, the news story. Do not write the child’s name.",
        max_length=NEWS_NOTE_MAX_LENGTH,
        error_messages={
            "required": "Enter why the child is on the list",
            "max_length": (
                "Why they are on the list must be "
                f"{NEWS_NOTE_MAX_LENGTH} characters or fewer"
            ),
        },
    )

    def clean_number(self) -> tuple[str, UUID]:
        return directory_number_clean(self.cleaned_data["number"])
