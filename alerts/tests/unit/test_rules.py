"""The alert rules as plain functions: who is told, and who is not."""

import uuid

import pytest

from alerts.rules import (
    AlertReason,
    FlagContact,
    Person,
    Recipient,
    break_glass_recipients,
    involvement_added_recipients,
    purpose_label,
    record_opened_recipients,
)

FLAG_ORG = 10
VIEWER_ORG = 20
VIEWER = uuid.uuid4()
LEAD = Person(uuid.uuid4(), "lead@school.example.org")
CONTACT = Person(uuid.uuid4(), "Contact@Council.example.org")


COUNCIL_FLAG = FlagContact(FLAG_ORG, "contact@council.example.org", CONTACT)


def _opened(
    *,
    flags=(COUNCIL_FLAG,),
    lead=LEAD,
    viewer=VIEWER,
    viewer_orgs=frozenset({VIEWER_ORG}),
):
    return record_opened_recipients(
        viewer_id=viewer,
        viewer_organisation_ids=viewer_orgs,
        flags=list(flags),
        lead_professional=lead,
    )


def test_an_outsider_opening_tells_the_lead_professional_and_the_flag_contact():
    assert _opened() == [
        Recipient(AlertReason.LEAD_PROFESSIONAL, LEAD.user_id, LEAD.email),
        Recipient(
            AlertReason.FLAG_CONTACT, CONTACT.user_id, "contact@council.example.org"
        ),
    ]


def test_a_contact_without_an_account_is_emailed_only():
    recipients = _opened(
        flags=[FlagContact(FLAG_ORG, " Duty@Council.example.org ")], lead=None
    )

    assert recipients == [
        Recipient(AlertReason.FLAG_CONTACT, None, "duty@council.example.org")
    ]
    assert recipients[0].key == "email:duty@council.example.org"


def test_a_flag_without_a_contact_address_or_account_tells_only_the_lead():
    assert _opened(flags=[FlagContact(FLAG_ORG, "")]) == [
        Recipient(AlertReason.LEAD_PROFESSIONAL, LEAD.user_id, LEAD.email)
    ]


def test_a_colleague_of_the_flags_organisation_tells_nobody():
    assert _opened(viewer_orgs=frozenset({VIEWER_ORG, FLAG_ORG})) == []


def test_no_current_flag_tells_nobody_not_even_the_lead_professional():
    assert _opened(flags=()) == []


def test_only_the_flags_owned_elsewhere_are_told():
    other = Person(uuid.uuid4(), "other@police.example.org")
    recipients = _opened(
        flags=[
            FlagContact(VIEWER_ORG, "own@school.example.org"),
            FlagContact(30, other.email, other),
        ],
        lead=None,
    )

    assert recipients == [
        Recipient(AlertReason.FLAG_CONTACT, other.user_id, other.email)
    ]


@pytest.mark.parametrize("who", ["lead", "contact"])
def test_nobody_is_told_of_their_own_opening(who):
    viewer = LEAD.user_id if who == "lead" else CONTACT.user_id

    recipients = _opened(viewer=viewer)

    assert viewer not in {r.user_id for r in recipients}
    assert len(recipients) == 1


def test_a_lead_professional_who_is_also_the_contact_is_told_once():
    recipients = _opened(
        flags=[FlagContact(FLAG_ORG, LEAD.email, LEAD), FlagContact(30, "", LEAD)]
    )

    assert recipients == [
        Recipient(AlertReason.LEAD_PROFESSIONAL, LEAD.user_id, LEAD.email)
    ]


def test_break_glass_tells_the_officers_and_every_auditor_once_each():
    officer = Person(uuid.uuid4(), "officer@council.example.org")
    auditor = Person(uuid.uuid4(), "auditor@audit.example.org")

    recipients = break_glass_recipients(
        opener_id=VIEWER,
        shielding_officers=[officer],
        auditors=[auditor, Person(officer.user_id, officer.email)],
        authority_email="council@example.org",
    )

    assert [(r.reason, r.user_id) for r in recipients] == [
        (AlertReason.SHIELDING_OFFICER, officer.user_id),
        (AlertReason.AUDITOR, auditor.user_id),
    ]


def test_break_glass_with_nobody_to_tell_emails_the_authority():
    assert break_glass_recipients(
        opener_id=VIEWER,
        shielding_officers=[],
        auditors=[],
        authority_email="Council@Example.org",
    ) == [Recipient(AlertReason.AUTHORITY_MAILBOX, None, "council@example.org")]
    assert (
        break_glass_recipients(
            opener_id=VIEWER, shielding_officers=[], auditors=[], authority_email=""
        )
        == []
    )


def test_break_glass_does_not_tell_the_opener():
    opener = Person(VIEWER, "viewer@example.org")

    assert (
        break_glass_recipients(
            opener_id=VIEWER,
            shielding_officers=[opener],
            auditors=[],
            authority_email="",
        )
        == []
    )


@pytest.mark.parametrize(
    ("practitioner", "lead", "visible", "told"),
    [
        (VIEWER, LEAD, True, True),
        (LEAD.user_id, LEAD, True, False),  # the lead professional joined
        (VIEWER, None, True, False),  # no lead professional
        (VIEWER, LEAD, False, False),  # a sensitive service they may not see
    ],
)
def test_a_new_involvement_tells_the_lead_professional(
    practitioner, lead, visible, told
):
    recipients = involvement_added_recipients(
        practitioner_id=practitioner,
        lead_professional=lead,
        visible_to_lead_professional=visible,
    )

    assert recipients == (
        [Recipient(AlertReason.LEAD_PROFESSIONAL, LEAD.user_id, LEAD.email)]
        if told
        else []
    )


def test_purposes_read_in_the_third_person():
    assert purpose_label("assessing_referral") == "Assessing a referral about the child"
    assert purpose_label("") == "Already working with the child (no reason needed)"
    assert purpose_label("unknown") == "Not recorded"
