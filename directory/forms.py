"""Forms for the practitioner's pages: they parse and check input only.

The search rules (what makes a query specific enough) live in
directory/search.py and the write rules in directory/services; these forms
turn what was typed into typed values and say, in GOV.UK style ("Enter …",
"… must be a real date"), what could not be read. Dates are GOV.UK date
inputs: three boxes checked together, the error linked to the box that needs
changing.

The code-to-words tables the pages show (genders, services, flags) are here
too, so the views never import the directory's models.
"""

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from accounts.admin_forms import GovukRadioSelect
from contactpoint.govuk_forms import DateInputsMixin as GovukDateInputsMixin
from contactpoint.govuk_forms import date_part
from directory.models import (
    CarerRelationship,
    Consent,
    FlagKind,
    Gender,
    NameKind,
    ServiceType,
)
from directory.policies import Purpose
from directory.records import SearchQuery

GENDER_LABELS: dict[str, str] = dict(Gender.choices)
SERVICE_LABELS: dict[str, str] = dict(ServiceType.choices)
FLAG_LABELS: dict[str, str] = dict(FlagKind.choices)
NAME_KIND_LABELS: dict[str, str] = dict(NameKind.choices)
RELATIONSHIP_LABELS: dict[str, str] = dict(CarerRelationship.choices)
CONSENT_GIVEN_BY_LABELS: dict[str, str] = dict(Consent.GivenBy.choices)
PURPOSE_LABELS: dict[str, str] = {
    Purpose.PROVIDING_SERVICE: "I am providing a service to this child now",
    Purpose.ASSESSING_REFERRAL: "I am assessing a referral about this child",
    Purpose.CHILD_PROTECTION: "I have a child protection concern",
    Purpose.DATA_MANAGEMENT: "Data management: checking or correcting records",
    Purpose.OTHER: "Another reason",
}
SEARCH_GENDERS = [
    ("", "Any"),
    (Gender.FEMALE.value, "Female"),
    (Gender.MALE.value, "Male"),
    (Gender.OTHER.value, "Indeterminate"),
]
TEXT_MAX_LENGTH = 100
PURPOSE_DETAIL_MAX_LENGTH = 500


def _date_part(label: str) -> forms.CharField:
    return date_part(label, max_length=8)


class DateInputsMixin(GovukDateInputsMixin):
    """Date inputs, plus problems from services and the search shown on the
    fields they name."""

    def errors_apply(self, error: ValidationError) -> None:
        """Show a service's or the search's problems on the fields they name;
        a date's problem goes on its day box, anything else above the form."""
        problems = (
            error.message_dict.items()
            if hasattr(error, "error_dict")
            else [(None, error.messages)]
        )
        for key, messages in problems:
            self.add_error(self.field_for(key), messages)

    def field_for(self, key: str | None) -> str | None:
        """The form field a problem about ``key`` belongs on, or None."""
        if key is None:
            return None
        if key in self.fields:
            return key
        stem = key.removesuffix("_on")
        for candidate in (f"{key}_day", f"{stem}_day"):
            if candidate in self.fields:
                self.whole_date_errors.add(candidate.removesuffix("_day"))
                return candidate
        return None


# Search ---------------------------------------------------------------------


class SearchForm(DateInputsMixin):
    """What a practitioner knows about the child. Sent by POST only, so the
    terms never appear in a URL or an access log line."""

    family_name = forms.CharField(
        label="Family name",
        max_length=TEXT_MAX_LENGTH,
        help_text="Also called surname or last name. Any former name works too.",
        error_messages={
            "required": "Enter the child’s family name",
            "max_length": f"Family name must be {TEXT_MAX_LENGTH} characters or fewer",
        },
    )
    given_name = forms.CharField(
        label="Given name (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="Also called first name. A nickname, like Vicky, works too.",
        error_messages={
            "max_length": f"Given name must be {TEXT_MAX_LENGTH} characters or fewer"
        },
    )
    date_of_birth_day = _date_part("Day")
    date_of_birth_month = _date_part("Month")
    date_of_birth_year = _date_part("Year")
    age_from = forms.IntegerField(
        label="From",
        required=False,
        min_value=0,
        error_messages={
            "invalid": "Enter the youngest age as a whole number of years, like 7",
            "min_value": "Enter the youngest age as 0 or more",
        },
    )
    age_to = forms.IntegerField(
        label="To",
        required=False,
        min_value=0,
        error_messages={
            "invalid": "Enter the oldest age as a whole number of years, like 9",
            "min_value": "Enter the oldest age as 0 or more",
        },
    )
    gender = forms.ChoiceField(
        label="Gender",
        required=False,
        choices=SEARCH_GENDERS,
        widget=GovukRadioSelect,
        error_messages={"invalid_choice": "Select one of the genders shown"},
    )
    postcode = forms.CharField(
        label="Postcode or area (optional)",
        required=False,
        max_length=10,
        help_text="A full postcode, like SW1A 1AA, or its first part, like SW1A.",
        error_messages={
            "max_length": (
                "Enter a full postcode, like SW1A 1AA, or only its first part, "
                "like SW1A"
            )
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["date_of_birth"] = self.date_from_parts(
            "date_of_birth", "Date of birth"
        )
        return cleaned

    def to_query(self) -> SearchQuery:
        data = self.cleaned_data
        return SearchQuery(
            family_name=data["family_name"].strip(),
            given_name=data.get("given_name", "").strip(),
            date_of_birth=data.get("date_of_birth"),
            age_from=data.get("age_from"),
            age_to=data.get("age_to"),
            gender=data.get("gender", ""),
            postcode=data.get("postcode", "").strip(),
        )

    def problems_apply(self, problems: list[tuple[str, str]]) -> None:
        """Show the search's refusals (field, message) on the fields they name."""
        for key, message in problems:
            self.add_error(self.field_for(key) or self._age_field(key), message)

    def _age_field(self, key: str) -> str | None:
        return "age_from" if key.startswith("age") else None

    @property
    def age_error(self) -> str:
        """The age range's first error (the fieldset shows one)."""
        for name in ("age_from", "age_to"):
            errors = self.errors.get(name)
            if errors:
                return str(errors[0])
        return ""

    @property
    def date_of_birth_error(self) -> str:
        return self.date_error("date_of_birth")

    @property
    def date_of_birth_whole(self) -> bool:
        return "date_of_birth" in self.whole_date_errors


# Opening a record -------------------------------------------------------------


class PurposeForm(forms.Form):
    """Why the record is being opened (kept in the access log)."""

    purpose = forms.ChoiceField(
        label="Why are you opening this record?",
        choices=list(PURPOSE_LABELS.items()),
        widget=GovukRadioSelect,
        error_messages={
            "required": "Select why you are opening this record",
            "invalid_choice": "Select one of the reasons shown",
        },
    )
    detail = forms.CharField(
        label="More detail",
        required=False,
        max_length=PURPOSE_DETAIL_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": (
                f"The reason must be {PURPOSE_DETAIL_MAX_LENGTH} characters or fewer"
            )
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("purpose") == Purpose.OTHER
            and not cleaned.get("detail", "").strip()
        ):
            self.add_error("detail", "Say why you need to open this record")
        return cleaned

    @property
    def chosen_purpose(self) -> Purpose:
        return Purpose(self.cleaned_data["purpose"])


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Describe the emergency",
        help_text="This is sent to the auditors with your name.",
        max_length=PURPOSE_DETAIL_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Describe the emergency",
            "max_length": (
                f"The description must be {PURPOSE_DETAIL_MAX_LENGTH} characters "
                "or fewer"
            ),
        },
    )


