"""Models and migrations agree: a model change without its migration fails CI."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exc:  # makemigrations --check exits 1 on changes
        pytest.fail(f"Missing migrations:\n{out.getvalue()}\n(exit {exc.code})")
