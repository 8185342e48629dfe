"""Campaign writes: deliverables added and removed, the whole campaign (or one deliverable)
generated, and stopped.

Every generation goes through the one generate action (``drafts.generate.do_generate``): this
module only decides each deliverable's inputs (the brief filled in by name, ``filling``) and
links the draft it makes to the deliverable, in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from drafts.actions import VersionConflict
from drafts.generate import Ask, Generate, NotAllowed, do_generate_one
from drafts.models import Generation, Suggestion
from drafts.suggestions import start_fit
from prompts.forms import TemplateForm
from prompts.models import PromptTemplate, TemplateVersion
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded

from . import fitting
from .filling import fill_inputs
from .models import Campaign, Deliverable


def add_deliverable(
    *, campaign: Campaign, template: PromptTemplate, channel: str, count: int, overrides: dict
) -> Deliverable:
    """A deliverable on the template's current version (pinned: a later edit of the template
    does not change what this campaign asks)."""
    return Deliverable.objects.create(
        campaign=campaign,
        template_version=template.current_version(),
        channel=channel,
        count=count,
        overrides=overrides,
    )


@transaction.atomic
def create_campaign(*, campaign: Campaign, deliverables: list[Deliverable]) -> Campaign:
    """A campaign and its deliverables (unsaved, each with its template version pinned),
    stored together: all or nothing (the API's create)."""
    campaign.save()
    for deliverable in deliverables:
        deliverable.campaign = campaign
    Deliverable.objects.bulk_create(deliverables)
    return campaign


def inputs_for(deliverable: Deliverable, version: TemplateVersion) -> dict[str, object]:
    """The version's inputs for this deliverable: brief, deliverable facts, overrides."""
    specs = version.variable_specs
    facts: dict[str, object] = {"channel": deliverable.channel_name}
    if deliverable.rules.limit is not None:
        facts["max_chars"] = deliverable.rules.limit
    if deliverable.rules.is_list:
        facts["count"] = deliverable.count
    return fill_inputs(
        [var.name for var in specs],
        brief=deliverable.campaign.brief(),
        deliverable=facts,
        overrides=deliverable.overrides,
        defaults={var.name: var.default for var in specs},
        choices={var.name: var.options() for var in specs if var.is_picked},
    )


@dataclass(frozen=True)
class Outcome:
    """What "Generate all" did with one deliverable: its generation, or why not."""

    deliverable: Deliverable
    generation: Generation | None = None
    problem: str = ""


def generate_deliverable(
    *,
    deliverable: Deliverable,
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
) -> Outcome:
    """One deliverable's generation, into its draft (a new draft the first time, or one the
    trash holds). The template's own form checks the filled inputs, as the workspace's
    Generate does; a deliverable already generating is left to finish."""
    version = deliverable.template_version
    if version is None:
        return Outcome(deliverable, problem=_("Its template was deleted: pick another."))
    draft = deliverable.draft if deliverable.draft and not deliverable.draft.deleted_at else None
    if draft is not None and draft.generations.filter(status__in=Generation.ACTIVE).exists():
        return Outcome(deliverable, problem=_("Already generating."))
    form = TemplateForm(
        version, data={k: str(v) for k, v in inputs_for(deliverable, version).items()}
    )
    if not form.is_valid():
        errors = [
            f"{name}: {' '.join(map(str, messages))}"
            if name != "__all__"
            else " ".join(map(str, messages))
            for name, messages in form.errors.items()
        ]
        return Outcome(deliverable, problem="; ".join(errors))

    def link(generations: list[Generation]) -> None:
        Deliverable.objects.filter(pk=deliverable.pk).update(draft=generations[0].draft)

    request = Generate(
        user=user,
        workspace=deliverable.campaign.workspace,
        origin=origin,
        asks=[Ask.from_version(version, form.cleaned_data)],
        draft=draft,
        cache="bypass" if draft is not None else "",
        loop=loop,
    )
    try:
        generation = do_generate_one(request, within=link)
    except (BudgetExceeded, NotAllowed) as exc:
        return Outcome(deliverable, problem=exc.message)
    deliverable.draft = generation.draft
    return Outcome(deliverable, generation=generation)


def generate_campaign(
    *, campaign: Campaign, user, origin: Origin, loop: asyncio.AbstractEventLoop | None
) -> list[Outcome]:
    """Generate all: one generation per deliverable, each in its own draft, each through the
    generate action (its role and budget checks, its launch on commit). One deliverable's
    problem (a refused input, a spent budget) is its own outcome and does not stop the rest."""
    outcomes: list[Outcome] = []
    for deliverable in campaign.deliverables.for_board():
        deliverable.campaign = campaign
        outcome = generate_deliverable(deliverable=deliverable, user=user, origin=origin, loop=loop)
        outcomes.append(outcome)
    return outcomes


@transaction.atomic
def remove_deliverable(*, deliverable: Deliverable) -> None:
    """The deliverable goes; its draft stays in the workspace, like any other draft."""
    deliverable.delete()


def fit_deliverable(
    *,
    deliverable: Deliverable,
    user,
    origin: Origin,
    loop: asyncio.AbstractEventLoop | None,
    base_number: int,
) -> Suggestion:
    """Fit to limits: ask the model to repair the items of the draft's version
    ``base_number`` (the one the board showed) that break a rule of the channel, and only
    those (``fitting``); the answer comes back as a tracked suggestion on the draft, like any
    rewrite, through the same generate action (role, budget, audit, launch on ``loop``).

    ValueError when there is no draft or nothing breaks a rule; ``VersionConflict`` when a
    newer version was saved; the generate action's refusals and ``ValidationError`` (a
    prompt that may not be sent) as ``start_suggestion`` raises them."""
    draft = deliverable.draft
    latest = draft.latest_version() if draft is not None and not draft.deleted_at else None
    if latest is None:
        raise ValueError(_("This deliverable has no text yet."))
    if latest.number != base_number:
        raise VersionConflict(latest)
    broken = fitting.broken_items(latest.text, deliverable.check_text(latest.text))
    if not broken:
        raise ValueError(_("Every item is within the channel's rules: nothing to fit."))
    return start_fit(
        draft=draft,
        user=user,
        origin=origin,
        loop=loop,
        messages=fitting.messages(deliverable.rules, broken),
        parts=[entry.span for entry in broken],
        base_number=base_number,
    )
