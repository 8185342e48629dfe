"""The review state machine: allowed and forbidden transitions per role and state, the
self-approval rule, the activity lines, the campaign's progress."""

from __future__ import annotations

import pytest

from studio.campaigns.models import Activity, Deliverable, ReviewPolicy
from studio.campaigns.review import TRANSITIONS, Refused, allowed, progress, transition


def _fresh(user):
    """A user object without the membership cache (as each request has)."""
    return type(user).objects.get(pk=user.pk)


def test_the_whole_path_draft_review_changes_approved(written, team, campaign):
    editor, reviewer = team
    transition(deliverable=written, user=editor, action="submit")
    transition(deliverable=written, user=reviewer, action="request_changes")
    transition(deliverable=written, user=_fresh(editor), action="submit")
    done = transition(deliverable=written, user=_fresh(reviewer), action="approve")
    assert done.review_state == "approved" and done.submitted_by == editor
    lines = list(Activity.objects.filter(campaign=campaign).order_by("pk"))
    assert [(a.actor, a.state) for a in lines] == [
        (editor, "in_review"),
        (reviewer, "changes_requested"),
        (editor, "in_review"),
        (reviewer, "approved"),
    ]
    assert progress(campaign) == (1, 1)


@pytest.mark.parametrize(
    ("role", "action", "state", "ok"),
    [
        ("reviewer", "submit", "draft", False),  # reviewers do not submit
        ("reviewer", "reopen", "approved", False),
        ("reviewer", "approve", "in_review", True),
        ("reviewer", "request_changes", "in_review", True),
        ("editor", "submit", "draft", True),
        ("editor", "submit", "changes_requested", True),
        ("editor", "approve", "in_review", True),  # editors review others' work
        ("editor", "reopen", "approved", True),
        ("editor", "approve", "draft", False),  # not from a draft
        ("editor", "approve", "approved", False),
        ("editor", "request_changes", "changes_requested", False),
        ("editor", "submit", "in_review", False),
        ("editor", "fly", "draft", False),
    ],
)
def test_who_may_move_what(written, team, role, action, state, ok):
    editor, reviewer = team
    Deliverable.objects.filter(pk=written.pk).update(review_state=state)
    written.refresh_from_db()
    who = reviewer if role == "reviewer" else editor
    if ok:
        assert transition(deliverable=written, user=who, action=action).review_state == (
            TRANSITIONS[action].target
        )
        return
    with pytest.raises(Refused) as refused:
        transition(deliverable=written, user=who, action=action)
    written.refresh_from_db()
    assert written.review_state == state and not Activity.objects.exists()
    assert refused.value.status in (400, 403, 409)


def test_a_refusal_for_the_role_is_a_403_and_for_the_state_a_409(written, team):
    editor, reviewer = team
    with pytest.raises(Refused) as role:
        transition(deliverable=written, user=reviewer, action="submit")
    with pytest.raises(Refused) as state:
        transition(deliverable=written, user=editor, action="approve")
    assert (role.value.status, state.value.status) == (403, 409)


def test_nothing_generated_cannot_be_submitted(email, team):
    with pytest.raises(Refused, match="Generate"):
        transition(deliverable=email, user=team[0], action="submit")


def test_a_non_member_cannot_move_anything(written, other_user):
    Deliverable.objects.filter(pk=written.pk).update(review_state="in_review")
    written.refresh_from_db()
    with pytest.raises(Refused):
        transition(deliverable=written, user=other_user, action="approve")
    assert allowed(written, other_user) == []


def test_self_approval_is_allowed_by_default(written, team):
    editor, _ = team
    transition(deliverable=written, user=editor, action="submit")
    assert transition(deliverable=written, user=editor, action="approve").review_state == "approved"


def test_the_policy_forbids_approving_your_own_work(written, team, workspace, user):
    editor, reviewer = team
    ReviewPolicy.objects.create(workspace=workspace, no_self_approval=True)
    written = transition(deliverable=written, user=editor, action="submit")
    assert [t.action for t in allowed(written, editor)] == ["request_changes"]
    with pytest.raises(Refused, match="someone else") as refused:
        transition(deliverable=written, user=editor, action="approve")
    assert refused.value.status == 403
    # Someone else (the owner, an editor too) may.
    assert transition(deliverable=written, user=user, action="approve").review_state == "approved"


def test_allowed_lists_the_buttons(written, team):
    editor, reviewer = team
    assert [t.action for t in allowed(written, editor)] == ["submit"]
    assert allowed(written, reviewer) == []
    written = transition(deliverable=written, user=editor, action="submit")
    assert [t.action for t in allowed(written, reviewer)] == ["request_changes", "approve"]


def test_progress_counts_the_approved(campaign, written, email):
    assert progress(campaign) == (0, 2)
    Deliverable.objects.filter(pk=email.pk).update(review_state="approved")
    assert progress(campaign) == (1, 2)
