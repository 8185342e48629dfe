"""Fit to limits on the campaign board: start one for a deliverable whose items break a rule,
then accept or reject it as a whole.

Both are editors' (``may_edit``; reviewers get a 403). Starting one answers htmx with the
deliverable's panel, which joins the board's one stream (``views.started``), and a plain form
with the campaign page; deciding answers with the campaign page. While the fit is written, the
board's stream follows it in the deliverable's panel; at its end the panel shows each repaired
item with its count, and Accept or Reject. The fit is a tracked suggestion on the draft
(``drafts.suggestions``): accepting writes a new version only if the version the board showed
is still the newest, and the board's check then runs on it.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from drafts import generation as runner
from drafts import suggestions
from drafts.actions import VersionConflict
from drafts.generate import NotAllowed
from drafts.models import Suggestion
from drafts.views.sections import stale_notice
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded
from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit

from .actions import fit_deliverable
from .forms import FitDecideForm, FitForm
from .models import Deliverable
from .views import refused, started


def _deliverable(request: HtmxHttpRequest, pk: int) -> Deliverable:
    found = Deliverable.objects.for_user(request.user).select_related("campaign", "draft")
    return get_object_or_404(found, pk=pk)


@require_POST
@may_edit(of="deliverable")
async def deliverable_fit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Fit to limits: the model repairs the items that break a rule, as a suggestion."""
    loop = asyncio.get_running_loop()
    response, generation_id = await sync_to_async(_fit)(request, pk, loop)
    if generation_id is not None:
        await runner.asked(generation_id)
    return response


def _fit(
    request: HtmxHttpRequest, pk: int, loop: asyncio.AbstractEventLoop
) -> tuple[HttpResponse, int | None]:
    deliverable = _deliverable(request, pk)
    form = FitForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400), None
    name = deliverable.channel_name
    try:
        fit = fit_deliverable(
            deliverable=deliverable,
            user=request.user,
            origin=Origin.from_request(request),
            loop=loop,
            base_number=form.cleaned_data["base"],
        )
    except NotAllowed as exc:
        return HttpResponse(exc.message, status=403), None
    except VersionConflict as conflict:
        return refused(request, deliverable, stale_notice(conflict), status=409), None
    except BudgetExceeded as exc:
        return refused(request, deliverable, exc.message, status=429), None
    except (ValueError, ValidationError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return refused(request, deliverable, reason, status=409), None
    if not request.htmx:
        messages.info(request, _("%(name)s: fitting to limits…") % {"name": name})
    return started(request, deliverable), fit.generation_id


@require_POST
@may_edit(of="deliverable")
def deliverable_fit_decide(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Accept the fit (a new version, checked again on the board) or reject it."""
    deliverable = _deliverable(request, pk)
    form = FitDecideForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This request could not be read."), status=400)
    data = form.cleaned_data
    fits = Suggestion.objects.for_user(request.user).filter(kind=Suggestion.Kind.FIT)
    fit = get_object_or_404(fits, pk=data["suggestion"], draft_id=deliverable.draft_id)
    try:
        suggestions.decide(
            suggestion_id=fit.pk,
            accept=data["decision"] == "accept",
            change=None,
            base_number=data["base"],
            revision=data["revision"],
            author_id=request.user.pk,
        )
    except VersionConflict as conflict:
        kept = _("The suggestion is kept.")
        messages.warning(request, f"{deliverable.channel_name}: {stale_notice(conflict)} {kept}")
    except (suggestions.SuggestionChanged, suggestions.NotApplicable) as exc:
        messages.warning(request, f"{deliverable.channel_name}: {exc}")
    return redirect(deliverable.campaign)
