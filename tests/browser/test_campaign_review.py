"""Campaign review in a real browser, in English and Chinese: an editor submits a deliverable
for review, a reviewer comments on a selection of its text and requests changes, the editor
replies and submits again, the reviewer approves, and the campaign's progress follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from drafts import generation as runner
from studio.workspaces.actions import add_member
from tests.browser.conftest import log_in
from tests.campaigning import written_headlines

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "- Light that follows you\n- Read all night, warmly"
WORDS = {
    "en": {
        "submit": "Submit for review",
        "changes": "Request changes",
        "approve": "Approve",
        "comment": "Comment",
        "reply": "Reply",
        "review": "Review",
        "none": "0 of 1 deliverable approved",
        "done": "1 of 1 deliverable approved",
        "changes_state": "Changes requested",
    },
    "zh-hans": {
        "submit": "提交审阅",
        "changes": "要求修改",
        "approve": "批准",
        "comment": "评论",
        "reply": "回复",
        "review": "审阅",
        "none": "已批准 0 / 1 个交付物",
        "done": "已批准 1 / 1 个交付物",
        "changes_state": "需要修改",
    },
}


@pytest.fixture
def campaign(studio_url, monkeypatch, user, other_user, workspace, demo_templates):
    """A campaign whose headlines are written (stored, not streamed: this is about review);
    ``other_user`` (cordelia) reviews."""
    monkeypatch.setattr(runner, "launch", lambda generation_id: None)  # stored, not run
    add_member(workspace=workspace, user=other_user, role="reviewer")
    return written_headlines(
        workspace=workspace,
        user=user,
        templates=demo_templates,
        text=TEXT,
        title="Lumen lamp launch",
        product="Lumen lamp",
        key_message="Warm light that lasts all night",
    )


def _as(browser: Browser, base: str, who: str, password: str, language: str) -> Page:
    page = browser.new_context(locale="en-US").new_page()
    page.on("pageerror", lambda e: pytest.fail(f"page error: {e}"))
    log_in(page, base, who, password)
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    return page


def _select(page: Page, words: str) -> None:
    """Select ``words`` in the draft's text, as a reader's drag does, and let go."""
    text = page.locator("[data-review-text]")
    text.evaluate(
        """(el, words) => {
            const node = el.firstChild, at = node.textContent.indexOf(words);
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges(); selection.addRange(range);
        }""",
        words,
    )
    text.dispatch_event("mouseup")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_submit_comment_request_changes_reply_approve(
    page: Page, browser: Browser, studio_url, campaign, language
):
    w = WORDS[language]
    editor = page
    log_in(editor, studio_url, "hamlet", "pw-hamlet-123")
    editor.locator("#language-switcher").select_option(language)
    expect(editor.locator("html")).to_have_attribute("lang", language)
    editor.goto(f"{studio_url}{campaign.get_absolute_url()}")
    expect(editor.locator("[data-progress]")).to_contain_text(w["none"])
    editor.get_by_role("link", name=w["review"], exact=True).click()
    editor.get_by_role("button", name=w["submit"]).click()
    expect(editor.locator("[data-review-state]")).to_have_attribute(
        "data-review-state", "in_review"
    )
    review_url = editor.url

    reviewer = _as(browser, studio_url, "cordelia", "pw-cordelia-123", language)
    reviewer.goto(review_url)
    expect(reviewer.get_by_role("button", name=w["submit"])).to_have_count(0)
    _select(reviewer, "Read all night")
    expect(reviewer.locator("[data-selection-quote]")).to_have_text("Read all night")
    reviewer.locator("#comment-body").fill("Shorter, @hamlet? <b>not bold</b>")
    reviewer.locator("[data-comment-submit]").click()
    comment = reviewer.locator("[data-comment]").first
    expect(comment.locator("[data-quote]")).to_have_text("Read all night")
    expect(comment.locator("[data-mention]")).to_have_text("@hamlet")
    expect(comment.locator("[data-comment-body]")).to_contain_text("<b>not bold</b>")
    reviewer.get_by_role("button", name=w["changes"]).click()
    expect(reviewer.locator("[data-review-state]")).to_have_text(w["changes_state"])

    editor.goto(f"{studio_url}{campaign.get_absolute_url()}")
    expect(editor.locator("[data-your-mentions]")).to_contain_text("Shorter")
    expect(editor.locator('[data-activity-line="comment"]')).to_have_count(1)
    editor.goto(review_url)
    editor.locator("[data-reply-open]").first.click()
    editor.locator("[data-reply-body]").first.fill("Shortened.")
    editor.locator("[data-reply-submit]").first.click()
    expect(editor.locator("[data-reply]")).to_contain_text("Shortened.")
    editor.get_by_role("button", name=w["submit"]).click()
    expect(editor.locator("[data-review-state]")).to_have_attribute(
        "data-review-state", "in_review"
    )

    reviewer.goto(review_url)
    reviewer.get_by_role("button", name=w["approve"]).click()
    expect(reviewer.locator("[data-review-state]")).to_have_attribute(
        "data-review-state", "approved"
    )
    reviewer.goto(f"{studio_url}{campaign.get_absolute_url()}")
    expect(reviewer.locator("[data-progress]")).to_contain_text(w["done"])
    expect(reviewer.locator('[data-activity-line="state"]')).to_have_count(4)
    reviewer.context.close()
