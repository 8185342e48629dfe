"""Generate all: one generation per deliverable through the generate action, each in its
own draft, with the brief filled in by name."""

from __future__ import annotations

import pytest

from drafts.models import Draft, Generation
from studio.audit.origin import Origin
from studio.campaigns.actions import (
    add_deliverable,
    generate_campaign,
    inputs_for,
    remove_deliverable,
)
from studio.campaigns.models import Deliverable
from studio.guardrails.budgets import BudgetExceeded


def _generate(campaign, user):
    return generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)


def test_a_deliverable_pins_the_templates_current_version(headlines, templates):
    assert headlines.template_version == templates["ad-headlines"].current_version()


def test_inputs_come_from_the_brief_and_the_deliverable(headlines, email):
    assert inputs_for(headlines, headlines.template_version) == {
        "product_name": "Lumen lamp",
        "benefit": "Warm light that lasts all night",
        "channel": "Search",  # "Google Ads headline" is not one of the template's choices
        "count": 10,
        "max_chars": 30,
        "tone": "bold",
        "language": "English",
    }
    filled = inputs_for(email, email.template_version)
    assert filled["cta"] == "Pre-order now" and filled["offer"] == "20% off in launch week"
    assert filled["goal"] == "Warm light that lasts all night"


def test_generate_all_makes_one_draft_per_deliverable(campaign, headlines, email, user):
    outcomes = _generate(campaign, user)
    assert [o.problem for o in outcomes] == ["", ""]
    generations = [o.generation for o in outcomes]
    assert len({g.draft_id for g in generations}) == 2
    headlines.refresh_from_db()
    email.refresh_from_db()
    assert (headlines.draft_id, email.draft_id) == (
        generations[0].draft_id,
        generations[1].draft_id,
    )
    prompt = generations[0].messages[-1]["content"]
    assert "Write 10 ad headlines for Lumen lamp." in prompt
    assert generations[0].inputs["max_chars"] == 30
    assert Draft.objects.get(pk=headlines.draft_id).workspace == campaign.workspace


def test_generating_again_goes_into_the_same_draft(campaign, headlines, user):
    (first,) = _generate(campaign, user)
    Generation.objects.filter(pk=first.generation.pk).update(status="done")
    (second,) = _generate(campaign, user)
    assert second.generation.draft_id == first.generation.draft_id
    assert Generation.objects.filter(draft_id=first.generation.draft_id).count() == 2


def test_a_deliverable_still_generating_is_left_to_finish(campaign, headlines, user):
    _generate(campaign, user)
    (again,) = _generate(campaign, user)
    assert again.generation is None and again.problem == "Already generating."


def test_a_refused_input_is_that_deliverables_problem_only(campaign, headlines, email, user):
    Deliverable.objects.filter(pk=email.pk).update(overrides={"tone": "grumpy"})
    outcomes = _generate(campaign, user)
    assert outcomes[0].generation is not None
    assert outcomes[1].generation is None and outcomes[1].problem.startswith("tone:")


def test_a_deliverable_without_a_template_says_so(campaign, headlines, user):
    Deliverable.objects.filter(pk=headlines.pk).update(template_version=None)
    (outcome,) = _generate(campaign, user)
    assert "deleted" in outcome.problem and not Generation.objects.exists()


def test_a_spent_budget_is_each_deliverables_answer(campaign, headlines, user, monkeypatch):
    from drafts import generate

    refusal = BudgetExceeded(used=10, budget=10, retry_after=60)

    def spent(*args, **kwargs):
        raise refusal

    monkeypatch.setattr(generate, "check_token_budget", spent)
    (outcome,) = _generate(campaign, user)
    assert outcome.problem == refusal.message and not Generation.objects.exists()


def test_a_reviewer_cannot_generate(campaign, headlines, other_user):
    from studio.workspaces.actions import add_member

    add_member(workspace=campaign.workspace, user=other_user, role="reviewer")
    (outcome,) = _generate(campaign, other_user)
    assert outcome.generation is None and "(Reviewer)" in outcome.problem


def test_removing_a_deliverable_keeps_its_draft(campaign, headlines, user):
    _generate(campaign, user)
    headlines.refresh_from_db()
    remove_deliverable(deliverable=headlines)
    assert not Deliverable.objects.exists() and Draft.objects.filter(pk=headlines.draft_id).exists()


@pytest.mark.parametrize("channel", ["x_post", "sms"])
def test_count_is_given_only_to_list_channels(campaign, templates, channel):
    deliverable = add_deliverable(
        campaign=campaign,
        template=templates["ad-headlines"],
        channel=channel,
        count=3,
        overrides={},
    )
    filled = inputs_for(deliverable, deliverable.template_version)
    # A one-piece channel leaves the template's own default (8) alone.
    assert (filled["count"] == 3) is (channel == "x_post")


def test_a_fit_needs_text_and_a_broken_item(campaign, headlines, written, user):
    from studio.campaigns.actions import fit_deliverable

    with pytest.raises(ValueError, match="nothing to fit"):
        fit_deliverable(deliverable=written, user=user, origin=Origin(), loop=None, base_number=1)
    email = add_deliverable(
        campaign=campaign, template=headlines.template_version.template, channel="email",
        count=1, overrides={},
    )  # fmt: skip
    with pytest.raises(ValueError, match="no text yet"):
        fit_deliverable(deliverable=email, user=user, origin=Origin(), loop=None, base_number=1)
