"""The audit API (/api/v1/audit/): auditors export the access log as JSON."""
