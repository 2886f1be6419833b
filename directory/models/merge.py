"""A merge of two records of the same child, kept so that it can be undone."""

import uuid

from django.db import models
from django.db.models.functions import Now

from contactpoint.crypto.fields import EncryptedField


class ChildMerge(models.Model):
    """``merged`` was found to be the same child as ``survivor``.

    The merged record keeps its own rows and stops being found (status
    merged, no blind-index entries); the survivor gains copies of its names
    (as aliases, former names staying former), its addresses (as past
    addresses) and carers, and takes over its involvements and flags.
    ``moved`` lists the ids of every row copied or moved, and the survivor's
    profile and identifier tokens from before are kept as they were (still
    encrypted, bound to the survivor's row), so undoing the merge restores
    both records exactly, keeping whatever was added to the survivor since.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survivor = models.ForeignKey(
        "directory.Child", on_delete=models.CASCADE, related_name="+"
    )
    merged = models.ForeignKey(
        "directory.Child", on_delete=models.CASCADE, related_name="+"
    )
    #: Why a person judged the two the same child: their words, which may name
    #: the child, so encrypted.
    reason = EncryptedField()
    merged_by_id = models.UUIDField()
    merged_at = models.DateTimeField(db_default=Now(), editable=False)
    moved = models.JSONField(default=dict)
    survivor_profile_before = models.BinaryField()
    survivor_nhs_number_before = models.BinaryField(null=True)
    survivor_upn_before = models.BinaryField(null=True)
    undone_by_id = models.UUIDField(null=True)
    undone_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-merged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merged"],
                condition=models.Q(undone_at__isnull=True),
                name="child_merge_once_while_in_force",
            )
        ]

    def __str__(self) -> str:
        return f"Merge of {self.merged_id} into {self.survivor_id}"
