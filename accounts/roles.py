"""The roles a user may hold, as a plain enum importable by pure policies."""

from enum import StrEnum


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    DATA_MANAGER = "data_manager"
    SHIELDING_OFFICER = "shielding_officer"
    ADMINISTRATOR = "administrator"
    AUDITOR = "auditor"
    FEED_SYSTEM = "feed_system"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PRACTITIONER: "Practitioner",
    Role.DATA_MANAGER: "Data manager",
    Role.SHIELDING_OFFICER: "Shielding officer",
    Role.ADMINISTRATOR: "Administrator",
    Role.AUDITOR: "Auditor",
    Role.FEED_SYSTEM: "Feed system",
}
ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]
