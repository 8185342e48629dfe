"""The campaign page's rows: each deliverable's latest text and its check, in few queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from drafts.actions import add_version
from drafts.models import Draft, Generation
from drafts.suggestions import start_suggestion
from studio.audit.origin import Origin
from studio.campaigns.actions import fit_deliverable, generate_campaign
from studio.campaigns.board import board_rows, running


def test_rows_check_the_latest_version(campaign, headlines, email, user):
    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    Generation.objects.update(status="done")
    headlines.refresh_from_db()
    for text in ("- Old", "- Light that follows you\n- " + "灯" * 16):
        add_version(draft_id=headlines.draft_id, text=text, source="edited", author_id=user.pk)
    rows = board_rows(campaign)
    assert [row.deliverable for row in rows] == [headlines, email]
    assert [item.text for item, _ in rows[0].item_rows()] == [
        "Light that follows you",
        "灯" * 16,
    ]
    assert rows[0].item_rows()[1][1] == ["32 of 30: 2 too long."]
    assert rows[0].problems() == ["2 items; 10 asked for."]
    assert rows[0].generation.status == "done" and not rows[0].generating
    assert rows[1].report is None and rows[1].item_rows() == [] and rows[1].problems() == []


def test_a_draft_in_the_trash_is_not_shown(campaign, headlines, user):
    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    headlines.refresh_from_db()
    add_version(draft_id=headlines.draft_id, text="- One", source="edited", author_id=user.pk)
    Draft.objects.filter(pk=headlines.draft_id).update(deleted_at="2027-01-01T00:00:00Z")
    (row,) = board_rows(campaign)
    assert row.latest is None and row.report is None and row.generation is None


def test_the_rows_take_four_queries_however_many_deliverables(campaign, headlines, email, user):
    outcomes = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    with CaptureQueriesContext(connection) as queries:
        board_rows(campaign)
    assert len(queries) == 5  # and one for the text so far of those generating
    Generation.objects.filter(pk__in=[o.generation.pk for o in outcomes]).update(status="done")
    with CaptureQueriesContext(connection) as queries:
        board_rows(campaign)
    assert len(queries) == 4  # deliverables, versions, generations, open fits


def test_a_generating_row_checks_the_text_so_far(campaign, headlines, user):
    (outcome,) = generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)
    headlines.refresh_from_db()
    add_version(draft_id=headlines.draft_id, text="- Old one", source="edited", author_id=user.pk)
    (row,) = board_rows(campaign)
    assert row.generating and row.report is None  # nothing written yet: nothing to check
    Generation.objects.filter(pk=outcome.generation.pk).update(text="- New one\n- " + "灯" * 16)
    (row,) = board_rows(campaign)
    assert [item.text for item, _ in row.item_rows()] == ["New one", "灯" * 16]
    assert row.item_rows()[1][1] == ["32 of 30: 2 too long."]
    assert row.problems() == []  # "2 items of 10" would be noise while the rest is coming
    Generation.objects.filter(pk=outcome.generation.pk).update(status="done")
    (row,) = board_rows(campaign)
    assert not row.generating and [item.text for item in row.report.items] == ["Old one"]


def test_the_board_follows_and_stops_a_fit_but_no_other_suggestion(written, user):
    """``running``: what the board's stream follows and Stop stops."""
    add_version(
        draft_id=written.draft_id, text="- " + "Warm light " * 4, source="edited", author_id=user.pk
    )
    other = start_suggestion(
        draft=written.draft, user=user, origin=Origin(), loop=None, kind="formal"
    )
    fit = fit_deliverable(deliverable=written, user=user, origin=Origin(), loop=None, base_number=2)
    deliverables = written.campaign.deliverables.all()
    assert list(running(deliverables)) == [fit.generation_id]
    assert running(deliverables)[fit.generation_id].deliverable_id == written.pk
    assert other.generation_id not in running(deliverables)
    (row,) = board_rows(written.campaign)
    assert row.fitting and row.fit == fit and not row.generating and not row.may_fit
