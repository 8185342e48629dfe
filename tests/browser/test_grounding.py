"""Grounding in a real browser, in English and Chinese, on SQLite and PostgreSQL (issue 20's
flow): upload a source, search it, generate with a grounded template (the offline simulator
cites the passages it was given), open a citation while it streams and in the final panel,
export with footnotes; a marker in an edited version cites the generation it was written
from, an unknown one is flagged."""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from drafts.models import Draft
from tests.browser.conftest import log_in, release_held_streams
from tests.drafts.grounding_helpers import LUMEN, add_text, grounded_template

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("language", "generate", "topic", "quote", "close"),
    [
        ("en", "Generate", "battery life hours", "Battery life is 40 hours", "Close"),
        ("zh-hans", "生成", "台灯怎么调光", "支持无级调光", "关闭"),
    ],
)
def test_generate_with_grounding_and_open_a_citation(
    page: Page, studio_url, user, workspace, language, generate, topic, quote, close
):
    add_text(workspace, user, LUMEN, title="Lumen lamp product sheet", tags=["lumen"])
    grounded_template(workspace, tags=["lumen"])
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{studio_url}{workspace.get_absolute_url()}")
    expect(page.locator("[data-grounding-note]")).to_contain_text("lumen")
    page.locator("[name=topic]").fill(topic)
    page.get_by_role("button", name=generate, exact=True).click()

    # The final panel lists the passages the prompt gave, numbered.
    sources = page.locator("#draft-body [data-sources]")
    expect(sources).to_contain_text("Lumen lamp product sheet (v1)", timeout=30_000)
    expect(sources.locator("li").first).to_contain_text("[1]")
    draft = Draft.objects.get(workspace=workspace)

    # A writer cites passage 1 by hand (and a number no passage has): the edited version
    # cites the generation it was written from.
    page.goto(f"{studio_url}/drafts/{draft.pk}/edit/")
    state = page.locator("#save-state")
    page.locator("#editor-text").fill("The lamp does it, as its sheet says [1]. Also [9].")
    expect(state).not_to_have_attribute("data-state", "saved")
    page.locator("#editor-text").press("Control+s")
    expect(state).to_have_attribute("data-state", "saved")
    page.goto(f"{studio_url}{draft.get_absolute_url()}")

    marker = page.locator("#draft-body button.citation", has_text="[1]")
    expect(marker).to_be_visible()
    marker.click()
    popover = page.locator("[data-citation-popover='1']")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(quote)
    expect(popover).to_contain_text("Lumen lamp product sheet (v1)")
    expect(popover.locator("[data-open-source]")).to_have_attribute(
        "href", re.compile(r"/knowledge/.*#passage-\d+$")
    )
    popover.get_by_role("button", name=close, exact=True).click()
    expect(popover).to_be_hidden()
    expect(page.locator("#draft-body [data-citation-unknown='9']")).to_be_visible()
    expect(page.locator("#draft-body button.citation")).to_have_count(1)


SHEET = """# Lumen lamp

The Lumen is a desk lamp for studios. It dims steplessly from 1 % to 100 %.

## Battery

Battery life is 40 hours at 30 % brightness; it charges over USB-C in two hours.
"""
SHEET_ZH = """# Lumen 台灯

## 亮度调节

Lumen 台灯支持无级调光，手指在触控条上滑动即可改变亮度。

## 电池

电池在 30% 亮度下可用 40 小时，通过 USB-C 两小时充满。
"""

