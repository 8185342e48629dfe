"""A deliverable's review: draft → in review → changes requested → approved, server-side.

The transitions are one explicit table (``TRANSITIONS``): each action names the states it
leaves, the state it reaches and the capability the member's role must grant (``EDIT`` to
submit or reopen, ``REVIEW`` to approve or request changes). ``allowed`` is the one rule,
read by the page (which buttons) and enforced by ``transition`` (which writes the state and
its activity line in one transaction, the row locked so two reviewers cannot both move it).
Where the workspace's review policy asks for it, whoever submitted a deliverable cannot
approve it. Why a table and not django-fsm-2: docs/decisions/campaign-review.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studio.workspaces.access import membership
from studio.workspaces.models import EDIT, REVIEW

from .models import Activity, Deliverable, ReviewPolicy

DRAFT, IN_REVIEW, CHANGES, APPROVED = "draft", "in_review", "changes_requested", "approved"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    capability: str
    label: object  # the button's words (lazy)


TRANSITIONS = {
    t.action: t
    for t in (
        Transition(
            "submit",
            frozenset({DRAFT, CHANGES}),
            IN_REVIEW,
            EDIT,
            gettext_lazy("Submit for review"),
        ),
        Transition(
            "request_changes",
            frozenset({IN_REVIEW}),
            CHANGES,
            REVIEW,
            gettext_lazy("Request changes"),
        ),
        Transition("approve", frozenset({IN_REVIEW}), APPROVED, REVIEW, gettext_lazy("Approve")),
        Transition(
            "reopen", frozenset({APPROVED, CHANGES}), DRAFT, EDIT, gettext_lazy("Back to draft")
        ),
    )
}


class Refused(Exception):
    """The transition is not allowed: ``message`` says why; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def why_not(deliverable: Deliverable, user, action: str) -> Refused | None:
    """Why ``user`` may not take ``action`` on the deliverable now, or None when they may."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return Refused(_("Unknown review action."), 400)
    member = membership(user, workspace_id=deliverable.campaign.workspace_id)
    if member is None or not member.can(transition.capability):
        return Refused(_("Your role in this workspace cannot do this."), 403)
    if deliverable.review_state not in transition.sources:
        return Refused(_("This deliverable is not in a state that allows it."))
    if action == "submit" and deliverable.draft_id is None:
        return Refused(_("Generate the deliverable before submitting it."))
    if (
        action == "approve"
        and deliverable.submitted_by_id == user.pk
        and ReviewPolicy.forbids_self_approval(deliverable.campaign.workspace)
    ):
        return Refused(_("This workspace asks that someone else approve your work."), 403)
    return None


def allowed(deliverable: Deliverable, user) -> list[Transition]:
    """The transitions the user may take now (the page's buttons)."""
    return [t for t in TRANSITIONS.values() if why_not(deliverable, user, t.action) is None]


@transaction.atomic
def transition(*, deliverable: Deliverable, user, action: str) -> Deliverable:
    """Take ``action``: the new state and its activity line, or ``Refused``."""
    locked = (
        Deliverable.objects.select_for_update().select_related("campaign").get(pk=deliverable.pk)
    )
    if refused := why_not(locked, user, action):
        raise refused
    target = TRANSITIONS[action].target
    locked.review_state = target
    fields = ["review_state"]
    if action == "submit":
        locked.submitted_by = user
        fields.append("submitted_by")
    locked.save(update_fields=fields)
    Activity.objects.create(
        campaign=locked.campaign,
        deliverable=locked,
        actor=user,
        kind=Activity.Kind.STATE,
        state=target,
    )
    return locked


def progress(campaign) -> tuple[int, int]:
    """(approved, all) deliverables of the campaign."""
    states = list(campaign.deliverables.values_list("review_state", flat=True))
    return sum(state == APPROVED for state in states), len(states)
