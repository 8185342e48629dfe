"""The campaigns API (issue 21): create a campaign from a brief, generate it (202 and a
progress resource to poll), list and read campaigns and their deliverables with each one's
draft text, review state and channel check.

Mounted on the JSON API (``api.add_router``): the same key auth, error envelope, rate limits
(per operation, by its URL name) and audit origin (channel ``api`` and the key). Every lookup
starts from the key's user, so another workspace's campaigns are 404s; creating and
generating need an editor's or owner's role (a reviewer's key reads: 403 otherwise).
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from drafts.generate import NotAllowed, check_may_generate
from studio.audit.origin import Origin
from studio.campaigns.actions import create_campaign, generate_campaign
from studio.campaigns.board import board_rows
from studio.campaigns.models import Campaign, Deliverable
from studio.workspaces.access import denial, membership
from studio.workspaces.models import EDIT, Workspace

from .campaign_input import validated_campaign
from .campaign_output import campaign_out, deliverable_out, detail_out, progress, texts_so_far
from .campaign_schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignListQuery,
    CampaignOut,
    DeliverableOut,
    ProgressOut,
)
from .errors import ApiError
from .schemas import ErrorOut

router = Router(tags=["campaigns"])
ERRORS = dict.fromkeys((401, 403, 404, 413, 422, 429, 503), ErrorOut)


def _workspace(request: HttpRequest, workspace_id: int) -> Workspace:
    space = Workspace.objects.for_user(request.auth.user).filter(pk=workspace_id).first()
    if space is None:
        raise Http404(_("No such workspace."))
    return space


def _campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    found = Campaign.objects.for_user(request.auth.user).select_related("workspace", "owner")
    campaign = found.filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404(_("No such campaign."))
    return campaign


@router.get(
    "/workspaces/{workspace_id}/campaigns",
    response={200: list[CampaignOut], **ERRORS},
    url_name="campaigns",
)
def list_campaigns(request: HttpRequest, workspace_id: int, query: Query[CampaignListQuery]):
    """The workspace's campaigns, most recently updated first (``limit``/``offset`` page)."""
    found = Campaign.objects.filter(workspace=_workspace(request, workspace_id)).for_listing()
    page = found[query.offset : query.offset + query.limit]
    return [campaign_out(request, c, c.deliverable_count) for c in page]


@router.post(
    "/workspaces/{workspace_id}/campaigns",
    response={201: CampaignDetailOut, **ERRORS},
    url_name="campaign_create",
)
def create(request: HttpRequest, workspace_id: int, payload: CampaignIn, response: HttpResponse):
    """A campaign from a brief and its deliverables (template, channel, count, overrides),
    stored together once every field is valid; a 422 names each invalid field."""
    space = _workspace(request, workspace_id)
    if message := denial(membership(request.auth.user, workspace_id=space.pk), EDIT):
        raise NotAllowed(message)
    campaign, deliverables = validated_campaign(space, request.auth.user, payload)
    create_campaign(campaign=campaign, deliverables=deliverables)
    body = detail_out(request, campaign)
    response["Location"] = body["url"]
    return Status(201, body)


@router.get(
    "/campaigns/{campaign_id}",
    response={200: CampaignDetailOut, **ERRORS},
    url_name="campaign",
)
def read_campaign(request: HttpRequest, campaign_id: int):
    """The campaign: its brief, its progress, each deliverable with its check."""
    return detail_out(request, _campaign(request, campaign_id))


@router.get(
    "/campaigns/{campaign_id}/progress",
    response={200: ProgressOut, **ERRORS},
    url_name="campaign_progress",
)
def read_progress(request: HttpRequest, campaign_id: int):
    """How many deliverables are queued, streaming, done, stopped or failed (poll this)."""
    return progress(request, _campaign(request, campaign_id))


@router.get(
    "/deliverables/{deliverable_id}",
    response={200: DeliverableOut, **ERRORS},
    url_name="deliverable",
)
def read_deliverable(request: HttpRequest, deliverable_id: int):
    """One deliverable: its draft's text, review state and check, item by item."""
    found = Deliverable.objects.for_user(request.auth.user).select_related("campaign")
    deliverable = found.filter(pk=deliverable_id).first()
    if deliverable is None:
        raise Http404(_("No such deliverable."))
    rows = board_rows(deliverable.campaign, only=deliverable.pk)
    return deliverable_out(rows[0], texts_so_far(rows))


@router.post(
    "/campaigns/{campaign_id}/generate",
    response={202: ProgressOut, **ERRORS},
    url_name="campaign_generate",
)
async def generate(request: HttpRequest, campaign_id: int, response: HttpResponse):
    """Generate every deliverable at once, each into its own draft through the studio's one
    generate action (role, budget, audit). Answers 202 with the progress at once; poll its
    ``url`` (also the ``Location`` header)."""
    loop = asyncio.get_running_loop()
    body = await sync_to_async(_generate)(request, campaign_id, loop)
    response["Location"] = body["url"]
    return Status(202, body)


def _generate(request: HttpRequest, campaign_id: int, loop: asyncio.AbstractEventLoop) -> dict:
    user, campaign = request.auth.user, _campaign(request, campaign_id)
    origin = Origin.from_request(request)
    check_may_generate(user=user, workspace=campaign.workspace, origin=origin)  # 403, 429
    outcomes = generate_campaign(campaign=campaign, user=user, origin=origin, loop=loop)
    if not outcomes:
        message = _("This campaign has no deliverables: add some first.")
        raise ApiError(422, message, code="no_deliverables", param="deliverables")
    problems = {o.deliverable.pk: o.problem for o in outcomes if o.problem}
    if len(problems) == len(outcomes):
        errors = [
            {"param": f"deliverables.{i}", "message": f"{o.deliverable.channel_name}: {o.problem}"}
            for i, o in enumerate(outcomes)
        ]
        message = _("Nothing was generated: %(problems)s") % {
            "problems": "; ".join(e["message"] for e in errors)
        }
        raise ApiError(422, message, code="not_generated", param=errors[0]["param"], errors=errors)
    return progress(request, campaign, problems)
