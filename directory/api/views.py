"""The directory's API: what the practitioner's pages do, for integrating
systems, through the same selectors (the audited gate), services and policy.

People call it with their signed-in, second-factor session (the middleware
refuses a session without one); feed systems' tokens authenticate but the
policy gives them no child data and no changes. Search terms travel in the
POST body, never the URL. A missing record and a forbidden one answer the
same 404, and so do another organisation's involvements and flags.
"""

from dataclasses import asdict
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.actors import api_actor, api_fresh_second_factor_check
from accounts.api.errors import RETRY_AFTER, error_responses
from directory.api.serializers import (
    ChildRecordSerializer,
    InvolvementEndedSerializer,
    InvolvementEndInputSerializer,
    InvolvementRecordedSerializer,
    InvolvementRecordInputSerializer,
    OpenInputSerializer,
    SearchInputSerializer,
    SearchOutputSerializer,
    WarningFlagEndedSerializer,
    WarningFlagEndInputSerializer,
    WarningFlagRaisedSerializer,
    WarningFlagRaiseInputSerializer,
)
from directory.policies import BROKE_GLASS, Purpose
from directory.records import SearchQuery
from directory.selectors import (
    ChildRecordUnavailable,
    SearchRefused,
    child_record_get,
    child_search,
)
from directory.services.flags import (
    WarningFlagRefused,
    warning_flag_end,
    warning_flag_raise,
)
from directory.services.involvements import (
    InvolvementRefused,
    involvement_end,
    involvement_record,
)
from directory.services.refusals import RecordChangeRefused
from directory.tasks import break_glass_notify_on_commit
from directory.views.common import request_id_of

TAGS = ["Children"]
NOT_FOUND = "No record you can open has this id."


