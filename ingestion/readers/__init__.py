"""Feed readers, one per format: ``read_feed(format, data)`` picks the right one.

Each reader is pure (bytes in, ``ParsedFeed`` out) and refuses a whole file
with ``FeedFileRejected``; see base.py for the shared contract and
docs/feed-formats.md for what each format carries.
"""

from collections.abc import Callable

from ingestion.readers import cin, csv_feed, ctf, fhir
from ingestion.readers.base import FeedFileRejected, Limits, ParsedFeed

READERS: dict[str, Callable[[bytes, Limits], ParsedFeed]] = {
    "csv": csv_feed.read,
    "ctf": ctf.read,
    "fhir": fhir.read,
    "cin": cin.read,
}

_LOOKS_LIKE = {"<": "an XML file", "{": "a JSON (FHIR) file"}
_EXPECTS = {
    "csv": "a CSV file",
    "ctf": "a Common Transfer File (XML)",
    "fhir": "a FHIR Bundle (JSON)",
    "cin": "a Children in Need census file (XML)",
}


def read_feed(
    format_code: str, data: bytes, limits: Limits | None = None
) -> ParsedFeed:
    """The rows of ``data`` read as ``format_code``, or FeedFileRejected."""
    first = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")
    if format_code == "csv" and first in _LOOKS_LIKE:
        raise FeedFileRejected(
            "wrong_format",
            f"This looks like {_LOOKS_LIKE[first]}, but this feed expects "
            f"{_EXPECTS['csv']}. Check that you chose the right file or feed.",
        )
    if format_code in {"ctf", "cin"} and first and first != "<":
        raise FeedFileRejected(
            "wrong_format",
            f"This does not look like an XML file, but this feed expects "
            f"{_EXPECTS[format_code]}. Check that you chose the right file or feed.",
        )
    if format_code == "fhir" and first and first != "{":
        raise FeedFileRejected(
            "wrong_format",
            "This does not look like a JSON file, but this feed expects a FHIR "
            "Bundle in JSON. Check that you chose the right file or feed.",
        )
    return READERS[format_code](data, limits or Limits())


__all__ = ["READERS", "FeedFileRejected", "Limits", "ParsedFeed", "read_feed"]
