"""Rewrites as tracked suggestions: start one (it streams into the suggestions list), then
accept or reject its changes one at a time or all at once, or pick a headline.

Accepting is based on the version the page showed (``base``) and the suggestion's state
(``revision``): if either moved on, nothing is written and the panel shows where things are.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit

from .. import suggestions
from ..actions import VersionConflict
from ..forms import DecideForm, HeadlineForm, RewriteForm
from ..models import Suggestion
from .sections import (
    SECTIONS,
    checked_start,
    panel_with_notice,
    stale_notice,
    start_and_watch,
)

NOTICE = RewriteForm.notice_key


@require_POST
@may_edit(of="draft")
async def rewrite(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Shorter, more formal, translated or five headlines, for the selection, a section or all."""
    checked = await checked_start(request, pk, RewriteForm)
    if isinstance(checked, HttpResponse):
        return checked
    draft, form = checked
    data = form.cleaned_data
    selection = data["selection"].strip()
    return await start_and_watch(
        request,
        draft,
        f"{SECTIONS}#suggestion-started",
        form=form,
        kind=Suggestion.Kind(data["kind"]),
        instruction=(data["language"] or "en") if data["kind"] == "translate" else "",
        section_index=None if selection else data["section"],
        selection=selection,
        base_number=data["base"],
    )


def _suggestion(request: HtmxHttpRequest, pk: int, sid: int) -> Suggestion:
    """The user's suggestion on this draft, or 404."""
    found = Suggestion.objects.for_user(request.user).select_related("draft__workspace")
    return get_object_or_404(found, pk=sid, draft_id=pk)


def _outcome(
    request: HtmxHttpRequest, suggestion: Suggestion, attempt: Callable[[], object]
) -> HttpResponse:
    """Run the decision; whatever happens, the panel shows where the draft now stands."""
    try:
        attempt()
    except VersionConflict as conflict:
        notice = stale_notice(conflict) + " " + _("The suggestion is kept.")
    except (suggestions.SuggestionChanged, suggestions.NotApplicable) as exc:
        notice = str(exc)
    else:
        notice = ""
    return panel_with_notice(request, suggestion.draft, notice, key=NOTICE)


@require_POST
@may_edit(of="draft")
def decide(request: HtmxHttpRequest, pk: int, sid: int) -> HttpResponse:
    """Accept or reject one change, or all: accepting writes a new version."""
    suggestion = _suggestion(request, pk, sid)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400)
    accept, change = form.parsed()
    return _outcome(
        request,
        suggestion,
        lambda: suggestions.decide(
            suggestion_id=suggestion.pk,
            accept=accept,
            change=change,
            base_number=form.cleaned_data["base"],
            revision=form.cleaned_data["revision"],
            author_id=request.user.pk,
        ),
    )


@require_POST
@may_edit(of="draft")
def use_headline(request: HtmxHttpRequest, pk: int, sid: int) -> HttpResponse:
    """Put the chosen headline in place of the title (or the selected text)."""
    suggestion = _suggestion(request, pk, sid)
    form = HeadlineForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400)
    return _outcome(
        request,
        suggestion,
        lambda: suggestions.use_headline(
            suggestion_id=suggestion.pk,
            choice=form.cleaned_data["choice"],
            base_number=form.cleaned_data["base"],
            revision=form.cleaned_data["revision"],
            author_id=request.user.pk,
        ),
    )
