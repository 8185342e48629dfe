"""What the campaign page shows of each deliverable: its draft, its latest text's check.

The latest text is the draft's newest version; while a generation runs, the board's one
stream (``streaming``) shows its text as it comes, and then the deliverable's final panel
with its check.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from drafts.models import DraftVersion, Generation, Suggestion

from .channels import Report
from .labels import violation_message
from .models import Campaign, Deliverable


@dataclass(frozen=True)
class Row:
    deliverable: Deliverable
    latest: DraftVersion | None  # the draft's newest version
    generation: Generation | None  # the draft's newest whole-draft generation (its status)
    report: Report | None  # the check of the text so far (generating) or of the newest version
    fit: Suggestion | None = None  # the open "Fit to limits" on the draft (running or to decide)

    @property
    def generating(self) -> bool:
        return self.generation is not None and self.generation.is_active

    @property
    def fitting(self) -> bool:
        """A Fit to limits is being written: the board's stream follows it too."""
        return self.fit is not None and self.fit.generation.is_active

    @property
    def may_fit(self) -> bool:
        """Whether Fit to limits is offered: an item of the newest version breaks a rule,
        nothing is being written, and no fit waits to be decided."""
        return (
            self.report is not None
            and self.latest is not None
            and self.fit is None
            and not self.generating
            and any(not item.ok for item in self.report.items)
        )

    @property
    def ended_early(self) -> bool:
        """The newest generation ended before the model finished (failed, stopped,
        interrupted): the panel says how, and what of it was kept."""
        return self.generation is not None and self.generation.is_partial

    @property
    def kept(self) -> bool:
        """The newest generation's text (so far) is the newest version."""
        return (
            self.generation is not None
            and self.latest is not None
            and self.latest.generation_id == self.generation.pk
        )

    def fit_changes(self) -> list[tuple[object, object, list[str]]]:
        """A decided-upon fit's changed items: (the item now, the item repaired, what the
        repaired one still breaks, in words)."""
        if self.fit is None or self.fitting or self.report is None:
            return []
        repaired = self.deliverable.check_text(self.fit.proposed).items
        now = self.report.items
        return [
            (old, new, [violation_message(v) for v in new.violations])
            for old, new in zip(now, repaired, strict=False)
            if old.text != new.text
        ]

    def fit_still_breaks(self) -> bool:
        """An item of the repair, accepted, would still break a rule of the channel."""
        if self.fit is None or self.fitting:
            return False
        return any(not item.ok for item in self.deliverable.check_text(self.fit.proposed).items)

    def item_rows(self) -> list[tuple[object, list[str]]]:
        """Each item with its violations in words."""
        if self.report is None:
            return []
        return [
            (item, [violation_message(v) for v in item.violations]) for item in self.report.items
        ]

    def problems(self) -> list[str]:
        """The deliverable's own violations (how many items) in words; none while it is
        still being written (the last items have not arrived)."""
        if self.report is None or self.generating:
            return []
        return [violation_message(v) for v in self.report.violations]


def board_rows(campaign: Campaign, *, only: int | None = None) -> list[Row]:
    """A row per deliverable (or the ``only`` one: its final panel at the end of its stream),
    in four queries (deliverables, versions, generations, open fits to limits), and a fifth
    for the text so far of those generating."""
    found = campaign.deliverables.for_board()
    deliverables = list(found.filter(pk=only) if only is not None else found)
    drafts = [d.draft_id for d in deliverables if d.draft_id and not d.draft.deleted_at]
    latest: dict[int, DraftVersion] = {}
    for version in DraftVersion.objects.filter(draft_id__in=drafts).order_by("draft_id", "number"):
        latest[version.draft_id] = version
    generations: dict[int, Generation] = {}
    whole = Generation.objects.filter(draft_id__in=drafts).whole_draft().order_by("draft_id", "pk")
    for generation in whole.only("pk", "draft_id", "status", "error_message"):
        generations[generation.draft_id] = generation
    active = [g.pk for g in generations.values() if g.is_active]
    so_far = (
        dict(Generation.objects.filter(pk__in=active).values_list("pk", "text")) if active else {}
    )
    fits: dict[int, Suggestion] = {}
    open_fits = Suggestion.objects.filter(draft_id__in=drafts, kind=Suggestion.Kind.FIT).open()
    for fit in open_fits.select_related("generation").order_by("pk"):
        fits[fit.draft_id] = fit
    rows = []
    for deliverable in deliverables:
        version = latest.get(deliverable.draft_id) if deliverable.draft_id in drafts else None
        generation = generations.get(deliverable.draft_id) if deliverable.draft_id else None
        if generation is not None and generation.is_active:
            text = so_far.get(generation.pk) or None  # nothing written yet: nothing to check
        else:
            text = version.text if version is not None else None
        report = deliverable.check_text(text) if text is not None else None
        fit = fits.get(deliverable.draft_id) if deliverable.draft_id in drafts else None
        rows.append(Row(deliverable, version, generation, report, fit))
    return rows


def running(deliverables: QuerySet[Deliverable]) -> dict[int, Generation]:
    """The whole-draft generations and Fit to limits in progress in the deliverables'
    drafts, by generation id, each with ``deliverable_id`` set: what the board streams and
    what Stop stops."""
    drafts = dict(
        deliverables.filter(draft__isnull=False, draft__deleted_at__isnull=True).values_list(
            "draft_id", "pk"
        )
    )
    active = Generation.objects.filter(draft_id__in=drafts, status__in=Generation.ACTIVE)
    found = {}
    other_suggestions = Suggestion.objects.exclude(kind=Suggestion.Kind.FIT)
    followed = active.exclude(pk__in=other_suggestions.values("generation_id"))
    for generation in followed.order_by("pk"):
        generation.deliverable_id = drafts[generation.draft_id]
        found[generation.pk] = generation
    return found
