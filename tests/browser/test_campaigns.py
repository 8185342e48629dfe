"""Campaigns in a real browser: write a brief, add deliverables, Generate all, open each
deliverable's draft as it streams, and see each item counted against its channel; then the
same page in Chinese. The board streams every deliverable over one SSE connection, and its
Stop all stops those still running."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from drafts.models import Generation
from studio.campaigns.models import Deliverable
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
# The long deliverables stream on, paced, through a Stop all or a regenerate of another
# panel (whose checks want their deltas to keep coming): 3000 tokens at 100 a second.
SIMULATOR_TOKENS_PER_SECOND = 100


@pytest.fixture
def ready(user, workspace, demo_templates):
    return workspace


def add_deliverable(page: Page, template: str, channel: str, items: str) -> None:
    page.get_by_label("Template").select_option(label=template)
    page.get_by_label("Channel").select_option(label=channel)
    page.get_by_label("Items").fill(items)
    page.get_by_role("button", name="Add deliverable").click()


def test_a_brief_becomes_every_deliverables_draft(page: Page, studio_url, ready):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title").fill("Lumen lamp launch")
    page.get_by_label("Product").fill("Lumen lamp")
    page.get_by_label("Audience").fill("night readers")
    page.get_by_label("Offer").fill("20% off in launch week")
    page.get_by_label("Key message").fill("Warm light that lasts all night")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name="Lumen lamp launch", level=1)).to_be_visible()

    add_deliverable(page, "Ad headline set", "Google Ads headline", "10")
    add_deliverable(page, "Marketing email", "Email", "1")
    deliverables = page.locator("[data-deliverable]")
    expect(deliverables).to_have_count(2)
    expect(deliverables.first).to_contain_text("Google Ads headline ×10")

    page.get_by_role("button", name="Generate all").click()
    expect(page.get_by_text("Generating 2 deliverables.")).to_be_visible()
    expect(page.locator("[data-draft-link]")).to_have_count(2)
    # The list follows the streams by itself (the board's one stream): each panel's text
    # arrives, then its final state with the counters.
    headlines = deliverables.first
    expect(page.locator("[data-streaming]")).to_have_count(0, timeout=30_000)
    expect(deliverables.locator('[data-status="done"]')).to_have_count(2)
    expect(headlines.locator("[data-item]")).to_have_count(10)  # the asked count, each checked
    expect(headlines.locator("[data-counter]").first).to_contain_text("/30")

    headlines.locator("[data-draft-link]").click()  # the deliverable's own draft
    expect(page.locator("[data-status]")).to_have_text("Done")
    page.go_back()

    page.locator("#language-switcher").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="全部生成")).to_be_visible()
    expect(deliverables.first).to_contain_text("Google Ads 标题 ×10")


@pytest.fixture
def launch_board(user, workspace, demo_templates):
    """A campaign of three deliverables: a short email, and two long ones (headlines and a
    LinkedIn post) that stream until stopped (the simulator's [[sim:tokens=N]] directive)."""
    from studio.campaigns.actions import add_deliverable as add
    from studio.campaigns.models import Campaign

    templates = {t.slug: t for t in demo_templates}
    campaign = Campaign.objects.create(
        workspace=workspace,
        owner=user,
        title="Lumen lamp launch",
        product="Lumen lamp",
        offer="20% off in launch week",
    )
    goal = {"goal": "Launch the Lumen lamp"}
    short = goal | {"cta": "Pre-order now [[sim:tokens=60]]"}
    add(campaign=campaign, template=templates["marketing-email"], channel="email", count=1,
        overrides=short)  # fmt: skip
    long = {"benefit": "Warm light [[sim:tokens=3000]]"}
    add(campaign=campaign, template=templates["ad-headlines"], channel="google_ads_headline",
        count=10, overrides=long)  # fmt: skip
    add(campaign=campaign, template=templates["marketing-email"], channel="linkedin_post",
        count=1, overrides=goal | {"cta": "Read more [[sim:tokens=3000]]"})  # fmt: skip
    return campaign


@pytest.mark.parametrize(
    ("language", "generate", "stop_all", "done", "stopped"),
    [
        ("en", "Generate all", "Stop all", "Done", "Stopped"),
        ("zh-hans", "全部生成", "全部停止", "已完成", "已停止"),
    ],
)
def test_the_board_streams_every_deliverable_over_one_connection(
    page: Page, studio_url, launch_board, language, generate, stop_all, done, stopped
):
    events = f"/campaigns/{launch_board.pk}/events/"
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if events in r.url else None)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}/campaigns/{launch_board.pk}/")
    page.get_by_role("button", name=generate, exact=True).click()

    deliverables = page.locator("[data-deliverable]")
    email, headlines, post = (deliverables.nth(i) for i in range(3))
    # Every panel streams its own text, live, while the others stream too.
    expect(headlines.locator("[data-stream-text]")).not_to_be_empty()
    expect(post.locator("[data-stream-text]")).not_to_be_empty()
    # The short one ends on its own: its final panel, in the viewer's language, with its check.
    expect(email.locator('[data-status="done"]')).to_have_text(done, timeout=30_000)
    expect(email.locator("[data-item]")).to_have_count(1)
    expect(email.locator("[data-regenerate]")).to_be_visible()
    expect(page.locator("[data-streaming]")).to_have_count(2)  # the long ones still stream

    page.get_by_role("button", name=stop_all, exact=True).click()
    expect(page.locator("[data-streaming]")).to_have_count(0)
    expect(deliverables.locator('[data-status="cancelled"]')).to_have_count(2)
    expect(headlines.locator('[data-status="cancelled"]')).to_have_text(stopped)
    expect(headlines.locator("[data-item]").first).to_be_visible()  # the text so far, checked
    expect(page.locator("[data-stop-all]")).to_have_count(0)  # "end" took it away
    assert len(streams) == 1, streams  # ONE SSE connection carried all three


