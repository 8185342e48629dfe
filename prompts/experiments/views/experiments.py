"""A/B experiment pages: list and create, side-by-side runs, blind votes, results."""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.db.models import Avg, Count, F, Sum
from django.db.models.functions import Length
from django.http import HttpResponse
from django.shortcuts import aget_object_or_404, get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from drafts import generation as runner
from drafts.generate import NotAllowed
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded
from studio.http import HtmxHttpRequest, request_number
from studio.workspaces.access import forbidden_response, may_edit, may_review
from studio.workspaces.models import Workspace

from ...actions import InvalidTemplate
from ...forms import TemplateForm
from ...models import PromptTemplate
from ..actions import (
    InvalidExperiment,
    TooEarly,
    cast_vote,
    create_experiment,
    declare_winner,
    start_run,
    stop,
)
from ..approvals import Approvals, approval_test
from ..forms import ExperimentForm, variant_formset
from ..models import Experiment, ExperimentRun, VariantRun, Vote
from ..results import Verdict, assigned_split, reviewers, rewrites, verdict
from ..stats import MIN_DECISIVE_VOTES

EXPERIMENTS = "prompts/experiment_list.html"
CREATE = "prompts/experiment_create.html"
EXPERIMENT = "prompts/experiment_detail.html"
RUN = "prompts/experiment_run.html"
RESULTS = "prompts/experiment_results.html"


def _experiment(space: Workspace, pk: int) -> Experiment:
    return get_object_or_404(Experiment.objects.filter(workspace=space), pk=pk)


def _run(space: Workspace, pk: int) -> ExperimentRun:
    runs = ExperimentRun.objects.select_related("experiment__workspace")
    return get_object_or_404(runs.filter(experiment__workspace=space), pk=pk)


