"""Experiment writes: create, run side by side, vote, stop, declare a winner."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from django.db import transaction

from .actions import InvalidTemplate, move_label
from .assignment import assign
from .models import (
    PRODUCTION,
    Experiment,
    ExperimentRun,
    TemplateVersion,
    Variant,
    VariantRun,
    Vote,
)
from .rendering import placeholders
from .stats import Comparison, wilson

if TYPE_CHECKING:
    from drafts.models import Generation

_shuffle = random.SystemRandom().shuffle


class InvalidExperiment(ValueError):
    """An experiment, run or vote that cannot be accepted as asked."""


@transaction.atomic
def create_experiment(
    *,
    workspace,
    name: str,
    variants: list[dict[str, Any]],
    user,
    blind: bool = True,
    hypothesis: str = "",
    mode: str = Experiment.Mode.SIDE_BY_SIDE,
) -> Experiment:
    """An experiment with two or more variants that all fit the first variant's form.

    ``mode`` single: generating from one of its templates in the workspace (or the API) runs
    the variant assigned to the user instead (:func:`start_assigned_generation`).

    Each variant is ``{"name", "version", "model"?, "temperature"?, "brand_voice_version"?,
    "weight"?}``; a variant whose prompts need a variable the form lacks is refused.
    """
    if len(variants) < 2:
        raise InvalidExperiment("An experiment needs at least two variants.")
    fields = {v["name"] for v in variants[0]["version"].variables}
    for spec in variants:
        version = spec["version"]
        if version.template.workspace_id not in (None, workspace.pk):
            raise InvalidExperiment(f"{version} is not available in this workspace.")
        needed = placeholders(version.system_prompt) | placeholders(version.user_prompt)
        if missing := sorted(needed - fields - {"brand_voice"}):
            raise InvalidExperiment(f"{spec['name']} needs inputs the form lacks: {missing}.")
    experiment = Experiment.objects.create(
        workspace=workspace,
        name=name,
        blind=blind,
        created_by=user,
        hypothesis=hypothesis[:300],
        mode=mode,
    )
    for spec in variants:
        Variant.objects.create(experiment=experiment, **spec)
    return experiment


@transaction.atomic
def start_run(*, experiment: Experiment, inputs: dict[str, object], user) -> ExperimentRun:
    """One generation per variant on the same inputs, each a draft of its own.

    Columns are shuffled when the review is blind. The caller launches every
    ``run.columns[*].generation`` after commit (``drafts.generation.launch``).
    """
    if not experiment.is_running:
        raise InvalidExperiment("This experiment is stopped: start a new one to compare again.")
    run = ExperimentRun.objects.create(experiment=experiment, inputs=inputs, created_by=user)
    variants = list(experiment.variants.select_related("version__template", "brand_voice_version"))
    if experiment.blind:
        _shuffle(variants)
    for position, variant in enumerate(variants):
        _start_column(run=run, variant=variant, position=position, inputs=inputs, user=user)
    return run


def _start_column(
    *, run: ExperimentRun, variant: Variant, position: int, inputs: dict[str, object], user
) -> Generation:
    """A draft and queued generation for one variant of a run, tagged with the variant."""
    from drafts.actions import start_generation

    generation = start_generation(
        workspace=run.experiment.workspace, version=variant.version, inputs=inputs, user=user
    )
    # The variant's overrides (model, temperature, brand voice) replace the version's.
    params = variant.generation_params()
    generation.model, generation.params = params["model"], params
    generation.messages = variant.build_messages(inputs)
    generation.save(update_fields=["model", "params", "messages"])
    VariantRun.objects.create(run=run, variant=variant, generation=generation, position=position)
    return generation


def assigned_variant(*, workspace, template, subject: str) -> Variant | None:
    """The subject's variant when ``template`` is in a running single-variant experiment.

    ``subject`` comes from :func:`prompts.assignment.subject_for`; the same experiment and
    subject always get the same variant, in proportion to the weights.
    """
    experiment = Experiment.objects.single_variant_for(workspace, template)
    if experiment is None:
        return None
    variants = experiment.variants.select_related(
        "experiment__workspace", "version__template", "brand_voice_version"
    ).order_by("pk")
    return assign(experiment.pk, subject, list(variants))


@transaction.atomic
def start_assigned_generation(
    *, workspace, version: TemplateVersion, inputs: dict[str, object], user, subject: str
) -> Generation:
    """Start a generation from ``version``, or from the subject's variant when the template
    is in a running single-variant experiment: then the draft is tagged with that variant
    (a one-column :class:`ExperimentRun`). The caller launches it after commit.
    """
    from drafts.actions import start_generation

    variant = assigned_variant(workspace=workspace, template=version.template, subject=subject)
    if variant is None:
        return start_generation(workspace=workspace, version=version, inputs=inputs, user=user)
    run = ExperimentRun.objects.create(
        experiment=variant.experiment, inputs=inputs, created_by=user
    )
    return _start_column(run=run, variant=variant, position=0, inputs=inputs, user=user)


@transaction.atomic
def cast_vote(
    *, run: ExperimentRun, voter, choice: str, winner: Variant | None = None, reason: str = ""
) -> Vote:
    """Record one editor's verdict on a run (changing their mind replaces their vote)."""
    columns = list(run.columns.order_by("position"))
    if not run.experiment.is_running:
        raise InvalidExperiment("This experiment is stopped: its votes are closed.")
    if choice not in Vote.Choice.values:
        raise InvalidExperiment(f"Unknown choice {choice!r}.")
    if (choice == Vote.Choice.VARIANT) != (winner is not None):
        raise InvalidExperiment("Pick a column for “this one”, none for a tie or both bad.")
    if winner is not None and winner.pk not in {c.variant_id for c in columns}:
        raise InvalidExperiment("That variant was not part of this run.")
    vote, _ = Vote.objects.update_or_create(
        run=run,
        voter=voter,
        defaults={
            "experiment_id": run.experiment_id,
            "choice": choice,
            "winner": winner,
            "shown_order": [c.variant_id for c in columns],
            "reason": reason[:500],
        },
    )
    return vote


