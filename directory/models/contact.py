"""Who is working with the child: involvements, and consent to show sensitive ones."""

import uuid
from datetime import date

from django.db import models
from django.db.models.functions import Now


class ServiceType(models.TextChoices):
    EDUCATION = "education", "Education"
    GP = "gp", "GP"
    HEALTH_VISITING = "health_visiting", "Health visiting"
    SCHOOL_NURSING = "school_nursing", "School nursing"
    COMMUNITY_HEALTH = "community_health", "Community health"
    SOCIAL_CARE = "social_care", "Children's social care"
    EARLY_HELP = "early_help", "Early help"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    YOUTH_WORK = "youth_work", "Youth work"
    POLICE = "police", "Police"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SEXUAL_HEALTH = "sexual_health", "Sexual health"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    OTHER = "other", "Other"


#: Services whose very existence is sensitive: shown only to the providing
#: organisation unless consent is recorded (ARCHITECTURE §7).
SENSITIVE_SERVICES = frozenset(
    {ServiceType.MENTAL_HEALTH, ServiceType.SEXUAL_HEALTH, ServiceType.SUBSTANCE_MISUSE}
)


class SourceKind(models.TextChoices):
    FEED = "feed", "Data feed"
    PERSON = "person", "Recorded by a person"
    CORRECTION = "correction", "Corrected by a data manager"


class Involvement(models.Model):
    """An organisation (and named practitioner, where known) working with a child."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        "directory.Child", on_delete=models.CASCADE, related_name="involvements"
    )
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    practitioner = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    practitioner_name = models.CharField(max_length=150, blank=True)
    practitioner_role = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    service_type = models.CharField(max_length=32, choices=ServiceType.choices)
    is_lead_professional = models.BooleanField(default=False)
    sensitive = models.BooleanField(default=False)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=SourceKind.choices)
    source_reference = models.CharField(
        max_length=64, blank=True, help_text="Feed run id or recording user's id."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"
        indexes = [models.Index(fields=["child", "ended_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="involvement_ends_after_it_starts",
            ),
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(is_lead_professional=True, ended_on__isnull=True),
                name="involvement_one_current_lead_professional",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} for {self.child_id}"

    @staticmethod
    def current_on(today: date) -> models.Q:
        """Involvements not ended before ``today``: the ones the access policy
        counts, a record shows and an alert names."""
        return models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=today)


class Consent(models.Model):
    """Consent to show a sensitive involvement beyond its providing organisation."""

    class GivenBy(models.TextChoices):
        YOUNG_PERSON = "young_person", "The young person"
        PARENT = "parent", "A person with parental responsibility"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    involvement = models.ForeignKey(
        Involvement, on_delete=models.CASCADE, related_name="consents"
    )
    given_by = models.CharField(max_length=16, choices=GivenBy.choices)
    scope = models.CharField(
        max_length=200,
        default="All practitioners using the directory",
        help_text="Who the consent allows to see the involvement.",
    )
    recorded_by_id = models.UUIDField(
        null=True, blank=True, help_text="Null when a feed reported the consent."
    )
    recorded_at = models.DateTimeField(db_default=Now(), editable=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"

    def __str__(self) -> str:
        return f"Consent for {self.involvement_id}"
