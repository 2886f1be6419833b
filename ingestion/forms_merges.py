"""Forms for merging two records of the same child: they parse and check input
only. Whether each number names a record the data manager may merge is the
view's question (through the directory's gate); whether the merge is right is
``directory.services.merges.children_merge``'s.

Error messages follow the GOV.UK Design System ("Enter …", "… must be …").
"""

from typing import Any

from django import forms

from directory.identifiers import IdentifierError, normalise_directory_number

#: The longest reason for a merge (kept in the merge record and access log).
MERGE_REASON_MAX_LENGTH = 500
NUMBER_HINT = "13 digits, like 1234 5678 9012 3"


def _number_field(label: str, required_message: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=40,
        help_text=NUMBER_HINT,
        error_messages={
            "required": required_message,
            "max_length": "Enter the directory number as 13 digits, "
            "like 1234 5678 9012 3",
        },
    )


def _normalised(raw: str) -> str:
    try:
        return normalise_directory_number(raw)
    except IdentifierError as error:
        raise forms.ValidationError(error.message) from error


class MergeNumbersForm(forms.Form):
    """The directory numbers of the record to keep and of the record to merge
    into it, normalised to 13 digits and different from each other."""

    survivor = _number_field(
        "Record to keep", "Enter the directory number of the record to keep"
    )
    merged = _number_field(
        "Record to merge into it",
        "Enter the directory number of the record to merge into it",
    )

    def clean_survivor(self) -> str:
        return _normalised(self.cleaned_data["survivor"])

    def clean_merged(self) -> str:
        return _normalised(self.cleaned_data["merged"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        survivor, merged = cleaned.get("survivor"), cleaned.get("merged")
        if survivor and merged and survivor == merged:
            self.add_error(
                "merged",
                "Enter a different directory number from the record to keep",
            )
        return cleaned

    def numbers(self) -> tuple[str, str]:
        """(record to keep, record to merge), 13 digits each (after is_valid)."""
        return self.cleaned_data["survivor"], self.cleaned_data["merged"]


class MergeConfirmForm(MergeNumbersForm):
    """The confirm page's form: both numbers again, in hidden fields (never
    in the URL), and why the data manager is sure they are the same child."""

    reason = forms.CharField(
        label="Why are these the same child?",
        help_text=(
            "Say what shows they are the same child, for example which "
            "organisations confirmed it. This is kept with the merge and in "
            "the access log with your name."
        ),
        max_length=MERGE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter why these are the same child",
            "max_length": "Why these are the same child must be "
            f"{MERGE_REASON_MAX_LENGTH} characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("survivor", "merged"):
            self.fields[name].widget = forms.HiddenInput()

    def reason_text(self) -> str:
        """The reason as entered, stripped (after is_valid)."""
        reason: str = self.cleaned_data["reason"]
        return reason
