"""The role matrix: what a reviewer may do, generated from the URLconf like the isolation sweep.

Every URL pattern with ids (tests/test_isolation.py walks the resolver) is POSTed by a
*reviewer* of the owner's workspace, with every id of the workspace's objects: the answer must
be 403 (a clear refusal) or 404/405, and nothing in the database may change. REVIEWER_MAY
lists the few unsafe actions reviewers are meant to have, and why. A new editing URL is in
this sweep the day it is added: give its view ``@may_edit(...)`` (studio.workspaces.access).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client

from studio.api.actions import create_api_key
from studio.workspaces.models import EDIT, MANAGE, READ, REVIEW, Membership, Workspace
from tests import test_isolation as sweep

# Unsafe actions a reviewer is meant to have, and why.
REVIEWER_MAY = {
    "prompts:run",  # voting on an experiment run: the reviewer's job
    "prompts:batch_review",  # the review queue: voting on a batch's blind pairs
    "drafts:status",  # moving a draft through review (in review, approved)
    "assistant:panel",  # Q&A about a draft: the reviewer's own conversation, changes no content
    "assistant:ask",
    "assistant:clear",
    "campaigns:transition",  # request changes, approve: the reviewer's job (review.why_not
    # refuses a reviewer's submit or reopen with a 403: tests/studio/campaigns/test_review*)
    "campaigns:comment",  # comments on a deliverable's draft: reviewers comment
}
# Not workspace content: what a user does with their own account.
OWN_ACCOUNT = {"api:revoke"}  # the user's own API keys (another user's: 404)
ROUTES = [
    r
    for r in sweep.STUDIO_WITH_IDS
    if r.name not in REVIEWER_MAY | OWN_ACCOUNT and not r.name.startswith("audit:")
]
# Project apps whose rows a refused request must leave exactly as they were (not the API
# keys': a key's last-used time moves with every authenticated call).
WATCHED = ("workspaces", "prompts", "drafts", "assistant", "campaigns")


def _snapshot() -> str:
    models = [m for m in apps.get_models() if m._meta.app_label in WATCHED]
    return "".join(serializers.serialize("json", m.objects.order_by("pk")) for m in models)


@pytest.fixture
def reviewer(world, django_user_model) -> Client:
    """A reviewer of the owner's workspace, signed in, with an API key of their own."""
    person = django_user_model.objects.create_user("reviewer")
    space = Workspace.objects.get(created_by__username="hamlet")
    Membership.objects.create(workspace=space, user=person, role=Membership.Role.REVIEWER)
    client = Client(headers={"Authorization": f"Bearer {create_api_key(user=person, name='r')[1]}"})
    client.force_login(person)
    return client


def test_roles_grant_capabilities():
    grants = {role: Membership(role=role) for role in Membership.Role.values}
    assert [c for c in (READ, REVIEW, EDIT, MANAGE) if grants["reviewer"].can(c)] == [READ, REVIEW]
    assert grants["editor"].can(EDIT) and not grants["editor"].can(MANAGE)
    assert grants["owner"].can(MANAGE)
    assert set(Membership.roles_that_can(EDIT)) == {"owner", "editor"}


# Editing URLs the sweep must see refused with a 403 (not merely missed with a 404).
MUST_REFUSE = {
    "drafts:generate",
    "drafts:edit",
    "drafts:restore",
    "drafts:cancel",
    "drafts:follow_up",
    "prompts:create",
    "prompts:experiment_create",
    "prompts:run_start",
    "members",
    "campaigns:create",
    "campaigns:detail",
    "campaigns:edit",
    "campaigns:generate",
    "campaigns:remove",
    "campaigns:review_policy",
    "campaigns:stop",
    "campaigns:stop_all",
    "campaigns:regenerate",
    "api_ai:campaign_generate",
    "campaigns:channel_save",
    "campaigns:channel_reset",
}


