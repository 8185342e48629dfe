"""Editing in a real browser: the toolbar, preview and Ctrl+S; one version per editing session
(autosave keeps a working copy, resumed after a closed tab); a conflict from a second tab and
resolving it; the save on leaving the editor; the same without JavaScript."""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from drafts.actions import add_version, keep_working_copy
from drafts.models import Draft, DraftVersion, WorkingCopy
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(user, workspace):
    draft = Draft.objects.create(workspace=workspace, title="Aurora launch", created_by=user)
    add_version(draft_id=draft.pk, text="Bright light.", source="generated", author_id=user.pk)
    return draft


def wait_for_version(draft: Draft, number: int, timeout: float = 10) -> DraftVersion:
    """Poll the database with a deadline (a beacon has no response to wait on)."""
    deadline = time.monotonic() + timeout
    while (version := draft.versions.filter(number=number).first()) is None:
        assert time.monotonic() < deadline, f"version {number} never arrived"
        time.sleep(0.05)
    return version


def test_a_conflict_from_a_second_tab_and_resolving_it(
    page: Page, browser: Browser, studio_url, draft
):
    edit_url = f"{studio_url}/drafts/{draft.pk}/edit/"
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(edit_url)
    state = page.locator("#save-state")
    expect(state).to_have_text("Saved · version 1")

    # Typing, then a pause: kept as the working copy, not a version; Ctrl+S makes version 2.
    page.get_by_label("Text (Markdown)").fill("Bright light for late nights.")
    expect(state).to_have_attribute("data-state", "dirty")
    expect(state).to_have_text("Changes kept · not a version yet")
    assert draft.versions.count() == 1
    page.keyboard.press("Control+s")
    expect(state).to_have_text("Saved · version 2")

    # A second tab opens version 2 and saves version 3.
    other = browser.new_context(locale="en-US").new_page()
    log_in(other, studio_url, "hamlet", "pw-hamlet-123")
    other.goto(edit_url)
    other.get_by_label("Text (Markdown)").fill("Bright light for long nights.")
    other.get_by_role("button", name="Save", exact=True).click()
    expect(other.locator("#save-state")).to_have_text("Saved · version 3")

    # The first tab, still on version 2, types again: the autosave already finds the
    # conflict; both texts shown with the differences marked, the text kept.
    mine = "Bright lamp for late nights, and mornings."
    page.get_by_label("Text (Markdown)").fill(mine)
    expect(state).to_have_text("Not saved — conflict")
    conflict = page.get_by_role("alert")
    expect(conflict).to_contain_text("A newer version was saved while you were editing")
    expect(conflict.locator("[data-theirs]")).to_have_text("Bright light for long nights.")
    expect(conflict.locator("[data-theirs] del").first).to_have_text("light")
    expect(conflict.locator("[data-mine]")).to_have_text(mine)
    expect(conflict.locator("[data-mine] ins").first).to_have_text("lamp")
    expect(page.get_by_label("Text (Markdown)")).to_have_value(mine)
    assert draft.versions.count() == 3

    # Keep mine: saved on top, the other tab's version stays in the history.
    page.get_by_role("button", name="Save my text as the newest version").click()
    expect(state).to_have_text("Saved · version 4")
    expect(page.get_by_role("alert")).to_have_count(0)
    texts = list(draft.versions.order_by("number").values_list("text", flat=True))
    assert texts[2:] == ["Bright light for long nights.", mine]

    # Typing and leaving the editor at once: the session becomes a version on its way out.
    page.get_by_label("Text (Markdown)").fill(mine + " Last words.")
    page.get_by_role("link", name="Done").click()
    assert wait_for_version(draft, 5).text == mine + " Last words."
    other.context.close()


def test_leaving_while_an_autosave_is_on_its_way_waits_for_it(page: Page, studio_url, draft):
    """Done clicked while an autosave is in flight: the page leaves once it has answered (the
    navigation would abort it: a failed request, which the page fixture fails on), and the
    session still becomes a version on the way out."""
    edit_url = f"{studio_url}/drafts/{draft.pk}/edit/"
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(edit_url)
    held = []

    def hold_autosaves(route):
        if route.request.method == "POST" and "autosave=1" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route(edit_url, hold_autosaves)
    page.get_by_label("Text (Markdown)").fill("Bright light, kept on the way out.")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saving")
    page.get_by_role("link", name="Done").click()
    expect(page).to_have_url(edit_url)  # still here: the save on its way is not cut off
    held[0].continue_()
    page.wait_for_url(f"{studio_url}/drafts/{draft.pk}/")
    assert wait_for_version(draft, 2).text == "Bright light, kept on the way out."


# The editor's controls in each language: (toolbar names, Save, state, the offer's button).
WORDS = {
    "en": {
        "heading": "Heading",
        "bold": "Bold",
        "list": "Bulleted list",
        "preview": "Preview",
        "kept": "Changes kept · not a version yet",
        "saved": "Saved · version {}",
        "resume": "Resume my edits",
        "counts": "{} words · {} characters",
        "typed": [" and", " a", " calm", " late", " night"],
    },
    "zh-hans": {
        "heading": "标题",
        "bold": "粗体",
        "list": "项目符号列表",
        "preview": "预览",
        "kept": "更改已保留 · 尚未成为版本",
        "saved": "已保存 · 第 {} 版",
        "resume": "恢复我的编辑",
        "counts": "{} 个词 · {} 个字符",
        "typed": ["夜", "色", "温", "柔", "。"],
    },
}


