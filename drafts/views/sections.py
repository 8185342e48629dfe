"""Sections of a draft: regenerate or expand one in place (streaming), move one up or down.

Both are based on the version the page showed (``base``): if a newer one exists the request
changes nothing and the panel comes back with the newest version and a notice.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded
from studio.guardrails.prompt_fields import prompt_errors
from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit

from .. import actions
from .. import generation as runner
from ..forms import SectionGenerateForm, SectionMoveForm, StartForm
from ..generate import NotAllowed
from ..models import Draft, Suggestion
from ..panels import draft_panel_context
from ..section_panels import Live
from ..suggestions import NotOffered, start_suggestion
from .workspace import DETAIL

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
    return _panel(request, draft, {key: notice, **extra})


def refused_in_place(
    request: HtmxHttpRequest, draft: Draft, retry: dict, notice: str = "", *, key: str
) -> HttpResponse:
    """A start refused for what was typed: the panel with the reason and the text as typed
    (``retry``, the form's), in place for htmx, else as the whole page: nothing is lost."""
    context = {key: notice, **retry}
    if not request.htmx:
        return render(request, DETAIL, draft_panel_context(draft) | context)
    return _panel(request, draft, context)


def _panel(request: HtmxHttpRequest, draft: Draft, extra: dict) -> HttpResponse:
    response = render(request, f"{DETAIL}#draft-panel", draft_panel_context(draft) | extra)
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
    draft, form = checked
    data = form.cleaned_data
    return await start_and_watch(
        request,
        draft,
        f"{SECTIONS}#section-live",
        form=form,
        kind=Suggestion.Kind(data["action"]),
        instruction=data["instruction"],
        section_index=data["index"],
        base_number=data["base"],
    )


async def checked_start(
    request: HtmxHttpRequest, pk: int, form_class: type[StartForm]
) -> tuple[Draft, StartForm] | HttpResponse:
    """Before starting a generation: the user's draft (else 404) and a valid form; or the
    response that says which is missing. Text the prompt checks refuse (``PromptField``)
    comes back in the panel as typed, with the reason beside it. (The role and the token
    budget are the generate action's to check.)"""
    user = await request.auser()
    draft = await aget_object_or_404(
        Draft.objects.for_user(user).select_related("workspace"), pk=pk
    )
    form = form_class(request.POST)
    if not form.is_valid():
        errors = prompt_errors(form)
        if errors is None:
            return HttpResponse(_("This request could not be read."), status=400)
        retry = form.retry(" ".join(errors.values()))
        return await sync_to_async(refused_in_place)(request, draft, retry, key=form.notice_key)
    return draft, form


async def start_and_watch(
    request: HtmxHttpRequest,
    draft: Draft,
    partial: str,
    *,
    form: StartForm,
    **target: object,
) -> HttpResponse:
    """Start a suggestion (``start_suggestion``'s keywords) and answer with the partial that
    watches it stream. A stale page is a notice in the panel; a target not found, or a
    prompt that may not be sent, a notice with the form as it was typed; a spent budget a
    429, a role that may not generate a 403, a kind the draft does not offer a 422."""
    user = await request.auser()
    try:
        suggestion = await sync_to_async(start_suggestion)(
            draft=draft,
            user=user,
            origin=Origin.from_request(request),
            loop=asyncio.get_running_loop(),
            **target,
        )
    except BudgetExceeded as exc:
        return HttpResponse(exc.message, status=429, headers={"Retry-After": exc.retry_after})
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=403)
    except NotOffered as exc:  # e.g. headlines asked for without the button (not marketing text)
        return HttpResponse(exc.message, status=422)
    except actions.VersionConflict as conflict:  # the text moved on: start from the new one
        notice = stale_notice(conflict)
        return await sync_to_async(panel_with_notice)(request, draft, notice, key=form.notice_key)
    except (ValueError, ValidationError) as exc:
        notice = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return await sync_to_async(refused_in_place)(
            request, draft, form.retry(), notice, key=form.notice_key
        )
    return await launched(request, draft, suggestion, partial)


async def launched(
    request: HtmxHttpRequest, draft: Draft, suggestion: Suggestion, partial: str
) -> HttpResponse:
    """The suggestion's generation is launched; htmx gets the partial that watches it stream."""
    await runner.asked(suggestion.generation_id)
    if not request.htmx:
        return redirect(draft)
    live = Live(suggestion.generation, suggestion.section_index)
    # Only editors get here (may_edit): the partial shows them the Stop button.
    context = {"draft": draft, "suggestion": suggestion, "live": live, "may_edit": True}
    # The list's "nothing open" line is on the page only if nothing else is listed: removing
    # it out of band when it is not there is an htmx error (oobErrorNoTarget).
    others = draft.suggestions.listed().exclude(pk=suggestion.pk)
    context["list_was_empty"] = not await others.aexists()
    return await sync_to_async(render)(request, partial, context)
