"""Context and rendering for the draft panel, shared by pages and the stream's final event."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest
from django.template.loader import render_to_string

from studio.tuning import Prepared

from . import generation as runner
from .models import Draft, DraftVersion, Generation, ShareLink
from .section_panels import section_context

PANEL = "drafts/draft_detail.html#draft-panel"


VERSIONS_LISTED = 20  # the panel names the newest versions; "Show all" lists the rest


@dataclass(frozen=True)
class Generations:
    """What the panel needs of all the draft's generations, read in one query of a few
    columns each (not a query per question: each costs the ORM more than its answer).

    ``drafting``: one that writes the whole draft (no suggestion's) is queued or running;
    ``by_columns``: an experiment column (``prompts.VariantRun``) wrote one; ``suggested``:
    a suggestion owns one."""

    cost: Decimal | None
    drafting: bool
    by_columns: bool
    suggested: bool

    @classmethod
    def of(cls, draft: Draft) -> Generations:
        rows = draft.generations.order_by().values_list(
            "status", "cost", "variant_run", "suggestion"
        )
        costs, drafting, by_columns, suggested = [], False, False, False
        for status, cost, column, suggestion in rows:
            if cost is not None:
                costs.append(cost)
            drafting |= status in Generation.ACTIVE and suggestion is None
            by_columns |= column is not None
            suggested |= suggestion is not None
        # As SQL's SUM: None when no generation has a cost.
        return cls(sum(costs) if costs else None, drafting, by_columns, suggested)


# The draft's newest two versions with their generations, compiled once (studio.tuning 7).
_NEWEST_TWO = Prepared(
    lambda pk: (
        DraftVersion.objects.filter(draft_id=pk)
        .select_related("generation__template_version")
        .order_by("-number")[:2]
    )
)


def _versions(
    draft: Draft, version: DraftVersion | None, all_versions: bool
) -> tuple[DraftVersion | None, list[DraftVersion], int]:
    """The version shown (``version``, else the newest, with its generation and that one's
    template version: the "New variant" link names its template), the versions listed and
    how many there are."""
    shown = version
    if version is None:
        # The newest two: with no second, the newest is the whole list (no query of its own).
        newest = _NEWEST_TWO.all(draft.pk)
        for each in newest:
            each.draft = draft  # as draft.versions would have it: no query for it
        if len(newest) < 2:
            return (newest[0] if newest else None), newest, len(newest)
        shown = newest[0]
    listed = draft.versions.listed()
    versions = list(listed if all_versions else listed[: VERSIONS_LISTED + 1])
    more = len(versions) > VERSIONS_LISTED and not all_versions
    versions = versions[:VERSIONS_LISTED] if more else versions
    if version is None and versions[0].number != shown.number:  # a newer one came in between
        shown = draft.versions.select_related("generation__template_version").get(
            number=versions[0].number
        )
    if shown not in versions:  # an older version opened by its number
        versions.append(shown)
    return shown, versions, draft.versions.count() if more else len(versions)


def draft_panel_context(
    draft: Draft,
    *,
    version: DraftVersion | None = None,
    live: bool = False,
    all_versions: bool = False,
) -> dict[str, object]:
    """What the draft panel shows: a version (the latest by default), the last generation."""
    shown, versions, count = _versions(draft, version, all_versions)
    latest = versions[0].number if versions else 0
    generations = Generations.of(draft)
    whole = draft.generations.whole_draft()
    generation = shown.generation if shown and shown.generation_id else whole.first()
    # None running that writes the whole draft: no query for it.
    lost = runner.active_generation(draft.pk) if generations.drafting else None
    return {
        "draft": draft,
        "versions": versions,
        "version_count": count,
        "all_versions": all_versions,
        "shown": shown,
        "is_latest": bool(shown and shown.number == latest),
        "generation": generation,
        "live": live,
        # Its runner is gone (a crash): shown as being recovered until drafts.sweeper ends it.
        "recovering": lost if lost is not None and runner.is_orphan(lost) else None,
        "shares": _shares(draft),
        "statuses": Draft.Status.choices,
        "draft_cost": generations.cost,
        # prompts' experiment tags read no columns when none of its generations has one.
        "experiment_columns": generations.by_columns,
    } | section_context(draft, shown=shown, latest_number=latest, suggested=generations.suggested)


def _shares(draft: Draft) -> list[ShareLink]:
    """The draft's working read-only links, with their versions' numbers. Most drafts have
    none: a plain existence check costs the ORM a third of reading them."""
    if not draft.has_working_shares():
        return []
    active = draft.share_links.active()
    return list(active.select_related("version").defer("version__text"))


# The final panel's draft with its three answers, compiled once (studio.tuning 7; decision 42).
_PANEL_DRAFT = Prepared(lambda pk: Draft.objects.with_panel_flags().filter(pk=pk))


def render_draft_panel(draft_id: int, request: HttpRequest | None = None) -> str:
    """The finished panel's HTML, sent as the stream's final event.

    The SSE view renders it for the request that watches (``drafts.views.generations.final_panel``):
    only what that viewer's role may use, in their language, with their CSRF token.
    """
    draft = _PANEL_DRAFT.get(draft_id)
    return render_to_string(PANEL, draft_panel_context(draft), request=request)
