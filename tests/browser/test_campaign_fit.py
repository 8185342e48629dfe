"""Issue 21's "done when", in a real browser, in English and in Chinese: open the demo
campaign, generate every deliverable at once and watch them stream on one page (one SSE
connection), make a headline too long in the draft's editor, fix it with Fit to limits, then
comment, request changes, approve, and download the ZIP."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from studio.campaigns.counting import double_width
from studio.campaigns.demo import load_demo_campaigns
from studio.campaigns.models import Campaign
from tests.browser.conftest import log_in
from tests.browser.test_campaign_review import WORDS as REVIEW

pytestmark = pytest.mark.django_db(transaction=True)

# Every SSE message's type as the page receives it, for this document (htmx's sse extension).
RECORD_SSE = """window.sseTypes = [];
document.addEventListener("htmx:sseBeforeMessage", (e) => window.sseTypes.push(e.detail.type));"""

CASES = {
    "en": {
        "title": "Lumen lamp launch",
        "generate": "Generate all",
        "edit": "Edit",
        "fit": "Fit to limits",
        "accept": "Accept",
        "long": "Lumen lamp: warm light that lasts all night long for readers",
        "approved": "1 of 6 deliverables approved",
        "channel": "google-ads-headline",
    },
    "zh-hans": {
        "title": "Lumen 台灯上市",
        "generate": "全部生成",
        "edit": "编辑",
        "fit": "按限制修正",
        "accept": "接受",
        "long": "Lumen 台灯：暖光护眼，一夜长明，陪你读到天亮",
        "approved": "已批准 1 / 6 个交付物",
        "channel": "google-ads-标题",
    },
}
_MARKER = re.compile(r"^(\s*(?:[-*+]|\d{1,3}[.)、])\s+)")


@pytest.fixture
def demo(user, workspace, demo_templates):
    """The demo campaigns, as the demo login gets them, in hamlet's workspace."""
    load_demo_campaigns(workspace=workspace, user=user)
    return {c.title: c for c in Campaign.objects.filter(workspace=workspace)}


def make_first_headline_too_long(page: Page, long: str) -> None:
    """In the draft's editor: the first headline replaced by ``long``, saved as a version."""
    text = page.locator("#editor-text")
    lines = text.input_value().split("\n")
    first = next(n for n, line in enumerate(lines) if _MARKER.match(line))
    lines[first] = _MARKER.match(lines[first]).group(1) + long
    text.fill("\n".join(lines))
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_demo_campaign_from_brief_to_approved_zip(page: Page, studio_url, demo, language):
    w, review = CASES[language], REVIEW[language]
    campaign = demo[w["title"]]
    deliverables = {d.channel: d.pk for d in campaign.deliverables.all()}
    page.add_init_script(RECORD_SSE)
    events: list[str] = []
    page.on("request", lambda r: events.append(r.url) if "/events/" in r.url else None)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}/w/{campaign.workspace_id}/campaigns/")
    page.get_by_role("link", name=w["title"], exact=True).click()
    expect(page.get_by_role("heading", name=w["title"], level=1)).to_be_visible()

    # Generate all: every deliverable streams into its own panel over ONE connection.
    page.get_by_role("button", name=w["generate"], exact=True).click()
    panels = page.locator("[data-deliverable]")
    expect(panels).to_have_count(6)
    expect(page.locator("[data-streaming]")).to_have_count(0, timeout=30_000)
    expect(panels.locator('[data-status="done"]')).to_have_count(6)
    seen = page.evaluate("window.sseTypes")
    for channel in ("email", "x_post"):  # long ones: their text came delta by delta
        assert f"delta-{deliverables[channel]}" in seen, seen
    assert {f"done-{pk}" for pk in deliverables.values()} <= set(seen)
    assert len(events) == 1, events
    headlines = page.locator(f'[data-deliverable="{deliverables["google_ads_headline"]}"]')
    expect(headlines.locator("[data-item]")).to_have_count(10)
    expect(headlines.locator("[data-violation]")).to_have_count(0)  # the simulator fits

    # A headline made too long in the editor: the board counts it and offers Fit to limits.
    headlines.locator("[data-draft-link]").click()
    page.get_by_role("link", name=w["edit"], exact=True).click()
    make_first_headline_too_long(page, w["long"])
    page.goto(f"{studio_url}{campaign.get_absolute_url()}")
    over = double_width(w["long"])
    expect(headlines.locator("[data-counter]").first).to_have_text(f"{over}/30")
    expect(headlines.locator("[data-item] [data-violation]")).to_have_count(1)
    headlines.get_by_role("button", name=w["fit"], exact=True).click()
    repaired = headlines.locator("[data-fit-new]")
    expect(repaired).to_have_count(1, timeout=15_000)  # followed by the board's stream
    expect(headlines.locator("[data-fit-still-breaks]")).to_have_count(0)
    fitted = repaired.inner_text()
    assert 0 < double_width(fitted) <= 30, fitted
    headlines.get_by_role("button", name=w["accept"], exact=True).click()
    # Accepted: a new version, checked again; no item breaks a rule any more.
    expect(headlines.locator("[data-item]").first).to_contain_text(fitted)
    expect(headlines.locator("[data-counter]").first).to_have_text(f"{double_width(fitted)}/30")
    expect(headlines.locator("[data-violation]")).to_have_count(0)
    expect(headlines.locator("[data-fit]")).to_have_count(0)

    # Review: submit, comment, request changes, submit again, approve.
    headlines.locator("[data-review-link]").click()
    page.get_by_role("button", name=review["submit"]).click()
    page.locator("#comment-body").fill("Shorter, please.")
    page.locator("[data-comment-submit]").click()
    expect(page.locator("[data-comment]").first).to_contain_text("Shorter, please.")
    page.get_by_role("button", name=review["changes"]).click()
    expect(page.locator("[data-review-state]")).to_have_text(review["changes_state"])
    page.get_by_role("button", name=review["submit"]).click()
    page.get_by_role("button", name=review["approve"], exact=True).click()
    expect(page.locator("[data-review-state]")).to_have_attribute("data-review-state", "approved")
    page.goto(f"{studio_url}{campaign.get_absolute_url()}")
    expect(page.locator("[data-progress]")).to_contain_text(w["approved"])

    # The ZIP: each deliverable as Markdown and DOCX, the ad platform's CSV, the brief.
    with page.expect_download() as download:
        page.locator("[data-export]").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    names = archive.namelist()
    assert len([n for n in names if n.startswith("deliverables/") and n.endswith(".md")]) == 6
    assert any(n.endswith(".docx") for n in names) and "brief.html" in names
    (headline_md,) = [n for n in names if w["channel"] in n.lower() and n.endswith(".md")]
    assert fitted in archive.read(headline_md).decode()
    assert w["long"] not in archive.read(headline_md).decode()
    assert fitted in archive.read("google-ads-responsive-search-ad.csv").decode("utf-8-sig")


