"""The feeds API: a feed system sends a file for its organisation's source
and follows the run that imports it.

Feed systems call it with their bearer token (``Authorization: Bearer
<token>``). Sending needs ``decide_feed_api_upload``: a refusal is audited
(``feed_source_for_upload``) and answers 403 for a caller that is no feed
system, 404 for a source that is not the caller's (the same as one that
does not exist). A run's status is for the feed system of its source or a
data manager who manages it; it holds counters only, never child data.
"""

from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.actors import api_actor
from accounts.api.errors import RETRY_AFTER, error_responses
from directory.views.common import request_id_of
from ingestion.api.serializers import (
    FileUploadSerializer,
    ReceiptSerializer,
    RefusedSerializer,
    RunStatusSerializer,
)
from ingestion.models import Channel, FeedRun
from ingestion.selectors import (
    FeedUnavailable,
    feed_run_status_get,
    feed_source_for_upload,
)
from ingestion.services import feed_file_receive

#: Policy reasons that say "not you at all" (403); any other refusal is a 404.
FORBIDDEN_REASONS = frozenset({"role_not_permitted", "second_factor_missing"})


def _status_url(request: Request, run: FeedRun) -> str:
    return request.build_absolute_uri(reverse("feeds-api:run", args=[run.pk]))


class FeedFileUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="feed_file_send",
        tags=["Feeds"],
        parameters=[RETRY_AFTER],
        request={"multipart/form-data": FileUploadSerializer},
        responses={
            202: ReceiptSerializer,
            200: OpenApiResponse(
                response=ReceiptSerializer,
                description="This file was received before (duplicate: true); "
                "nothing is imported again.",
            ),
            **error_responses(
                400,
                403,
                404,
                e400="No file, or an empty one.",
                e403="The caller is not a feed system.",
                e404="No such source, or not one of the caller's organisation.",
            ),
            413: OpenApiResponse(
                response=RefusedSerializer,
                description="The file is larger than the service accepts; "
                "split it and send each part.",
            ),
        },
        summary="Send a feed file",
        description=(
            "Stores the file (encrypted) and queues its import; follow it at "
            "status_url. A file already received for the source is recognised "
            "by its SHA-256 and not imported again. Every attempt is audited."
        ),
    )
    def post(self, request: Request, source_id: int) -> Response:
        actor = api_actor(request)
        request_id = request_id_of(request._request)
        try:
            source = feed_source_for_upload(
                actor=actor,
                source_id=source_id,
                channel=Channel.API,
                request_id=request_id,
            )
        except FeedUnavailable as refused:
            if refused.reason in FORBIDDEN_REASONS:
                raise PermissionDenied(
                    "Only feed systems can send feed files."
                ) from None
            raise NotFound("No feed source of your organisation has this id.") from None
        given = FileUploadSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload: UploadedFile = given.validated_data["file"]
        # One byte past the limit is enough for the service to refuse the
        # file as too large, without reading all of it into memory.
        receipt = feed_file_receive(
            source=source,
            data=upload.read(settings.FEED_MAX_BYTES + 1),
            channel=Channel.API,
            actor=actor,
            request_id=request_id,
        )
        run = receipt.run
        if run.refusal_code == "too_large" and not receipt.duplicate:
            return Response(
                RefusedSerializer(
                    {
                        "detail": run.refusal_message,
                        "code": run.refusal_code,
                        "run": run.pk,
                        "status_url": _status_url(request, run),
                    }
                ).data,
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        answer = status.HTTP_200_OK if receipt.duplicate else status.HTTP_202_ACCEPTED
        return Response(
            ReceiptSerializer(
                {
                    "run": run.pk,
                    "status": run.status,
                    "status_url": _status_url(request, run),
                    "duplicate": receipt.duplicate,
                }
            ).data,
            status=answer,
        )


class FeedRunStatusApi(APIView):
    @extend_schema(
        operation_id="feed_run_get",
        tags=["Feeds"],
        parameters=[RETRY_AFTER],
        responses={
            200: RunStatusSerializer,
            **error_responses(
                404, e404="No such run, or not one the caller may follow."
            ),
        },
        summary="Follow a feed run",
        description="The run's status and counters. Rows are imported in "
        "chunks, so the counters grow while it runs.",
    )
    def get(self, request: Request, run_id: UUID) -> Response:
        try:
            run = feed_run_status_get(actor=api_actor(request), run_id=run_id)
        except FeedUnavailable:
            raise NotFound("No feed run you may follow has this id.") from None
        return Response(RunStatusSerializer(run).data)
