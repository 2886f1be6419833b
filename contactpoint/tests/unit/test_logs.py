"""JSON log lines, and which request ids are taken from outside."""

import io
import json
import logging

import pytest
from django.test import RequestFactory

from contactpoint.logs import JsonLogFormatter, RequestIdFilter, request_id_choose


@pytest.fixture
def json_lines():
    """A logger writing through the configured filter and formatter to a
    buffer; the JSON objects it wrote."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("contactpoint.tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_a_record_is_one_json_object_with_the_agreed_fields(json_lines):
    logger, lines = json_lines

    logger.info("feed run %s: %d rows committed", "r-1", 3, extra={"rows": 3})

    (line,) = lines()
    assert list(line)[:5] == ["timestamp", "level", "logger", "message", "request_id"]
    assert line["timestamp"].endswith("+00:00")
    assert (line["level"], line["logger"]) == ("INFO", "contactpoint.tests.json")
    assert line["message"] == "feed run r-1: 3 rows committed"
    assert line["request_id"] == "-"
    assert line["rows"] == 3


def test_the_request_object_django_logs_with_is_left_out(json_lines):
    logger, lines = json_lines
    request = RequestFactory().get("/children/?ref=query-string-marker")

    logger.warning("Not Found: %s", request.path, extra={"request": request})

    (line,) = lines()
    assert "request" not in line
    assert "query-string-marker" not in json.dumps(line)


def test_an_exception_is_written_with_its_traceback(json_lines):
    logger, lines = json_lines

    try:
        raise ValueError("broken")
    except ValueError:
        logger.exception("import failed")

    (line,) = lines()
    assert "ValueError: broken" in line["exc_info"]


@pytest.mark.parametrize(
    "given", ["", "has spaces", "x" * 65, "semi;colon", "new\nline", "é"]
)
def test_a_header_that_is_not_a_sensible_id_is_replaced(given):
    chosen = request_id_choose(given)

    assert chosen != given
    assert len(chosen) == 32
    assert chosen.isalnum()
