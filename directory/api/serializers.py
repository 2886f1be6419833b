"""The directory API's request and response shapes (drf-spectacular reads them)."""

from typing import Any

from rest_framework import serializers

from directory.policies import Purpose


class SearchInputSerializer(serializers.Serializer[dict[str, Any]]):
    """A search, as the search page takes it. Family name plus one of date of
    birth, an age range or a postcode; the rules are directory.search's."""

    family_name = serializers.CharField(max_length=100)
    given_name = serializers.CharField(max_length=100, required=False, default="")
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
