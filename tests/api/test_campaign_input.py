"""A campaign sent to the API is checked field by field before anything is stored: the
brief by the campaign form, each deliverable by the deliverable rules and its template's own
form, filled as Generate fills it; every problem is named at once."""

from __future__ import annotations

from studio.campaigns.models import Campaign, Deliverable


def test_an_invalid_campaign_names_every_field_and_stores_nothing(
    post_campaign, brief, auth, slugs
):
    brief |= {"title": "  ", "starts_on": "2027-04-01", "ends_on": "2027-03-01"}
    brief["deliverables"] = [
        {"template": slugs["ad-headlines"], "channel": "google_ads_headline", "count": 40},
        {"template": 999_999, "channel": "fax"},
        {"template": slugs["marketing-email"], "channel": "email", "overrides": {"mood": "x"}},
        {"template": slugs["marketing-email"], "channel": "email", "overrides": {"tone": "grim"}},
    ]

    response = post_campaign(brief, auth)

    error = response.json()["error"]
    assert (response.status_code, error["code"], error["param"]) == (
        422,
        "invalid_campaign",
        "title",
    )
    problems = {e["param"]: e["message"] for e in error["errors"]}
    assert set(problems) == {
        "title",
        "ends_on",
        "deliverables.0.count",
        "deliverables.1.channel",
        "deliverables.1.template",
        "deliverables.2.overrides.mood",
        "deliverables.3.overrides.tone",
    }
    assert problems["deliverables.0.count"] == "This channel takes at most 15."
    assert "google_ads_headline" in problems["deliverables.1.channel"]
    assert problems["ends_on"] == "The campaign cannot end before it starts."
    assert "deliverables.2.overrides.mood: The template has no variable" in error["message"]
    assert not Campaign.objects.exists() and not Deliverable.objects.exists()


def test_a_malformed_body_is_a_422_field_by_field(post_campaign, brief, auth):
    brief["deliverables"][0] |= {"count": "many"}
    brief["deliverables"][1] = {"channel": "email"}
    brief["colour"] = "red"

    response = post_campaign(brief, auth)

    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (422, "invalid_request")
    assert {e["param"] for e in error["errors"]} == {
        "deliverables.0.count",
        "deliverables.1.template",
        "colour",
    }
    assert not Campaign.objects.exists()


def test_too_many_deliverables_is_a_422(post_campaign, brief, auth):
    brief["deliverables"] = brief["deliverables"][:1] * 31

    response = post_campaign(brief, auth)

    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["param"] == "deliverables"


def test_a_brief_the_templates_cannot_use_is_refused_before_anything_is_stored(
    post_campaign, brief, auth
):
    """Generate will fill each template from the brief: a variable it leaves empty (here the
    headlines' product name) is named as the deliverable's input."""
    brief["product"] = ""

    response = post_campaign(brief, auth)

    error = response.json()["error"]
    assert response.status_code == 422, error
    assert [e["param"] for e in error["errors"]] == ["deliverables.0.inputs.product_name"]
    assert not Campaign.objects.exists()
