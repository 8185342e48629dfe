"""The progress the campaigns API answers: each deliverable's newest whole-draft generation,
counted by status (stopped and failed apart; a draft in the trash counts as not started)."""

from __future__ import annotations

from django.utils import timezone

from drafts.models import Draft, Generation
from studio.audit.origin import Origin
from studio.campaigns.actions import generate_campaign
from studio.campaigns.models import Campaign, Deliverable


def _generated(created, user) -> list[Generation]:
    campaign = Campaign.objects.get(pk=created["id"])
    outcomes = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    return [outcome.generation for outcome in outcomes]


def test_stopped_and_failed_are_counted_apart_and_finish_the_campaign(client, created, auth, user):
    headlines, email = _generated(created, user)
    Generation.objects.filter(pk=headlines.pk).update(status="cancelled")
    Generation.objects.filter(pk=email.pk).update(status="interrupted")

    body = client.get(f"/api/ai/campaigns/{created['id']}/progress", headers=auth).json()

    assert {k: body[k] for k in ("stopped", "failed", "queued", "finished")} == {
        "stopped": 1,
        "failed": 1,
        "queued": 0,
        "finished": True,
    }
    assert [item["status"] for item in body["items"]] == ["stopped", "failed"]
    assert [item["generation_id"] for item in body["items"]] == [headlines.pk, email.pk]


def test_the_newest_generation_counts_and_a_draft_in_the_trash_is_not_started(
    client, created, auth, user
):
    headlines, email = _generated(created, user)
    Generation.objects.update(status="done")
    (again, _) = _generated(created, user)  # headlines again, into the same draft
    Draft.objects.filter(pk=email.draft_id).update(deleted_at=timezone.now())
    Deliverable.objects.filter(pk=created["deliverables"][0]["id"]).update(review_state="approved")

    body = client.get(f"/api/ai/campaigns/{created['id']}/progress", headers=auth).json()

    assert [(i["status"], i["generation_id"]) for i in body["items"]] == [
        ("queued", again.pk),
        ("not_started", None),
    ]
    assert (body["queued"], body["not_started"], body["finished"], body["approved"]) == (
        1,
        1,
        False,
        1,
    )
