"""Knowledge pages: search a workspace's sources, add one, open one (its text, versions),
and follow a long document being read in the background (an ingestion's progress).

Every member reads (reviewers too); editors and owners add, upload new versions and archive
(``may_edit`` refuses anyone else's POST). Another workspace's sources are a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import may_edit
from studio.workspaces.models import Workspace

from .actions import add_source, add_source_version
from .forms import DocumentForm, SourceForm
from .models import Ingestion, Passage, Source
from .queueing import start_ingestion
from .search import search
from .segmenting import highlight

SEARCH = "knowledge/search.html"
CREATE = "knowledge/source_create.html"
DETAIL = "knowledge/source_detail.html"
INGESTION = "knowledge/ingestion.html"
RESULTS = 20
MAX_QUERY_CHARS = 500


def _marked(pieces: list[tuple[str, bool]]) -> SafeString:
    """Highlighted text as HTML: every piece escaped, the matching ones in our <mark>. Built
    here rather than looped over in the template: a passage of many matches is hundreds of
    pieces, and the template's loop cost 270 ms for one page of them (the benchmark)."""
    marked = (((format_html("<mark>{}</mark>", piece) if hit else piece),) for piece, hit in pieces)
    return format_html_join("", "{}", marked)


def _workspace(request: HttpRequest, ws: int) -> Workspace:
    return get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)


@require_GET
def knowledge(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Search the workspace's knowledge: passages with the query's terms highlighted."""
    space = _workspace(request, ws)
    query = request.GET.get("q", "").strip()[:MAX_QUERY_CHARS]
    hits = search(Passage.objects.searchable(space), query, limit=RESULTS) if query else []
    results = [(hit, _marked(highlight(hit.passage.text, list(hit.terms)))) for hit in hits]
    context = {"workspace": space, "query": query, "results": results}
    if request.htmx:
        return render(request, f"{SEARCH}#results", context)
    sources = Source.objects.filter(workspace=space).prefetch_related("versions")
    ingestions = Ingestion.objects.filter(workspace=space, source=None).unfinished()
    return render(request, SEARCH, context | {"sources": sources, "ingestions": ingestions})


@require_http_methods(["GET", "POST"])
@may_edit()
def source_create(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Add a source: a file, pasted text or a URL, with a title and tags."""
    space = _workspace(request, ws)
    form = SourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "upload" in data:  # too long for a request: the worker reads it
            ingestion = start_ingestion(
                workspace=space,
                user=request.user,
                upload=data["upload"],
                title=data["title"],
                tags=data["tags"],
            )
            return redirect(ingestion)
        version = add_source(
            workspace=space,
            user=request.user,
            title=data["title"],
            tags=data["tags"],
            document=data["document"],
        )
        messages.success(
            request, _("Source added: %(n)s passages.") % {"n": version.passages.count()}
        )
        return redirect(version.source)
    return render(request, CREATE, {"workspace": space, "form": form})


@require_http_methods(["GET", "POST"])
@may_edit()
def source_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """A source: one version's passages (the newest, or ``?version=N``), its versions, and
    for editors a new version's upload and Archive/Restore."""
    space = _workspace(request, ws)
    source = get_object_or_404(Source.objects.filter(workspace=space), pk=pk)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if "archive" in request.POST:
            source.archive()
            return redirect(source)
        if "restore" in request.POST:
            source.restore()
            return redirect(source)
        if form.is_valid() and "upload" in form.cleaned_data:
            upload = form.cleaned_data["upload"]
            ingestion = start_ingestion(
                workspace=space, user=request.user, upload=upload, source=source
            )
            return redirect(ingestion)
        if form.is_valid():
            version = add_source_version(
                source=source, user=request.user, document=form.cleaned_data["document"]
            )
            messages.success(request, _("Saved as version %(n)s.") % {"n": version.number})
            return redirect(source)
    versions = list(source.versions.select_related("created_by"))
    wanted = request_number(request.GET.get("version"))
    shown = next((v for v in versions if v.number == wanted), versions[0] if versions else None)
    context = {
        "workspace": space,
        "source": source,
        "versions": versions,
        "shown": shown,
        "passages": shown.passages.all() if shown else [],
        "ingestions": source.ingestions.unfinished(),
        "form": form,
    }
    return render(request, DETAIL, context, status=400 if form.errors else 200)


@require_GET
def ingestion(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """A document being read in the background: its progress (the partial polls itself
    while it runs), then a link to the source, or why it failed (nothing was stored)."""
    space = _workspace(request, ws)
    job = get_object_or_404(Ingestion.objects.filter(workspace=space).defer("data"), pk=pk)
    context = {"workspace": space, "ingestion": job}
    if request.htmx:
        return render(request, f"{INGESTION}#progress", context)
    return render(request, INGESTION, context)