@pytest.fixture
def stalling_fit(user, workspace, demo_templates):
    """Headlines whose newest version holds one headline over Google Ads' 30, which also
    makes the simulator stall its fit after three tokens ([[sim:stall_after=3]]): the fit
    stays mid-item until stopped."""
    from drafts.actions import add_version
    from drafts.models import Generation
    from studio.audit.origin import Origin
    from studio.campaigns.actions import add_deliverable, generate_campaign

    templates = {t.slug: t for t in demo_templates}
    campaign = Campaign.objects.create(
        workspace=workspace, owner=user, title="Lumen lamp launch", product="Lumen lamp",
        audience="night readers", offer="20% off in launch week",
        key_message="Warm light that lasts all night",
    )  # fmt: skip
    headlines = add_deliverable(
        campaign=campaign, template=templates["ad-headlines"], channel="google_ads_headline",
        count=3, overrides={},
    )  # fmt: skip
    generate_campaign(campaign=campaign, user=user, origin=Origin(), loop=None)  # not run
    Generation.objects.update(status="done")
    headlines.refresh_from_db()
    long = "Lumen lamp: warm light that lasts all night long [[sim:stall_after=3]]"
    text = f"- Light that follows you\n- {long}\n- Read all night, warmly"
    add_version(draft_id=headlines.draft_id, text=text, source="edited", author_id=user.pk)
    return campaign


@pytest.mark.parametrize(
    ("language", "fit", "stop"),
    [("en", "Fit to limits", "Stop"), ("zh-hans", "按限制修正", "停止")],
)
def test_a_fit_streams_as_readable_items_not_tags(
    page: Page, studio_url, stalling_fit, language, fit, stop
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}{stalling_fit.get_absolute_url()}")
    headlines = page.locator("[data-deliverable]").first
    headlines.get_by_role("button", name=fit, exact=True).click()

    # The board's panel: the repaired item as it is written, its tags left out.
    items = headlines.locator("[data-items-view] [data-streamed-item]")
    expect(items).to_have_count(1)
    expect(items.first).to_have_text(re.compile(r"^Lumen\b"))
    expect(headlines.locator("[data-items-raw]")).to_be_hidden()
    assert "<item" not in headlines.locator("[data-fit]").inner_text()

    # The draft page's suggestion list, loaded mid-stream, shows it the same way.
    headlines.locator("[data-draft-link]").click()
    suggestion = page.locator("[data-suggestion]")
    expect(suggestion.locator("[data-streamed-item]")).to_have_count(1)
    expect(suggestion.locator("[data-streamed-item]")).to_have_text(re.compile(r"^Lumen\b"))
    assert "<item" not in suggestion.inner_text() and 'n="1"' not in suggestion.inner_text()
    suggestion.get_by_role("button", name=stop, exact=True).click()
    expect(page.locator("[data-suggestion] [data-partial]")).to_be_visible()  # stopped, kept
