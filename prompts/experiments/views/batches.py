"""Batch experiment pages: upload a CSV of inputs, run it in the background and watch the
progress, judge it with a rubric, and the review queue of blind pairs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from studio.audit.recording import request_origin
from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_edit, may_review
from studio.workspaces.models import Workspace

from .. import batch_review as review
from ..actions import InvalidExperiment
from ..batch_actions import (
    cast_review_vote,
    create_batch,
    resume_batch,
    start_batch,
    start_judging,
)
from ..batch_inputs import MAX_BYTES, MAX_ROWS, BatchUploadForm, parse_inputs
from ..batch_results import variant_summary
from ..models import Batch, Vote
from .experiments import _experiment

BATCHES = "prompts/batch_list.html"
BATCH = "prompts/batch_detail.html"
REVIEW = "prompts/batch_review.html"


def _batch(space: Workspace, pk: int) -> Batch:
    batches = Batch.objects.in_workspace(space).select_related("experiment__workspace")
    return get_object_or_404(batches, pk=pk)


@require_http_methods(["GET", "POST"])
@may_edit()
def batch_list(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """An experiment's batches, and the CSV upload that makes a new one (nothing runs yet)."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    experiment = _experiment(space, pk)
    version = experiment.form_version()
    form = BatchUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid() and version is not None:
        upload = form.cleaned_data["inputs"]
        # At most one byte over the cap is read: enough for parse_inputs to refuse it.
        parsed = parse_inputs(upload.read(MAX_BYTES + 1), version)
        errors = parsed.errors
        if not errors:
            try:
                batch = create_batch(
                    experiment=experiment, name=form.cleaned_data["name"], rows=parsed.rows,
                    user=request.user, source_name=upload.name,
                )  # fmt: skip
            except InvalidExperiment as error:
                errors = [str(error)]
            else:
                return redirect(batch)
    context: dict[str, Any] = {"workspace": space, "section": "experiments", "form": form}
    context |= {"experiment": experiment, "errors": errors, "max_rows": MAX_ROWS}
    context |= {"batches": experiment.batches.all(), "variables": _variables(version)}
    return render(request, BATCHES, context)


def _variables(version) -> list[str]:
    return [v.name for v in version.variable_specs if not v.is_knowledge] if version else []


def _batch_context(batch: Batch, user) -> dict[str, Any]:
    experiment = batch.experiment
    return {
        "workspace": experiment.workspace,
        "section": "experiments",
        "experiment": experiment,
        "batch": batch,
        "rows": batch.rows.select_related("run"),
        "summary": variant_summary(experiment, batch),
        "to_review": review.remaining(batch, user),
    }


@require_http_methods(["GET", "POST"])
@may_edit()
def batch_detail(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """A batch: progress (polled while it runs), per-row outcome, votes beside judge scores;
    POST "run" queues it for the worker, "resume" takes over a stale one (its worker died),
    "judge" saves the rubric and queues the judge."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    batch = _batch(space, pk)
    if request.method == "POST":
        if (error := _batch_action(request, batch)) is None:
            return redirect(batch)
        messages.error(request, error)
        batch.rubric = request.POST.get("rubric", batch.rubric)  # shown again as typed
    context = _batch_context(batch, request.user)
    if request.htmx.target == "batch-status":
        return render(request, f"{BATCH}#batch-status", context)
    return render(request, BATCH, context)


def _batch_action(request: HtmxHttpRequest, batch: Batch) -> str | None:
    """Run the button's action; None when done, else why it could not be."""
    try:
        if "judge" in request.POST:
            start_judging(batch=batch, rubric=request.POST.get("rubric", ""))
            messages.success(request, _("The judge is at work: scores appear below."))
        elif "resume" in request.POST:
            resume_batch(batch=batch, origin=request_origin(request))
            messages.success(request, _("Batch resumed: only the rows not done will run."))
        else:
            start_batch(batch=batch, origin=request_origin(request))
            messages.success(request, _("Batch queued: progress appears below."))
    except InvalidExperiment as error:
        return str(error)
    return None


@require_http_methods(["GET", "POST"])
@may_review()
def batch_review(request: HtmxHttpRequest, ws: int, pk: int) -> HttpResponse:
    """The review queue: one blind pair at a time (keys 1, 2, t, b); POST votes, then the
    next pair. Never a run this reviewer voted on; the least-voted runs first."""
    space = get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)
    batch = _batch(space, pk)
    context: dict[str, Any] = {"workspace": space, "section": "experiments", "batch": batch}
    context["experiment"] = batch.experiment
    if request.method == "POST":
        context |= _review_vote(request, batch)
    pair = context.get("pair") or review.next_pair(batch, request.user)
    context |= {"pair": pair, "remaining": review.remaining(batch, request.user)}
    template = f"{REVIEW}#review-pair" if request.htmx else REVIEW
    return render(request, template, context)


def _review_vote(request: HtmxHttpRequest, batch: Batch) -> dict[str, Any]:
    """Record the vote on the posted pair: ``{"last": pair, "last_vote": vote}``, or the
    same pair again with ``vote_error``."""
    pair = review.pair_from_post(batch, request.POST.get("run", ""), request.POST.get("order", ""))
    if pair is None:
        return {"vote_error": _("That pair is no longer in this batch's queue.")}
    choice = request.POST.get("choice", "")
    winner = {"1": pair.left.variant, "2": pair.right.variant}.get(choice)
    reason = request.POST.get("reason", "").strip()
    try:
        vote = cast_review_vote(
            run=pair.run, pair=[pair.left.variant, pair.right.variant], voter=request.user,
            choice=Vote.Choice.VARIANT if winner else choice, winner=winner, reason=reason,
        )  # fmt: skip
    except InvalidExperiment as error:
        return {"pair": pair, "vote_error": str(error), "reason": reason}
    review.release(batch, request.user, pair.run)
    return {"last": pair, "last_vote": vote}
