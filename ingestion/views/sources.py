"""The feeds home page, uploading a file, and the CSV template."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_http_methods, require_safe

from accounts.actors import Actor
from directory.views.common import request_id_of
from ingestion.forms import UploadForm, size_in_words
from ingestion.models import Channel, FeedFormat, FeedMode, FeedSource
from ingestion.readers.csv_feed import template_csv
from ingestion.selectors import (
    feed_source_for_upload,
    feed_source_get,
    feed_sources_list,
)
from ingestion.services import feed_file_receive
from ingestion.views.common import AuthenticatedRequest, feeds_view

#: What the file chooser offers first, per format (people can still pick
#: "All files").
ACCEPT = {
    FeedFormat.CSV: ".csv,text/csv",
    FeedFormat.CTF: ".xml,application/xml,text/xml",
    FeedFormat.CIN: ".xml,application/xml,text/xml",
    FeedFormat.FHIR: ".json,application/json,application/fhir+json",
}
TEMPLATE_FILENAME = "child-contact-directory-feed-template.csv"


@require_safe
@feeds_view
def home_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponse:
    """The data manager's feeds, each with its latest run and an upload link."""
    sources = feed_sources_list(actor=actor)
    return render(
        request,
        "ingestion/home.html",
        {
            "sources": sources,
            "waiting": sum(row.waiting for row in sources),
        },
    )


def _upload_page(
    request: AuthenticatedRequest, source: FeedSource, form: UploadForm
) -> HttpResponse:
    return render(
        request,
        "ingestion/upload.html",
        {
            "form": form,
            "source": source,
            "is_csv": source.format == FeedFormat.CSV,
            "is_snapshot": source.mode == FeedMode.SNAPSHOT,
            "accept": ACCEPT.get(FeedFormat(source.format), ""),
            "max_size": size_in_words(settings.FEED_MAX_BYTES),
            "max_rows": f"{settings.FEED_MAX_ROWS:,}",
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@feeds_view
def upload_view(
    request: AuthenticatedRequest, actor: Actor, source_id: int
) -> HttpResponse:
    """GET: the upload form. POST: receive the file, then show its run.

    A file already received for this source is not imported again: the page
    of the run that imported it says so.
    """
    if request.method != "POST":
        source = feed_source_get(actor=actor, source_id=source_id)
        return _upload_page(request, source, UploadForm())
    request_id = request_id_of(request)
    source = feed_source_for_upload(
        actor=actor,
        source_id=source_id,
        channel=Channel.UPLOAD,
        request_id=request_id,
    )
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, source, form)
    receipt = feed_file_receive(
        source=source,
        data=form.data_read(),
        channel=Channel.UPLOAD,
        actor=actor,
        request_id=request_id,
    )
    if receipt.duplicate:
        received = date_format(timezone.localtime(receipt.run.created_at), "j F Y")
        messages.info(
            request,
            f"This file was already received on {received}. "
            "Nothing was imported again.",
        )
    else:
        messages.success(
            request, "Your file has been received. It is imported in the background."
        )
    return redirect("feeds:run", run_id=receipt.run.pk)


@require_safe
@feeds_view
def csv_template_view(request: AuthenticatedRequest, actor: Actor) -> HttpResponseBase:
    """The CSV feed's heading row and one fictional example row, as a download."""
    response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response
