"""The workspace's Generate: the form's version, or the user's variant of a running
single-variant experiment on its template, through the generate action.

Variant assignment belongs to the experiments, above drafts, so this view lives here and not in
drafts.views; studio/urls.py adds its route to the ``drafts`` namespace (``drafts:generate``),
since drafts.urls may not import it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from drafts import generation as runner
from drafts.generate import NotAllowed
from drafts.models import Generation
from drafts.views.workspace import DETAIL, WORKSPACE, label_context
from studio.audit.origin import Origin, client_ip
from studio.guardrails.budgets import BudgetExceeded
from studio.http import HtmxHttpRequest, request_number
from studio.tuning import Prepared
from studio.workspaces.access import may_edit, member_workspace

from ...forms import TemplateForm
from ...models import PRODUCTION, TemplateVersion
from ..actions import start_assigned_generation
from ..assignment import subject_for

# The form's version with its template, by its key, compiled once (studio.tuning 7; decision
# 45): then the workspace's rule on the row (a query by the rule costs the Generate about 1 ms
# more of the ORM's compiling, on the way to the first token).
_VERSION = Prepared(
    lambda pk: TemplateVersion.objects.select_related("template").filter(pk=pk).order_by()
)


@require_POST
@may_edit()
async def generate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Validate the form, create the draft and its generation, start it, show it streaming.

    Everything before DeepSeek is asked happens in one trip to the ORM's thread: each trip
    costs time to the first token, and the panel can wait until after. The generate action
    launches the runner on this loop once its rows are committed.
    """
    started = await sync_to_async(_start)(request, pk, asyncio.get_running_loop())
    if isinstance(started, HttpResponse):
        return started
    await runner.asked(started[0].pk)  # the panel can wait for the request to DeepSeek
    return await sync_to_async(_streaming)(request, *started)


def _start(
    request: HtmxHttpRequest, pk: int, loop: asyncio.AbstractEventLoop
) -> tuple[Generation, str] | HttpResponse:
    """The queued generation and the workspace URL that shows it; or the form again, in
    place, with what to fix."""
    space = member_workspace(request.user, pk)  # read by the role check (may_edit)
    label = request.POST.get("label", "")
    number = request_number(request.POST.get("version"))
    version = None if number is None else _VERSION.first(number)
    if version is None or not version.template.is_offered_in(space):
        raise Http404("No such template version in this workspace.")
    form = TemplateForm(version, request.POST)
    generation = None
    if form.is_valid():
        # A running single-variant experiment on this template runs the user's variant
        # instead (unless another label was picked: then exactly the version it points at).
        try:
            generation = start_assigned_generation(
                workspace=space,
                version=version,
                inputs=form.cleaned_data,
                user=request.user,
                subject=subject_for(request.user, client_ip(request) or ""),
                origin=Origin.from_request(request),
                loop=loop,
                label=label,
            )
        except (BudgetExceeded, NotAllowed) as exc:
            form.add_error(None, exc.message)
    if generation is None:
        context = {"workspace": space, "chosen": version.template, "form": form}
        context |= label_context(version.template, label)
        response = render(request, f"{WORKSPACE}#template-form", context)
        return reswap(retarget(response, "#template-form"), "outerHTML")
    query = {"template": version.template_id, "draft": generation.draft_id}
    if label not in ("", PRODUCTION):
        query["label"] = label  # a reload keeps the picked label (an unknown one: production)
    return generation, f"{space.get_absolute_url()}?{urlencode(query)}"


def _streaming(request: HtmxHttpRequest, generation: Generation, url: str) -> HttpResponse:
    """After the launch: the draft panel following the stream (htmx), else the workspace."""
    if not request.htmx:
        return redirect(url)
    context = {"draft": generation.draft, "generation": generation, "live": True}
    # A new draft, whose one generation has an experiment column only when a variant ran it:
    # then start_assigned_generation hands the column back with it. Without one, the panel's
    # experiment tags ask nothing (prompts.templatetags.experiment_tags).
    context["experiment_columns"] = Generation.variant_run.is_cached(generation)
    response = render(request, f"{DETAIL}#draft-panel", context | {"live_after": 0})
    # The new draft joins the workspace's Recent drafts (which listens for this event)
    return trigger_client_event(push_url(response, url), "drafts-changed")
