"""The workspace's channel rules: each built-in channel with the limits in force here, and an
owner's override of them (characters, items, a required call to action or link, emoji), or
the built-in rules again.

Every member reads the page (the limits their copy is checked against); only owners save or
reset (``may_manage``: anyone else's POST is a 403 saying why). Another workspace is a 404.
With htmx each channel's row posts and swaps alone (a refused value comes back in the row,
with its message); without JavaScript the forms post and redirect back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studio.http import HtmxHttpRequest
from studio.workspaces.access import may_manage
from studio.workspaces.models import Workspace

from .actions import reset_channel_rule, set_channel_rule
from .channels import BUILT_IN, Channel
from .forms import ChannelRuleForm
from .labels import channel_name, rules_summary
from .models import ChannelRule

PAGE = "campaigns/channel_rules.html"


@dataclass(frozen=True)
class ChannelRow:
    built_in: Channel
    effective: Channel
    overridden: bool
    form: ChannelRuleForm

    @property
    def key(self) -> str:
        return self.built_in.key

    @property
    def name(self) -> str:
        return channel_name(self.built_in.key)

    @property
    def summary(self) -> str:
        return rules_summary(self.effective)

    @property
    def built_in_summary(self) -> str:
        return rules_summary(self.built_in)


def _workspace(request: HttpRequest, ws: int) -> Workspace:
    return get_object_or_404(Workspace.objects.for_user(request.user), pk=ws)


def _built_in(channel: str) -> Channel:
    if channel not in BUILT_IN:
        raise Http404
    return BUILT_IN[channel]


def _row(space: Workspace, channel: str, form: ChannelRuleForm | None = None) -> ChannelRow:
    built_in = _built_in(channel)
    override = ChannelRule.objects.filter(workspace=space, channel=channel).first()
    effective = override.apply(built_in) if override else built_in
    form = form or ChannelRuleForm.for_rules(built_in, effective, prefix=channel)
    return ChannelRow(built_in, effective, override is not None, form)


@require_GET
def channel_rules(request: HtmxHttpRequest, ws: int) -> HttpResponse:
    space = _workspace(request, ws)
    rows = [_row(space, key) for key in BUILT_IN]
    return render(request, PAGE, {"workspace": space, "rows": rows})


def _answer(
    request: HtmxHttpRequest, space: Workspace, row: ChannelRow, done: str = ""
) -> HttpResponse:
    """The row alone for htmx (a refused form too: the row shows why, and swaps in with a
    200), else the page: back to it with ``done`` said, or a refused form on it (400)."""
    if request.htmx:
        return render(request, f"{PAGE}#channel", {"workspace": space, "row": row})
    if not done:
        rows = [row if key == row.key else _row(space, key) for key in BUILT_IN]
        return render(request, PAGE, {"workspace": space, "rows": rows}, status=400)
    messages.success(request, done)
    return redirect(f"{reverse('campaigns:channels', args=[space.pk])}#channel-{row.key}")


@require_POST
@may_manage()
def channel_rule_save(request: HtmxHttpRequest, ws: int, channel: str) -> HttpResponse:
    """Owners: this channel's limits in the workspace."""
    space = _workspace(request, ws)
    form = ChannelRuleForm(_built_in(channel), request.POST, prefix=channel)
    if not form.is_valid():
        return _answer(request, space, _row(space, channel, form))
    set_channel_rule(workspace=space, channel=channel, rules=form.cleaned_data, user=request.user)
    done = _("%(channel)s: rules saved.") % {"channel": channel_name(channel)}
    return _answer(request, space, _row(space, channel), done)


@require_POST
@may_manage()
def channel_rule_reset(request: HtmxHttpRequest, ws: int, channel: str) -> HttpResponse:
    """Owners: this channel's built-in rules again."""
    space = _workspace(request, ws)
    _built_in(channel)
    reset_channel_rule(workspace=space, channel=channel)
    done = _("%(channel)s: built-in rules again.") % {"channel": channel_name(channel)}
    return _answer(request, space, _row(space, channel), done)
