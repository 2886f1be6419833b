"""One request id per request, through the middleware stack into the logs and
the audit log; and the heartbeat's schedule."""

import io
import json
import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from contactpoint.celery import app
from contactpoint.logs import (
    JsonLogFormatter,
    RequestIdFilter,
    RequestIdMiddleware,
    current_request_id,
)
from contactpoint.tasks import worker_heartbeat_task
from directory.views.common import request_id_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_log_lines():
    """JSON lines Django's request logger writes, as configured for production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.fixture
def json_lines(request_log_lines):
    return logging.getLogger("django.request"), request_log_lines


def test_log_lines_within_a_request_carry_its_id(json_lines):
    logger, lines = json_lines

    def view(request: HttpRequest) -> HttpResponse:
        logger.info("answering")
        return HttpResponse(request_id_of(request))

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="lb-1234.abc_DEF")
    response = RequestIdMiddleware(view)(request)
    response.close()  # as the server does: the id is forgotten

    assert current_request_id() == ""
    assert response["X-Request-ID"] == "lb-1234.abc_DEF"
    assert response.content == b"lb-1234.abc_DEF"  # the audit log's id too
    assert lines()[0]["request_id"] == "lb-1234.abc_DEF"


def test_each_request_without_a_header_gets_a_new_id():
    seen = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(current_request_id())
        return HttpResponse()

    middleware = RequestIdMiddleware(view)
    first = middleware(RequestFactory().get("/"))
    first.close()
    second = middleware(RequestFactory().get("/"))
    second.close()

    assert seen == [first["X-Request-ID"], second["X-Request-ID"]]
    assert seen[0] != seen[1]


def test_the_not_found_line_carries_the_request_id_sent(client, request_log_lines):
    response = client.get(
        "/no-such-page/?ref=query-string-marker", HTTP_X_REQUEST_ID="lb-77"
    )

    (line,) = request_log_lines()
    assert response["X-Request-ID"] == "lb-77"
    assert (line["level"], line["message"]) == ("WARNING", "Not Found: /no-such-page/")
    assert line["request_id"] == "lb-77"
    assert line["status_code"] == 404
    assert "query-string-marker" not in json.dumps(line)


def test_an_id_is_made_when_none_is_sent_and_forgotten_afterwards(
    client, request_log_lines
):
    response = client.get("/no-such-page/")
    logging.getLogger("django.request").warning("after the request")

    first, after = request_log_lines()
    assert first["request_id"] == response["X-Request-ID"]
    assert len(first["request_id"]) == 32
    assert after["request_id"] == "-"


def test_the_worker_heartbeat_is_scheduled_every_minute_and_never_piles_up():
    entry = app.conf.beat_schedule["worker-heartbeat"]

    assert entry["task"] == worker_heartbeat_task.name
    assert str(entry["schedule"]) == "<crontab: * * * * * (m/h/dM/MY/d)>"
    assert entry["options"] == {"expires": 60}
