"""Comments: on the whole draft or a selection (quote and offsets), threads, mentions of
members only, the activity line, and hostile text that stays text."""

from __future__ import annotations

import pytest

from studio.campaigns.comments import Invalid, add_comment, mentioned_members, render_body, threads
from studio.campaigns.models import Activity

TEXT = "- Light that follows you\n- Read all night, warmly"


def test_a_comment_on_the_whole_draft(written, user, campaign):
    comment = add_comment(deliverable=written, user=user, body="Good start.")
    assert (comment.quote, comment.start, comment.end) == ("", None, None)
    (line,) = Activity.objects.all()
    assert (line.kind, line.comment, line.campaign, line.actor) == (
        "comment",
        comment,
        campaign,
        user,
    )


def test_a_comment_on_a_selection_keeps_its_quote_and_offsets(written, user):
    start = TEXT.index("Read all night")
    comment = add_comment(
        deliverable=written, user=user, body="Too long?", quote="Read all night", start=start
    )
    assert (comment.start, comment.end, comment.version_number) == (start, start + 14, 1)
    assert TEXT[comment.start : comment.end] == comment.quote


def test_offsets_that_do_not_hold_are_found_from_the_quote(written, user):
    comment = add_comment(deliverable=written, user=user, body="x", quote="warmly", start=0)
    assert (comment.start, comment.end) == (TEXT.index("warmly"), len(TEXT))


def test_a_quote_the_text_does_not_hold_is_refused(written, user):
    with pytest.raises(Invalid):
        add_comment(deliverable=written, user=user, body="x", quote="not in it", start=3)


def test_a_selection_needs_a_text(email, user):
    with pytest.raises(Invalid):
        add_comment(deliverable=email, user=user, body="x", quote="a", start=0)


def test_replies_thread_under_their_root(written, user, team):
    editor, reviewer = team
    root = add_comment(deliverable=written, user=reviewer, body="Shorter?")
    reply = add_comment(deliverable=written, user=editor, body="Done.", parent=root)
    deeper = add_comment(deliverable=written, user=reviewer, body="Thanks.", parent=reply)
    other = add_comment(deliverable=written, user=user, body="Second thread.")
    assert deeper.parent == root
    assert [(c, r) for c, r in threads(written)] == [(root, [reply, deeper]), (other, [])]


def test_a_reply_on_another_deliverable_is_refused(written, email, user):
    root = add_comment(deliverable=written, user=user, body="x")
    with pytest.raises(Invalid):
        add_comment(deliverable=email, user=user, body="y", parent=root)


def test_only_members_can_be_mentioned(written, user, team, other_user):
    editor, reviewer = team
    body = "@horatio and @ophelia, see @cordelia's note (mail me@example.com) @nobody."
    assert mentioned_members(written, body) == [reviewer, editor]
    comment = add_comment(deliverable=written, user=user, body=body)
    assert set(comment.mentions.all()) == {reviewer, editor}
    html = render_body(comment)
    assert html.count("data-mention") == 2
    assert ">@horatio</a>" in html and ">@ophelia</a>" in html
    assert "@cordelia" in html and ">@cordelia<" not in html  # not a member: plain text


HOSTILE = [
    "<script>alert(1)</script> @horatio",
    '@horatio"><img src=x onerror=alert(1)>',
    "<a href='javascript:alert(1)'>@ophelia</a>",
    "{{ 7|add:7 }} {% csrf_token %} @horatio",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_text_stays_inert(written, user, team, body):
    comment = add_comment(deliverable=written, user=user, body=body)
    html = str(render_body(comment))
    assert "<script" not in html and "<img" not in html and "javascript:alert(1)'>" not in html
    assert "<a " not in html.replace('<a href="/w/', "")  # only the mention links are links
    assert "&lt;" in html or "{{" in html
