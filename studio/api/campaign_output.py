"""What the campaigns API answers: a campaign, its deliverables with their checks, and the
progress of its generation.

A deliverable's text and check are the campaign page's (``board_rows``): its draft's newest
version, or the text so far while it generates, checked against its channel's rules.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from drafts.models import Generation
from studio.campaigns.board import Row, board_rows
from studio.campaigns.channels import Report, Violation
from studio.campaigns.labels import violation_message
from studio.campaigns.models import Campaign, Deliverable

# A generation's status as the progress counts it.
STATUSES = {
    Generation.Status.QUEUED: "queued",
    Generation.Status.RUNNING: "streaming",
    Generation.Status.DONE: "done",
    Generation.Status.CANCELLED: "stopped",
    Generation.Status.FAILED: "failed",
    Generation.Status.INTERRUPTED: "failed",
}
COUNTED = ("not_started", "queued", "streaming", "done", "stopped", "failed")


def status_of(generation: Generation | None) -> str:
    return "not_started" if generation is None else STATUSES.get(generation.status, "failed")


def campaign_out(request: HttpRequest, campaign: Campaign, count: int) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "workspace_id": campaign.workspace_id,
        "title": campaign.title,
        "product": campaign.product,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "owner": campaign.owner.get_username() if campaign.owner else None,
        "deliverable_count": count,
        "created": campaign.created,
        "updated": campaign.updated,
        "url": request.build_absolute_uri(campaign.get_absolute_url()),
    }


def newest_generations(deliverables: list[Deliverable]) -> dict[int, Generation]:
    """Each deliverable's newest whole-draft generation (status only), by deliverable id, in
    one query; a deliverable without a draft (or whose draft is in the trash) has none."""
    drafts = {d.draft_id: d.pk for d in deliverables if d.draft_id and d.draft.deleted_at is None}
    found: dict[int, Generation] = {}
    whole = Generation.objects.filter(draft_id__in=drafts).whole_draft()
    for generation in whole.order_by("draft_id", "pk").only("pk", "draft_id", "status"):
        found[drafts[generation.draft_id]] = generation
    return found


def progress_out(
    request: HttpRequest,
    campaign: Campaign,
    pairs: list[tuple[Deliverable, Generation | None]],
    problems: dict[int, str] | None = None,
) -> dict[str, Any]:
    """How many deliverables are at each status, each one's, and the link to poll."""
    problems = problems or {}
    items = [
        {
            "deliverable_id": d.pk,
            "channel": d.channel,
            "status": status_of(generation),
            "generation_id": generation.pk if generation else None,
            "draft_id": d.draft_id if generation else None,
            "problem": problems.get(d.pk, ""),
        }
        for d, generation in pairs
    ]
    counts = {name: sum(item["status"] == name for item in items) for name in COUNTED}
    url = reverse("api_ai:campaign_progress", args=[campaign.pk])
    return {
        "campaign_id": campaign.pk,
        "deliverables": len(items),
        **counts,
        "finished": not counts["queued"] and not counts["streaming"],
        "approved": sum(d.review_state == "approved" for d, _ in pairs),
        "url": request.build_absolute_uri(url),
        "items": items,
    }


def progress(request: HttpRequest, campaign: Campaign, problems=None) -> dict[str, Any]:
    deliverables = list(campaign.deliverables.select_related("draft"))
    generations = newest_generations(deliverables)
    pairs = [(d, generations.get(d.pk)) for d in deliverables]
    return progress_out(request, campaign, pairs, problems)


def _violation(violation: Violation) -> dict[str, Any]:
    return {
        "code": violation.code,
        "params": dict(violation.params),
        "message": violation_message(violation),
    }


def check_out(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "counter": str(report.channel.counter),
        "problems": report.problems,
        "violations": [_violation(v) for v in report.violations],
        "items": [
            {
                "text": item.text,
                "length": item.length,
                "limit": item.limit,
                "ok": item.ok,
                "violations": [_violation(v) for v in item.violations],
            }
            for item in report.items
        ],
    }


def deliverable_out(row: Row, so_far: dict[int, str]) -> dict[str, Any]:
    """A deliverable with its text and check; ``so_far``: the text of the generations in
    progress, by generation id."""
    d, version = row.deliverable, row.deliverable.template_version
    generating = row.generating
    if generating:
        text = so_far.get(row.generation.pk) or None
    else:
        text = row.latest.text if row.latest is not None else None
    return {
        "id": d.pk,
        "campaign_id": d.campaign_id,
        "template_id": version.template_id if version else None,
        "template_version_id": version.pk if version else None,
        "template_name": version.template.name if version else "",
        "channel": d.channel,
        "channel_name": d.channel_name,
        "count": d.count,
        "overrides": d.overrides,
        "review_state": d.review_state,
        "draft_id": d.draft_id if row.generation or row.latest else None,
        "generation_id": row.generation.pk if row.generation else None,
        "status": status_of(row.generation),
        "version": row.latest.number if row.latest is not None and not generating else None,
        "text": text,
        "check": check_out(row.report) if row.report is not None else None,
    }


def texts_so_far(rows: list[Row]) -> dict[int, str]:
    active = [row.generation.pk for row in rows if row.generating]
    if not active:
        return {}
    return dict(Generation.objects.filter(pk__in=active).values_list("pk", "text"))


def detail_out(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """The campaign with its brief, its progress and every deliverable with its check."""
    rows = board_rows(campaign)
    so_far = texts_so_far(rows)
    pairs = [(row.deliverable, row.generation) for row in rows]
    return {
        **campaign_out(request, campaign, len(rows)),
        "audience": campaign.audience,
        "offer": campaign.offer,
        "key_message": campaign.key_message,
        "notes": campaign.notes,
        "progress": progress_out(request, campaign, pairs),
        "deliverables": [deliverable_out(row, so_far) for row in rows],
    }
