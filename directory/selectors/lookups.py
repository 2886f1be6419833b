"""Look-ups by id and directory number for the auditor's screens and jobs."""

from collections.abc import Collection
from uuid import UUID

from audit.models import AccessAction
from audit.services import access_event_record
from contactpoint.crypto.fields import unseal
from contactpoint.crypto.normalise import fold
from directory.models import (
    Carer,
    Child,
    ChildName,
)


def child_id_for_directory_number(number: str) -> UUID | None:
    """The id of the child with directory number ``number``, or None.

    For the auditor's screens, which look children up by number. A directory
    number is not personal data and nothing of the record is read, so this
    lookup is not audited itself: the caller audits what it then shows.
    ``number`` is compared exactly (13 digits, as normalised by
    ``directory.identifiers.normalise_directory_number``); merged and archived
    children are found too, since their history still matters.
    """
    found: UUID | None = (
        Child.unaudited.filter(directory_number=number)
        .values_list("id", flat=True)
        .first()
    )
    return found


def directory_numbers_for(child_ids: Collection[UUID]) -> dict[UUID, str]:
    """Directory numbers of the children ``child_ids``, in one query.

    Ids of children that no longer exist are left out of the answer.
    Directory numbers are not personal data, so this is not audited.
    """
    if not child_ids:
        return {}
    return dict(
        Child.unaudited.filter(pk__in=list(child_ids)).values_list(
            "id", "directory_number"
        )
    )


def children_with_family_name(
    *, child_ids: Collection[UUID], family_name: str
) -> set[UUID]:
    """Those of ``child_ids`` with ``family_name`` in their family: for the
    nightly anomaly scan (audit/reports.py), which has no actor.

    A child matches when the family name of any of their names (legal,
    preferred, former, alias), or of any carer, equals ``family_name`` once
    both are folded (contactpoint/crypto/normalise.py: Climbié = Climbie,
    O'Brien = OBrien, Smith-Jones = "smith jones"). A carer holds one name,
    so the carer's family name is taken as the end of it: "Marie-Thérèse
    Kouao" matches "Kouao", and "Ann Smith-Jones" matches "Jones" as well as
    "Smith-Jones" (a finding is for a person to judge, so the wider match is
    kept).

    The decrypted names never leave this function: only the matching ids do,
    and the one access event written says how many children were checked and
    matched. With nothing to check, nothing is read and nothing is recorded.

    Users hold no home address in this system, so "children at the user's
    address" cannot be checked until user addresses are held.
    """
    wanted = fold(family_name)
    ids = set(child_ids)
    if not wanted or not ids:
        return set()
    matched = {
        name.child_id
        for name in ChildName.unaudited.filter(child_id__in=ids).only(
            "id", "child_id", "family_name"
        )
        if fold(unseal(name, "family_name") or "") == wanted
    }
    matched |= {
        carer.child_id
        for carer in Carer.unaudited.filter(child_id__in=ids - matched).only(
            "id", "child_id", "name"
        )
        if f" {fold(unseal(carer, 'name') or '')}".endswith(f" {wanted}")
    }
    access_event_record(
        actor=None,
        action=AccessAction.ANOMALY_SCAN,
        allowed=True,
        reason="surname_check",
        detail=(
            f"Compared the family names of {len(ids)} children with one "
            f"surname: {len(matched)} matched."
        ),
    )
    return matched