@pytest.fixture
def failing_board(user, workspace, demo_templates):
    """Two deliverables: an email whose upstream breaks off after a few words (the
    simulator's [[sim:cut_after=N]]), and a LinkedIn post that streams until stopped."""
    from studio.campaigns.actions import add_deliverable as add
    from studio.campaigns.models import Campaign

    templates = {t.slug: t for t in demo_templates}
    campaign = Campaign.objects.create(
        workspace=workspace, owner=user, title="Lumen lamp launch", product="Lumen lamp",
        offer="20% off in launch week",
    )  # fmt: skip
    goal = {"goal": "Launch the Lumen lamp"}
    cut = goal | {"cta": "Pre-order now [[sim:tokens=400]] [[sim:cut_after=20]]"}
    add(campaign=campaign, template=templates["marketing-email"], channel="email", count=1,
        overrides=cut)  # fmt: skip
    add(campaign=campaign, template=templates["marketing-email"], channel="linkedin_post",
        count=1, overrides=goal | {"cta": "Read more [[sim:tokens=3000]]"})  # fmt: skip
    return campaign


@pytest.mark.parametrize(
    ("language", "generate", "failed", "kept", "regenerate", "stop_all"),
    [
        ("en", "Generate all", "The generation failed.", "kept as v1", "Regenerate", "Stop all"),
        ("zh-hans", "全部生成", "生成失败。", "保存为 v1", "重新生成", "全部停止"),
    ],
)
def test_a_failed_deliverable_ends_its_panel_while_the_others_stream(
    page: Page, studio_url, failing_board, language, generate, failed, kept, regenerate, stop_all
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}/campaigns/{failing_board.pk}/")
    page.get_by_role("button", name=generate, exact=True).click()

    email, post = (page.locator("[data-deliverable]").nth(i) for i in range(2))
    # The broken one ends with its failure, what was kept and Regenerate, while the other
    # one is still streaming on the same page.
    ended = email.locator('[data-generation-end="failed"]')
    expect(ended).to_contain_text(failed, timeout=30_000)
    expect(ended).to_contain_text(kept)
    expect(email.locator('[data-status="failed"]')).to_be_visible()
    expect(email.get_by_role("button", name=regenerate, exact=True)).to_be_visible()
    expect(email).not_to_have_attribute("data-streaming", "")
    expect(post).to_have_attribute("data-streaming", "")
    expect(post.locator("[data-stream-text]")).not_to_be_empty()
    page.get_by_role("button", name=stop_all, exact=True).click()
    expect(page.locator("[data-streaming]")).to_have_count(0)


