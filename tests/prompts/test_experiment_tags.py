"""The experiment tags every draft panel renders (prompts.templatetags.experiment_tags)."""

from __future__ import annotations

from django.template import engines
from django.test import RequestFactory

from drafts.models import Draft

TAGS = engines["django"].from_string(
    "{% load experiment_tags %}{% blind_until_voted draft as blinded %}{{ blinded }}|"
    "{% variant_badge draft %}"
)


def test_a_draft_no_experiment_wrote_costs_both_tags_one_query(
    workspace, user, django_assert_num_queries
):
    """The blind check and the badge share one plain query; no votes are read."""
    draft = Draft.objects.create(workspace=workspace, title="By hand", created_by=user)
    request = RequestFactory().get("/")
    request.user = user

    with django_assert_num_queries(1):
        assert TAGS.render({"draft": draft}, request) == "False|"
