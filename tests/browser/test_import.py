"""Importing templates in a real browser: an edited export never moves production unless the
"Move labels" box is ticked, and the message says which labels moved or stayed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.prompts.test_transfer import edited_export

pytestmark = pytest.mark.django_db(transaction=True)


def upload(page: Page, text: str, *, move: bool) -> None:
    page.locator("#id_file").set_input_files(
        {"name": "edited.json", "mimeType": "application/json", "buffer": text.encode()}
    )
    if move:
        page.locator("#id_move_labels").check()
    page.locator("#id_file").locator("xpath=ancestor::form").locator("button[type=submit]").click()


def test_an_edited_export_moves_production_only_when_asked(page: Page, studio_url, workspace, user):
    own, text = edited_export(workspace, user)
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    library = f"{studio_url}/w/{workspace.pk}/templates/"

    page.goto(library)
    expect(page.locator("#id_move_labels")).not_to_be_checked()
    upload(page, text, move=False)
    expect(page.get_by_text("Labels not moved: production stays on v3")).to_be_visible()
    assert own.labelled("production").number == 3

    page.locator("#language-switcher").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_label("移动文件中列出的标签")).not_to_be_checked()
    upload(page, text, move=True)
    expect(page.get_by_text("production 已从 v3 移到 v4")).to_be_visible()
    assert own.labelled("production").number == 4
