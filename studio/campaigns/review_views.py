"""Review pages: a deliverable's draft with its state, its buttons and its comment threads;
the transitions and comments it posts; the workspace's review policy.

Every member reads and comments (reviewers too: ``may_review``); which transition a member
may take is ``review.why_not``'s answer (a reviewer cannot submit, an editor cannot approve
their own work where the policy forbids it), so a refused POST is a 403 or 409 saying why.
Owners set the policy (``may_manage``). Another workspace's deliverables are a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from drafts.models import DraftVersion
from studio.http import HtmxHttpRequest
from studio.workspaces.access import FORBIDDEN, may_manage, may_review
from studio.workspaces.models import Workspace

from .comments import Invalid, add_comment, render_body, threads
from .forms import CommentForm
from .models import Activity, Campaign, Comment, Deliverable, ReviewPolicy
from .review import Refused, allowed, progress, transition

REVIEW = "campaigns/review/deliverable_review.html"


def _deliverable(request: HttpRequest, pk: int) -> Deliverable:
    found = Deliverable.objects.for_user(request.user).select_related(
        "campaign__workspace", "template_version__template", "draft", "submitted_by"
    )
    return get_object_or_404(found, pk=pk)


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """The refusal with its reason and status: a toast for htmx, else a page."""
    if not getattr(request, "htmx", False):
        return render(request, FORBIDDEN, {"message": message}, status=status)
    toast = f"{FORBIDDEN}#forbidden-toast"
    response = render(request, toast, {"message": message}, status=status)
    response["HX-Retarget"], response["HX-Reswap"] = "#toasts", "beforeend"
    return response


@require_GET
def deliverable_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    latest = None
    if deliverable.draft_id and not deliverable.draft.deleted_at:
        latest = DraftVersion.objects.filter(draft_id=deliverable.draft_id).order_by("-number")
        latest = latest.first()
    context = {
        "workspace": deliverable.campaign.workspace,
        "campaign": deliverable.campaign,
        "deliverable": deliverable,
        "latest": latest,
        "transitions": allowed(deliverable, request.user),
        "threads": threads(deliverable),
        "form": CommentForm(),
    }
    return render(request, REVIEW, context)


@require_POST
@may_review(of="deliverable")
def deliverable_transition(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    try:
        transition(deliverable=deliverable, user=request.user, action=request.POST.get("action"))
    except Refused as refused:
        return _refused(request, refused.message, refused.status)
    return redirect("campaigns:review", deliverable.pk)


@require_POST
@may_review(of="deliverable")
def deliverable_comment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deliverable = _deliverable(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _refused(request, " ".join(m for e in form.errors.values() for m in e), 400)
    data = form.cleaned_data
    parent = None
    if data["parent"]:
        parent = get_object_or_404(
            Comment.objects.filter(deliverable=deliverable), pk=data["parent"]
        )
    try:
        comment = add_comment(
            deliverable=deliverable,
            user=request.user,
            body=data["body"],
            parent=parent,
            quote=data["quote"],
            start=data["start"],
        )
    except Invalid as invalid:
        return _refused(request, invalid.message, 400)
    return redirect(f"{reverse('campaigns:review', args=[deliverable.pk])}#comment-{comment.pk}")


@require_POST
@may_manage()
def review_policy(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Owners: whether editors may approve their own work (a checkbox, default off)."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    forbid = request.POST.get("no_self_approval") == "on"
    ReviewPolicy.objects.update_or_create(workspace=space, defaults={"no_self_approval": forbid})
    messages.success(request, _("Review policy saved."))
    return redirect("campaigns:list", space.pk)


def review_context(campaign: Campaign, user) -> dict[str, object]:
    """What the campaign page adds for review: progress, the activity feed, your mentions."""
    approved, total = progress(campaign)
    feed = campaign.activity.for_feed()[:30]
    mentions = Comment.objects.filter(deliverable__campaign=campaign, mentions=user)
    mentions = list(mentions.select_related("author", "deliverable__campaign").order_by("-pk")[:20])
    for comment in mentions:
        comment.html = render_body(comment)
    return {
        "approved": approved,
        "total": total,
        "activity": feed,
        "your_mentions": mentions,
        "kinds": Activity.Kind,
    }