def _problems_as_errors(problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, message in problems:
        key = "non_field_errors" if field in ("", "__all__") else field
        errors.setdefault(key, []).append(message)
    return errors


def _refusal(refusal: RecordChangeRefused, missing: str) -> NotFound | PermissionDenied:
    """404 for what the caller may not see (alike missing), else 403."""
    if refusal.unavailable:
        return NotFound(missing)
    return PermissionDenied(refusal.message)


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    given = serializer_class(data=request.data)
    given.is_valid(raise_exception=True)
    data: dict[str, Any] = given.validated_data
    return data


class _JsonApi(APIView):
    """Takes JSON bodies only."""

    parser_classes = [JSONParser]


class ChildSearchApi(_JsonApi):
    throttle_scope = "search"

    @extend_schema(
        operation_id="children_search",
        tags=TAGS,
        request=SearchInputSerializer,
        responses={
            200: SearchOutputSerializer,
            **error_responses(
                400,
                403,
                e400="The search is invalid or too broad: each field says what "
                "to add or change.",
                e403="The caller may not search (no role that reads records).",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="Find a child",
        description=(
            "Ranked candidates showing only name, date of birth, gender and "
            "postcode district; shielded children appear only as who to contact. "
            "Every search is audited with its terms (encrypted) and results."
        ),
    )
    def post(self, request: Request) -> Response:
        query = SearchQuery(**_valid(SearchInputSerializer, request))
        try:  # child_search validates the query too, and audits a refusal
            outcome = child_search(
                actor=api_actor(request),
                query=query,
                request_id=request_id_of(request._request),
            )
        except SearchRefused as refused:
            if refused.problems:
                raise ValidationError(_problems_as_errors(refused.problems)) from None
            raise PermissionDenied("You may not search the directory.") from None
        return Response(SearchOutputSerializer(asdict(outcome)).data)


class ChildOpenApi(_JsonApi):
    @extend_schema(
        operation_id="child_record_open",
        tags=TAGS,
        request=OpenInputSerializer,
        responses={
            200: ChildRecordSerializer,
            **error_responses(
                400,
                403,
                404,
                e400="The purpose is missing its words, or break glass without "
                "a child protection purpose.",
                e403="Break glass needs a second factor given in the last 5 "
                "minutes (code fresh_second_factor_required).",
                e404="No such record, or not one the caller may open (a "
                "shielded record, or no purpose given without a relationship).",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="Open a child's record, saying why",
        description=(
            "The same gate as the record page: audited, allowed or not. Omit "
            "the purpose only when the caller has recorded an involvement with "
            "the child. Breaking glass (child protection only) notifies the "
            "responsible authority and the auditors at once."
        ),
    )
    def post(self, request: Request, child_id: UUID) -> Response:
        data = _valid(OpenInputSerializer, request)
        if data["break_glass"]:
            api_fresh_second_factor_check(request)
        purpose = Purpose(data["purpose"]) if data["purpose"] else None
        actor = api_actor(request)
        try:
            record = child_record_get(
                actor=actor,
                child_id=child_id,
                purpose=purpose,
                purpose_detail=data["purpose_detail"],
                break_glass=data["break_glass"],
                request_id=request_id_of(request._request),
            )
        except ChildRecordUnavailable:
            raise NotFound(
                f"{NOT_FOUND} If you have not said why you need it, send a purpose."
            ) from None
        if record.access_reason == BROKE_GLASS:
            break_glass_notify_on_commit(child_id, actor.user_id)
        return Response(ChildRecordSerializer(asdict(record)).data, status.HTTP_200_OK)


class InvolvementRecordApi(_JsonApi):
    @extend_schema(
        operation_id="involvement_record",
        tags=TAGS,
        request=InvolvementRecordInputSerializer,
        responses={
            201: InvolvementRecordedSerializer,
            **error_responses(
                400,
                403,
                404,
                e403="Only practitioners record involvements, and only their "
                "own organisation's.",
                e404="No such record, or not one the caller may open.",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="Record that you work with a child",
        description=(
            "The caller becomes the child's named practitioner for their "
            "organisation, so other practitioners can reach them, and need not "
            "state a purpose to open the record again. Audited before it is "
            "made."
        ),
    )
    def post(self, request: Request, child_id: UUID) -> Response:
        data = _valid(InvolvementRecordInputSerializer, request)
        try:
            involvement_id = involvement_record(
                actor=api_actor(request), child_id=child_id, **data
            )
        except InvolvementRefused as refusal:
            raise _refusal(refusal, NOT_FOUND) from None
        return Response(
            InvolvementRecordedSerializer(
                {"id": involvement_id, "child_id": child_id}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class InvolvementEndApi(_JsonApi):
    @extend_schema(
        operation_id="involvement_end",
        tags=TAGS,
        request=InvolvementEndInputSerializer,
        responses={
            200: InvolvementEndedSerializer,
            **error_responses(
                400,
                403,
                404,
                e403="Only practitioners end involvements.",
                e404="No such involvement of this child, or not one of the "
                "caller's organisation.",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="End your organisation's involvement with a child",
    )
    def post(self, request: Request, child_id: UUID, involvement_id: UUID) -> Response:
        data = _valid(InvolvementEndInputSerializer, request)
        try:
            involvement_end(
                actor=api_actor(request),
                child_id=child_id,
                involvement_id=involvement_id,
                ended_on=data["ended_on"],
            )
        except InvolvementRefused as refusal:
            raise _refusal(refusal, "No involvement you can end has this id.") from None
        return Response(
            InvolvementEndedSerializer(
                {"id": involvement_id, "child_id": child_id, **data}
            ).data
        )


class WarningFlagRaiseApi(_JsonApi):
    @extend_schema(
        operation_id="warning_flag_raise",
        tags=TAGS,
        request=WarningFlagRaiseInputSerializer,
        responses={
            201: WarningFlagRaisedSerializer,
            **error_responses(
                400,
                403,
                404,
                e403="Only practitioners and data managers raise flags, and "
                "only in their own organisation's name.",
                e404="No such record, or not one the caller may open.",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="Raise a warning flag on a child",
        description=(
            "Tells every reader of the record to contact the caller's "
            "organisation before acting. Audited before it is made; the access "
            "log does not name the kind of flag."
        ),
    )
    def post(self, request: Request, child_id: UUID) -> Response:
        data = _valid(WarningFlagRaiseInputSerializer, request)
        try:
            flag_id = warning_flag_raise(
                actor=api_actor(request), child_id=child_id, **data
            )
        except WarningFlagRefused as refusal:
            raise _refusal(refusal, NOT_FOUND) from None
        return Response(
            WarningFlagRaisedSerializer({"id": flag_id, "child_id": child_id}).data,
            status=status.HTTP_201_CREATED,
        )


class WarningFlagEndApi(_JsonApi):
    @extend_schema(
        operation_id="warning_flag_end",
        tags=TAGS,
        request=WarningFlagEndInputSerializer,
        responses={
            200: WarningFlagEndedSerializer,
            **error_responses(
                400,
                403,
                404,
                e403="Only practitioners and data managers end flags.",
                e404="No such flag on this child, or not one the caller's "
                "organisation owns.",
            ),
        },
        parameters=[RETRY_AFTER],
        summary="End a warning flag your organisation owns",
    )
    def post(self, request: Request, child_id: UUID, flag_id: UUID) -> Response:
        data = _valid(WarningFlagEndInputSerializer, request)
        try:
            warning_flag_end(
                actor=api_actor(request),
                child_id=child_id,
                flag_id=flag_id,
                ended_on=data["ended_on"],
            )
        except WarningFlagRefused as refusal:
            raise _refusal(refusal, "No flag you can end has this id.") from None
        return Response(
            WarningFlagEndedSerializer(
                {"id": flag_id, "child_id": child_id, **data}
            ).data
        )
