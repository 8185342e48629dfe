"""A campaign whose Google Ads headlines are already written, for tests about what comes
after generating (review, channel rules): stored through the campaign's own Generate all,
its generation marked done, the text saved as an edited version."""

from __future__ import annotations

from drafts.actions import add_version
from drafts.models import Generation
from studio.audit.origin import Origin
from studio.campaigns.actions import add_deliverable, generate_campaign
from studio.campaigns.models import Campaign


def written_headlines(*, workspace, user, templates, text: str, **brief: str) -> Campaign:
    """The campaign (``brief``: title, product, key_message…) with one headlines deliverable
    holding ``text``. The caller keeps the runner from launching (nothing streams)."""
    campaign = Campaign.objects.create(workspace=workspace, owner=user, **brief)
    template = next(t for t in templates if t.slug == "ad-headlines")
    deliverable = add_deliverable(
        campaign=campaign, template=template, channel="google_ads_headline", count=3, overrides={}
    )
    (outcome,) = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    assert outcome.generation is not None, outcome.problem
    Generation.objects.update(status="done")
    deliverable.refresh_from_db()
    add_version(draft_id=deliverable.draft_id, text=text, source="edited", author_id=user.pk)
    return campaign
