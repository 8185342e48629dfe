"""Fit to limits on the board: the button where an item breaks a rule, the fit started as a
tracked suggestion through the generate action (audited), followed by the board's stream,
then accepted (a new version, checked again) or rejected; roles, CSRF, a stale page."""

from __future__ import annotations

import pytest
from django.test import Client

from drafts import generation as runner
from drafts.actions import add_version, finish_generation
from drafts.models import Generation, Suggestion

LONG = "Lumen lamp: warm light that lasts all night long"  # 48 of 30
TEXT = f"- Light that follows you\n- {LONG}\n- Read all night, warmly"


def _as(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def no_launch(monkeypatch):
    monkeypatch.setattr(runner, "launch", lambda generation_id: None)


@pytest.fixture
def over(written, user):
    """The headlines' newest version (v2) holds one headline over Google Ads' 30."""
    add_version(draft_id=written.draft_id, text=TEXT, source="edited", author_id=user.pk)
    written.refresh_from_db()
    return written


def start(client: Client, deliverable, base: int = 2):
    return client.post(f"/deliverables/{deliverable.pk}/fit/", {"base": base})


def finish(fit: Suggestion, text: str, status: str = "done", **fields) -> None:
    finish_generation(
        generation_id=fit.generation_id, status=status, text=text, reasoning="", fields=fields
    )


def decide(client: Client, deliverable, fit: Suggestion, decision: str, base: int = 2):
    fit.refresh_from_db()
    data = {"suggestion": fit.pk, "base": base, "revision": fit.revision, "decision": decision}
    return client.post(f"/deliverables/{deliverable.pk}/fit/decide/", data)


def test_the_button_shows_only_where_an_item_breaks_a_rule(client, user, written, over):
    client.force_login(user)
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert page.count("data-fit-start") == 1 and "Fit to limits" in page


def test_no_button_when_every_item_passes(client, user, written):
    client.force_login(user)
    assert "data-fit-start" not in client.get(written.campaign.get_absolute_url()).content.decode()


def test_an_editor_fits_and_the_board_follows_it(client, user, over, no_launch):
    client.force_login(user)
    response = start(client, over)
    assert response.status_code == 302 and response.url == over.campaign.get_absolute_url()
    fit = Suggestion.objects.get(kind="fit")
    generation = Generation.objects.get(pk=fit.generation_id)
    prompt = generation.messages[-1]["content"]
    assert LONG in prompt and "Light that follows you" not in prompt  # only the broken one
    assert generation.created_by == user and generation.channel == "ui"  # audited, as a UI call
    assert fit.parts == [[TEXT.index(LONG), TEXT.index(LONG) + len(LONG)]]
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "data-fit-progress" in page and "data-board-stream" in page  # followed, one stream
    assert f"{fit.generation_id}:0" in page  # the board's cursor follows the fit


def test_accepting_writes_a_version_and_the_board_checks_it_again(client, user, over, no_launch):
    client.force_login(user)
    start(client, over)
    fit = Suggestion.objects.get(kind="fit")
    finish(fit, '<item n="1">Lumen lamp: warm all night</item>')
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "data-fit-item" in page and "Lumen lamp: warm all night" in page and "26/30" in page
    assert "data-fit-still-breaks" not in page
    assert decide(client, over, fit, "accept").status_code == 302
    over.draft.refresh_from_db()
    assert over.draft.latest_version().text == TEXT.replace(LONG, "Lumen lamp: warm all night")
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "48/30" not in page and "data-fit-start" not in page and "data-fit-item" not in page


def test_a_repair_that_still_breaks_a_rule_says_so(client, user, over, no_launch):
    client.force_login(user)
    start(client, over)
    finish(
        Suggestion.objects.get(kind="fit"), '<item n="1">Lumen lamp: still far too long 🙂</item>'
    )
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "data-fit-still-breaks" in page and "still breaks a rule" in page


def test_rejecting_leaves_the_draft_and_offers_the_button_again(client, user, over, no_launch):
    client.force_login(user)
    start(client, over)
    fit = Suggestion.objects.get(kind="fit")
    finish(fit, '<item n="1">Short</item>')
    decide(client, over, fit, "reject")
    assert over.draft.latest_version().text == TEXT
    assert Suggestion.objects.get(pk=fit.pk).status == "rejected"
    assert "data-fit-start" in client.get(over.campaign.get_absolute_url()).content.decode()


def test_an_upstream_failure_is_said_and_can_be_dismissed(client, user, over, no_launch):
    client.force_login(user)
    start(client, over)
    fit = Suggestion.objects.get(kind="fit")
    finish(fit, "", status="failed", error_code="upstream_503", error_message="Busy")
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "data-fit-error" in page and "Fit to limits failed" in page
    assert "data-fit-accept" not in page and "data-fit-reject" in page
    decide(client, over, fit, "reject")
    assert over.draft.latest_version().text == TEXT


def test_a_stale_page_neither_starts_nor_accepts(client, user, over, no_launch):
    client.force_login(user)
    start(client, over, base=1)  # the page showed v1
    assert not Suggestion.objects.exists()
    start(client, over)
    fit = Suggestion.objects.get(kind="fit")
    finish(fit, '<item n="1">Short</item>')
    edited = TEXT.replace("Read all night", "Read late")
    add_version(draft_id=over.draft_id, text=edited, source="edited", author_id=user.pk)
    response = decide(client, over, fit, "accept", base=2)
    assert response.status_code == 302
    page = client.get(over.campaign.get_absolute_url()).content.decode()
    assert "A newer version (v3) was saved" in page
    decide(client, over, fit, "accept", base=3)  # the newest, but the fit was for v2's text
    over.draft.refresh_from_db()
    assert over.draft.latest_version().text == edited
    assert Suggestion.objects.get(pk=fit.pk).status == "pending"


def test_nothing_to_fit_is_said(client, user, written, no_launch):
    client.force_login(user)
    response = start(client, written, base=1)
    page = client.get(response.url).content.decode()
    assert "nothing to fit" in page and not Suggestion.objects.exists()


def test_a_reviewer_cannot_fit_or_decide(team, user, over, no_launch):
    editor, reviewer = _as(team[0]), _as(team[1])
    assert start(reviewer, over).status_code == 403
    assert not Suggestion.objects.exists()
    assert start(editor, over).status_code == 302  # an editor can
    fit = Suggestion.objects.get(kind="fit")
    finish(fit, '<item n="1">Short</item>')
    assert decide(reviewer, over, fit, "accept").status_code == 403
    page = reviewer.get(over.campaign.get_absolute_url()).content.decode()
    assert "data-fit-item" in page and "data-fit-accept" not in page  # seen, not decided


def test_csrf_is_required(user, over, no_launch):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert start(client, over).status_code == 403
    assert not Suggestion.objects.exists()


def test_another_workspace_gets_404(client, other_user, over, no_launch):
    client.force_login(other_user)
    assert start(client, over).status_code == 404
    assert client.post(f"/deliverables/{over.pk}/fit/decide/", {}).status_code == 404


@pytest.mark.parametrize("data", [{}, {"base": "x"}, {"base": str(2**40)}])
def test_unreadable_requests_are_400(client, user, over, data):
    client.force_login(user)
    assert client.post(f"/deliverables/{over.pk}/fit/", data).status_code == 400
    data = {"suggestion": 2**40, "base": 1, "revision": 0, "decision": "accept"}
    assert client.post(f"/deliverables/{over.pk}/fit/decide/", data).status_code == 400


def test_the_board_speaks_chinese(client, user, over):
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(over.campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "按限制修正" in page.content.decode()


def _between(page: str, start: str, end: str) -> str:
    at = page.index(start)
    return page[at : page.index(end, at)]


def test_a_running_fit_streams_as_tagged_items_on_the_board_and_the_draft(
    client, user, over, no_launch, monkeypatch
):
    """While it is written, the fit's raw answer (tagged items) goes to a raw element that
    studio.js shows as a list of items (over the escaped text); the draft page gives it the
    text so far whole, never as rendered Markdown blocks (the tags would show in them)."""
    client.force_login(user)
    start(client, over)
    fit = Suggestion.objects.get(kind="fit")
    monkeypatch.setattr(runner, "is_orphan", lambda generation: False)  # its runner is "here"
    log = runner.GENERATIONS.open_log(fit.generation_id)
    log.append("content", '<item n="1">Lumen <b>lamp</b>')
    log.append("block", '5\n<p>&lt;item n="1"&gt;</p>')
    try:
        board = client.get(over.campaign.get_absolute_url()).content.decode()
        panel = _between(board, "data-tagged-items", "</div>")
        assert "data-items-view" in panel and f'sse-swap="delta-{over.pk}"' in panel
        draft = client.get(f"/drafts/{over.draft_id}/").content.decode()
    finally:
        runner.GENERATIONS.discard_log(fit.generation_id)
    live = _between(draft, f'id="suggestion-{fit.pk}"', "</li>")
    assert "data-tagged-items" in live and 'sse-swap="delta"' in live
    assert "data-stream-blocks" not in live and "&lt;p&gt;" not in live
    assert "&lt;item n=&quot;1&quot;&gt;Lumen &lt;b&gt;lamp&lt;/b&gt;" in live  # escaped, whole
    assert "<b>" not in live


HX = {"HX-Request": "true"}


def test_htmx_gets_the_panel_fitting_which_joins_the_board_stream(client, user, over, no_launch):
    """Fit to limits by htmx: only the deliverable's panel comes back, streaming, with the
    fit's generation for the board's stream to follow (data-follow), and Stop all."""
    client.force_login(user)
    response = client.post(f"/deliverables/{over.pk}/fit/", {"base": 2}, headers=HX)
    assert response.status_code == 200
    fit = Suggestion.objects.get(kind="fit")
    panel = response.content.decode()
    assert panel.lstrip().startswith('<li class="') and f'data-deliverable="{over.pk}"' in panel
    assert f'data-follow="{fit.generation_id}"' in panel and "data-fit-progress" in panel
    assert f'sse-swap="delta-{over.pk}"' in panel and "data-tagged-items" in panel
    assert 'id="board-stop-all"' in panel and 'hx-swap-oob="true"' in panel
    assert "data-stop-all" in panel and "<html" not in panel
    assert "data-board-stream" not in panel  # no second stream: the board's own is reopened


def test_htmx_is_told_why_a_fit_cannot_start(client, user, written, over, no_launch):
    client.force_login(user)
    response = client.post(f"/deliverables/{over.pk}/fit/", {"base": 1}, headers=HX)  # stale
    assert response.status_code == 409 and response["HX-Retarget"] == "#toasts"
    assert "v2" in response.content.decode() and not Suggestion.objects.exists()
