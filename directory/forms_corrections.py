"""Forms for a data manager's corrections: one form per correctable detail.

They parse what was typed into a ``CorrectedValue``; whether the value is
valid (an NHS number's check digit, a UPN's check letter, a real postcode, a
date of birth the directory may hold, an identifier no other child holds)
is the service's question (``directory.services.corrections``), and its
problems are shown on the fields they name (``errors_apply``). Messages
follow the GOV.UK Design System ("Enter …", "… must be …").
"""

from datetime import date
from typing import Any

from django import forms

from accounts.admin_forms import GovukRadioSelect
from contactpoint.govuk_forms import date_part
from directory.corrections import REASON_MAX_LENGTH, CorrectableDetail
from directory.forms import GENDER_LABELS, DateInputsMixin
from directory.records import ChildRecord
from directory.services.corrections import CorrectedValue


def _text(label: str, *, required_message: str = "", max_length: int = 100) -> Any:
    return forms.CharField(
        label=label,
        required=bool(required_message),
        max_length=max_length,
        error_messages={
            "required": required_message,
            "max_length": f"{label} must be {max_length} characters or fewer",
        },
    )


class CorrectionForm(DateInputsMixin):
    """What every correction asks: why (kept encrypted with the provenance)."""

    detail: CorrectableDetail

    reason = forms.CharField(
        label="Why are you making this correction?",
        help_text=(
            "For example, what the parent or the school confirmed and how. "
            "This is kept with the record and shown to other data managers "
            "and in the child's subject access report, with your name."
        ),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter why you are making this correction",
            "max_length": (
                f"The reason must be {REASON_MAX_LENGTH} characters or fewer"
            ),
        },
    )

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        """The form's fields filled with what the record holds now."""
        return {}

    def to_value(self) -> CorrectedValue:
        raise NotImplementedError


class NameCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.NAME

    given_names = _text("Given names", required_message="Enter the given names")
    family_name = _text("Family name", required_message="Enter the family name")
    field_order = ["given_names", "family_name", "reason"]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        for name in record.names:
            if name.kind == "legal":
                return {
                    "given_names": name.given_names,
                    "family_name": name.family_name,
                }
        return {}

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(
            given_names=self.cleaned_data["given_names"],
            family_name=self.cleaned_data["family_name"],
        )


def _date_initial(prefix: str, day: date | None) -> dict[str, str]:
    if day is None:
        return {}
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


class DateOfBirthCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.DATE_OF_BIRTH

    date_of_birth_day = date_part("Day", max_length=8)
    date_of_birth_month = date_part("Month", max_length=8)
    date_of_birth_year = date_part("Year", max_length=8)
    field_order = [
        "date_of_birth_day",
        "date_of_birth_month",
        "date_of_birth_year",
        "reason",
    ]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return _date_initial("date_of_birth", record.date_of_birth)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["date_of_birth"] = self.date_from_parts(
            "date_of_birth",
            "Date of birth",
            required_message="Enter the date of birth",
        )
        return cleaned

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(date_of_birth=self.cleaned_data["date_of_birth"])

    @property
    def date_of_birth_error(self) -> str:
        return self.date_error("date_of_birth")

    @property
    def date_of_birth_whole(self) -> bool:
        return "date_of_birth" in self.whole_date_errors


class DateOfDeathCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.DATE_OF_DEATH

    date_of_death_day = date_part("Day", max_length=8)
    date_of_death_month = date_part("Month", max_length=8)
    date_of_death_year = date_part("Year", max_length=8)
    field_order = [
        "date_of_death_day",
        "date_of_death_month",
        "date_of_death_year",
        "reason",
    ]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return _date_initial("date_of_death", record.date_of_death)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["date_of_death"] = self.date_from_parts(
            "date_of_death", "Date of death"
        )
        return cleaned

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(date_of_death=self.cleaned_data["date_of_death"])

    @property
    def date_of_death_error(self) -> str:
        return self.date_error("date_of_death")

    @property
    def date_of_death_whole(self) -> bool:
        return "date_of_death" in self.whole_date_errors


class GenderCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.GENDER

    gender = forms.ChoiceField(
        label="Gender",
        choices=list(GENDER_LABELS.items()),
        widget=GovukRadioSelect,
        error_messages={
            "required": "Select the child's gender",
            "invalid_choice": "Select one of the genders shown",
        },
    )
    field_order = ["gender", "reason"]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return {"gender": record.gender}

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(gender=self.cleaned_data["gender"])


class NhsNumberCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.NHS_NUMBER

    nhs_number = _text("NHS number", max_length=20)
    field_order = ["nhs_number", "reason"]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return {"nhs_number": record.nhs_number or ""}

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(nhs_number=self.cleaned_data["nhs_number"])


class UpnCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.UPN

    upn = _text("Unique pupil number (UPN)", max_length=20)
    field_order = ["upn", "reason"]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return {"upn": record.upn or ""}

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(upn=self.cleaned_data["upn"])


class AddressCorrectionForm(CorrectionForm):
    detail = CorrectableDetail.ADDRESS

    address_lines = forms.CharField(
        label="Address",
        help_text="One line of the address on each line, without the postcode.",
        max_length=700,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter the address",
            "max_length": "The address must be 700 characters or fewer",
        },
    )
    postcode = _text("Postcode", required_message="Enter the postcode", max_length=10)
    field_order = ["address_lines", "postcode", "reason"]

    @staticmethod
    def initial_for(record: ChildRecord) -> dict[str, Any]:
        return {
            "address_lines": "\n".join(record.current_address),
            "postcode": record.current_postcode or "",
        }

    def to_value(self) -> CorrectedValue:
        return CorrectedValue(
            address_lines=tuple(self.cleaned_data["address_lines"].splitlines()),
            postcode=self.cleaned_data["postcode"],
        )


CORRECTION_FORMS: dict[CorrectableDetail, type[CorrectionForm]] = {
    form.detail: form
    for form in (
        NameCorrectionForm,
        DateOfBirthCorrectionForm,
        GenderCorrectionForm,
        NhsNumberCorrectionForm,
        UpnCorrectionForm,
        DateOfDeathCorrectionForm,
        AddressCorrectionForm,
    )
}
