"""What the campaign page shows of each deliverable: its draft, its latest text's check.

The latest text is the text the model has written so far while a generation runs (saved
every half second by the runner's writer), else the draft's newest version: the page polls
while any deliverable is generating, so the counters move as the copy streams in.
"""

from __future__ import annotations

from dataclasses import dataclass

from drafts.models import DraftVersion, Generation

from .channels import Report
from .labels import violation_message
from .models import Campaign, Deliverable


@dataclass(frozen=True)
class Row:
    deliverable: Deliverable
    latest: DraftVersion | None  # the draft's newest version
    generation: Generation | None  # the draft's newest whole-draft generation (its status)
    report: Report | None  # the check of the text so far (generating) or of the newest version

    @property
    def generating(self) -> bool:
        return self.generation is not None and self.generation.is_active

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


def board_rows(campaign: Campaign) -> list[Row]:
    """A row per deliverable, in three queries (deliverables, versions, generations), and a
    fourth for the text so far of those generating."""
    deliverables = list(campaign.deliverables.for_board())
    drafts = [d.draft_id for d in deliverables if d.draft_id and not d.draft.deleted_at]
    latest: dict[int, DraftVersion] = {}
    for version in DraftVersion.objects.filter(draft_id__in=drafts).order_by("draft_id", "number"):
        latest[version.draft_id] = version
    generations: dict[int, Generation] = {}
    whole = Generation.objects.filter(draft_id__in=drafts).whole_draft().order_by("draft_id", "pk")
    for generation in whole.only("pk", "draft_id", "status"):
        generations[generation.draft_id] = generation
    active = [g.pk for g in generations.values() if g.is_active]
    so_far = (
        dict(Generation.objects.filter(pk__in=active).values_list("pk", "text")) if active else {}
    )
    rows = []
    for deliverable in deliverables:
        version = latest.get(deliverable.draft_id) if deliverable.draft_id in drafts else None
        generation = generations.get(deliverable.draft_id) if deliverable.draft_id else None
        if generation is not None and generation.is_active:
            text = so_far.get(generation.pk) or None  # nothing written yet: nothing to check
        else:
            text = version.text if version is not None else None
        report = deliverable.check_text(text) if text is not None else None
        rows.append(Row(deliverable, version, generation, report))
    return rows
