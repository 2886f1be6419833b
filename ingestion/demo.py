"""Demo feed sources for `manage.py seed_demo` (never for production).

One source of each format, so the data manager's workspace has something to
show: the council's social care (Children in Need census, full snapshot), its
early help team (generic CSV, with a drop folder), a school (Common Transfer
File) and the NHS trust's child health system (FHIR, sent through the API by
the demo feed system).
"""

from collections.abc import Mapping

from accounts.models import Organisation
from directory.demo_data import DEMO_PLACES
from ingestion.models import FeedFormat, FeedMode, FeedSource

#: (place, name, format, mode, default service, drop folder)
DEMO_FEEDS = (
    ("la", "Children's social care", FeedFormat.CIN, FeedMode.SNAPSHOT,
     "social_care", ""),
    ("la", "Early help team", FeedFormat.CSV, FeedMode.CHANGES, "early_help",
     "demo-early-help"),
    ("school", "Pupil records", FeedFormat.CTF, FeedMode.SNAPSHOT, "education", ""),
    ("trust", "Child health system", FeedFormat.FHIR, FeedMode.CHANGES,
     "health_visiting", ""),
)  # fmt: skip


def demo_feed_sources_ensure(
    organisations: Mapping[tuple[str, str], Organisation],
) -> list[FeedSource]:
    """Get or create the demo feed sources."""
    sources = []
    for place, name, format_code, mode, service, folder in DEMO_FEEDS:
        source, _ = FeedSource.objects.get_or_create(
            organisation=organisations[DEMO_PLACES[place]],
            name=name,
            defaults={
                "format": format_code,
                "mode": mode,
                "schedule": "Nightly, by 02:00",
                "default_service_type": service,
                "drop_folder": folder,
            },
        )
        sources.append(source)
    return sources