def test_the_matrix_covers_the_editing_urls():
    assert {r.name for r in ROUTES} >= MUST_REFUSE


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_a_reviewer_changes_nothing(route, world, reviewer):
    before = _snapshot()
    nowhere = route.url({n: sweep.SAMPLES.get(n, [sweep.NOWHERE])[0] for n in route.params})
    baseline = reviewer.post(nowhere).status_code
    refused = 0
    for values in sweep._combinations(route, world):
        url = route.url(values)
        for headers in ({}, {"HX-Request": "true"}):
            response = reviewer.post(url, headers=headers)
            sweep._body(response)
            status = response.status_code
            assert status in (403, 404, 405) or (status in (400, 422) and status == baseline), (
                f"POST {url} gave {status} to a reviewer"
            )
            refused += status == 403
    assert _snapshot() == before, f"a reviewer's POST to {route.template} changed the database"
    if route.name in MUST_REFUSE:
        assert refused, f"{route.template}: never a 403, so the sweep missed its objects"


def test_a_reviewers_key_cannot_create_a_campaign_with_a_valid_body(world, reviewer):
    """The sweep POSTs empty bodies, which the API refuses (422) before it looks at roles: a
    valid brief must reach the role check and be refused with a 403."""
    from studio.campaigns.models import Deliverable

    space = Workspace.objects.get(created_by__username="hamlet")
    deliverable = Deliverable.objects.get(campaign__workspace=space)
    body = {
        "title": "Reviewer's launch",
        "product": "Lamp",
        "notes": "Warm light",
        "deliverables": [
            {"template": deliverable.template_version.template_id, "channel": "email"},
        ],
    }
    before = _snapshot()

    response = reviewer.post(
        f"/api/ai/workspaces/{space.pk}/campaigns", body, content_type="application/json"
    )

    assert response.status_code == 403 and "(Reviewer)" in response.json()["error"]["message"]
    assert _snapshot() == before


def test_a_refusal_says_why(world, reviewer):
    space = Workspace.objects.get(created_by__username="hamlet")
    page = reviewer.post(f"/w/{space.pk}/templates/new/")
    assert page.status_code == 403
    assert "reviewer" in page.content.decode() and "<html" in page.content.decode()
    toast = reviewer.post(f"/w/{space.pk}/generate/", headers={"HX-Request": "true"})
    assert toast.status_code == 403
    assert toast["HX-Retarget"] == "#toasts" and "<html" not in toast.content.decode()
    assert "Ask an owner to make you an editor" in toast.content.decode()


def test_a_reviewer_reads_but_sees_no_editing_buttons(world, reviewer):
    space = Workspace.objects.get(created_by__username="hamlet")
    draft = space.drafts.order_by("pk").first()
    page = reviewer.get(f"/drafts/{draft.pk}/").content.decode()
    assert "Regenerate" not in page and f"/drafts/{draft.pk}/edit/" not in page
    assert 'name="status"' in page  # reviewers set a draft's status
    studio = reviewer.get(f"/w/{space.pk}/").content.decode()
    assert "data-role-note" in studio and "data-generate-form" in studio
    assert "New template" not in reviewer.get(f"/w/{space.pk}/templates/").content.decode()


def test_an_editor_sees_the_buttons_and_may_change(world, reviewer, django_user_model):
    space = Workspace.objects.get(created_by__username="hamlet")
    Membership.objects.filter(user__username="reviewer").update(role=Membership.Role.EDITOR)
    draft = space.drafts.order_by("pk").first()
    assert "Regenerate" in reviewer.get(f"/drafts/{draft.pk}/").content.decode()
    response = reviewer.post(f"/drafts/{draft.pk}/v/1/share/")
    assert response.status_code == 302 and draft.share_links.count() == 2


def test_a_reviewer_may_set_a_drafts_status(world, reviewer):
    draft = Workspace.objects.get(created_by__username="hamlet").drafts.order_by("pk").first()
    response = reviewer.post(f"/drafts/{draft.pk}/status/", {"status": "approved"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "approved"
