"""The child and the identity data that finds them: names, addresses, carers.

Identifying values are ``EncryptedField`` tokens (see contactpoint/crypto):
the database holds no name, date of birth, address, postcode, NHS number or
UPN in clear. The default manager is named ``unaudited`` so that any read
outside the directory's selectors and services stands out in review.
"""

import uuid

from django.db import models
from django.db.models.functions import Now

from contactpoint.crypto.fields import EncryptedField


class ChildStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    MERGED = "merged", "Merged into another record"
    ARCHIVED = "archived", "Archived"


class Gender(models.TextChoices):
    # NHS Data Dictionary person stated gender codes.
    MALE = "1", "Male"
    FEMALE = "2", "Female"
    OTHER = "9", "Indeterminate"
    NOT_KNOWN = "0", "Not known"


class Child(models.Model):
    """One child or young person in the directory."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    directory_number = models.CharField(
        max_length=13,
        unique=True,
        editable=False,
        help_text="12 digits and a Damm check digit; never reused.",
    )
    status = models.CharField(
        max_length=16, choices=ChildStatus.choices, default=ChildStatus.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gender = models.CharField(
        max_length=1, choices=Gender.choices, default=Gender.NOT_KNOWN
    )
    date_of_birth = EncryptedField()
    nhs_number = EncryptedField(null=True)
    upn = EncryptedField(null=True)
    date_of_death = EncryptedField(null=True)
    #: Names, date of birth, gender and postcode districts in one token, so a
    #: search or a feed match decrypts one value per candidate.
    match_profile = EncryptedField()
    shielded = models.BooleanField(
        default=False,
        help_text="Details only for the responsible authority's shielding "
        "officers and data managers.",
    )
    responsible_authority = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: Retention (6 years after the 18th birthday, or after the 25th with this
    #: consent) is computed from the encrypted date of birth when the nightly
    #: job runs: no clear value derived from the date of birth is stored, as
    #: even a year would reveal the birth year (docs/crypto.md).
    consent_to_retain_until_25 = models.BooleanField(default=False)
    #: When the nightly retention job archived the record (status archived);
    #: purging follows 6 years later (directory/services/lifecycle.py).
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    unaudited = models.Manager()

    class Meta:
        verbose_name_plural = "children"
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"

    def __str__(self) -> str:
        return f"Child {self.directory_number}"


class NameKind(models.TextChoices):
    LEGAL = "legal", "Legal name"
    PREFERRED = "preferred", "Preferred name"
    FORMER = "former", "Former name"
    ALIAS = "alias", "Also known as"


class ChildName(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=16, choices=NameKind.choices)
    given_names = EncryptedField(bind_to="child_id")
    family_name = EncryptedField(bind_to="child_id")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.child_id}"


class Address(models.Model):
    """A dated address; exactly one per child is current."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="addresses")
    lines = EncryptedField(
        help_text="Address lines, newline-separated.", bind_to="child_id"
    )
    postcode = EncryptedField(bind_to="child_id")
    is_current = models.BooleanField(default=True)
    moved_in_on = models.DateField(null=True, blank=True)
    moved_out_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=models.Q(is_current=True),
                name="address_one_current_per_child",
            )
        ]

    def __str__(self) -> str:
        return f"Address of {self.child_id}"


class CarerRelationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent"
    GRANDPARENT = "grandparent", "Grandparent"
    OTHER_RELATIVE = "other_relative", "Other relative"
    FOSTER_CARER = "foster_carer", "Foster carer"
    SPECIAL_GUARDIAN = "special_guardian", "Special guardian"
    LOCAL_AUTHORITY = "local_authority", "Local authority (corporate parent)"
    OTHER = "other", "Other"


class Carer(models.Model):
    """A parent or carer, with how to reach them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="carers")
    name = EncryptedField(bind_to="child_id")
    relationship = models.CharField(max_length=32, choices=CarerRelationship.choices)
    parental_responsibility = models.BooleanField(default=False)
    phone = EncryptedField(null=True, bind_to="child_id")
    email = EncryptedField(null=True, bind_to="child_id")
    address = EncryptedField(null=True, bind_to="child_id")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    unaudited = models.Manager()

    class Meta:
        base_manager_name = "unaudited"
        default_manager_name = "unaudited"

    def __str__(self) -> str:
        return f"{self.get_relationship_display()} of {self.child_id}"


class BlindIndexEntry(models.Model):
    """One truncated blind-index value for one child (see directory/search_index.py).

    A child has several entries per index (hyphenated parts, former names,
    nicknames), so lookups are equality on (index, value) returning child ids.
    """

    id = models.BigAutoField(primary_key=True)
    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="index_entries"
    )
    index = models.PositiveSmallIntegerField()
    value = models.BigIntegerField()

    class Meta:
        constraints = [
            # Also the lookup index: equality on (index, value), child ids
            # read from the index alone.
            models.UniqueConstraint(
                fields=["index", "value", "child"], name="blind_index_lookup"
            )
        ]

    def __str__(self) -> str:
        return f"index {self.index} of {self.child_id}"


class PurgedChild(models.Model):
    """What remains of a purged record: its pseudonymous id and when.

    Purging deletes the child and everything held about them (encrypted
    fields, blind-index entries, provenance); the audit log refers to the
    child by this id only, so auditors can still see that the record existed
    and when it was destroyed.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    archived_at = models.DateTimeField()
    purged_at = models.DateTimeField(db_default=Now(), editable=False)

    def __str__(self) -> str:
        return f"Purged child {self.id}"