def head_to_head(experiment: Experiment) -> Comparison | None:
    """The first two variants' decisive votes (None for three or more variants)."""
    variants = list(experiment.variants.all())
    if len(variants) != 2:
        return None
    a, b = variants
    wins = dict.fromkeys((a.pk, b.pk), 0)
    for winner_id in experiment.votes.filter(choice=Vote.Choice.VARIANT).values_list(
        "winner_id", flat=True
    ):
        wins[winner_id] += 1
    return Comparison(a.name, b.name, wins[a.pk], wins[b.pk])


@transaction.atomic
def declare_winner(*, experiment: Experiment, variant: Variant, user) -> Experiment:
    """Stop the experiment and move ``production`` to the winner, with the evidence attached."""
    if variant.experiment_id != experiment.pk:
        raise InvalidExperiment("That variant is not part of this experiment.")
    template = variant.version.template
    if template.is_library:
        raise InvalidTemplate("A library template's labels cannot move: duplicate it first.")
    comparison = head_to_head(experiment)
    decisive = experiment.votes.filter(choice=Vote.Choice.VARIANT)
    wins = decisive.filter(winner=variant).count()
    interval = wilson(wins, decisive.count())
    evidence = {
        "experiment": experiment.pk,
        "variant": variant.name,
        "votes": experiment.votes.count(),
        "wins": wins,
        "decisive_votes": decisive.count(),
        "interval": [interval.low, interval.high] if interval else None,
        "p_value": comparison.p_value if comparison else None,
        "summary": comparison.statement() if comparison else f"{variant.name} declared winner.",
    }
    if experiment.is_single_variant:
        # No votes here: the evidence is how editors treated the winner's drafts.
        from .results import rewrites

        edits = rewrites(experiment)[variant.pk]
        evidence |= {"drafts": edits.drafts, "approved": edits.approved}
        evidence["rewritten"] = edits.rewritten
    move_label(
        template=template,
        name=PRODUCTION,
        version=variant.version,
        user=user,
        note=f"Winner of experiment “{experiment.name}”",
        evidence=evidence,
    )
    experiment.winner = variant
    experiment.status = Experiment.Status.STOPPED
    experiment.save(update_fields=["winner", "status"])
    return experiment


def stop(*, experiment: Experiment, archive: bool = False) -> Experiment:
    experiment.status = Experiment.Status.ARCHIVED if archive else Experiment.Status.STOPPED
    experiment.save(update_fields=["status"])
    return experiment
