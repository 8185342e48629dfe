"""The end of a stream in a real browser, in English and in Chinese: an editor and a reviewer
watching the same generation each get the finished panel in their own language (the SSE view
renders it for the request that watches), and the editor's finished panel works: its forms
post with a valid CSRF token, and what they start ends in the editor's language too."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, release_held_streams

pytestmark = pytest.mark.django_db(transaction=True)

# What each language calls the controls and labels the test looks for.
WORDS = {
    "en": {
        "language": "en",
        "done": "Done",
        "status": "Status",
        "shorter": "Shorter",
        "accept": "Accept all",
    },
    "zh-hans": {
        "language": "zh-hans",
        "done": "已完成",
        "status": "状态",
        "shorter": "更简短",
        "accept": "全部接受",
    },
}


@pytest.fixture
def ready(user, workspace, demo_templates, other_user):
    from studio.workspaces.actions import add_member

    add_member(workspace=workspace, user=other_user, role="reviewer")
    return workspace


def speak(page: Page, studio_url: str, language: str) -> None:
    """From now on the page asks in ``language`` (the language cookie, as the switcher sets)."""
    cookie = {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": studio_url}
    page.context.add_cookies([cookie])


def generate(page: Page, workspace_url: str, *, tokens: int, hold_after: int) -> None:
    """Generate a product description of ``tokens`` tokens (the simulator's knob) by clicking
    Generate in the workspace; the simulator holds it after ``hold_after`` tokens until the
    test releases it (``release_held_streams``)."""
    page.goto(workspace_url)
    page.locator("#template-picker").select_option(label="Product description")
    expect(page.locator("[name=features]")).to_be_visible()
    page.locator("[name=product_name]").fill("Aurora desk lamp")
    directives = f"[[sim:tokens={tokens}]] [[sim:hold_after={hold_after}]]"
    page.locator("[name=features]").fill(f"Warm light {directives}")
    page.locator("[data-generate-form] button[type=submit]").click()


def watch_for_problems(page: Page) -> list[str]:
    """Console errors, page errors and refused requests of a second page (the ``page``
    fixture watches its own)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    return problems


@pytest.mark.parametrize(
    ("editor_speaks", "reviewer_speaks"), [("en", "zh-hans"), ("zh-hans", "en")]
)
def test_editor_and_reviewer_each_get_the_finished_panel_in_their_language(
    page: Page, browser, studio_url, simulator_url, ready, editor_speaks, reviewer_speaks
):
    mine, theirs = WORDS[editor_speaks], WORDS[reviewer_speaks]
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    speak(page, studio_url, editor_speaks)
    generate(page, f"{studio_url}{ready.get_absolute_url()}", tokens=80, hold_after=40)
    expect(page.locator("#stream-text")).not_to_be_empty()
    draft_id = page.url.split("draft=")[1].split("&")[0]

    reviewer = browser.new_context(locale="en-US").new_page()
    problems = watch_for_problems(reviewer)
    log_in(reviewer, studio_url, "cordelia", "pw-cordelia-123")
    speak(reviewer, studio_url, reviewer_speaks)
    reviewer.goto(f"{studio_url}/drafts/{draft_id}/")
    expect(reviewer.locator("#stream-text")).not_to_be_empty()  # both watch it live
    expect(page.locator("#stream-text")).to_have_count(1)  # held live until now
    release_held_streams(simulator_url)

    # The same end, each in their own language, each with their own role's controls.
    for watcher, words in [(page, mine), (reviewer, theirs)]:
        expect(watcher.locator("#version-list")).to_contain_text("v1", timeout=20_000)
        expect(watcher.locator("[data-status]")).to_have_text(words["done"])
        expect(watcher.locator("label[for=draft-status]")).to_have_text(words["status"])
        with translation.override(words["language"]):
            generated, versions = gettext("Generated"), gettext("Versions")
        expect(watcher.locator("#version-list")).to_contain_text(f"v1 · {generated}")
        expect(watcher.get_by_role("heading", name=versions, exact=True)).to_be_visible()
    with translation.override(editor_speaks):
        regenerate, suggestions = gettext("Regenerate"), gettext("Suggestions")
    expect(page.get_by_role("button", name=regenerate, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=suggestions, exact=True)).to_be_visible()
    expect(reviewer.get_by_role("button", name=theirs["shorter"])).to_have_count(0)
    expect(reviewer.get_by_role("button", name=mine["shorter"])).to_have_count(0)
    expect(reviewer.locator("#draft-panel")).not_to_contain_text(mine["status"])
    reviewer.context.close()
    assert problems == []

    # The editor's finished panel works: a rewrite by click (no 403), whose card arrives at
    # the end of its own stream in the editor's language, then accepted by click.
    expect(page.locator("#draft-panel [name=csrfmiddlewaretoken]").first).to_be_attached()
    page.get_by_role("button", name=mine["shorter"], exact=True).click()
    suggestion = page.locator("#suggestion-list [data-suggestion]")
    accept = suggestion.get_by_role("button", name=mine["accept"])
    expect(accept).to_be_visible(timeout=20_000)
    accept.click()
    expect(page.locator("#version-list")).to_contain_text("v2")
    expect(page.locator("#draft-panel label[for=draft-status]")).to_have_text(mine["status"])


# Every EventSource the page opens (their count on <html data-streams>), and the last event
# id their messages carried (<html data-last-id>).
RECORD_STREAMS = """
    const Native = window.EventSource;
    window.__streams = [];
    window.EventSource = function (url, options) {
        const source = new Native(url, options);
        window.__streams.push({ url: String(url), source });
        document.documentElement.dataset.streams = String(window.__streams.length);
        return source;
    };
    Object.assign(window.EventSource, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
    window.EventSource.prototype = Native.prototype;
    document.addEventListener("htmx:sseBeforeMessage", (event) => {
        const id = event.detail.lastEventId;
        if (id) document.documentElement.dataset.lastId = id;
    });
"""


def test_a_stream_opened_again_resumes_after_what_the_page_shows(
    browser, studio_url, simulator_url, ready
):
    """A stream whose reconnect is refused (a proxy's 502 while a worker restarts) ends
    closed, and htmx's SSE extension opens a new one from sse-connect, without the
    browser's Last-Event-ID: it resumes after the last event shown, not from the page's
    start, so nothing is sent twice."""
    page = browser.new_context(locale="en-US").new_page()
    problems = watch_for_problems(page)
    page.add_init_script(RECORD_STREAMS)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    generate(page, f"{studio_url}{ready.get_absolute_url()}", tokens=80, hold_after=40)
    html = page.locator("html")
    expect(html).to_have_attribute("data-last-id", re.compile(r"^([4-9]|[1-9][0-9]+)$"))

    # The first stream ends as a refused reconnect leaves it: closed, then its error.
    shown = page.evaluate(
        """() => {
            const { source } = window.__streams[0];
            source.close();
            const shown = document.documentElement.dataset.lastId;
            source.dispatchEvent(new Event("error"));
            return shown;
        }"""
    )
    expect(html).to_have_attribute("data-streams", "2")  # htmx opened it again
    first, again = page.evaluate("() => window.__streams.map(s => s.url)")
    assert first.endswith("?after=0")
    assert again.endswith(f"?after={shown}")  # after what the page shows
    release_held_streams(simulator_url)  # held live until now

    # The resumed stream ends the generation as usual (the server resumes after
    # ?after= as after Last-Event-ID: tests/streams/test_sse.py).
    expect(page.locator("#version-list")).to_contain_text("v1", timeout=20_000)
    expect(page.locator("[data-status]")).to_have_text("Done")
    page.context.close()
    assert problems == ["[object Event]"]  # htmx's log of the error, and nothing else
