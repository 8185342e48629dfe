"""Campaign writes: deliverables added and removed, the whole campaign (or one deliverable)
generated, and stopped.

Every generation goes through the one generate action (``drafts.generate.do_generate``): this
module only decides each deliverable's inputs (the brief filled in by name, ``filling``) and
links the draft it makes to the deliverable, in the same transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from drafts.actions import VersionConflict
from drafts.generate import Ask, Generate, NotAllowed, do_generate_one
from drafts.grounding import Scope
from drafts.models import Generation, Suggestion
from drafts.suggestions import start_fit
from prompts.forms import TemplateForm
from prompts.models import BRAND_VOICE, PromptTemplate, TemplateVersion
from prompts.placeholders import placeholders
from studio.audit.origin import Origin
from studio.guardrails.budgets import BudgetExceeded

from . import fitting
from .filling import fill_inputs
from .models import Campaign, ChannelRule, Deliverable

MAX_QUERY = 2000  # the brief's first characters make the retrieval query


def add_deliverable(
    *,
    campaign: Campaign,
    template: PromptTemplate,
    channel: str,
    count: int,
    overrides: dict,
    use_voice: bool = True,
    use_knowledge: bool = True,
) -> Deliverable:
    """A deliverable on the template's current version (pinned: a later edit of the template
    does not change what this campaign asks)."""
    return Deliverable.objects.create(
        campaign=campaign,
        template_version=template.current_version(),
        channel=channel,
        count=count,
        overrides=overrides,
        use_voice=use_voice,
        use_knowledge=use_knowledge,
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


def grounding_scope(deliverable: Deliverable) -> Scope | None:
    """The campaign's knowledge for this deliverable's generation: the sources it picked by
    title and those carrying its tags, retrieved for the brief's text. None (the template's
    own grounding, if any) when the campaign picks nothing or the deliverable opts out."""
    campaign = deliverable.campaign
    if not deliverable.use_knowledge:
        return None
    titles = campaign.knowledge_titles
    tags = tuple(str(tag) for tag in campaign.knowledge_tags or ())
    if not titles and not tags:
        return None
    return Scope(tags=tags, sources=titles, query=campaign.brief_text()[:MAX_QUERY])


def _messages(
    version: TemplateVersion, inputs: dict[str, Any], voice: str | None, knowledge: str = ""
) -> list[dict[str, Any]]:
    """The version's messages in ``voice`` (None: its own): the voice fills its
    ``{{ brand_voice }}`` placeholder, or closes the system message where it has none."""
    messages = version.build_messages(inputs, brand_voice=voice, knowledge=knowledge)
    prompts = (version.system_prompt, version.user_prompt)
    if voice and not any(BRAND_VOICE in placeholders(text) for text in prompts):
        system = messages[0]["content"].rstrip()
        messages[0]["content"] = f"{system}\n\n{voice.strip()}" if system else voice.strip()
    return messages


def ask_for(deliverable: Deliverable, version: TemplateVersion, inputs: dict[str, Any]) -> Ask:
    """The deliverable's ask: the version's prompts with its inputs, in the campaign's brand
    voice, grounded in the campaign's knowledge (the generate action retrieves, numbers and
    stores the passages, as for every grounded generation)."""
    campaign = deliverable.campaign
    voice = campaign.voice_text if deliverable.use_voice and campaign.voice_text else None
    scope = grounding_scope(deliverable)
    params = version.generation_params()
    grounded = scope is not None or version.knowledge_variable() is not None
    return Ask(
        model=str(params["model"]),
        params=params,
        messages=_messages(version, inputs, voice),
        inputs=inputs,
        template_version=version,
        with_knowledge=partial(_messages, version, inputs, voice) if grounded else None,
        knowledge=scope,
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
        asks=[ask_for(deliverable, version, form.cleaned_data)],
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


# Per-workspace channel rules: an owner's override of a built-in channel, or back to it.


def set_channel_rule(*, workspace, channel: str, rules: dict[str, Any], user) -> ChannelRule:
    """The workspace's rules for ``channel`` (``ChannelRuleForm``'s cleaned data)."""
    fields = ("limit", "max_items", "requires_cta", "requires_link", "emoji")
    values = {name: rules[name] for name in fields} | {"updated_by": user}
    rule, _created = ChannelRule.objects.update_or_create(
        workspace=workspace, channel=channel, defaults=values
    )
    return rule


def reset_channel_rule(*, workspace, channel: str) -> None:
    """The built-in rules again for ``channel`` in the workspace."""
    ChannelRule.objects.filter(workspace=workspace, channel=channel).delete()
