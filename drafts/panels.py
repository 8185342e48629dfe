"""Context and rendering for the draft panel, shared by pages and the stream's final event."""

from __future__ import annotations

from django.db.models import Sum
from django.http import HttpRequest
from django.template.loader import render_to_string

from .models import Draft, DraftVersion
from .section_panels import section_context

PANEL = "drafts/draft_detail.html#draft-panel"


def draft_panel_context(
    draft: Draft, *, version: DraftVersion | None = None, live: bool = False
) -> dict[str, object]:
    """What the draft panel shows: a version (the latest by default), the last generation."""
    versions = list(draft.versions.select_related("generation", "author").order_by("-number"))
    shown = version or (versions[0] if versions else None)
    whole = draft.generations.whole_draft()
    generation = shown.generation if shown and shown.generation_id else whole.first()
    return {
        "draft": draft,
        "versions": versions,
        "shown": shown,
        "is_latest": bool(shown and versions and shown.number == versions[0].number),
        "generation": generation,
        "live": live,
        "shares": list(draft.share_links.active().select_related("version")),
        "statuses": Draft.Status.choices,
        "draft_cost": draft.generations.aggregate(total=Sum("cost"))["total"],
    } | section_context(draft, shown=shown, latest_number=versions[0].number if versions else 0)


def render_draft_panel(draft_id: int, request: HttpRequest | None = None) -> str:
    """The finished panel's HTML, sent as the stream's final event.

    Without a request (the runner, once for all watchers) every editing control shows; with
    a watcher's request, only what their role may use (drafts.watching).
    """
    draft = Draft.objects.select_related("workspace").get(pk=draft_id)
    return render_to_string(PANEL, draft_panel_context(draft), request=request)
