"""Experiment writes: create, run side by side, vote, stop, declare a winner."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.translation import ngettext

from drafts import generate  # the one action, looked up at call time (tests spy on it)
from drafts.generate import NEVER_CACHED, Ask, Generate
from drafts.grounding import Scope
from drafts.models import Generation
from studio.audit.origin import Origin
from studio.tuning import Prepared

from ..actions import VERSIONED_FIELDS, InvalidTemplate, move_label, save_version
from ..models import PRODUCTION, TemplateVersion
from ..placeholders import placeholders
from .assignment import assign
from .evidence import record
from .models import Experiment, ExperimentRun, Variant, VariantRun, Vote
from .results import comparison, rewrites, verdict, vote_rows
from .stats import MIN_DECISIVE_VOTES, Comparison

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
    fields = {v.name for v in variants[0]["version"].variable_specs}
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


def start_run(
    *,
    experiment: Experiment,
    inputs: dict[str, object],
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None = None,
    on_run: Callable[[ExperimentRun], object] | None = None,
) -> ExperimentRun:
    """One generation per variant on the same inputs, each a draft of its own, through the
    generate action (checks, rows, launch on ``loop`` once committed; a batch row passes
    none and runs them itself). ``on_run`` is called with the run in the same transaction.

    Columns are shuffled when the review is blind.
    """
    if not experiment.is_running:
        raise InvalidExperiment("This experiment is stopped: start a new one to compare again.")
    variants = list(experiment.variants.select_related("version__template", "brand_voice_version"))
    if experiment.blind:
        _shuffle(variants)
    made: list[ExperimentRun] = []

    def tag(generations: list[Generation]) -> None:
        run = ExperimentRun.objects.create(experiment=experiment, inputs=inputs, created_by=user)
        _tag_columns(run, variants, generations)
        made.append(run)
        if on_run is not None:
            on_run(run)

    request = Generate(
        user=user,
        workspace=experiment.workspace,
        origin=origin,
        asks=[_variant_ask(variant, inputs) for variant in variants],
        cache=NEVER_CACHED,  # a variant's time to first token and cost are the evidence
        loop=loop,
    )
    generate.do_generate(request, within=tag)
    return made[0]


def _variant_ask(variant: Variant, inputs: dict[str, object]) -> Ask:
    """What a variant asks: its version's prompts with its overrides (model, temperature,
    brand voice)."""
    params = variant.generation_params()
    grounded = variant.version.knowledge_variable() is not None
    return Ask(
        model=str(params["model"]),
        params=params,
        messages=variant.build_messages(inputs),
        inputs=dict(inputs),
        template_version=variant.version,
        # Each variant retrieves its own passages (its version may draw on other sources).
        with_knowledge=partial(variant.build_messages, dict(inputs)) if grounded else None,
    )


def _tag_columns(run: ExperimentRun, variants: list[Variant], generations: list) -> None:
    for position, (variant, generation) in enumerate(zip(variants, generations, strict=True)):
        VariantRun.objects.create(
            run=run, variant=variant, generation=generation, position=position
        )


# Asked by every Generate before DeepSeek is: compiled once (studio.tuning 7; decision 45).
_SINGLE_VARIANT = Prepared(Experiment.objects.single_variant_of)


def assigned_variant(*, workspace, template, subject: str) -> Variant | None:
    """The subject's variant when ``template`` is in a running single-variant experiment.

    ``subject`` comes from :func:`prompts.experiments.assignment.subject_for`; the same
    experiment and subject always get the same variant, in proportion to the weights.
    """
    experiment = _SINGLE_VARIANT.first(workspace.pk, template.pk)
    if experiment is None:
        return None
    variants = experiment.variants.select_related(
        "experiment__workspace", "version__template", "brand_voice_version"
    ).order_by("pk")
    return assign(experiment.pk, subject, list(variants))


def start_assigned_generation(
    *,
    workspace,
    version: TemplateVersion,
    inputs: dict[str, object],
    user,
    subject: str,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
    label: str = PRODUCTION,
    cache: str = "",
    knowledge: Scope | None = None,
) -> Generation:
    """Start a generation from ``version``, or from the subject's variant when the template
    is in a running single-variant experiment: then the draft is tagged with that variant
    (a one-column :class:`ExperimentRun`). The variant is picked here, above drafts; the
    generate action checks, stores and launches (on ``loop``, once committed).

    ``label``: the label ``version`` was picked by. Another than ``production`` (``staging``)
    that does point at ``version`` is an explicit choice: that version runs, unassigned.
    ``cache``: what the caller asked of the response cache; a variant is never cached (its
    time to first token and cost are the experiment's evidence). ``knowledge``: the caller's
    overrides of the knowledge variable, or grounding off (the JSON API's), for a variant too.
    A variant's generation comes back with its column in hand (``generation.variant_run``,
    cached: no query).
    """
    template = version.template
    picked = label not in ("", PRODUCTION) and template.labelled(label) == version
    variant = None
    if not picked:
        variant = assigned_variant(workspace=workspace, template=template, subject=subject)
    request = Generate(
        user=user,
        workspace=workspace,
        origin=origin,
        asks=[replace(Ask.from_version(version, inputs), knowledge=knowledge)],
        cache=cache,
        loop=loop,
    )
    if variant is None:
        return generate.do_generate_one(request)

    def tag(generations: list[Generation]) -> None:
        run = ExperimentRun.objects.create(
            experiment=variant.experiment, inputs=inputs, created_by=user
        )
        _tag_columns(run, [variant], generations)

    asks = [replace(_variant_ask(variant, inputs), knowledge=knowledge)]
    return generate.do_generate_one(replace(request, asks=asks, cache=NEVER_CACHED), within=tag)


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
    """The two variants' decisive votes (None for three or more variants)."""
    return comparison(list(experiment.variants.all()), vote_rows(experiment))


class TooEarly(InvalidExperiment):
    """A winner declared on fewer votes than the results page calls one on, unconfirmed."""


def _too_early_message(counted: int) -> str:
    return ngettext(
        "Only %(n)s vote counts so far, and a winner is called on %(needed)s: a lead this "
        "early is often a lucky streak. Tick “Declare anyway” to declare it regardless.",
        "Only %(n)s votes count so far, and a winner is called on %(needed)s: a lead this "
        "early is often a lucky streak. Tick “Declare anyway” to declare it regardless.",
        counted,
    ) % {"n": counted, "needed": MIN_DECISIVE_VOTES}


def _describe(overrides: dict[str, Any]) -> str:
    parts = []
    if "model" in overrides:
        parts.append(f"model {overrides['model']}")
    if "temperature" in overrides:
        parts.append(f"temperature {overrides['temperature']:g}")
    if "brand_voice" in overrides:
        pinned = overrides["brand_voice_version"]
        parts.append(f"brand voice {pinned or overrides['brand_voice']}")
    return ", ".join(parts)


def _winning_version(*, experiment: Experiment, variant: Variant, user) -> TemplateVersion:
    """The version production should point at: the variant's own when it is a plain version;
    when it overrides the model, temperature or brand voice, a new immutable version of its
    template with the same prompts and variables and those overrides baked in."""
    overrides = variant.overrides()
    base = variant.version
    if not overrides:
        return base
    data = {field: getattr(base, field) for field in VERSIONED_FIELDS}
    data |= {k: overrides[k] for k in ("model", "temperature") if k in overrides}
    if "brand_voice" in overrides:
        voice, pinned = overrides["brand_voice"], overrides["brand_voice_version"]
    else:
        voice, pinned = base.brand_voice, base.brand_voice_version
    data["follow_voice"] = pinned is None  # no pin carried over from the latest version
    note = f"Winner of experiment “{experiment.name}”: v{base.number} with {_describe(overrides)}"
    version, _ = save_version(
        template=base.template,
        data=data,
        user=user,
        brand_voice=voice,
        brand_voice_version=pinned,
        note=note,
    )
    return version


@transaction.atomic
def declare_winner(
    *, experiment: Experiment, variant: Variant, user, early_ok: bool = False
) -> TemplateVersion:
    """Stop the experiment and move ``production`` to the winner, with the evidence attached.

    The evidence is the results page's numbers (``prompts.experiments.results.verdict``). On
    fewer votes than the page calls a winner on, :class:`TooEarly` unless ``early_ok`` (the
    person ticked "Declare anyway"; the evidence says so). A winner with overrides gets a new
    version that bakes them in (:func:`_winning_version`). Returns the version production now points
    at.
    """
    if variant.experiment_id != experiment.pk:
        raise InvalidExperiment("That variant is not part of this experiment.")
    template = variant.version.template
    if template.is_library:
        raise InvalidTemplate("A library template's labels cannot move: duplicate it first.")
    result = verdict(experiment)
    if result.too_early and not early_ok:
        raise TooEarly(_too_early_message(result.counted))
    evidence = record(result, experiment=experiment, variant=variant)
    if experiment.is_single_variant:
        # No votes here: the evidence is how editors treated the winner's drafts.
        edits = rewrites(experiment)[variant.pk]
        evidence |= {"drafts": edits.drafts, "approved": edits.approved}
        evidence["rewritten"] = edits.rewritten
    version = _winning_version(experiment=experiment, variant=variant, user=user)
    if version != variant.version:
        evidence["baked_from"] = variant.version.number
    move_label(
        template=template,
        name=PRODUCTION,
        version=version,
        user=user,
        note=f"Winner of experiment “{experiment.name}”",
        evidence=evidence,
    )
    experiment.winner = variant
    experiment.status = Experiment.Status.STOPPED
    experiment.save(update_fields=["winner", "status"])
    return version


def stop(*, experiment: Experiment, archive: bool = False) -> Experiment:
    experiment.status = Experiment.Status.ARCHIVED if archive else Experiment.Status.STOPPED
    experiment.save(update_fields=["status"])
    return experiment