@require_GET
def experiment_list(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """The workspace's experiments, newest first, archived ones apart, with their votes."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    experiments = (
        Experiment.objects.filter(workspace=space)
        .annotate(vote_count=Count("votes", distinct=True), run_count=Count("runs", distinct=True))
        .select_related("winner")
        .prefetch_related("variants__version__template")
    )
    context: dict[str, Any] = {"workspace": space, "section": "experiments"}
    context["active"] = [e for e in experiments if e.status != Experiment.Status.ARCHIVED]
    context["archived"] = [e for e in experiments if e.status == Experiment.Status.ARCHIVED]
    return render(request, EXPERIMENTS, context)


@require_http_methods(["GET", "POST"])
@may_edit()
def experiment_create(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    """Pick a template, then two to four variants of it; blind review is on by default.

    Changing the template (htmx, or the "Show its versions" button without JS) only rebuilds
    the variant rows; nothing is created until "Create experiment".
    """
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    templates = PromptTemplate.objects.for_workspace(space).filter(versions__isnull=False)
    # The workspace's own templates first: only their winners can be promoted.
    templates = templates.distinct().order_by(F("workspace").asc(nulls_last=True), "name")
    raw = (request.POST if request.method == "POST" else request.GET).get("template")
    chosen = request_number(raw)
    template = (templates.filter(pk=chosen).first() if chosen else None) or templates.first()
    data = request.POST if request.method == "POST" and "pick" not in request.POST else None
    form = ExperimentForm(data, templates=templates, initial={"template": template})
    variants = variant_formset(data, template=template, workspace=space)
    if data is not None and form.is_valid() and variants.is_valid():
        fields = form.cleaned_data
        try:
            experiment = create_experiment(
                workspace=space,
                name=fields["name"],
                hypothesis=fields["hypothesis"],
                blind=fields["blind"],
                mode=fields["mode"],
                variants=variants.specs(),
                user=request.user,
            )
        except InvalidExperiment as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Experiment created: fill in the form to run it."))
            return redirect(experiment)
    context = {"workspace": space, "section": "experiments", "form": form, "variants": variants}
    context |= {"template": template, "has_templates": templates.exists()}
    if request.htmx.target == "variant-fields":
        return render(request, f"{CREATE}#variant-fields", context)
    return render(request, CREATE, context)


def _detail_context(
    space: Workspace, experiment: Experiment, user, form: TemplateForm | None = None
) -> dict[str, Any]:
    version = experiment.form_version()
    single = experiment.is_single_variant
    if form is None and version is not None and experiment.is_running and not single:
        form = TemplateForm(version)
    # Batch rows are reviewed in their batch's queue: here only the runs made on this page
    # (or, single variant, the generations assigned in the workspace), and a link per batch.
    runs = experiment.runs.recent_with_votes(user)
    batches = experiment.batches.annotate(row_count=Count("rows")).order_by("-created")
    return {
        "workspace": space,
        "section": "experiments",
        "experiment": experiment,
        "variants": experiment.variants.select_related("version__template", "brand_voice_version"),
        "template": version.template if version else None,
        "form": form,
        "runs": runs.select_related("created_by")[:20],
        "batches": batches[:5],
        "split": assigned_split(experiment) if single else None,
    }


@require_GET
def experiment_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """The side-by-side page: the template's form; one click runs every variant at once."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    experiment = _experiment(space, pk)
    context = _detail_context(space, experiment, request.user)
    if request.htmx.target == "recent-runs":  # the list refreshing itself after a run or vote
        return render(request, f"{EXPERIMENT}#recent-runs", context)
    return render(request, EXPERIMENT, context)


def _refuse_side_by_side(request: HtmxHttpRequest, experiment: Experiment) -> HttpResponse:
    """A single-variant experiment has no side-by-side runs: say so, change nothing (htmx:
    a 409 whose toast the page shows, as for any refusal that explains itself)."""
    message = _(
        "This is a single-variant experiment: it runs no variants side by side. Generate "
        "from its template in the workspace, and each person gets their assigned variant."
    )
    if request.htmx:
        response = forbidden_response(request, message)
        response.status_code = 409
        return response
    messages.error(request, message)
    return redirect(experiment)


@require_POST
@may_edit()
async def run_start(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """Validate the shared form, start every variant on it, and stream them side by side."""
    user = await request.auser()
    space = await aget_object_or_404(Workspace.objects.for_user(user), pk=ws)
    experiment = await aget_object_or_404(Experiment.objects.filter(workspace=space), pk=pk)
    if experiment.is_single_variant:
        return await sync_to_async(_refuse_side_by_side)(request, experiment)
    version = await sync_to_async(experiment.form_version)()
    form = TemplateForm(version, request.POST)
    if await sync_to_async(form.is_valid)():
        try:  # the generate action checks and stores, and launches each column on this loop
            run = await sync_to_async(start_run)(
                experiment=experiment,
                inputs=form.cleaned_data,
                user=user,
                origin=Origin.from_request(request),
                loop=asyncio.get_running_loop(),
            )
        except (BudgetExceeded, NotAllowed) as error:
            form.add_error(None, error.message)
        except InvalidExperiment as error:
            form.add_error(None, str(error))
    if form.errors:
        context = await sync_to_async(_detail_context)(space, experiment, user, form)
        if not request.htmx:
            return await sync_to_async(render)(request, EXPERIMENT, context)
        response = await sync_to_async(render)(request, f"{EXPERIMENT}#run-form", context)
        return reswap(retarget(response, "#run-form"), "outerHTML")
    launched = [c.generation_id async for c in run.columns.all()]
    await asyncio.gather(*(runner.asked(generation_id) for generation_id in launched))
    if not request.htmx:
        return redirect(run.get_absolute_url())
    context = await sync_to_async(_run_context)(run, user)
    response = await sync_to_async(render)(request, f"{RUN}#run", context)
    # The new run joins the page's Recent runs (which listens for this event)
    return trigger_client_event(push_url(response, run.get_absolute_url()), "runs-changed")


def _columns(run: ExperimentRun) -> list[VariantRun]:
    """The run's columns left to right, each with its text so far when still streaming."""
    columns = list(
        run.columns.select_related(
            "variant__version__template", "variant__brand_voice_version__voice", "generation"
        ).order_by("position")
    )
    for column in columns:
        column.live_blocks, column.live_text, column.live_after = "", "", 0
        # The version, model and temperature it ran with, less what the variant's name says.
        params = column.generation.params or {}
        column.details = column.variant.describe(column.generation.model, params.get("temperature"))
        # Its runner is gone: its text so far, until drafts.sweeper ends it (reads only read).
        column.recovering = column.generation.is_active and runner.is_orphan(column.generation)
        if column.generation.is_active and not column.recovering:
            # Here: the text so far from memory; another worker: the replay from the start.
            so_far = runner.live_snapshot(column.generation_id)
            column.live_blocks = runner.live_blocks(so_far)
            column.live_text, column.live_after = so_far.tail, so_far.seq
    return columns


def _run_context(run: ExperimentRun, user) -> dict[str, Any]:
    columns = _columns(run)
    my_vote = run.votes.filter(voter=user).first()
    winner_id = my_vote.winner_id if my_vote else None
    my_letter = next((c.letter for c in columns if c.variant_id == winner_id), "")
    experiment = run.experiment
    my_pick = ""
    if my_vote is not None:
        my_pick = my_letter if my_vote.choice == Vote.Choice.VARIANT else str(my_vote.choice)
    return {
        "workspace": experiment.workspace,
        "section": "experiments",
        "experiment": experiment,
        "run": run,
        "columns": columns,
        "my_vote": my_vote,
        "my_letter": my_letter,
        # The button this editor's vote pressed: a column's letter, "tie" or "both_bad".
        "my_pick": my_pick,
        "other_choices": [(Vote.Choice.TIE.value, "t"), (Vote.Choice.BOTH_BAD.value, "b")],
        # Blind review: which variant each column was stays hidden until this editor votes.
        "revealed": not experiment.blind or my_vote is not None,
        "finished": not any(c.generation.is_active for c in columns),
        "vote_count": run.votes.count(),
    }


@require_http_methods(["GET", "POST"])
@may_review()
def run_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """One side-by-side run: the columns, and the vote that reveals them (POST)."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    run = _run(space, pk)
    if request.method == "POST":
        return _vote(request, run)
    context = _run_context(run, request.user)
    return render(request, f"{RUN}#run" if request.htmx else RUN, context)


def _vote(request: HtmxHttpRequest, run: ExperimentRun) -> HttpResponse:
    """Record this editor's verdict: a column's letter, "tie" or "both_bad", and a reason.

    An error (still streaming, experiment stopped, unknown choice) keeps the typed reason.
    """
    context = _run_context(run, request.user)
    choice, reason = request.POST.get("choice", ""), request.POST.get("reason", "").strip()
    by_letter = {c.letter: c.variant for c in context["columns"]}
    if not context["finished"]:  # 409: its buttons are not enabled yet (an early or forged POST)
        error = _("Wait until every column has finished, then vote.")
        return _refuse_early_vote(request, context | {"vote_error": error, "reason": reason})
    error = ""
    try:
        winner = by_letter.get(choice)
        choice = Vote.Choice.VARIANT if winner else choice
        cast_vote(run=run, voter=request.user, choice=choice, winner=winner, reason=reason)
    except InvalidExperiment as exc:
        error = str(exc)
    if error:
        context |= {"vote_error": error, "reason": reason}
        if not request.htmx:
            return render(request, RUN, context)
        response = render(request, f"{RUN}#vote-panel", context)
        return reswap(retarget(response, "#vote-panel"), "outerHTML")
    if not request.htmx:
        messages.success(request, _("Vote recorded."))
        return redirect(run.get_absolute_url())
    response = render(request, f"{RUN}#run", _run_context(run, request.user))
    return trigger_client_event(response, "runs-changed")  # "to vote" becomes "voted"


def _refuse_early_vote(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    """409 for a vote while a column still writes: htmx shows the reason as a toast, keeping
    the typed reason in the form; without JS, the run page says it."""
    if request.htmx:
        response = forbidden_response(request, context["vote_error"])
    else:
        response = render(request, RUN, context)
    response.status_code = 409
    return response


@require_GET
def run_column(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """One column (a ``VariantRun``), re-fetched when its stream ends: the sanitized text, the
    variant still hidden in blind review (the stream's own final panel names draft and model)."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    columns = VariantRun.objects.filter(run__experiment__workspace=space)
    column = get_object_or_404(columns.select_related("run__experiment__workspace"), pk=pk)
    if not request.htmx:
        return redirect(column.run.get_absolute_url())
    context = _run_context(column.run, request.user)
    column = next(c for c in context["columns"] if c.pk == column.pk)
    return render(request, f"{RUN}#run-column", context | {"column": column})


def _result_rows(experiment: Experiment, result: Verdict) -> list[dict[str, Any]]:
    """Per variant: votes, win rate with its 95% Wilson interval, generation costs, and how
    much editors rewrote its drafts (a fixed number of queries, whatever the counts)."""
    usage = {
        row["variant"]: row
        for row in VariantRun.objects.filter(variant__experiment=experiment)
        .values("variant")
        .annotate(
            runs=Count("pk"),
            ttft=Avg("generation__ttft_ms"),
            tokens=Avg("generation__completion_tokens"),
            length=Avg(Length("generation__text")),
            cost=Sum("generation__cost"),
        )
    }
    edits = rewrites(experiment)
    rows = []
    for variant, variant_result in zip(result.variants, result.results, strict=True):
        shown = [v.choice for v in result.votes if variant.pk in v.shown]
        rows.append(
            {
                "variant": variant,
                "result": variant_result,
                "ties": shown.count(Vote.Choice.TIE),
                "both_bad": shown.count(Vote.Choice.BOTH_BAD),
                "usage": usage.get(variant.pk, {}),
                "rewrites": edits[variant.pk],
            }
        )
    return rows


def _approvals(row: dict[str, Any]) -> Approvals:
    return Approvals(row["variant"].name, row["rewrites"].approved, row["rewrites"].drafts)


def _results_context(space: Workspace, experiment: Experiment) -> dict[str, Any]:
    variants = list(experiment.variants.select_related("version", "brand_voice_version__voice"))
    result = verdict(experiment, variants)
    rows = _result_rows(experiment, result)
    version = experiment.form_version()
    return {
        "workspace": space,
        "section": "experiments",
        "experiment": experiment,
        "rows": rows,
        "approvals": approval_test([_approvals(row) for row in rows]),
        "verdict": result,
        "ranking": result.ranking,
        "reviewers": reviewers(experiment, result.votes),
        "comparison": result.comparison,
        "min_votes": MIN_DECISIVE_VOTES,
        "template": version.template if version else None,
        "promoted": experiment.promoted_version() if experiment.winner_id else None,
        "votes": experiment.votes.select_related("voter", "winner")[:50],
        "vote_total": len(result.votes),
    }


def _declare(request: HtmxHttpRequest, space: Workspace, experiment: Experiment) -> HttpResponse:
    """Declare the chosen variant the winner (moves ``production``). On too few votes only
    with "Declare anyway" ticked: otherwise the page again, the reason beside the box."""
    variant = get_object_or_404(experiment.variants, pk=request_number(request.POST.get("variant")))
    early_ok = bool(request.POST.get("declare_anyway"))
    try:
        version = declare_winner(
            experiment=experiment, variant=variant, user=request.user, early_ok=early_ok
        )
    except TooEarly as error:
        context = _results_context(space, experiment)
        context |= {"declare_error": str(error), "declare_variant": variant.pk}
        return render(request, RESULTS, context)
    except (InvalidExperiment, InvalidTemplate) as error:
        messages.error(request, str(error))
    else:
        message = _("%(name)s is the winner: production now points at v%(n)s.")
        if version != variant.version:
            message = _(
                "%(name)s is the winner: production now points at v%(n)s, a new version with "
                "its model, temperature and brand voice baked in."
            )
        messages.success(request, message % {"name": variant.name, "n": version.number})
    return redirect("prompts:experiment_results", experiment.workspace_id, experiment.pk)


def _results_action(
    request: HtmxHttpRequest, space: Workspace, experiment: Experiment
) -> HttpResponse:
    """Declare a winner, stop, or archive."""
    if "declare" in request.POST:
        return _declare(request, space, experiment)
    if "archive" in request.POST:
        stop(experiment=experiment, archive=True)
        messages.success(request, _("Experiment archived."))
    elif "stop" in request.POST:
        stop(experiment=experiment)
        messages.success(request, _("Experiment stopped: its results stay here."))
    return redirect("prompts:experiment_results", experiment.workspace_id, experiment.pk)


@require_http_methods(["GET", "POST"])
@may_edit()
def experiment_results(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """Votes, win rates with Wilson intervals, the head-to-head test; declare, stop, archive."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    experiment = _experiment(space, pk)
    if request.method == "POST":
        return _results_action(request, space, experiment)
    return render(request, RESULTS, _results_context(space, experiment))
