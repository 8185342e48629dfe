"""Sections of a draft: regenerate or expand one in place (streaming), move one up or down.

Both are based on the version the page showed (``base``): if a newer one exists the request
changes nothing and the panel comes back with the newest version and a notice.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from studio.api.limits import BudgetExceeded, acheck_token_budget
from studio.audit.recording import remember_origin
from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit

from . import actions
from . import generation as runner
from .forms import SectionGenerateForm, SectionMoveForm
from .models import Draft, Suggestion
from .panels import draft_panel_context
from .section_panels import Live
from .suggestions import start_suggestion
from .views import DETAIL

SECTIONS = "drafts/sections.html"


def stale_notice(conflict: actions.VersionConflict) -> str:
    number = conflict.latest.number if conflict.latest else 0
    return _(
        "A newer version (v%(number)s) was saved since this page was loaded: nothing was "
        "changed. Here is the newest version."
    ) % {"number": number}


def panel_with_notice(
    request: HtmxHttpRequest,
    draft: Draft,
    notice: str = "",
    *,
    key: str = "section_notice",
    **extra: object,
) -> HttpResponse:
    """The panel again (newest version) with a notice; without htmx, the page and a message."""
    if not request.htmx:
        if notice:
            messages.warning(request, notice)
        return redirect(draft)
    context = draft_panel_context(draft) | {key: notice, **extra}
    response = render(request, f"{DETAIL}#draft-panel", context)
    return reswap(retarget(response, "#draft-panel"), "outerHTML")


@require_POST
@may_edit(of="draft")
def section_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move a section (with its subsections) up or down past its neighbour, as a new version."""
    draft = get_object_or_404(
        Draft.objects.for_user(request.user).select_related("workspace"), pk=pk
    )
    form = SectionMoveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400)
    data = form.cleaned_data
    try:
        version, landed = actions.reorder_section(
            draft_id=draft.pk,
            index=data["index"],
            to=form.target(),
            base_number=data["base"],
            author_id=request.user.pk,
        )
    except actions.VersionConflict as conflict:
        return panel_with_notice(request, draft, stale_notice(conflict))
    except IndexError:
        return panel_with_notice(request, draft, _("That section cannot move further."))
    # The keyboard user's focus follows the section to its new place (studio.js).
    moved = {"index": landed, "direction": data["direction"]}
    return panel_with_notice(request, draft, moved=moved)


@require_POST
@may_edit(of="draft")
async def section_generate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Regenerate or expand one section: its new text streams into its place in the page."""
    checked = await checked_start(request, pk, SectionGenerateForm)
    if isinstance(checked, HttpResponse):
        return checked
    draft, data = checked
    return await start_and_watch(
        request,
        draft,
        f"{SECTIONS}#section-live",
        kind=Suggestion.Kind(data["action"]),
        instruction=data["instruction"],
        section_index=data["index"],
        base_number=data["base"],
    )


async def checked_start(
    request: HtmxHttpRequest, pk: int, form_class: type[forms.Form]
) -> tuple[Draft, dict] | HttpResponse:
    """Before starting a generation: the user's draft (else 404), a valid form and a token
    budget left; or the response that says which is missing."""
    user = await request.auser()
    draft = await aget_object_or_404(
        Draft.objects.for_user(user).select_related("workspace"), pk=pk
    )
    form = form_class(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400)
    try:
        await acheck_token_budget(user)
    except BudgetExceeded as exc:
        return HttpResponse(exc.message, status=429, headers={"Retry-After": exc.retry_after})
    return draft, form.cleaned_data


async def start_and_watch(
    request: HtmxHttpRequest,
    draft: Draft,
    partial: str,
    *,
    notice_key: str = "section_notice",
    **target: object,
) -> HttpResponse:
    """Start a suggestion (``start_suggestion``'s keywords) and answer with the partial that
    watches it stream; a stale page or a target not found is a notice in the panel."""
    user = await request.auser()
    try:
        suggestion = await sync_to_async(start_suggestion)(draft=draft, user=user, **target)
    except actions.VersionConflict as conflict:
        notice = stale_notice(conflict)
    except ValueError as exc:
        notice = str(exc)
    else:
        return await launched(request, draft, suggestion, partial)
    return await sync_to_async(panel_with_notice)(request, draft, notice, key=notice_key)


async def launched(
    request: HtmxHttpRequest, draft: Draft, suggestion: Suggestion, partial: str
) -> HttpResponse:
    """Start the suggestion's generation; htmx gets the partial that watches it stream."""
    await sync_to_async(remember_origin)(generation_id=suggestion.generation_id, request=request)
    runner.launch(suggestion.generation_id)
    if not request.htmx:
        return redirect(draft)
    live = Live(suggestion.generation, suggestion.section_index)
    # Only editors get here (may_edit): the partial shows them the Stop button.
    context = {"draft": draft, "suggestion": suggestion, "live": live, "may_edit": True}
    return await sync_to_async(render)(request, partial, context)
