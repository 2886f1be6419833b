"""THE read gate for child data: load, decide with the policy, audit, return.

Every read of a child's record goes through a function here. Each one writes
an access event for allowed and denied attempts alike, and raises the single
``ChildRecordUnavailable`` for both "not found" and "forbidden", so nobody can
probe which children exist. ``reading`` opens one record, ``searching``
finds children, ``lookups`` serves the auditor's screens and jobs.
"""

from directory.selectors.lookups import (
    child_id_for_directory_number,
    children_with_family_name,
    directory_numbers_for,
)
from directory.selectors.reading import (
    ChildRecordUnavailable,
    child_record_get,
    match_profile_decode,
)
from directory.selectors.searching import SearchRefused, child_search

__all__ = [
    "ChildRecordUnavailable",
    "SearchRefused",
    "child_id_for_directory_number",
    "child_record_get",
    "child_search",
    "children_with_family_name",
    "directory_numbers_for",
    "match_profile_decode",
]
