"""The feeds workspace (/feeds/, namespace "feeds"): GOV.UK pages for data managers.

Split by subject: ``sources`` (the feeds home page, uploading a file, the
CSV template), ``runs`` (the runs list, a run's page and its progress) and
``reviews`` (the review queue, deciding a row, a quarantined row).
``common`` holds the decorator every page goes through; ``display`` turns
rows and candidates into what the templates show.
"""
