"""``{{ number|directory_number }}``: "1234 5678 9012 3", as people write it."""

from django import template

from directory.identifiers import IdentifierError, format_directory_number

register = template.Library()


@register.filter
def directory_number(value: str | None) -> str:
    if not value:
        return ""
    try:
        return format_directory_number(value)
    except IdentifierError:
        return value
