"""The directory API's request and response shapes (drf-spectacular reads them)."""

from typing import Any

from rest_framework import serializers

from directory.forms import FLAG_LABELS, SERVICE_LABELS, phone_validator
from directory.policies import Purpose


class SearchInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A search, as the search page takes it. Family name plus one of date of
    birth, an age range or a postcode; the rules are directory.search's."""

    family_name = serializers.CharField(max_length=100)
    given_name = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    age_from = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=25
    )
    age_to = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=25
    )
    gender = serializers.CharField(
        max_length=1,
        required=False,
        default="",
        allow_blank=True,
        help_text="NHS code: 1 male, 2 female, 9 indeterminate, 0 not known.",
    )
    postcode = serializers.CharField(
        max_length=10,
        required=False,
        default="",
        allow_blank=True,
        help_text='A full postcode ("N17 6QA") or a district ("N17").',
    )


class SearchResultSerializer(serializers.Serializer[Any]):
    child_id = serializers.UUIDField()
    given_names = serializers.CharField()
    family_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    gender = serializers.CharField()
    postcode_district = serializers.CharField()
    score = serializers.FloatField()
    strength = serializers.CharField()


class RestrictedMatchSerializer(serializers.Serializer[Any]):
    authority_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()


class SearchOutputSerializer(serializers.Serializer[Any]):
    results = SearchResultSerializer(many=True)
    restricted = RestrictedMatchSerializer(many=True)
    capped = serializers.BooleanField()


class OpenInputSerializer(serializers.Serializer[dict[str, Any]]):
    """Why the record is opened. Omit ``purpose`` only when the caller's
    organisation already works with the child."""

    purpose = serializers.ChoiceField(
        choices=[p.value for p in Purpose],
        required=False,
        allow_null=True,
        default=None,
    )
    purpose_detail = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True
    )
    break_glass = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["purpose"] == Purpose.OTHER and not attrs["purpose_detail"].strip():
            raise serializers.ValidationError(
                {"purpose_detail": "Say why you need the record (purpose: other)."}
            )
        if attrs["break_glass"] and attrs["purpose"] != Purpose.CHILD_PROTECTION:
            raise serializers.ValidationError(
                {"break_glass": "Break glass is only for a child protection concern."}
            )
        return attrs


class NameSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    given_names = serializers.CharField()
    family_name = serializers.CharField()


class CarerSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    relationship = serializers.CharField()
    parental_responsibility = serializers.BooleanField()
    phone = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)


class InvolvementSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    organisation_id = serializers.IntegerField()
    organisation_name = serializers.CharField()
    service_type = serializers.CharField()
    practitioner_name = serializers.CharField()
    practitioner_role = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    is_lead_professional = serializers.BooleanField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    sensitive = serializers.BooleanField()


class WarningFlagSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    owning_organisation_name = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)


class ChildRecordSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    directory_number = serializers.CharField()
    gender = serializers.CharField()
    date_of_birth = serializers.DateField()
    names = NameSerializer(many=True)
    current_address = serializers.ListField(child=serializers.CharField())
    current_postcode = serializers.CharField(allow_null=True)
    nhs_number = serializers.CharField(allow_null=True)
    upn = serializers.CharField(allow_null=True)
    carers = CarerSerializer(many=True)
    involvements = InvolvementSerializer(many=True)
    warning_flags = WarningFlagSerializer(many=True)
    hidden_involvements = serializers.IntegerField(
        help_text="Sensitive involvements left out: no consent to share them."
    )


# Writes -------------------------------------------------------------------------

#: Organisation ids are 32-bit keys; anything larger is no organisation.
_MAX_ID = 2**31 - 1


class InvolvementRecordInputSerializer(serializers.Serializer[dict[str, Any]]):
    """The caller's own involvement with the child, as the browser form takes it.

    The caller becomes the named practitioner; the involvement is their
    organisation's."""

    organisation_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=_MAX_ID,
        help_text="Needed only when the caller is a practitioner at more than "
        "one organisation.",
    )
    service_type = serializers.ChoiceField(
        choices=list(SERVICE_LABELS.items()),
        error_messages={"invalid_choice": "Select one of the services listed."},
    )
    practitioner_role = serializers.CharField(
        max_length=100, help_text="The caller's job title, e.g. class teacher."
    )
    started_on = serializers.DateField(help_text="Today or earlier.")
    phone = serializers.CharField(
        max_length=32,
        validators=[phone_validator],
        help_text="A number other practitioners can reach the caller on.",
    )
    email = serializers.EmailField(
        max_length=254, required=False, default="", allow_blank=True
    )
    lead_professional = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The caller coordinates the support around the child. One "
        "current lead professional per child, for the services that can hold it.",
    )


class InvolvementRecordedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="The new involvement.")
    child_id = serializers.UUIDField()


class InvolvementEndInputSerializer(serializers.Serializer[dict[str, Any]]):
    ended_on = serializers.DateField(
        help_text="Today or earlier, and not before the involvement started."
    )


class InvolvementEndedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    child_id = serializers.UUIDField()
    ended_on = serializers.DateField()


class WarningFlagRaiseInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A flag in the name of the caller's organisation: who to contact
    before acting, never why."""

    kind = serializers.ChoiceField(
        choices=list(FLAG_LABELS.items()),
        error_messages={"invalid_choice": "Select one of the kinds of flag listed."},
    )
    owning_organisation_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=_MAX_ID,
        help_text="Needed only when the caller works for more than one "
        "organisation as a practitioner or data manager.",
    )
    contact_name = serializers.CharField(
        max_length=150, help_text="Who to contact: a person or a team."
    )
    contact_phone = serializers.CharField(max_length=32, validators=[phone_validator])
    contact_email = serializers.EmailField(
        max_length=254, required=False, default="", allow_blank=True
    )
    starts_on = serializers.DateField(help_text="Today or earlier.")
    ends_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When the flag lapses, if known (it may be in the future).",
    )


class WarningFlagRaisedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="The new flag.")
    child_id = serializers.UUIDField()


class WarningFlagEndInputSerializer(serializers.Serializer[dict[str, Any]]):
    ended_on = serializers.DateField(
        help_text="Today or earlier, and not before the flag started."
    )


class WarningFlagEndedSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    child_id = serializers.UUIDField()
    ended_on = serializers.DateField()