FLOW = [
    # language, file, title, search, highlight, topic, quote, buttons (add, search, generate)
    ("en", "lumen.md", SHEET, "Lumen lamp", "battery life", "Battery", "battery life hours",
     "Battery life is 40 hours", ("Add source", "Search", "Generate")),
    ("zh-hans", "lumen-zh.md", SHEET_ZH, "Lumen 台灯", "怎么调光", "调光", "台灯怎么调光",
     "支持无级调光", ("添加来源", "搜索", "生成")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("language", "filename", "sheet", "title", "search", "highlight", "topic", "quote", "names"),
    FLOW,
    ids=["en", "zh"],
)
def test_upload_search_generate_with_citations_and_export_footnotes(
    page: Page, studio_url, simulator_url, workspace, language, filename, sheet, title, search,
    highlight, topic, quote, names,
):  # fmt: skip
    """Issue 20's whole flow through the real controls: upload a source, search it (the
    passage highlighted), generate with a grounded template (the simulator cites), see the
    markers while the text streams and in the final panel, open one, export with footnotes."""
    add, find, generate = names
    grounded_template(workspace)  # every source of the workspace
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)

    # Upload through the form's file control.
    page.goto(f"{studio_url}/w/{workspace.pk}/knowledge/new/")
    page.locator("#id_file").set_input_files(
        {"name": filename, "mimeType": "text/markdown", "buffer": sheet.encode()}
    )
    page.get_by_role("button", name=add).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()

    # Search it: the matching passage, its words highlighted.
    page.goto(f"{studio_url}/w/{workspace.pk}/knowledge/")
    page.get_by_role("searchbox").fill(search)
    page.get_by_role("button", name=find, exact=True).click()
    result = page.locator("#results li").first
    expect(result.locator("mark").first).to_have_text(re.compile(highlight, re.IGNORECASE))
    result.get_by_role("link", name=title).click()  # open the source, at the passage
    expect(page.locator("li:target")).to_contain_text(quote)

    # Generate: the simulator quotes the passages it was given, with their numbers.
    page.goto(f"{studio_url}{workspace.get_absolute_url()}")
    expect(page.locator("[data-grounding-note]")).to_be_visible()
    # Held live after 120 tokens until released: the first citation comes in the first 30.
    page.locator("[name=topic]").fill(f"{topic} [[sim:tokens=160]] [[sim:hold_after=120]]")
    page.get_by_role("button", name=generate, exact=True).click()
    expect(page.locator("#stream-text button.citation").first).to_be_visible(timeout=15_000)
    expect(page.locator("#stream-text")).to_have_count(1)  # still streaming
    release_held_streams(simulator_url)

    sources = page.locator("#draft-body [data-sources]")
    expect(sources).to_contain_text(f"{title} (v1)", timeout=30_000)
    expect(page.locator("#stream-text")).to_have_count(0)  # the final panel
    marker = page.locator("#draft-body button.citation").first
    number = marker.get_attribute("data-citation")
    marker.click()
    popover = page.locator(f"[data-citation-popover='{number}']")
    expect(popover).to_be_visible()
    expect(popover).to_contain_text(f"{title} (v1)")
    expect(popover.locator("[data-open-source]")).to_have_attribute(
        "href", re.compile(r"/knowledge/.*#passage-\d+$")
    )
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()
    draft = Draft.objects.get(workspace=workspace)
    cited = draft.generations.get().grounding.get(number=int(number))
    assert quote in "".join(
        p.text for p in draft.generations.get().grounding.all()
    )  # the passage that answers the topic was given

    # Export: the markers become footnotes that quote the passages.
    with page.expect_download() as download:
        page.get_by_role("link", name="Markdown", exact=True).click()
    markdown = download.value.path().read_text(encoding="utf-8")
    assert f"[^{number}]" in markdown.split("\n\n[^")[0]
    assert f"[^{number}]: {title} (v1)" in markdown
    assert " ".join(cited.text.split())[:40] in markdown
    with page.expect_download() as download:
        page.get_by_role("link", name="HTML", exact=True).click()
    html = download.value.path().read_text(encoding="utf-8")
    assert f'href="#fn-{number}"' in html and f'id="fn-{number}"' in html
    assert f"{title} (v1)" in html.split('id="fn-1"')[1]
    with page.expect_download() as download:
        page.get_by_role("link", name="Word", exact=True).click()
    with zipfile.ZipFile(download.value.path()) as word:
        notes = word.read("word/footnotes.xml").decode()  # real Word footnotes
    assert f"[{number}]" in notes and f"{title} (v1)" in notes
