"""Forms for the administrator's workspace and for accepting an invitation.

They parse and check input only; the services decide and validate the rest.
Error messages follow the GOV.UK Design System ("Enter …", "Select …").
"""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from accounts.models import Organisation
from accounts.roles import ROLE_LABELS, Role
from accounts.selectors import UserFilters, UserStatus
from accounts.services import REASON_MAX_LENGTH

PERSON_ROLES = [role for role in Role if role != Role.FEED_SYSTEM]


def role_choices(roles: Sequence[Role]) -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in roles]


def posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to: even an empty POST is a submission."""
    return request.POST if request.method == "POST" else None


def service_errors_apply(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form
    has one, otherwise above the form (the error summary links it to the
    first field)."""
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            form.add_error(key if key in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


if TYPE_CHECKING:
    _OrganisationField = forms.ModelChoiceField[Organisation]
else:  # Django's form fields are not subscriptable at run time.
    _OrganisationField = forms.ModelChoiceField


class OrganisationChoiceField(_OrganisationField):
    def label_from_instance(self, obj: Organisation) -> str:
        return f"{obj.name} ({obj.get_kind_display()}, {obj.code})"


def _organisations_offer(
    form: forms.Form, organisations: QuerySet[Organisation]
) -> None:
    """Offer only the organisations the administrator administers."""
    cast(OrganisationChoiceField, form.fields["organisation"]).queryset = organisations


class GovukRadioSelect(forms.RadioSelect):
    """Radios whose field has an id (the first radio's), for the error summary."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        if index is None:
            return id_
        return super().id_for_label(id_, index)


class ReasonForm(forms.Form):
    """The reason every change needs (kept in the access log)."""

    reason = forms.CharField(
        label="Reason",
        help_text="Say why. This is kept in the access log with your name.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter the reason for this change",
            "max_length": f"Reason must be {REASON_MAX_LENGTH} characters or fewer",
        },
    )


class InviteForm(ReasonForm):
    first_name = forms.CharField(
        label="First name",
        max_length=150,
        error_messages={"required": "Enter their first name"},
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        error_messages={"required": "Enter their last name"},
    )
    email = forms.EmailField(
        label="Email address",
        help_text="Their work email address. The invitation link is sent to it.",
        error_messages={
            "required": "Enter their email address",
            "invalid": (
                "Enter an email address in the correct format, like name@example.org"
            ),
        },
    )
    organisation = OrganisationChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label="Select an organisation",
        error_messages={
            "required": "Select the organisation they work for",
            "invalid_choice": "Select an organisation you administer",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        choices=role_choices(PERSON_ROLES),
        widget=GovukRadioSelect,
        error_messages={
            "required": "Select the role they need",
            "invalid_choice": "Select one of the roles shown",
        },
    )

    field_order = ["first_name", "last_name", "email", "organisation", "role", "reason"]

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _organisations_offer(self, organisations)


class RoleGrantForm(ReasonForm):
    organisation = OrganisationChoiceField(
        label="Organisation",
        queryset=Organisation.objects.none(),
        empty_label="Select an organisation",
        error_messages={
            "required": "Select the organisation",
            "invalid_choice": "Select an organisation you administer",
        },
    )
    role = forms.ChoiceField(
        label="Role",
        choices=(),
        error_messages={
            "required": "Select the role to give",
            "invalid_choice": "Select one of the roles shown",
        },
    )

    field_order = ["organisation", "role", "reason"]
    prefix = "grant"

    def __init__(
        self,
        *args: Any,
        organisations: QuerySet[Organisation],
        roles: Sequence[Role],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _organisations_offer(self, organisations)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            ("", "Select a role"),
            *role_choices(roles),
        ]


class FeedSystemForm(ReasonForm):
    name = forms.CharField(
        label="Name of the feed system",
        help_text="For example, the school's management information system.",
        max_length=150,
        error_messages={"required": "Enter the name of the feed system"},
    )
    username = forms.CharField(
        label="Username",
        help_text="Letters, digits and @ . + - _ only. It never signs in.",
        max_length=150,
        error_messages={"required": "Enter a username"},
    )
    email = forms.EmailField(
        label="Technical contact's email address",
        error_messages={
            "required": "Enter the technical contact's email address",
            "invalid": (
                "Enter an email address in the correct format, like name@example.org"
            ),
        },
    )
    organisation = OrganisationChoiceField(
        label="Organisation whose data it sends",
        queryset=Organisation.objects.none(),
        empty_label="Select an organisation",
        error_messages={
            "required": "Select the organisation",
            "invalid_choice": "Select an organisation you administer",
        },
    )

    field_order = ["name", "username", "email", "organisation", "reason"]

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _organisations_offer(self, organisations)


class TokenIssueForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        help_text="Where it will be used, for example “Nightly upload server”.",
        max_length=100,
        error_messages={"required": "Enter a name for the token"},
    )


LAST_SIGN_IN_CHOICES = [
    ("", "Any time"),
    ("30", "Not in the last 30 days, or never"),
    ("60", "Not in the last 60 days, or never"),
    ("90", "Not in the last 90 days, or never"),
]
VETTING_CHOICES = [
    ("", "Any date"),
    ("expired", "Already expired"),
    ("30", "Expired or expires within 30 days"),
    ("90", "Expired or expires within 90 days"),
]


class UserFilterForm(forms.Form):
    """The users list's filters (GET). Invalid values are ignored, not shown."""

    organisation = forms.TypedChoiceField(
        label="Organisation", required=False, coerce=int, empty_value=None
    )
    role = forms.ChoiceField(
        label="Role",
        required=False,
        choices=[("", "Any role"), *role_choices(list(Role))],
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status")] + [(s.value, s.label) for s in UserStatus],
    )
    last_sign_in = forms.ChoiceField(
        label="Last signed in", required=False, choices=LAST_SIGN_IN_CHOICES
    )
    vetting = forms.ChoiceField(
        label="Vetting expiry", required=False, choices=VETTING_CHOICES
    )

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["organisation"]).choices = [
            ("", "Any organisation"),
            *((str(o.pk), o.name) for o in organisations),
        ]

    def to_filters(self, *, today: date, page: int | str) -> UserFilters:
        data = self.cleaned_data if self.is_valid() else {}
        last_sign_in = data.get("last_sign_in")
        vetting = data.get("vetting")
        vetting_before = None
        if vetting == "expired":
            vetting_before = today
        elif vetting:
            vetting_before = today + timedelta(days=int(vetting) + 1)
        return UserFilters(
            organisation_id=data.get("organisation"),
            role=data.get("role") or None,
            status=UserStatus(data["status"]) if data.get("status") else None,
            last_sign_in_before=(
                today - timedelta(days=int(last_sign_in) - 1) if last_sign_in else None
            ),
            vetting_expires_before=vetting_before,
            page=page,
        )

    @property
    def is_filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


class InvitationAcceptForm(forms.Form):
    username = forms.CharField(
        label="Choose a username",
        help_text="You sign in with this or your email address. "
        "Letters, digits and @ . + - _ only.",
        max_length=150,
        error_messages={"required": "Enter a username"},
    )
    password = forms.CharField(
        label="Create a password",
        help_text="At least 12 characters. A few unrelated words make a good one.",
        strip=False,
        error_messages={"required": "Enter a password"},
    )
    password_again = forms.CharField(
        label="Enter the password again",
        strip=False,
        error_messages={"required": "Enter the password again"},
    )
