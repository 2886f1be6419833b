"""Which feed or person set each identity field, and when."""

from django.db import models
from django.db.models.functions import Now

from contactpoint.crypto.fields import EncryptedField
from directory.models.contact import SourceKind


class Provenance(models.Model):
    """One field of one record set by one source. The latest row per field wins."""

    id = models.BigAutoField(primary_key=True)
    child = models.ForeignKey(
        "directory.Child", on_delete=models.CASCADE, related_name="provenance"
    )
    record_type = models.CharField(max_length=32, help_text="child, name, address…")
    record_id = models.UUIDField()
    field = models.CharField(max_length=64)
    source = models.CharField(max_length=16, choices=SourceKind.choices)
    source_reference = models.CharField(max_length=64)
    set_at = models.DateTimeField(db_default=Now(), editable=False)
    #: Why a data manager corrected the field (source ``correction`` only).
    reason = EncryptedField(null=True, bind_to="child_id")

    class Meta:
        indexes = [models.Index(fields=["child", "record_type", "record_id", "field"])]

    def __str__(self) -> str:
        return f"{self.record_type}.{self.field} from {self.source}"
