"""/metrics: who may read it, and what it counts."""

import random

import pytest

from accounts.roles import Role
from accounts.tests.factories import (
    LocalAuthorityFactory,
    SchoolFactory,
    actor,
)
from contactpoint.metrics import feed_rows_counted, search_counted
from directory.identifiers import make_test_nhs_number
from directory.records import SearchQuery
from directory.selectors import SearchRefused, child_search
from ingestion.models import Channel, FeedMode, FeedSource
from ingestion.services import feed_file_receive, feed_run_process

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-" + "x" * 32


@pytest.fixture
def monitoring(settings):
    """The test client's address (127.0.0.1) is the monitoring network."""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def _scrape(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return str(response.content.decode())


def test_nobody_may_read_metrics_when_nothing_is_configured(client):
    response = client.get("/metrics")

    assert response.status_code == 403
    assert b"contactpoint_" not in response.content


def test_the_monitoring_network_may_read_metrics(client, monitoring, private_redis):
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403

    text = _scrape(client)

    assert "# TYPE contactpoint_http_requests_total counter" in text


def test_an_ipv4_client_seen_through_ipv6_is_recognised(client, monitoring):
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200


def test_the_bearer_token_opens_metrics_from_anywhere(client, settings, private_redis):
    settings.METRICS_TOKEN = TOKEN

    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token")
    basic = client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    right = client.get(
        "/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )

    assert (wrong.status_code, basic.status_code, right.status_code) == (
        403,
        403,
        200,
    )


def test_requests_are_counted_by_url_name_never_by_path(
    client, monitoring, private_redis
):
    client.get("/healthz")
    client.get("/children/00000000-0000-0000-0000-000000000001/no-such-page")
    client.get("/static/no-such-file.css")

    text = _scrape(client)

    assert (
        'contactpoint_http_requests_total{method="GET",status="200",view="healthz"}'
        in text
    )
    assert (
        'contactpoint_http_requests_total{method="GET",status="404",view="unresolved"}'
        in text
    )
    assert 'view="static"' in text
    assert "00000000-0000-0000-0000-000000000001" not in text
    assert (
        'contactpoint_http_request_duration_seconds_count{method="GET",view="healthz"}'
        in text
    )


def test_searches_are_counted_by_outcome(client, monitoring, private_redis):
    school = SchoolFactory(parent_authority=LocalAuthorityFactory())
    practitioner = actor((Role.PRACTITIONER, school.pk, school.parent_authority_id))
    with pytest.raises(SearchRefused):
        child_search(actor=practitioner, query=SearchQuery(family_name="Climbié"))
    search_counted(outcome="results")
    search_counted(outcome="results")

    text = _scrape(client)

    assert 'contactpoint_searches_total{outcome="query_too_broad"} 1.0' in text
    assert 'contactpoint_searches_total{outcome="results"} 2.0' in text
    assert "Climb" not in text


def test_a_label_that_is_not_a_code_is_counted_as_other(
    client, monitoring, private_redis
):
    search_counted(outcome="Victoria Climbié")

    text = _scrape(client)

    assert 'contactpoint_searches_total{outcome="other"} 1.0' in text
    assert "Victoria" not in text


def test_feed_rows_are_counted_by_the_state_an_import_left_them_in(
    client, monitoring, private_redis
):
    school = SchoolFactory(parent_authority=LocalAuthorityFactory())
    source = FeedSource.objects.create(
        organisation=school,
        name="Pupils",
        format="csv",
        mode=FeedMode.SNAPSHOT,
        default_service_type="education",
    )
    nhs = make_test_nhs_number(random.Random(5))
    data = (
        "nhs_number,given_names,family_name,date_of_birth,gender,"
        "address_line_1,town,postcode,service_started_on\n"
        f"{nhs},Amara,Okafor,2016-04-12,F,1 High Road,London,N17 6AA,2025-09-01\n"
        f"{nhs},Amara,Okafor,2031-01-01,F,1 High Road,London,N17 6AA,2025-09-01\n"
    ).encode()
    receipt = feed_file_receive(
        source=source, data=data, channel=Channel.UPLOAD, actor=None
    )
    feed_run_process(receipt.run.pk)
    feed_rows_counted(states=["dismissed"])

    text = _scrape(client)

    assert 'contactpoint_feed_rows_total{state="applied"} 1.0' in text
    assert 'contactpoint_feed_rows_total{state="quarantined"} 1.0' in text
    assert 'contactpoint_feed_rows_total{state="dismissed"} 1.0' in text


def test_queue_length_is_read_from_the_broker_at_scrape_time(
    client, monitoring, private_redis
):
    private_redis.rpush("celery", "task-1", "task-2")
    private_redis.rpush("celery\x06\x163", "task-3")

    assert 'contactpoint_celery_queue_length{queue="celery"} 3.0' in _scrape(client)

    private_redis.delete("celery", "celery\x06\x163")

    assert 'contactpoint_celery_queue_length{queue="celery"} 0.0' in _scrape(client)


def test_no_queue_length_when_the_broker_is_not_redis(
    client, monitoring, private_redis, settings
):
    settings.CELERY_BROKER_URL = "memory://"

    text = _scrape(client)

    assert "contactpoint_metrics_redis_up 1.0" in text
    assert "contactpoint_celery_queue_length" not in text


def test_redis_down_leaves_the_redis_metrics_out_and_says_so(
    client, monitoring, settings, closed_port
):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    search_counted(outcome="results")  # lost, and logged; never raises

    text = _scrape(client)

    assert "contactpoint_metrics_redis_up 0.0" in text
    assert "contactpoint_searches_total" not in text
    assert "contactpoint_http_requests_total" in text
