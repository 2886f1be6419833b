"""Finding a child: the search form (GET) and its results (POST).

The terms travel only in the body of a POST and the results are rendered in
the answer to it: never a redirect with terms in the query string, so they
reach no URL, browser history or access log line. ``child_search`` audits
the search (terms encrypted) and refuses queries too broad to be specific.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.actors import Actor
from accounts.admin_forms import posted
from directory.forms import SearchForm
from directory.records import SearchOutcome
from directory.selectors import SearchRefused, child_search
from directory.views.common import AuthenticatedRequest, directory_view, request_id_of
from directory.views.display import result_rows


@require_http_methods(["GET", "HEAD", "POST"])
@directory_view
def search_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    form = SearchForm(posted(request))
    outcome: SearchOutcome | None = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = child_search(
                actor=actor, query=form.to_query(), request_id=request_id_of(request)
            )
        except SearchRefused as refusal:
            if not refusal.problems:  # the policy's refusal: no role that searches
                raise PermissionDenied from refusal
            form.problems_apply(refusal.problems)
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "outcome": outcome,
            "results": result_rows(outcome.results) if outcome else [],
            "current": "search",
        },
    )
