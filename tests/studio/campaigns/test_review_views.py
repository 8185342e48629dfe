"""The review pages: the deliverable's review page, its transitions and comments, the review
policy, and what the campaign page adds (progress, activity, your mentions); roles and
isolation (the URL sweeps cover these URLs too)."""

from __future__ import annotations

import pytest
from django.test import Client

from studio.campaigns.models import Comment, Deliverable, ReviewPolicy

HX = {"HX-Request": "true"}


def _as(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def editor(team) -> Client:
    return _as(team[0])


@pytest.fixture
def reviewer(team) -> Client:
    return _as(team[1])


def test_the_review_page_shows_the_text_state_and_the_editors_button(editor, written):
    page = editor.get(f"/deliverables/{written.pk}/review/").content.decode()
    assert "Light that follows you" in page and 'data-review-state="draft"' in page
    assert 'data-transition="submit"' in page and 'data-transition="approve"' not in page
    assert "data-comment-form" in page and "js/campaign-review" in page


def test_an_editor_submits_and_a_reviewer_approves(editor, reviewer, written, campaign):
    response = editor.post(f"/deliverables/{written.pk}/review/move/", {"action": "submit"})
    assert response.status_code == 302
    page = reviewer.get(f"/deliverables/{written.pk}/review/").content.decode()
    assert 'data-transition="approve"' in page and 'data-transition="submit"' not in page
    reviewer.post(f"/deliverables/{written.pk}/review/move/", {"action": "approve"})
    written.refresh_from_db()
    assert written.review_state == "approved"
    board = reviewer.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-progress="1/1"' in board and "1 of 1 deliverable approved" in board
    assert board.count('data-activity-line="state"') == 2


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_reviewer_cannot_submit(reviewer, written, headers):
    url = f"/deliverables/{written.pk}/review/move/"
    response = reviewer.post(url, {"action": "submit"}, headers=headers)
    assert response.status_code == 403
    written.refresh_from_db()
    assert written.review_state == "draft"


def test_a_forbidden_self_approval_is_a_403(editor, written, workspace):
    ReviewPolicy.objects.create(workspace=workspace, no_self_approval=True)
    editor.post(f"/deliverables/{written.pk}/review/move/", {"action": "submit"})
    response = editor.post(f"/deliverables/{written.pk}/review/move/", {"action": "approve"})
    assert response.status_code == 403 and "someone else" in response.content.decode()
    assert Deliverable.objects.get(pk=written.pk).review_state == "in_review"


def test_a_wrong_state_is_a_409(reviewer, written):
    response = reviewer.post(f"/deliverables/{written.pk}/review/move/", {"action": "approve"})
    assert response.status_code == 409


def test_a_reviewer_comments_on_a_selection_and_an_editor_replies(reviewer, editor, written):
    url = f"/deliverables/{written.pk}/comments/"
    response = reviewer.post(
        url, {"body": "Shorter, @ophelia?", "quote": "follows you", "start": "8"}
    )
    assert response.status_code == 302
    root = Comment.objects.get()
    assert (root.quote, root.start, root.end) == ("follows you", 13, 24)
    assert response["Location"].endswith(f"#comment-{root.pk}")
    editor.post(url, {"body": "Done.", "parent": root.pk})
    page = editor.get(f"/deliverables/{written.pk}/review/").content.decode()
    assert "data-reply" in page and "Done." in page and 'data-start="13"' in page
    assert "data-mention>@ophelia</a>" in page


def test_the_mentioned_member_sees_it_on_the_campaign(reviewer, editor, written, campaign):
    reviewer.post(f"/deliverables/{written.pk}/comments/", {"body": "@ophelia look"})
    page = editor.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "data-your-mentions" in page and 'data-activity-line="comment"' in page
    assert "data-your-mentions" not in reviewer.get(f"/campaigns/{campaign.pk}/").content.decode()


def test_a_hostile_comment_stays_text_on_every_page(reviewer, written, campaign):
    body = "<script>alert(1)</script><img src=x onerror=alert(1)> @ophelia"
    reviewer.post(f"/deliverables/{written.pk}/comments/", {"body": body})
    for url in (f"/deliverables/{written.pk}/review/", f"/campaigns/{campaign.pk}/"):
        page = reviewer.get(url).content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    page = reviewer.get(f"/deliverables/{written.pk}/review/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    "data",
    [{"body": ""}, {"body": "x", "parent": "999999"}, {"body": "x", "quote": "zz", "start": "0"}],
)
def test_a_bad_comment_is_refused(reviewer, written, data):
    response = reviewer.post(f"/deliverables/{written.pk}/comments/", data)
    assert response.status_code in (400, 404) and not Comment.objects.exists()


def test_a_reviewer_cannot_edit_the_content(reviewer, written):
    response = reviewer.post(f"/drafts/{written.draft_id}/edit/", {"text": "mine"})
    assert response.status_code == 403


def test_only_owners_set_the_policy(client, editor, workspace, user):
    url = f"/w/{workspace.pk}/campaigns/review-policy/"
    assert editor.post(url, {"no_self_approval": "on"}).status_code == 403
    assert not ReviewPolicy.objects.exists()
    client.force_login(user)
    assert "data-review-policy" in client.get(f"/w/{workspace.pk}/campaigns/").content.decode()
    assert client.post(url, {"no_self_approval": "on"}).status_code == 302
    assert ReviewPolicy.forbids_self_approval(workspace)
    client.post(url, {})
    assert not ReviewPolicy.forbids_self_approval(workspace)


def test_non_members_get_404(client, other_user, written, workspace):
    client.force_login(other_user)
    assert client.get(f"/deliverables/{written.pk}/review/").status_code == 404
    for url in (
        f"/deliverables/{written.pk}/review/move/",
        f"/deliverables/{written.pk}/comments/",
        f"/w/{workspace.pk}/campaigns/review-policy/",
    ):
        assert client.post(url, {"action": "submit", "body": "x"}).status_code == 404
