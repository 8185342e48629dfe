"""Working with a draft after its first generation: list, compare, restore, export, share
(the editor is drafts/views/editor.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from prompts.models import PromptTemplate
from studio.guardrails.page_rate_limits import limit_reads
from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import may_edit, may_review
from studio.workspaces.models import Workspace

from .. import actions
from ..exports import FORMATS, ExportRefused, export_version
from ..forms import CompareForm, DraftFilterForm, StatusForm
from ..models import Draft, DraftVersion, ShareLink
from ..panels import draft_panel_context
from ..word_diff import diff_texts
from .trash import bulk_change, workspace_with_role
from .workspace import DETAIL

LIST = "drafts/draft_list.html"
COMPARE = "drafts/draft_compare.html"
SHARED = "drafts/shared.html"
EXPORT_REFUSED = "drafts/export_refused.html"
PAGE_SIZE = 20


def _draft(request: HtmxHttpRequest, pk: int) -> Draft:
    """The user's draft or 404: another workspace's draft does not exist for them."""
    return get_object_or_404(
        Draft.objects.for_user(request.user).select_related("workspace"), pk=pk
    )


def _panel(request: HtmxHttpRequest, draft: Draft, version: DraftVersion | None) -> HttpResponse:
    """After a change from the panel: the panel again (htmx), else back to the draft page."""
    if request.htmx:
        return render(request, f"{DETAIL}#draft-panel", draft_panel_context(draft, version=version))
    url = draft.get_absolute_url()
    return redirect(f"{url}?v={version.number}" if version else url)


@require_http_methods(["GET", "POST"])
@may_edit()
def draft_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A workspace's drafts: search, filters, sort and pages, in a fixed number of queries.

    POST (editors, owners): archive or delete the checked drafts, then the list again."""
    space, may_edit_here = workspace_with_role(request, pk)
    if request.method == "POST":
        bulk_change(request, space)
        if not request.htmx:
            return redirect(f"{request.path}?{request.GET.urlencode()}")
    form = _filter_form(request, space)
    found = form.filters()
    drafts = (
        Draft.objects.alive()
        .filter(workspace=space)
        .search(found.get("q", ""))
        .filtered(
            template=found.get("template"),
            author=found.get("author"),
            variant=found.get("variant"),
            status=found.get("status", ""),
        )
        .for_listing()
        .order_by(found.get("sort", "-updated"), "-pk")
    )
    if not found.get("experiments") and not found.get("variant"):  # a variant's: asked for
        drafts = drafts.not_from_experiments()
    page = Paginator(drafts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"workspace": space, "form": form, "page": page, "filtered": bool(found)}
    context["may_edit"] = may_edit_here
    if request.htmx.target == "draft-results":
        return render(request, f"{LIST}#draft-results", context)
    return render(request, LIST, context)


def _filter_form(request: HtmxHttpRequest, space: Workspace) -> DraftFilterForm:
    """The list's filters, with the workspace's templates, members and variants to pick from.

    A running blind experiment's variants are left out: filtering by one would tell an editor
    which arm wrote a draft before they vote.
    """
    authors = get_user_model().objects.filter(memberships__workspace=space).order_by("username")
    # Through the workspace's reverse relation, by field names: experiments sit above drafts
    # and are not imported (as in ``DraftQuerySet.not_from_experiments``).
    experiments = space.experiments.exclude(blind=True, status="running")
    variants = experiments.filter(variants__isnull=False).values_list(
        "variants__pk", "name", "variants__name"
    )
    templates = PromptTemplate.objects.for_workspace(space)
    variants = variants.order_by("name", "variants__pk")
    return DraftFilterForm(request.GET, templates=templates, authors=authors, variants=variants)


@require_GET
def draft_compare(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Two versions side by side with a word-level diff (the last two unless chosen)."""
    draft = _draft(request, pk)
    versions = list(draft.versions.listed())  # for the pickers; the two compared in full below
    numbers = {v.number for v in versions}
    form = CompareForm(request.GET)
    chosen = form.cleaned_data if form.is_valid() else {}  # bad numbers: the defaults
    b = chosen.get("b") if chosen.get("b") in numbers else (versions[0].number if versions else 0)
    older = [v.number for v in versions if v.number < b]
    a = chosen.get("a") if chosen.get("a") in numbers else (older[0] if older else 0)
    both = {v.number: v for v in draft.versions.select_related("author").filter(number__in=[a, b])}
    old, new = both.get(a), both.get(b)
    context = {"draft": draft, "versions": versions, "old": old, "new": new}
    if old and new:
        context["diff"] = diff_texts(old.text, new.text)
    if request.htmx.target == "comparison":
        return render(request, f"{COMPARE}#comparison", context)
    return render(request, COMPARE, context)


@require_POST
@may_edit(of="draft")
def restore_version(request: HtmxHttpRequest, pk: int, number: int) -> HttpResponse:
    """An old version's text becomes the newest version; nothing is overwritten."""
    draft = _draft(request, pk)
    get_object_or_404(draft.versions, number=number)
    version = actions.restore_version(draft_id=draft.pk, number=number, author_id=request.user.pk)
    return _panel(request, draft, version)


@require_POST
@may_review(of="draft")
def set_status(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    draft = _draft(request, pk)
    # Checked before anything is saved: a bad version number changes nothing.
    raw = request.POST.get("v", "")
    number = request_number(raw)
    if raw and number is None:
        return HttpResponseBadRequest(_("That is not a version number."))
    form = StatusForm(request.POST)
    if form.is_valid():
        draft.status = form.cleaned_data["status"]
        draft.save(update_fields=["status", "updated"])
    shown = draft.versions.filter(number=number).first() if number is not None else None
    return _panel(request, draft, shown)


@require_GET
@limit_reads
def export(request: HtmxHttpRequest, pk: int, number: int, fmt: str) -> HttpResponse:
    """Download a version as Markdown, sanitized HTML or DOCX (or a page saying why not)."""
    if fmt not in FORMATS:
        raise Http404("No such export format.")
    draft = _draft(request, pk)
    version = get_object_or_404(draft.versions, number=number)
    try:
        file = export_version(version, fmt)
    except ExportRefused as refused:
        context = {"draft": draft, "version": version, "message": refused.message}
        return render(request, EXPORT_REFUSED, context, status=422)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    return response


@require_POST
@may_edit(of="draft")
def share_version(request: HtmxHttpRequest, pk: int, number: int) -> HttpResponse:
    """Create a read-only link to this version for reviewers."""
    draft = _draft(request, pk)
    version = get_object_or_404(draft.versions, number=number)
    actions.share_version(version=version, user=request.user)
    return _panel(request, draft, version)


@require_POST
@may_edit(of="share")
def revoke_share(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The link stops working at once."""
    link = get_object_or_404(
        ShareLink.objects.filter(draft__in=Draft.objects.for_user(request.user)).select_related(
            "draft__workspace", "version"
        ),
        pk=pk,
    )
    link.revoke()
    return _panel(request, link.draft, link.version)


@login_not_required
@require_GET
@limit_reads
def shared(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """What a reviewer sees through a share link: one version, read-only; revoked is 404."""
    links = ShareLink.objects.active().select_related("draft", "version__author")
    if (link := links.filter(token=token).first()) is None:
        # The studio's own 404 page, in DEBUG too: a reader is never shown the debug page.
        response = render(request, "404.html", {"share_link": True}, status=404)
    else:
        context = {"link": link, "draft": link.draft, "shown": link.version}
        response = render(request, SHARED, context)
    # The token is the credential: keep it out of caches and out of Referer headers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
