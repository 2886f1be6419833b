"""The feeds API (/api/v1/feeds/): feed systems send files and follow runs."""
