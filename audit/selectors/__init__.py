"""Reads for the auditor's workspace (/audit/): events, histories, findings.

Every function takes the acting Actor and refuses anyone but a verified
auditor (``audit_workspace_check``). Lists are decorated in bulk: one query
each for the people, organisations and directory numbers on a page, never
one per row. Encrypted columns (purpose detail, query terms, result ids) are
decrypted only by ``child_history``, which is itself audited.

``workspace`` holds the access rule and the event rows; ``events`` the
events list, export and a child's history; ``findings`` the anomaly
findings, the news list and the log's integrity.
"""

from audit.selectors.events import (
    EVENTS_PER_PAGE,
    EXPORT_MAX_ROWS,
    HISTORY_ACTIONS,
    EventExport,
    EventFilters,
    ExportTooLarge,
    child_events,
    child_history,
    events_export,
    events_page,
)
from audit.selectors.findings import (
    FindingDetail,
    FindingRow,
    IntegrityStatus,
    NewsListRow,
    finding_detail,
    findings_page,
    integrity_status,
    news_list,
)
from audit.selectors.workspace import (
    PURPOSE_LABELS,
    EventRow,
    audit_workspace_check,
    decide_audit_workspace,
    event_rows,
    purpose_label,
)

__all__ = [
    "EVENTS_PER_PAGE",
    "EXPORT_MAX_ROWS",
    "HISTORY_ACTIONS",
    "PURPOSE_LABELS",
    "EventExport",
    "EventFilters",
    "EventRow",
    "ExportTooLarge",
    "FindingDetail",
    "FindingRow",
    "IntegrityStatus",
    "NewsListRow",
    "audit_workspace_check",
    "child_events",
    "child_history",
    "decide_audit_workspace",
    "event_rows",
    "events_export",
    "events_page",
    "finding_detail",
    "findings_page",
    "integrity_status",
    "news_list",
    "purpose_label",
]