# Every EventSource the page opens, and every SSE message type it receives (htmx's extension).
WATCH_STREAMS = """window.sources = []; window.sseTypes = [];
const Original = window.EventSource;
window.EventSource = class extends Original {
  constructor(...args) { super(...args); window.sources.push(this); }
};
window.openStreams = () => window.sources.filter((s) => s.readyState !== 2).length;
document.addEventListener("htmx:sseBeforeMessage", (e) => {
  window.sseTypes.push(e.detail.type);
  const seen = `data-seen-${e.detail.type}`;  // on <html>, for expect() to wait on
  const count = window.sseTypes.filter((t) => t === e.detail.type).length;
  document.documentElement.setAttribute(seen, String(count));
});"""


@pytest.mark.parametrize(
    ("language", "generate", "regenerate", "stop_all", "done"),
    [
        ("en", "Generate all", "Regenerate", "Stop all", "Done"),
        ("zh-hans", "全部生成", "重新生成", "全部停止", "已完成"),
    ],
)
def test_regenerate_swaps_one_panel_and_joins_the_board_stream(
    page: Page, studio_url, launch_board, language, generate, regenerate, stop_all, done
):
    page.add_init_script(WATCH_STREAMS)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}/campaigns/{launch_board.pk}/")
    page.get_by_role("button", name=generate, exact=True).click()
    email = page.locator("[data-deliverable]").first
    key = email.get_attribute("data-deliverable")
    expect(email.locator('[data-status="done"]')).to_have_text(done, timeout=30_000)
    expect(page.locator("[data-streaming]")).to_have_count(2)
    page.evaluate("window.samePage = true")

    email.get_by_role("button", name=regenerate, exact=True).click()
    # Its panel streams again over the board's stream, reopened with its new generation in
    # the cursor, and ends: no page load, and never two connections open at once.
    html = page.locator("html")
    expect(html).to_have_attribute(f"data-seen-done-{key}", "2")
    expect(email.locator('[data-status="done"]')).to_have_text(done)
    expect(email.locator("[data-item]")).to_have_count(1)
    assert page.evaluate("window.samePage") is True
    assert page.evaluate("window.openStreams()") == 1
    assert len(page.evaluate("window.sources.map((s) => s.url)")) == 2
    expect(page.locator("[data-streaming]")).to_have_count(2)  # the others stream on
    for other in page.locator("[data-streaming]").all():  # still receiving, on the new one
        seen = f"data-seen-delta-{other.get_attribute('data-deliverable')}"
        expect(html).not_to_have_attribute(seen, html.get_attribute(seen))

    # What each long panel showed across the reopening is what the model wrote: nothing
    # repeated, nothing skipped (the kept text goes on from it).
    shown = {
        int(p.get_attribute("data-deliverable")): p.locator("[data-stream-text]").text_content()
        for p in page.locator("[data-streaming]").all()
    }
    page.get_by_role("button", name=stop_all, exact=True).click()
    expect(page.locator("[data-streaming]")).to_have_count(0)
    expect(page.locator("[data-stop-all]")).to_have_count(0)
    assert page.evaluate("window.openStreams()") == 0
    for pk, text in shown.items():
        draft = Deliverable.objects.get(pk=pk).draft_id
        kept = Generation.objects.filter(draft_id=draft).latest("pk").text
        assert text.strip() and kept.startswith(text.rstrip()), (text[-80:], kept[:200])
