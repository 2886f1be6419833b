"""A stolen dump reveals nothing: pg_dump the test database after loading known
children and look for every identifying value in every common format."""

import datetime as dt
import subprocess
from pathlib import Path

import pgserver
import pytest
from django.db import connection

from directory.records import NewAddress, NewCarer, NewChild, NewName
from directory.services.child_records import child_records_create
from directory.tests.factories import FEED_SOURCE

pytestmark = pytest.mark.django_db(transaction=True)

PG_DUMP = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"

KNOWN_CHILDREN = [
    NewChild(
        names=(
            NewName("Victoria Adjo", "Climbié"),
            NewName("Anna", "Kouao", kind="alias"),
        ),
        date_of_birth=dt.date(2016, 11, 2),
        gender="2",
        nhs_number="943 476 5919",
        upn="H801200001001",
        addresses=(NewAddress(("260 Somerset Gardens", "Tottenham"), "N17 8JJ"),),
        carers=(
            NewCarer(
                "Marie-Thérèse Kouao",
                "other_relative",
                phone="07700 900461",
                email="mtkouao@example.org",
                address="260 Somerset Gardens, Tottenham",
            ),
        ),
    ),
    NewChild(
        names=(NewName("Peter", "Connelly-Owen"), NewName("Peter", "Baxter", "former")),
        date_of_birth=dt.date(2019, 3, 1),
        gender="1",
        nhs_number="999 000 0018",
        addresses=(NewAddress(("7 Penshurst Road", "Haringey"), "N17 0BD"),),
    ),
]


def _forms(child: NewChild) -> list[str]:
    dob = child.date_of_birth
    forms = [
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
        dob.strftime("%Y%m%d"),
        dob.strftime("%d%m%Y"),
    ]
    for name in child.names:
        forms += [name.family_name, *name.given_names.split()]
    if child.nhs_number:
        forms += [child.nhs_number, child.nhs_number.replace(" ", "")]
    if child.upn:
        forms.append(child.upn)
    for address in child.addresses:
        forms += [address.postcode, address.postcode.replace(" ", ""), *address.lines]
    for carer in child.carers:
        forms += [carer.name, carer.phone or "", carer.email or ""]
    return [f for f in forms if len(f) >= 4]


def _dump() -> str:
    params = connection.get_connection_params()
    command = [str(PG_DUMP), "--no-owner", "--dbname", params["dbname"]]
    if params.get("host"):
        command += ["--host", params["host"]]
    if params.get("port"):
        command += ["--port", str(params["port"])]
    command += ["--username", params.get("user") or "postgres"]
    result = subprocess.run(  # noqa: S603 - fixed binary, test-controlled arguments
        command, capture_output=True, check=True, timeout=120
    )
    return result.stdout.decode("utf-8", errors="replace").casefold()


def test_dump_contains_none_of_the_known_childrens_identifying_values():
    created = child_records_create(children=KNOWN_CHILDREN, source=FEED_SOURCE)
    dump = _dump()

    assert created[0].directory_number in dump.upper()  # the dump is real
    found = [
        form
        for child in KNOWN_CHILDREN
        for form in _forms(child)
        if form.casefold() in dump
    ]
    assert found == []
