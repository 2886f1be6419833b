"""Prometheus metrics (prometheus-client), served at ``/metrics``.

- Requests: ``contactpoint_http_requests_total{method, view, status}`` and
  ``contactpoint_http_request_duration_seconds{method, view}``, from
  ``RequestMetricsMiddleware``. ``view`` is the URL pattern's name (``static``
  for WhiteNoise's files, ``unresolved`` for no URL), never the path: paths
  hold record ids.
- Searches: ``contactpoint_searches_total{outcome}``, where outcome is
  ``results``, ``no_results`` or the refusal's audit reason code.
- Feed rows: ``contactpoint_feed_rows_total{state}``, each imported row once
  in the state its import left it (applied, quarantined, waiting), and each
  review decision once (linked, created, dismissed).
- Queue: ``contactpoint_celery_queue_length{queue}``, the Redis lists of the
  Celery broker, read when Prometheus scrapes.

Labels hold codes only, never personal data.

Searches and feed rows are counted in Redis (``HINCRBY``), because feed rows
are applied by workers on any machine while ``/metrics`` is served by the web
processes: every web process then reports the same, service-wide totals. A
Redis that is down loses those increments (logged), never the search or the
import. Request metrics live in each process; under gunicorn with several
workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory per host
(prometheus-client's multiprocess mode: docs/operations.md).

Access: clients in ``CP_METRICS_ALLOWED_NETWORKS`` (CIDR list), or with
``Authorization: Bearer <CP_METRICS_TOKEN>``. Nobody else, and nobody at all
when neither is set.
"""

import hmac
import logging
import os
import re
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from ipaddress import IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.multiprocess import MultiProcessCollector
from redis import RedisError

from contactpoint.redis_client import redis_for, service_redis

logger = logging.getLogger(__name__)

SEARCHES_KEY = "cp:metrics:searches"
FEED_ROWS_KEY = "cp:metrics:feed-rows"
#: A label value must look like a code; anything else is counted as "other".
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: kombu's Redis transport keeps priority levels in separate lists.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)

HTTP_REQUESTS = Counter(
    "contactpoint_http_requests",
    "HTTP requests answered, by method, URL name and status code.",
    ["method", "view", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "contactpoint_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and URL name.",
    ["method", "view"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def _code(value: str) -> str:
    return value if _CODE.match(value) else "other"


class RequestMetricsMiddleware:
    """Count and time every request (near the top of MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        method = request.method if request.method in _METHODS else "other"
        match = request.resolver_match
        view = (match.view_name if match is not None else "") or (
            "static" if request.path.startswith(settings.STATIC_URL) else "unresolved"
        )
        HTTP_REQUESTS.labels(method, view, str(response.status_code)).inc()
        HTTP_REQUEST_DURATION.labels(method, view).observe(elapsed)
        return response


# --- Service-wide counters, kept in Redis -----------------------------------


def search_counted(*, outcome: str) -> None:
    """Count one search: ``results``, ``no_results`` or the refusal's code."""
    _increment(SEARCHES_KEY, {_code(outcome): 1})


def feed_rows_counted(*, states: Iterable[str]) -> None:
    """Count feed rows by the state they were left in (one call per chunk)."""
    tally = Tally(_code(state) for state in states)
    if tally:
        _increment(FEED_ROWS_KEY, tally)


def _increment(key: str, amounts: dict[str, int]) -> None:
    try:
        with service_redis().pipeline(transaction=False) as pipe:
            for field, amount in amounts.items():
                pipe.hincrby(key, field, amount)
            pipe.execute()
    except RedisError as exc:
        logger.warning("metrics: %s not counted: %s", key, type(exc).__name__)


# --- Read when Prometheus scrapes ---------------------------------------------


class ScrapeTimeCollector:
    """The Redis-held counters and the Celery queue length, read per scrape."""

    def describe(self) -> Iterator[Metric]:
        """The metric names, without asking Redis (registering calls this)."""
        yield _up()
        yield _counter("contactpoint_searches", _SEARCHES_HELP, "outcome", {})
        yield _counter("contactpoint_feed_rows", _FEED_ROWS_HELP, "state", {})
        yield _queue_gauge()

    def collect(self) -> Iterator[Metric]:
        up = _up()
        try:
            searches = service_redis().hgetall(SEARCHES_KEY)
            feed_rows = service_redis().hgetall(FEED_ROWS_KEY)
            queues = _queue_lengths()
        except RedisError as exc:
            logger.warning("metrics: Redis did not answer: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _counter("contactpoint_searches", _SEARCHES_HELP, "outcome", searches)
        yield _counter("contactpoint_feed_rows", _FEED_ROWS_HELP, "state", feed_rows)
        if queues is not None:
            gauge = _queue_gauge()
            for queue, length in queues.items():
                gauge.add_metric([queue], length)
            yield gauge


_SEARCHES_HELP = (
    "Child searches, by outcome (results, no_results, or the refusal code)."
)
_FEED_ROWS_HELP = "Feed rows, by the state an import or a review decision left them in."


def _up() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "contactpoint_metrics_redis_up",
        "1 when Redis answered this scrape (else the Redis-held metrics "
        "are missing from it).",
    )


def _queue_gauge() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "contactpoint_celery_queue_length",
        "Tasks waiting in the Celery broker's queue.",
        labels=["queue"],
    )


def _counter(
    name: str,
    documentation: str,
    label: str,
    values: Mapping[bytes | str, bytes | str],
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(_text(k, v) for k, v in values.items()):
        family.add_metric([key], int(value))
    return family


def _text(key: bytes | str, value: bytes | str) -> tuple[str, str]:
    return (
        key.decode() if isinstance(key, bytes) else key,
        value.decode() if isinstance(value, bytes) else value,
    )


def _queue_lengths() -> dict[str, int] | None:
    """Messages waiting per queue, or None when the broker is not Redis."""
    broker_url = str(settings.CELERY_BROKER_URL)
    if urlsplit(broker_url).scheme not in {"redis", "rediss"}:
        return None
    queue = str(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"))
    keys = [
        queue if step == 0 else f"{queue}{_PRIORITY_SEPARATOR}{step}"
        for step in _PRIORITY_STEPS
    ]
    with redis_for(broker_url).pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
        lengths = pipe.execute()
    return {queue: sum(int(length) for length in lengths)}


_SCRAPE_TIME = ScrapeTimeCollector()
REGISTRY.register(_SCRAPE_TIME)


def _registry() -> CollectorRegistry:
    """The default registry, or under multiprocess mode a fresh one reading
    every process's files (prometheus-client's documented pattern)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream
    registry.register(_SCRAPE_TIME)
    return registry


# --- /metrics -----------------------------------------------------------------


def metrics_access_allowed(request: HttpRequest) -> bool:
    """The monitoring network, or the bearer token; default deny."""
    token = str(settings.METRICS_TOKEN)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if (
        token
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), token.encode())
    ):
        return True
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(
        address in ip_network(network) for network in settings.METRICS_ALLOWED_NETWORKS
    )


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format (or OpenMetrics when asked)."""
    if not metrics_access_allowed(request):
        return HttpResponse(
            "Metrics are served only to the monitoring network or with its token.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(_registry()), content_type=content_type)
