"""Context and rendering for the draft panel, shared by pages and the stream's final event."""

from __future__ import annotations

from django.db.models import Sum
from django.http import HttpRequest
from django.template.loader import render_to_string

from . import generation as runner
from .models import Draft, DraftVersion
from .section_panels import section_context

PANEL = "drafts/draft_detail.html#draft-panel"


VERSIONS_LISTED = 20  # the panel names the newest versions; "Show all" lists the rest


def draft_panel_context(
    draft: Draft,
    *,
    version: DraftVersion | None = None,
    live: bool = False,
    all_versions: bool = False,
) -> dict[str, object]:
    """What the draft panel shows: a version (the latest by default), the last generation."""
    listed = draft.versions.listed()
    versions = list(listed if all_versions else listed[: VERSIONS_LISTED + 1])
    more = len(versions) > VERSIONS_LISTED and not all_versions
    versions = versions[:VERSIONS_LISTED] if more else versions
    latest = versions[0].number if versions else 0
    # With its generation's template version: the panel's "New variant" link names its
    # template (a query of its own otherwise, in every final panel).
    shown = version or (
        draft.versions.select_related("generation__template_version").filter(number=latest).first()
    )
    if shown and shown not in versions:  # an older version opened by its number
        versions.append(shown)
    whole = draft.generations.whole_draft()
    generation = shown.generation if shown and shown.generation_id else whole.first()
    lost = runner.active_generation(draft.pk)
    return {
        "draft": draft,
        "versions": versions,
        "version_count": draft.versions.count() if more else len(versions),
        "all_versions": all_versions,
        "shown": shown,
        "is_latest": bool(shown and shown.number == latest),
        "generation": generation,
        "live": live,
        # Its runner is gone (a crash): shown as being recovered until drafts.sweeper ends it.
        "recovering": lost if lost is not None and runner.is_orphan(lost) else None,
        "shares": list(draft.share_links.active().select_related("version").defer("version__text")),
        "statuses": Draft.Status.choices,
        "draft_cost": draft.generations.aggregate(total=Sum("cost"))["total"],
    } | section_context(draft, shown=shown, latest_number=latest)


def render_draft_panel(draft_id: int, request: HttpRequest | None = None) -> str:
    """The finished panel's HTML, sent as the stream's final event.

    The SSE view renders it for the request that watches (``drafts.views.generations.final_panel``):
    only what that viewer's role may use, in their language, with their CSRF token.
    """
    draft = Draft.objects.select_related("workspace").get(pk=draft_id)
    return render_to_string(PANEL, draft_panel_context(draft), request=request)
