"""The feeds API's request and response shapes (drf-spectacular reads them)."""

from typing import Any

from rest_framework import serializers

from ingestion.models import RunStatus


class FileUploadSerializer(serializers.Serializer[dict[str, Any]]):
    """One feed file, as a multipart/form-data field."""

    file = serializers.FileField(
        help_text="The feed file, in the source's format (CSV, CTF, FHIR or CIN).",
        error_messages={
            "required": "Send the file in the multipart form field 'file'.",
            "invalid": "Send the file in the multipart form field 'file'.",
            "empty": "The file is empty. Check that you sent the right file.",
        },
    )


class ReceiptSerializer(serializers.Serializer[Any]):
    """What became of a delivered file."""

    run = serializers.UUIDField(help_text="The run that imports (or imported) it.")
    status = serializers.ChoiceField(choices=RunStatus.choices)
    status_url = serializers.URLField(help_text="GET it to follow the run.")
    duplicate = serializers.BooleanField(
        help_text="True when this file had already been received: nothing is "
        "imported again."
    )


class RefusedSerializer(serializers.Serializer[Any]):
    """A file refused at once (too large): nothing stored, nothing imported."""

    detail = serializers.CharField()
    code = serializers.CharField()
    run = serializers.UUIDField()
    status_url = serializers.URLField()


class RunStatusSerializer(serializers.Serializer[Any]):
    """A run's status and counters (no child data)."""

    run = serializers.UUIDField(source="pk")
    source_id = serializers.IntegerField(help_text="The feed source's id.")
    status = serializers.ChoiceField(choices=RunStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    refusal_code = serializers.CharField(help_text="For a refused file: a stable code.")
    refusal_message = serializers.CharField(
        help_text="For a refused file: what is wrong and what to do."
    )
    total_rows = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    percent_done = serializers.IntegerField()
    applied = serializers.IntegerField(
        help_text="created + updated + unchanged: rows imported."
    )
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    quarantined = serializers.IntegerField(
        help_text="Rows not imported; a data manager sees why."
    )
    waiting = serializers.IntegerField(
        help_text="Rows waiting for a data manager to decide."
    )
    ended_involvements = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
