"""Logs: one request id per request, and one JSON object per line.

``RequestIdMiddleware`` (first in MIDDLEWARE) takes the load balancer's
``X-Request-ID`` when it is a sensible token, or makes one, keeps it in a
context variable for the rest of the request, and sends it back in the
response's ``X-Request-ID``. ``RequestIdFilter`` (on the console handler) adds
it to every log record as ``request_id``, and the audit log stores the same id
(``directory.views.common.request_id_of``), so an auditor's event and an
operator's log lines can be matched.

``JsonLogFormatter`` (``CP_LOG_FORMAT=json``, the default outside
development) writes timestamp, level, logger, message and request id, plus
the ``extra`` fields a call passes, built on python-json-logger. Django's
request logger passes the request object as an extra; it is dropped, because
its text holds the query string. Nothing here filters personal data out of
messages: messages must never hold any (ids and codes only), and a test scans
every record of the test run for the test children's details
(contactpoint/tests/log_scan.py).
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

#: Header in and out: the load balancer's id, or ours.
REQUEST_ID_HEADER = "X-Request-ID"
#: What a request id from outside may look like (fits the audit log's column).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: In log lines outside any request (workers, commands).
NO_REQUEST_ID = "-"

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being handled, or "" outside a request."""
    return _request_id.get()


def request_id_choose(given: str) -> str:
    """``given`` when it is a sensible id (letters, digits, ``._-``, at most 64
    characters), else a new random one: a header never reaches the logs or the
    audit log unchecked."""
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Give every request an id, for its log lines, its audit events and the
    response's ``X-Request-ID`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_choose(request.headers.get(REQUEST_ID_HEADER, ""))
        # Kept until the response is closed (request_finished below), not
        # just until this returns: Django logs 4xx and 5xx answers after the
        # middleware has finished.
        _request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _request_id_forget(**kwargs: Any) -> None:
    _request_id.set("")


request_finished.connect(_request_id_forget, dispatch_uid="contactpoint.logs")


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or NO_REQUEST_ID
        return True


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: timestamp (UTC, ISO 8601), level, logger,
    message, request_id, then any ``extra`` fields and the exception."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # Django's request logger passes the request, whose text holds the
        # query string: never written out.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "taskName"])
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        created = datetime.fromtimestamp(record.created, tz=UTC)
        log_data["timestamp"] = created.isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        # A record that did not pass the console handler's filter still
        # gets the field.
        if log_data.get("request_id") is None:
            log_data["request_id"] = current_request_id() or NO_REQUEST_ID
