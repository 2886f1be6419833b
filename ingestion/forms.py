"""Forms for the feeds workspace: they parse and check input only.

Error messages follow the GOV.UK Design System ("Select a file", "The
selected file must be smaller than …").
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from accounts.admin_forms import GovukRadioSelect
from ingestion.models import RunStatus
from ingestion.reviews import Decide
from ingestion.selectors import RunFilters


def size_in_words(size: int) -> str:
    """A byte count as a person reads it ("100 MB", "512 KB")."""
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MB"
    if size >= 2**10:
        return f"{size / 2**10:,.0f} KB"
    return f"{size:,} bytes"


class UploadForm(forms.Form):
    """One feed file, sent from the browser."""

    file = forms.FileField(
        label="Upload a file",
        error_messages={
            "required": "Select a file to upload",
            "invalid": "Select a file to upload",
            "missing": "Select a file to upload",
            "empty": "The selected file is empty",
        },
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.FEED_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"The selected file must be smaller than {size_in_words(limit)}. "
                "Split it into smaller files and upload each one."
            )
        return upload

    def data_read(self) -> bytes:
        """The whole file (its size was checked against FEED_MAX_BYTES)."""
        upload: UploadedFile = self.cleaned_data["file"]
        return b"".join(upload.chunks())


class RunFilterForm(forms.Form):
    """The runs list's filters (GET)."""

    source = forms.TypedChoiceField(
        label="Feed",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Select one of the feeds listed"},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *RunStatus.choices],
        error_messages={"invalid_choice": "Select one of the statuses listed"},
    )

    def __init__(
        self, *args: Any, sources: Sequence[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101 - declared above
        field.choices = [("", "All feeds"), *sources]

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)

    def to_filters(self) -> RunFilters:
        if not self.is_bound or not self.is_valid():
            return RunFilters()
        return RunFilters(
            source_id=self.cleaned_data["source"],
            status=self.cleaned_data["status"],
        )


#: The radio values: "link:<child id>", "new", "dismiss".
LINK_PREFIX = "link:"


class ReviewDecisionForm(forms.Form):
    """What to do with a waiting row: link it to one of the children shown,
    create a new child, or not import it."""

    decision = forms.ChoiceField(
        label="What should happen to this row?",
        widget=GovukRadioSelect,
        error_messages={
            "required": "Select what should happen to this row",
            "invalid_choice": "Select one of the options shown",
        },
    )

    def __init__(
        self, *args: Any, links: Sequence[tuple[UUID, str]], **kwargs: Any
    ) -> None:
        """``links``: (child id, radio label) for each candidate that may be
        linked (shown to this data manager)."""
        super().__init__(*args, **kwargs)
        field = self.fields["decision"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        field.choices = [
            *((f"{LINK_PREFIX}{child_id}", label) for child_id, label in links),
            (Decide.NEW.value, "Create a new child"),
            (Decide.DISMISS.value, "Do not import this row"),
        ]

    def chosen(self) -> tuple[Decide, UUID | None]:
        """The decision and, for a link, the child (call after is_valid)."""
        value: str = self.cleaned_data["decision"]
        if value.startswith(LINK_PREFIX):
            return Decide.LINK, UUID(value.removeprefix(LINK_PREFIX))
        return Decide(value), None
