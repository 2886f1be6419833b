"""Warning flags: who to contact before acting, never the case notes behind them."""

import uuid
from datetime import date

from django.db import models
from django.db.models.functions import Now


class FlagKind(models.TextChoices):
    CHILD_PROTECTION_PLAN = "child_protection_plan", "Child protection plan"
    LOOKED_AFTER = "looked_after", "Looked after child"
    EARLY_HELP_ASSESSMENT = "early_help_assessment", "Early help assessment (CAF)"
    CONTACT_SOCIAL_CARE = (
        "contact_social_care",
        "Contact children's social care before acting",
    )
    CHILD_IN_NEED = "child_in_need", "Child in need plan"
    MISSING_EDUCATION = "missing_education", "Child missing education"


class WarningFlag(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        "directory.Child", on_delete=models.CASCADE, related_name="warning_flags"
    )
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    owning_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField(max_length=150)
    contact_phone = models.CharField(max_length=32)
    contact_email = models.EmailField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    raised_by_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"
        indexes = [models.Index(fields=["child", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="warning_flag_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.child_id}"

    @staticmethod
    def current_on(today: date) -> models.Q:
        """Flags not ended before ``today``: the ones a record shows and an
        alert names."""
        return models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=today)
