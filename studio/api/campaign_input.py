"""A campaign sent to the API, checked field by field before anything is stored.

The brief goes through the campaign page's own form (``CampaignForm``); each deliverable
through the rules of the page's deliverable form (a template of the workspace, a channel,
at most the channel's items, overrides naming the template's variables), and then its
template's own form, filled from the brief as Generate will fill it: a campaign created
through the API can be generated. Every problem is reported at once, each with the dotted
path of its field (``deliverables.1.count``).
"""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator as NO_NUL
from django.utils.translation import gettext as _

from prompts.forms import TemplateForm
from prompts.models import PromptTemplate, TemplateVersion
from studio.campaigns.actions import inputs_for
from studio.campaigns.channels import BUILT_IN
from studio.campaigns.forms import MAX_OVERRIDES, CampaignForm
from studio.campaigns.models import Campaign, Deliverable
from studio.workspaces.models import Workspace

from .campaign_schemas import CampaignIn, DeliverableIn
from .errors import ApiError

Problems = list[dict[str, str]]


def validated_campaign(
    space: Workspace, owner, payload: CampaignIn
) -> tuple[Campaign, list[Deliverable]]:
    """The campaign and its deliverables, unsaved; ApiError 422 naming every problem."""
    brief = payload.dict(exclude={"deliverables"})
    form = CampaignForm(data={k: "" if v is None else str(v) for k, v in brief.items()})
    problems: Problems = [
        {"param": "ends_on" if name == "__all__" else name, "message": " ".join(messages)}
        for name, messages in form.errors.items()
    ] if not form.is_valid() else []  # fmt: skip
    campaign = form.instance
    campaign.workspace, campaign.owner = space, owner
    wanted = {d.template for d in payload.deliverables}
    templates = {
        t.pk: t
        for t in PromptTemplate.objects.for_workspace(space).filter(pk__in=wanted)
        .with_current_version()
    }  # fmt: skip
    deliverables = []
    for index, given in enumerate(payload.deliverables):
        deliverable, found = _deliverable(f"deliverables.{index}", given, templates, campaign)
        problems += found
        deliverables.append(deliverable)
    if problems:
        message = "; ".join(f"{p['param']}: {p['message']}" for p in problems)
        raise ApiError(
            422,
            _("Invalid campaign: %(problems)s") % {"problems": message},
            code="invalid_campaign",
            param=problems[0]["param"],
            errors=problems,
        )
    return campaign, deliverables


def _deliverable(
    at: str, given: DeliverableIn, templates: dict[int, PromptTemplate], campaign: Campaign
) -> tuple[Deliverable, Problems]:
    problems: Problems = []
    channel = BUILT_IN.get(given.channel)
    if channel is None:
        message = _("Unknown channel “%(channel)s”. Channels: %(known)s.") % {
            "channel": given.channel[:40],
            "known": ", ".join(BUILT_IN),
        }
        problems.append({"param": f"{at}.channel", "message": message})
    elif given.count > channel.max_items:
        message = _("This channel takes at most %(n)s.") % {"n": channel.max_items}
        problems.append({"param": f"{at}.count", "message": message})
    template = templates.get(given.template)
    version = template.current_version() if template else None
    if template is None:
        message = _("No such template in this workspace.")
        problems.append({"param": f"{at}.template", "message": message})
    elif version is None:
        problems.append(
            {"param": f"{at}.template", "message": _("This template has no version yet.")}
        )
    else:
        problems += _overrides(at, given.overrides, version)
    deliverable = Deliverable(
        campaign=campaign,
        template_version=version,
        channel=given.channel,
        count=given.count,
        overrides=given.overrides,
    )
    if not problems and version is not None:
        problems += _inputs(at, deliverable, version)
    return deliverable, problems


def _overrides(at: str, overrides: dict[str, str], version: TemplateVersion) -> Problems:
    if len(overrides) > MAX_OVERRIDES:
        message = _("At most %(n)s overrides.") % {"n": MAX_OVERRIDES}
        return [{"param": f"{at}.overrides", "message": message}]
    # The variables its form asks for (a knowledge variable is filled with passages instead).
    known = {var.name for var in version.variable_specs if not var.is_knowledge}
    problems = [
        {
            "param": f"{at}.overrides.{name}",
            "message": _("The template has no variable named %(names)s.") % {"names": name},
        }
        for name in sorted(set(overrides) - known)
    ]
    problems += [
        {"param": f"{at}.overrides.{name}", "message": str(NO_NUL.message)}
        for name, value in overrides.items()
        if name in known and "\x00" in value  # the form may not read it; PostgreSQL cannot store it
    ]
    return problems


def _inputs(at: str, deliverable: Deliverable, version: TemplateVersion) -> Problems:
    """The template's form, filled as Generate fills it: a variable the brief leaves empty
    is ``inputs.<name>``, an override the form refuses ``overrides.<name>``."""
    filled = inputs_for(deliverable, version)
    form = TemplateForm(version, data={name: str(value) for name, value in filled.items()})
    if form.is_valid():
        return []
    problems = []
    for name, messages in form.errors.items():
        if name == "__all__":
            param = at
        elif name in deliverable.overrides:
            param = f"{at}.overrides.{name}"
        else:
            param = f"{at}.inputs.{name}"
        problems.append({"param": param, "message": " ".join(messages)})
    return problems
