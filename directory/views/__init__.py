"""The practitioner's pages (/children/, namespace "directory"): GOV.UK pages.

Split by subject: ``search`` (find a child), ``records`` (the purpose page,
the record, break glass) and ``involvements`` (record and end one's own
involvement). ``common`` holds what every page shares: the decorator (signed
in, never cached, the Actor), request ids and the purposes granted in this
session. Views stay thin: parse a form, call one selector or service, render.
"""
