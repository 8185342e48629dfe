"""The campaign's brief as the templates see it; a deliverable's check of its text; reads
that start from the user."""

from __future__ import annotations

from datetime import timedelta

from studio.campaigns.models import Campaign, Deliverable
from studio.workspaces.actions import create_workspace


def test_the_brief_by_name(campaign):
    assert campaign.brief() == {
        "product": "Lumen lamp",
        "audience": "night readers",
        "offer": "20% off in launch week",
        "key_message": "Warm light that lasts all night",
        "dates": "2027-03-01 – 2027-03-31",
        "notes": "Twelve hours on one charge.",
    }


def test_dates_with_one_end_or_none(campaign):
    campaign.ends_on = None
    assert campaign.dates() == "2027-03-01"
    campaign.starts_on = None
    assert campaign.dates() == ""


def test_a_list_deliverable_checks_the_number_of_items(headlines, email):
    report = headlines.check_text("- One\n- Two")
    assert [v.code for v in report.violations] == ["item_count"]
    assert email.check_text("One\n\nTwo\n\nShop now").violations == ()  # one piece, any length


def test_reads_start_from_the_user(campaign, headlines, other_user):
    assert not Campaign.objects.for_user(other_user).exists()
    assert not Deliverable.objects.for_user(other_user).exists()
    create_workspace(name="Theirs", owner=other_user)
    assert not Campaign.objects.for_user(other_user).exists()
    owner = campaign.owner
    assert list(Campaign.objects.for_user(owner)) == [campaign]
    assert list(Deliverable.objects.for_user(owner)) == [headlines]
    assert Campaign.objects.for_listing().get().deliverable_count == 1


def test_the_listing_is_newest_first_with_its_counts(campaign, headlines, workspace, user):
    newer = Campaign.objects.create(workspace=workspace, title="Newer", owner=user)
    Campaign.objects.filter(pk=campaign.pk).update(updated=newer.updated - timedelta(days=1))
    listed = list(Campaign.objects.for_listing())
    assert [c.title for c in listed] == ["Newer", campaign.title]
    assert [c.deliverable_count for c in listed] == [0, 1]
