"""Campaign pages: the list, the brief's form (new and edit), the campaign with its
deliverables (add, remove, Generate all), its export (a ZIP).

Every member reads (reviewers too); editors and owners create, edit, add and remove
deliverables and generate (``may_edit`` refuses anyone else's POST with a 403). Another
workspace's campaigns are a 404. The pages work without JavaScript: forms post and redirect.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.audit.origin import Origin
from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit
from studio.workspaces.models import Workspace

from .actions import add_deliverable, generate_campaign, remove_deliverable
from .board import board_rows
from .exports import export_campaign
from .forms import CampaignForm, DeliverableForm
from .models import Campaign, Deliverable
from .review_views import review_context

LIST = "campaigns/campaign_list.html"
FORM = "campaigns/campaign_form.html"
DETAIL = "campaigns/campaign_detail.html"


def _workspace(request: HttpRequest, ws: int) -> Workspace:
    return get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    found = Campaign.objects.for_user(request.user).select_related("workspace", "owner")
    return get_object_or_404(found, pk=pk)


@require_GET
def campaign_list(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    space = _workspace(request, ws)
    campaigns = Campaign.objects.filter(workspace=space).for_listing()
    return render(request, LIST, {"workspace": space, "campaigns": campaigns})


@require_http_methods(["GET", "POST"])
@may_edit()
def campaign_create(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """A new campaign: its brief; deliverables are added on its page."""
    space = _workspace(request, ws)
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.workspace, form.instance.owner = space, request.user
        campaign = form.save()
        return redirect(campaign)
    context = {"workspace": space, "form": form}
    return render(request, FORM, context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@may_edit(of="campaign")
def campaign_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Brief saved."))
        return redirect(campaign)
    context = {"workspace": campaign.workspace, "campaign": campaign, "form": form}
    return render(request, FORM, context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@may_edit(of="campaign")
def campaign_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The campaign: its brief, its deliverables with their drafts and checks (htmx: the
    deliverables alone, which poll while one is generating); a POST adds a deliverable."""
    campaign = _campaign(request, pk)
    form = DeliverableForm(campaign.workspace, request.POST or None)
    if request.method == "POST" and form.is_valid():
        add_deliverable(campaign=campaign, **form.cleaned_data)
        return redirect(campaign)
    rows = board_rows(campaign)
    context = {
        "workspace": campaign.workspace,
        "campaign": campaign,
        "rows": rows,
        "generating": any(row.generating for row in rows),
        "form": form,
    }
    context.update(review_context(campaign, request.user))
    if request.htmx and request.method == "GET":  # the list polling itself while generating
        return render(request, f"{DETAIL}#deliverables", context)
    return render(request, DETAIL, context, status=400 if form.errors else 200)


@require_GET
def campaign_export(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The campaign as a ZIP (``exports``): every member may download it, reviewers too."""
    export = export_campaign(_campaign(request, pk))
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


@require_POST
@may_edit(of="deliverable")
def deliverable_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_or_404(Deliverable.objects.for_user(request.user), pk=pk)
    campaign = deliverable.campaign
    remove_deliverable(deliverable=deliverable)
    return redirect(campaign)


@require_POST
@may_edit(of="campaign")
async def campaign_generate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Generate all: one generation per deliverable, launched on this loop once stored."""
    return await sync_to_async(_generate)(request, pk, asyncio.get_running_loop())


def _generate(request: HtmxHttpRequest, pk: int, loop: asyncio.AbstractEventLoop) -> HttpResponse:
    campaign = _campaign(request, pk)
    origin = Origin.from_request(request)
    outcomes = generate_campaign(campaign=campaign, user=request.user, origin=origin, loop=loop)
    started = sum(outcome.generation is not None for outcome in outcomes)
    if started:
        message = ngettext(
            "Generating %(n)s deliverable.", "Generating %(n)s deliverables.", started
        )
        messages.success(request, message % {"n": started})
    for outcome in outcomes:
        if outcome.problem:
            name = outcome.deliverable.channel_name
            messages.error(request, f"{name}: {outcome.problem}")
    return redirect(campaign)