def wait_for_copy(draft: Draft, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not WorkingCopy.objects.filter(draft=draft, text=text).exists():
        assert time.monotonic() < deadline, "the working copy never arrived"
        time.sleep(0.05)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_one_session_with_the_toolbar_many_pauses_and_a_closed_tab(
    page: Page, studio_url, draft, language
):
    words = WORDS[language]
    edit_url = f"{studio_url}/drafts/{draft.pk}/edit/"
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(edit_url)
    if language != "en":
        page.locator("#language-switcher").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    state = page.locator("#save-state")
    text = page.locator("#editor-text")

    # The toolbar: a heading on the first line, then a word made bold.
    text.click()
    page.keyboard.press("Control+Home")
    page.get_by_role("button", name=words["heading"], exact=True).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Calm")
    for _ in "Calm":
        page.keyboard.press("Shift+ArrowLeft")
    page.get_by_role("button", name=words["bold"], exact=True).click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.get_by_role("button", name=words["list"], exact=True).click()
    page.keyboard.type("one")
    expect(text).to_have_value("## Bright light. **Calm**\n\n- one")

    # Typing with many pauses: each pause keeps the working copy; no version is made.
    for piece in words["typed"]:
        page.keyboard.type(piece)
        expect(state).to_have_text(words["kept"])
    typed = "## Bright light. **Calm**\n\n- one" + "".join(words["typed"])
    wait_for_copy(draft, typed)
    assert draft.versions.count() == 1

    # Preview through the studio's renderer; the counts below the text.
    page.get_by_role("button", name=words["preview"], exact=True).click()
    preview = page.locator("#editor-preview")
    expect(preview.locator("h2")).to_have_text("Bright light. Calm")
    expect(preview.locator("strong")).to_have_text("Calm")
    expect(preview.locator("li")).to_contain_text("one")
    counted = {"en": (9, 52), "zh-hans": (8, 35)}[language]  # CJK: one word per character
    expect(page.locator("[data-editor-counts]")).to_have_text(words["counts"].format(*counted))

    # Ctrl+S: the whole session is one version.
    page.keyboard.press("Control+s")
    expect(state).to_have_text(words["saved"].format(2))
    assert draft.versions.count() == 2 and draft.versions.first().text == typed

    # Typing more in another tab, which is closed mid-edit: nothing is lost.
    tab = page.context.new_page()
    tab.goto(edit_url)
    tab.locator("#editor-text").press("Control+End")
    tab.keyboard.type(" Unsaved.")
    expect(tab.locator("#save-state")).to_have_text(words["kept"])
    tab.close()
    assert draft.versions.count() == 2

    # Back in the editor: the kept session is offered, and resumed as it was.
    page.goto(edit_url)
    page.get_by_role("button", name=words["resume"]).click()
    expect(text).to_have_value(typed + " Unsaved.")
    page.keyboard.press("Control+s")
    expect(state).to_have_text(words["saved"].format(3))
    assert draft.versions.first().text == typed + " Unsaved."
    assert not WorkingCopy.objects.filter(draft=draft).exists()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_without_javascript_the_textarea_and_save_work(
    browser: Browser, studio_url, draft, language
):
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    save, resume = ("Save", "Resume my edits") if language == "en" else ("保存", "恢复我的编辑")
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{draft.pk}/edit/")
    if language != "en":  # the switcher's own button, shown without JavaScript
        page.locator("#language-switcher").select_option(language)
        page.get_by_role("button", name="Switch").click()
        expect(page.locator("html")).to_have_attribute("lang", language)

    expect(page.locator("[data-editor-tools]")).to_be_hidden()  # no toolbar without its script
    page.locator("#editor-text").fill("# Bright\n\nWritten without JavaScript.")
    page.get_by_role("button", name=save, exact=True).click()

    expect(page.locator("#save-state")).to_contain_text("2")
    assert draft.versions.first().text == "# Bright\n\nWritten without JavaScript."

    # A session kept by a browser with JavaScript is offered here too, and saved with Save.
    keep_working_copy(draft_id=draft.pk, user_id=draft.created_by_id, text="Kept elsewhere.",
                      base_number=2, idle=timedelta(minutes=5))  # fmt: skip
    page.reload()
    page.get_by_role("button", name=resume).click()
    expect(page.locator("#editor-text")).to_have_value("Kept elsewhere.")
    page.get_by_role("button", name=save, exact=True).click()
    expect(page.locator("#save-state")).to_contain_text("3")
    assert draft.versions.first().text == "Kept elsewhere."
    context.close()


def test_copy_puts_the_versions_markdown_on_the_clipboard(browser: Browser, studio_url, draft):
    add_version(draft_id=draft.pk, text="# Aurora\n\n**Bright** light.", source="edited",
                author_id=draft.created_by_id)  # fmt: skip
    context = browser.new_context(locale="en-US", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    page.goto(f"{studio_url}/drafts/{draft.pk}/")

    copy = page.locator("[data-copy='#draft-source']")
    copy.click()

    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "# Aurora\n\n**Bright** light."
    context.close()
