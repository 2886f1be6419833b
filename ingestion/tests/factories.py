"""Factories for feed sources, runs and rows.

Runs with real rows come from the services (``feed_file_receive`` then
``feed_run_process``); these factories make the plain rows that lists and
counters need without importing a file.
"""

import factory

from accounts.tests.factories import SchoolFactory
from ingestion.models import (
    Channel,
    FeedFormat,
    FeedMode,
    FeedRow,
    FeedRun,
    FeedSource,
    RowState,
    RunStatus,
)


class FeedSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedSource

    organisation = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Pupil feed {n}")
    format = FeedFormat.CSV
    mode = FeedMode.CHANGES
    schedule = "Nightly at 2am"
    default_service_type = "education"


class FeedRunFactory(factory.django.DjangoModelFactory):
    """A run with no file: give it the counters a test needs."""

    class Meta:
        model = FeedRun

    source = factory.SubFactory(FeedSourceFactory)
    channel = Channel.UPLOAD
    status = RunStatus.COMPLETED


class FeedRowFactory(factory.django.DjangoModelFactory):
    """A quarantined row with one problem and no payload."""

    class Meta:
        model = FeedRow

    run = factory.SubFactory(FeedRunFactory)
    position = factory.Sequence(lambda n: n + 1)
    reference = factory.LazyAttribute(lambda row: f"line {row.position + 1}")
    state = RowState.QUARANTINED
    problems = factory.LazyFunction(
        lambda: [
            {
                "field": "nhs_number",
                "code": "nhs_number_check_digit",
                "message": "The NHS number's check digit is wrong.",
            }
        ]
    )


#: The CSV columns the tests' feeds use (a subset of csv_feed.TEMPLATE_HEADER).
CSV_HEADER = (
    "nhs_number,given_names,family_name,date_of_birth,gender,"
    "address_line_1,town,postcode,service_started_on"
)
#: An NHS number whose check digit is wrong.
BAD_NHS_NUMBER = "9434765918"


def csv_feed(*rows: str) -> bytes:
    """A CSV feed file: the heading row, then ``rows``."""
    return ("\r\n".join((CSV_HEADER, *rows)) + "\r\n").encode()


def csv_row(
    *,
    given: str,
    family: str,
    born: str,
    nhs_number: str = "",
    gender: str = "F",
    postcode: str = "N17 6AA",
) -> str:
    """One child's row under ``CSV_HEADER``."""
    return (
        f"{nhs_number},{given},{family},{born},{gender},1 High Road,London,"
        f"{postcode},2025-09-01"
    )
