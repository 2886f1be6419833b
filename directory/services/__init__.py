"""Writes to child data. Each service validates, writes in one transaction, and
records its provenance; reads go through directory.selectors only."""
