"""What a data manager may correct, and the words for every provenance entry.

Pure: no Django, so the service, the forms, the record page, the subject
access report and its PDF share one list of correctable details and one way
of naming what a provenance row says was set.
"""

from enum import StrEnum

#: The longest reason for a correction (kept encrypted with the provenance).
REASON_MAX_LENGTH = 500


class CorrectableDetail(StrEnum):
    """A detail of the record a data manager may correct (one page each)."""

    NAME = "name"
    DATE_OF_BIRTH = "date_of_birth"
    GENDER = "gender"
    NHS_NUMBER = "nhs_number"
    UPN = "upn"
    DATE_OF_DEATH = "date_of_death"
    ADDRESS = "address"

    @property
    def label(self) -> str:
        return DETAIL_LABELS[self]

    @property
    def heading(self) -> str:
        """The correction page's heading (and its button)."""
        return DETAIL_HEADINGS[self]


DETAIL_LABELS: dict[CorrectableDetail, str] = {
    CorrectableDetail.NAME: "Legal name",
    CorrectableDetail.DATE_OF_BIRTH: "Date of birth",
    CorrectableDetail.GENDER: "Gender",
    CorrectableDetail.NHS_NUMBER: "NHS number",
    CorrectableDetail.UPN: "Unique pupil number (UPN)",
    CorrectableDetail.DATE_OF_DEATH: "Date of death",
    CorrectableDetail.ADDRESS: "Current address",
}

DETAIL_HEADINGS: dict[CorrectableDetail, str] = {
    CorrectableDetail.NAME: "Correct the legal name",
    CorrectableDetail.DATE_OF_BIRTH: "Correct the date of birth",
    CorrectableDetail.GENDER: "Correct the gender",
    CorrectableDetail.NHS_NUMBER: "Correct the NHS number",
    CorrectableDetail.UPN: "Correct the unique pupil number",
    CorrectableDetail.DATE_OF_DEATH: "Correct the date of death",
    CorrectableDetail.ADDRESS: "Correct the current address",
}

#: (Provenance.record_type, Provenance.field) in words. "*" is a whole row.
FIELD_LABELS: dict[tuple[str, str], str] = {
    ("child_record", "*"): "The whole record, when it was created",
    ("child", "date_of_birth"): "Date of birth",
    ("child", "gender"): "Gender",
    ("child", "nhs_number"): "NHS number",
    ("child", "upn"): "Unique pupil number",
    ("child", "date_of_death"): "Date of death",
    ("child_name", "name"): "Legal name (a new name)",
    ("child_name", "given_names"): "Given names of the legal name",
    ("child_name", "family_name"): "Family name of the legal name",
    ("address", "address"): "Current address (a move)",
    ("address", "lines"): "Lines of the current address",
    ("address", "postcode"): "Postcode of the current address",
    ("involvement", "*"): "An involvement, when it was recorded",
    ("involvement", "ended_on"): "The end date of an involvement",
    ("consent", "*"): "Consent to share an involvement",
    ("consent", "withdrawn_at"): "Withdrawal of consent to share",
    ("child_merge", "*"): "Another record merged into this one",
}


def field_label(record_type: str, field_name: str) -> str:
    """What a provenance row says was set, in words."""
    known = FIELD_LABELS.get((record_type, field_name))
    if known:
        return known
    what = record_type.replace("_", " ")
    if field_name == "*":
        return what.capitalize()
    return f"{what.capitalize()}: {field_name.replace('_', ' ')}"
