"""Comments on a deliverable's draft: threads, selections, mentions, and how a body shows.

A comment is on the whole draft or on a selection of its newest version's text: the quote is
kept with its offsets, checked here against that text (offsets that do not hold are looked
up again from the quote; a quote the text does not hold is refused). ``@name`` mentions are
parsed here, server-side, and only the workspace's members count; each mentioned member sees
the comment in the campaign's "Mentions of you". A body is shown escaped, with only the
mentions it stored turned into links (``render_body``).
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from drafts.models import DraftVersion

from .models import Activity, Comment, Deliverable

# Django's usernames: letters, digits and @ . + - _ (a trailing dot is punctuation).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w@+-])")


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def mentioned_members(deliverable: Deliverable, body: str) -> list:
    """The workspace's members the body mentions (``@username``); anyone else is text."""
    names = {match.group(1) for match in MENTION.finditer(body)}
    if not names:
        return []
    users = get_user_model().objects.filter(
        username__in=names, memberships__workspace_id=deliverable.campaign.workspace_id
    )
    return list(users.order_by("username"))


def _anchor(version: DraftVersion | None, quote: str, start: int | None) -> tuple[int, int]:
    """The selection's offsets in the version's text: as sent if the text holds the quote
    there, else where it first holds it."""
    if version is None:
        raise Invalid(_("There is no text to comment on yet."))
    text = version.text
    if start is not None and text[start : start + len(quote)] == quote:
        return start, start + len(quote)
    found = text.find(quote)
    if found < 0:
        raise Invalid(_("The selected text is not in the draft any more."))
    return found, found + len(quote)


@transaction.atomic
def add_comment(
    *,
    deliverable: Deliverable,
    user,
    body: str,
    parent: Comment | None = None,
    quote: str = "",
    start: int | None = None,
) -> Comment:
    """A comment (a reply when ``parent``), its mentions and its activity line."""
    if parent is not None and parent.deliverable_id != deliverable.pk:
        raise Invalid(_("That comment is on another deliverable."))
    if parent is not None and parent.parent_id:  # threads are one level: reply to its root
        parent = parent.parent
    version = None
    if deliverable.draft_id:
        version = DraftVersion.objects.filter(draft_id=deliverable.draft_id).order_by("-number")
        version = version.first()
    comment = Comment(deliverable=deliverable, author=user, body=body, parent=parent)
    if quote and parent is None:
        comment.quote = quote
        comment.start, comment.end = _anchor(version, quote, start)
        comment.version_number = version.number
    comment.save()
    comment.mentions.set(mentioned_members(deliverable, body))
    Activity.objects.create(
        campaign_id=deliverable.campaign_id,
        deliverable=deliverable,
        actor=user,
        kind=Activity.Kind.COMMENT,
        comment=comment,
    )
    return comment


def render_body(comment: Comment) -> SafeString:
    """The body escaped, each stored mention a link to the workspace's members page."""
    names = {user.username for user in comment.mentions.all()}
    if not names:
        return conditional_escape(comment.body)
    members = reverse("members", args=[comment.deliverable.campaign.workspace_id])
    parts, last = [], 0
    for match in MENTION.finditer(comment.body):
        if match.group(1) not in names:
            continue
        parts.append(conditional_escape(comment.body[last : match.start()]))
        parts.append(
            format_html(
                '<a href="{}" class="font-medium text-brand-700 dark:text-brand-100" '
                "data-mention>@{}</a>",
                members,
                match.group(1),
            )
        )
        last = match.end()
    parts.append(conditional_escape(comment.body[last:]))
    return mark_safe("".join(parts))  # noqa: S308 — every part escaped or format_html


def threads(deliverable: Deliverable) -> list[tuple[Comment, list[Comment]]]:
    """Top-level comments in order, each with its replies (one query, mentions prefetched)."""
    every = list(
        deliverable.comments.select_related("author", "deliverable__campaign").prefetch_related(
            "mentions"
        )
    )
    replies: dict[int, list[Comment]] = {}
    for comment in every:
        comment.html = render_body(comment)
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    return [(c, replies.get(c.pk, [])) for c in every if c.parent_id is None]
