"""Archiving and deleting drafts: the drafts list's bulk actions, and the workspace's trash.

A deleted draft leaves every list, search, count, the API and its share links (``for_user``
and ``alive`` find only live drafts) but keeps its versions and audit rows; the trash lists
it until someone restores it or deletes it for good. Editors and owners may; reviewers see
the trash but not its buttons (``may_edit`` refuses their POSTs).
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import may_edit
from studio.workspaces.models import EDIT, Membership, Workspace

from .. import actions
from .. import generation as runner
from ..models import Generation

TRASH = "drafts/trash.html"
PAGE_SIZE = 20
MAX_CHOSEN = 500  # ids one bulk action takes: a page holds 20


def workspace_with_role(request: HtmxHttpRequest, pk: int) -> tuple[Workspace, bool]:
    """The user's workspace (else 404) and whether their role may edit, in one query: the
    role comes with the membership the lookup joins anyway."""
    spaces = Workspace.objects.for_user(request.user).annotate(my_role=F("memberships__role"))
    space = get_object_or_404(spaces, pk=pk)
    return space, space.my_role in Membership.roles_that_can(EDIT)


def bulk_change(request: HtmxHttpRequest, space: Workspace) -> None:
    """The list's Archive or Delete button, on the checked drafts of this workspace."""
    ids = [n for raw in request.POST.getlist("ids")[:MAX_CHOSEN] if (n := request_number(raw))]
    chosen = space.drafts.filter(pk__in=ids)
    if not ids:
        messages.error(request, _("Choose at least one draft first."))
    elif "archive" in request.POST:
        count = actions.archive_drafts(drafts=chosen)
        message = ngettext("%(n)s draft archived.", "%(n)s drafts archived.", count)
        messages.success(request, message % {"n": count})
    elif "delete" in request.POST:
        running = list(Generation.objects.filter(draft__in=chosen.alive()).active())
        count = actions.delete_drafts(drafts=chosen, user=request.user)
        message = ngettext(
            "%(n)s draft moved to the trash.", "%(n)s drafts moved to the trash.", count
        )
        messages.success(request, message % {"n": count})
        _stop(request, running)


def _stop(request: HtmxHttpRequest, running: list[Generation]) -> None:
    """A draft moved to the trash stops generating (the tokens would be spent on a draft
    nobody is looking at); what it wrote so far is kept, marked stopped, if it is restored."""
    if not running:
        return
    if async_to_sync(runner.stop_generations)(running):
        message = ngettext(
            "Its generation was stopped; what it had written is kept.",
            "%(n)s generations were stopped; what they had written is kept.",
            len(running),
        )
        messages.info(request, message % {"n": len(running)})
    else:
        messages.warning(request, _("A generation could not be stopped: try again in a moment."))


@require_http_methods(["GET", "POST"])
@may_edit()
def trash(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The workspace's deleted drafts; POST restores one (``restore``) or deletes it for good
    (``purge``)."""
    space, may_edit_here = workspace_with_role(request, pk)
    if request.method == "POST":
        _trash_action(request, space)
        if not request.htmx:
            return redirect("drafts:trash", space.pk)
    drafts = space.drafts.in_trash().select_related("created_by", "deleted_by")
    page = Paginator(drafts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"workspace": space, "page": page, "may_edit": may_edit_here}
    return render(request, f"{TRASH}#trash-list" if request.htmx else TRASH, context)


def _trash_action(request: HtmxHttpRequest, space: Workspace) -> None:
    in_trash = space.drafts.in_trash()
    if "restore" in request.POST:
        draft = get_object_or_404(in_trash, pk=request_number(request.POST["restore"]))
        actions.restore_draft(draft=draft)
        messages.success(request, _("“%(title)s” restored.") % {"title": draft.title})
        return
    draft = get_object_or_404(in_trash, pk=request_number(request.POST.get("purge")))
    try:
        actions.purge_draft(draft=draft)
    except actions.DraftKept as kept:
        messages.error(request, str(kept))
        return
    messages.success(request, _("“%(title)s” deleted for good.") % {"title": draft.title})
