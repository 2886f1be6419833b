"""The directory's API: the search and the record read of the browser pages,
through the same selectors (the audited gate) and the same policy.

Practitioners call it with their signed-in, second-factor session; feed
systems' tokens authenticate but the policy gives them no child data.
Terms travel in the POST body, never the URL. A missing record and a
forbidden one answer the same 404.
"""

from dataclasses import asdict
from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.actors import api_actor
from directory.api.serializers import (
    ChildRecordSerializer,
    OpenInputSerializer,
    SearchInputSerializer,
    SearchOutputSerializer,
)
from directory.policies import BROKE_GLASS, Purpose
from directory.records import SearchQuery
from directory.selectors import (
    ChildRecordUnavailable,
    SearchRefused,
    child_record_get,
    child_search,
)
from directory.tasks import break_glass_notify_on_commit


def _problems_as_errors(problems: list[tuple[str, str]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, message in problems:
        key = "non_field_errors" if field in ("", "__all__") else field
        errors.setdefault(key, []).append(message)
    return errors


class ChildSearchApi(APIView):
    @extend_schema(
        request=SearchInputSerializer,
        responses={
            200: SearchOutputSerializer,
            400: OpenApiResponse(description="The search is invalid or too broad."),
            403: OpenApiResponse(description="The caller may not search."),
        },
        summary="Find a child",
        description=(
            "Ranked candidates showing only name, date of birth, gender and "
            "postcode district; shielded children appear only as who to contact. "
            "Every search is audited with its terms (encrypted) and results."
        ),
    )
    def post(self, request: Request) -> Response:
        given = SearchInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        query = SearchQuery(**given.validated_data)
        try:  # child_search validates the query too, and audits a refusal
            outcome = child_search(actor=api_actor(request), query=query)
        except SearchRefused as refused:
            if refused.problems:
                raise ValidationError(_problems_as_errors(refused.problems)) from None
            raise PermissionDenied("You may not search the directory.") from None
        return Response(SearchOutputSerializer(asdict(outcome)).data)


class ChildOpenApi(APIView):
    @extend_schema(
        request=OpenInputSerializer,
        responses={
            200: ChildRecordSerializer,
            400: OpenApiResponse(description="The purpose is missing or invalid."),
            404: OpenApiResponse(
                description="No such record, or not one the caller may see."
            ),
        },
        summary="Open a child's record, saying why",
    )
    def post(self, request: Request, child_id: UUID) -> Response:
        given = OpenInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data: dict[str, Any] = given.validated_data
        purpose = Purpose(data["purpose"]) if data["purpose"] else None
        actor = api_actor(request)
        try:
            record = child_record_get(
                actor=actor,
                child_id=child_id,
                purpose=purpose,
                purpose_detail=data["purpose_detail"],
                break_glass=data["break_glass"],
            )
        except ChildRecordUnavailable:
            raise NotFound(
                "No record you can open has this id. If you have not said why you "
                "need it, send a purpose."
            ) from None
        if record.access_reason == BROKE_GLASS:
            break_glass_notify_on_commit(child_id, actor.user_id)
        return Response(ChildRecordSerializer(asdict(record)).data, status.HTTP_200_OK)
