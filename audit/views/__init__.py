"""The auditor's workspace (/audit/, namespace "audit"): GOV.UK pages.

Split by subject: ``events`` (the events list, its CSV export, a child's
history), ``findings`` (anomaly findings and the news list) and
``integrity`` (checkpoints and verification). ``common`` holds the
decorator every page goes through: signed in, a verified auditor, never cached.
"""
