"""Paged lists: the context templates/includes/pagination.html needs."""

from typing import Any

from django.core.paginator import Page
from django.http import HttpRequest


def query_without_page(request: HttpRequest) -> str:
    """The request's query string without ``page``, for pagination links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def paging(request: HttpRequest, page: Page[Any] | None) -> dict[str, object]:
    """Context for templates/includes/pagination.html."""
    return {
        "page": page,
        "page_range": (
            page.paginator.get_elided_page_range(page.number) if page else []
        ),
        "query": query_without_page(request),
    }
