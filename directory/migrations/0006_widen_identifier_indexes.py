"""Rebuild the NHS number and UPN blind-index entries at 22 bits (were 16).

The stored value of an index is its HMAC truncated to the index's bits
(docs/crypto.md §6.2), so widening an index changes every stored value: this
decrypts each child's identifiers in batches and writes their entries again.
It uses the application's crypto and index code as they are at this
migration (the keys come from the environment, never the database); should
those indexes change again, a new migration must rebuild them again rather
than edit this one. Idempotent: entries are replaced, not added.
"""

from django.db import migrations

BATCH = 2_000
CODES = (4, 5)


def rebuild(apps, schema_editor):
    from django.db.models import Q

    from contactpoint.crypto.fields import blind_index, field_cipher
    from directory.search_index import NHS_NUMBER, UPN, IndexInputs, index_terms

    Child = apps.get_model("directory", "Child")
    Entry = apps.get_model("directory", "BlindIndexEntry")
    cipher = field_cipher()
    last = None
    while True:
        batch = Child._default_manager.filter(
            Q(nhs_number__isnull=False) | Q(upn__isnull=False)
        ).order_by("id")
        if last is not None:
            batch = batch.filter(id__gt=last)
        rows = list(batch.values_list("id", "nhs_number", "upn")[:BATCH])
        if not rows:
            return
        entries = []
        for child_id, nhs_token, upn_token in rows:
            values = {}
            for column, token in (("nhs_number", nhs_token), ("upn", upn_token)):
                if token is not None:
                    values[column] = cipher.decrypt(
                        table="directory_child",
                        column=column,
                        row_id=str(child_id),
                        token=bytes(token),
                    )
            terms = index_terms(
                IndexInputs(nhs_number=values.get("nhs_number"), upn=values.get("upn"))
            )
            entries += [
                Entry(child_id=child_id, index=index.code, value=blind_index(index, t))
                for index, t in terms
                if index in (NHS_NUMBER, UPN)
            ]
        Entry._default_manager.filter(
            child_id__in=[child_id for child_id, _, _ in rows], index__in=CODES
        ).delete()
        Entry._default_manager.bulk_create(entries, ignore_conflicts=True)
        last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("directory", "0005_lifecycle_runs")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
