"""What every API error looks like, and how the schema says so.

Two shapes, whatever raised the error:

- 400: field errors, ``{"<field>": ["message", …]}``; problems with the
  request as a whole (a body that is not JSON, two fields that disagree)
  under ``non_field_errors``. The services' own ``ValidationError``s,
  keyed by argument name, come out the same way.
- every other error: ``{"detail": "message", "code": "stable_code"}``.

``api_exception_handler`` is REST framework's ``EXCEPTION_HANDLER``; views
list their errors with ``error_responses`` so the OpenAPI description says
exactly what a caller may get back. A 401 or 403 can also come from
``accounts.middleware`` (no credentials; no verified second factor), in the
same ``detail`` shape.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

NON_FIELD_ERRORS = "non_field_errors"


class ErrorSerializer(serializers.Serializer[dict[str, str]]):
    """Any error but a 400."""

    detail = serializers.CharField(help_text="What went wrong, and what to do.")
    code = serializers.CharField(
        required=False,
        help_text="A stable code (for example not_found, permission_denied, "
        "throttled, second_factor_required).",
    )


#: A 400: messages by field (``non_field_errors`` for the whole request).
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Messages by field name; non_field_errors for the request "
    "as a whole.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"date_of_birth": ["Enter a real date, like 2015-11-02."]},
}

_DEFAULTS = {
    400: "The request has mistakes: each field says what to change.",
    401: "No credentials, or credentials that are not valid: sign in, or send "
    "'Authorization: Bearer <token>'.",
    403: "The caller may not do this (or has not given a second factor).",
    404: "Nothing the caller may see has this id.",
    429: "Too many requests: wait the number of seconds in Retry-After.",
}

#: The Retry-After header of a 429.
RETRY_AFTER = OpenApiParameter(
    name="Retry-After",
    type=OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before trying again.",
)


def error_responses(*codes: int, **described: str) -> dict[int, OpenApiResponse]:
    """The errors an operation answers with: 401 and 429 always, plus
    ``codes``; ``described`` overrides a description (``e404="…"``)."""
    wanted = sorted({401, 429, *codes})
    responses: dict[int, OpenApiResponse] = {}
    for code in wanted:
        description = described.get(f"e{code}", _DEFAULTS.get(code, ""))
        body: Any = FIELD_ERRORS_SCHEMA if code == 400 else ErrorSerializer
        responses[code] = OpenApiResponse(response=body, description=description)
    return responses


def _field_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            NON_FIELD_ERRORS if field == "__all__" else field: messages
            for field, messages in error.message_dict.items()
        }
    return {NON_FIELD_ERRORS: list(error.messages)}


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_field_errors(exc))
    if isinstance(exc, exceptions.ParseError):
        return exceptions.ValidationError(
            {NON_FIELD_ERRORS: [f"The request body cannot be read: {exc.detail}"]}
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST framework's handler, with every error in one of the two shapes."""
    exc = _as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        if not isinstance(data, dict):
            data = {NON_FIELD_ERRORS: data}
        response.data = {
            field: messages if isinstance(messages, list | dict) else [messages]
            for field, messages in data.items()
        }
    else:
        response.data = {"detail": str(exc.detail), "code": str(exc.get_codes())}
    return response


def document_unsupported_media_type(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation that takes a body
    may answer 415 when the body is not of a media type it reads (DRF's
    parsers decide before the view runs), with the usual error body."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            if "415" in responses or "401" not in responses:
                continue
            responses["415"] = {
                **responses["401"],
                "description": "The body is not of a media type this operation "
                "reads (see its request body).",
            }
    return result
