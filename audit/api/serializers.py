"""The audit API's request and response shapes (drf-spectacular reads them)."""

from typing import Any
from uuid import UUID

from django import forms
from rest_framework import serializers

from audit.forms import directory_number_clean
from audit.models import AccessAction, Outcome
from audit.selectors import PURPOSE_LABELS

#: Events per page: at most, and when the caller does not say.
PAGE_SIZE_MAX = 1_000
PAGE_SIZE_DEFAULT = 500

FILTER_FIELDS = (
    "user",
    "organisation",
    "directory_number",
    "action",
    "outcome",
    "purpose",
    "date_from",
    "date_to",
)


def _text(help_text: str, max_length: int = 200) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length,
        required=False,
        default="",
        allow_blank=True,
        help_text=help_text,
    )


def _choice(choices: list[tuple[str, str]], help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices,
        required=False,
        default="",
        allow_blank=True,
        help_text=help_text,
    )


class EventExportInputSerializer(serializers.Serializer[dict[str, Any]]):
    """The events list's filters (all optional), or the cursor of the next page.

    Start an export with filters; continue it by sending ``cursor`` (from
    the last page's ``next_cursor``) alone, with ``page_size`` if wanted.
    """

    user = _text("Part of the user's name, username or email address.")
    organisation = _text("Part of the organisation's name, or its code.")
    directory_number = _text(
        "A child's directory number: 13 digits, spaces allowed.", max_length=40
    )
    action = _choice(list(AccessAction.choices), "One kind of event.")
    outcome = _choice(list(Outcome.choices), "Allowed or denied events only.")
    purpose = _choice(
        [(str(p.value), label) for p, label in PURPOSE_LABELS.items()],
        "Events with this stated purpose.",
    )
    date_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Events on or after this day (UK time).",
    )
    date_to = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Events on or before this day (UK time).",
    )
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
    )
    cursor = _text(
        "The previous page's next_cursor, to continue an export.", max_length=2_000
    )

    def validate_directory_number(self, value: str) -> tuple[str, UUID] | None:
        if not value.strip():
            return None
        try:
            return directory_number_clean(value)
        except forms.ValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        date_from, date_to = attrs["date_from"], attrs["date_to"]
        if date_from and date_to and date_to < date_from:
            raise serializers.ValidationError(
                {"date_to": "The to date must be the same as or after the from date."}
            )
        if attrs["cursor"] and any(attrs[name] for name in FILTER_FIELDS):
            raise serializers.ValidationError(
                {
                    "cursor": "Send the cursor without filters: it continues the "
                    "export it came from, with that export's filters."
                }
            )
        return attrs


class AuditEventSerializer(serializers.Serializer[Any]):
    """One access event, with the names behind its ids."""

    seq = serializers.IntegerField(help_text="Gap-free sequence number.")
    occurred_at = serializers.DateTimeField()
    actor_id = serializers.UUIDField(allow_null=True)
    user_name = serializers.CharField(help_text="Empty for nobody known.")
    user_email = serializers.CharField()
    actor_role = serializers.CharField()
    organisation_id = serializers.IntegerField(allow_null=True)
    organisation_name = serializers.CharField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reason = serializers.CharField(help_text="Stable policy reason code.")
    child_id = serializers.UUIDField(allow_null=True)
    directory_number = serializers.CharField()
    subject_user_id = serializers.UUIDField(
        allow_null=True, help_text="Whose account an administrative action changed."
    )
    subject_name = serializers.CharField()
    purpose = serializers.CharField()
    purpose_label = serializers.CharField()
    break_glass = serializers.BooleanField()
    shielded_record = serializers.BooleanField()
    detail = serializers.CharField()
    request_id = serializers.CharField()
    prev_hash = serializers.CharField(help_text="The previous event's entry_hash.")
    entry_hash = serializers.CharField(
        help_text="SHA-256 of this event's canonical encoding (docs/audit-format.md)."
    )


class EventExportPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(
        help_text="Events in the whole export, counted when it started."
    )
    up_to_seq = serializers.IntegerField(
        help_text="The export holds events numbered up to this one: later "
        "events are not in it."
    )
    results = AuditEventSerializer(many=True, help_text="Newest first.")
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Send it (alone) for the next page; null on the last page. "
        "Valid for an hour, for the auditor who started the export.",
    )