# Involvements -----------------------------------------------------------------

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,30}$",
    "Enter a phone number, like 01632 960 001 or 07700 900 982",
)


class InvolvementForm(DateInputsMixin):
    organisation_id = forms.TypedChoiceField(
        label="Organisation",
        coerce=int,
        choices=(),
        widget=GovukRadioSelect,
        error_messages={
            "required": "Select the organisation you work for with this child",
            "invalid_choice": "Select one of the organisations shown",
        },
    )
    service_type = forms.ChoiceField(
        label="Service",
        choices=[("", "Select a service"), *ServiceType.choices],
        error_messages={
            "required": "Select the service you provide",
            "invalid_choice": "Select one of the services shown",
        },
    )
    practitioner_role = forms.CharField(
        label="Your job title",
        max_length=100,
        help_text="For example, class teacher or health visitor.",
        error_messages={
            "required": "Enter your job title",
            "max_length": "Job title must be 100 characters or fewer",
        },
    )
    started_on_day = _date_part("Day")
    started_on_month = _date_part("Month")
    started_on_year = _date_part("Year")
    phone = forms.CharField(
        label="Phone number",
        max_length=32,
        help_text="A number other practitioners can reach you on.",
        validators=[phone_validator],
        error_messages={
            "required": "Enter a phone number other practitioners can reach you on",
            "max_length": "Phone number must be 32 characters or fewer",
        },
    )
    email = forms.EmailField(
        label="Email address (optional)",
        required=False,
        max_length=254,
        error_messages={
            "invalid": (
                "Enter an email address in the correct format, like name@example.org"
            ),
        },
    )
    lead_professional = forms.BooleanField(
        label="I am the lead professional for this child",
        required=False,
        help_text="The one practitioner who coordinates the support around the child.",
    )

    def __init__(
        self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if len(organisations) > 1:
            field = cast(forms.TypedChoiceField, self.fields["organisation_id"])
            field.choices = [(str(pk), name) for pk, name in organisations]
        else:
            del self.fields["organisation_id"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["started_on"] = self.date_from_parts(
            "started_on",
            "The date you started",
            required_message="Enter the date you started working with the child",
        )
        return cleaned

    @property
    def started_on_error(self) -> str:
        return self.date_error("started_on")

    @property
    def started_on_whole(self) -> bool:
        return "started_on" in self.whole_date_errors


class InvolvementEndForm(DateInputsMixin):
    ended_on_day = _date_part("Day")
    ended_on_month = _date_part("Month")
    ended_on_year = _date_part("Year")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["ended_on"] = self.date_from_parts(
            "ended_on",
            "The end date",
            required_message="Enter the date your involvement ended",
        )
        return cleaned

    @property
    def ended_on_error(self) -> str:
        return self.date_error("ended_on")

    @property
    def ended_on_whole(self) -> bool:
        return "ended_on" in self.whole_date_errors


# Consent to share a sensitive involvement ---------------------------------------


class ConsentForm(forms.Form):
    given_by = forms.ChoiceField(
        label="Who gave consent?",
        choices=list(CONSENT_GIVEN_BY_LABELS.items()),
        widget=GovukRadioSelect,
        help_text=(
            "Ask the young person first. A person with parental responsibility "
            "decides only when the young person cannot understand what sharing "
            "means."
        ),
        error_messages={
            "required": "Select who gave consent to share this involvement",
            "invalid_choice": "Select one of the people shown",
        },
    )
