"""The template editor's variables builder in a real browser, in English and Chinese: its
buttons and type select are htmx round trips, and the saved variable shows on the template page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from prompts.models import PromptTemplate
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_ui import sign_in

WORDS = {
    "en": {
        "add": "Add a variable",
        "name": "Name (used as {{ name }} in the prompts)",
        "type": "Type",
        "choice": "Choice",
        "choices": "Choices (one per line)",
        "label": "Label",
        "json": "Advanced: edit as JSON",
        "form": "Edit with the form",
        "json_label": "Variables (JSON)",
        "create": "Create template",
        "use": "Use this template",
        "remove": "Remove variable 2",
        "no": "no",
        "required": "Required",
    },
    "zh-hans": {
        "add": "添加变量",
        "name": "名称（在提示词中写作 {{ name }}）",
        "type": "类型",
        "choice": "单选",
        "choices": "选项（每行一个）",
        "label": "标签",
        "json": "高级：以 JSON 编辑",
        "form": "用表单编辑",
        "json_label": "变量（JSON）",
        "create": "创建模板",
        "use": "使用此模板",
        "remove": "删除变量 2",
        "no": "否",
        "required": "必填",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_build_a_choice_variable_save_it_and_see_it_on_the_template_page(
    page: Page, studio_url, workspace, language
):
    words = WORDS[language]
    sign_in(page, studio_url)
    page.goto(f"{studio_url}/w/{workspace.pk}/templates/new/")
    if language != "en":
        page.get_by_label("Language", exact=True).select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#id_name").fill("Launch post")
    page.locator("#id_system_prompt").fill("You write posts.")
    page.locator("#id_user_prompt").fill("Announce it in a {{ mood }} way.")

    # Two rows: the first becomes the choice variable, the second is removed again.
    page.get_by_role("button", name=words["add"]).click()
    first = page.locator('[data-variable-row="0"]')
    expect(first.get_by_label(words["name"])).to_be_focused()
    page.get_by_role("button", name=words["add"]).click()
    # The new row's name takes the focus (once htmx has settled the swap).
    expect(page.locator('[data-variable-row="1"]').get_by_label(words["name"])).to_be_focused()
    first.get_by_label(words["name"]).fill("mood")
    first.get_by_label(words["type"]).select_option(label=words["choice"])
    expect(first.get_by_label(words["choices"])).to_be_visible()  # the type's options came
    # Checked as typed: a choice without choices is flagged next to its own row.
    expect(first.locator("[data-variable-problems]")).to_contain_text("mood")
    expect(page.locator('[data-variable-row="1"] [data-variable-problems]')).not_to_contain_text(
        "mood"
    )
    first.get_by_label(words["choices"]).fill("calm\nbold")
    first.get_by_label(words["label"], exact=True).fill("Mood")
    # The last edit is checked on the server as typed: its answer comes before saving. The
    # check waited for is the one that carries that edit (on a slow machine a check of the
    # earlier typing can answer first; the last one, still to come, would be aborted by the
    # save's navigation).
    with page.expect_response(_check_of_the_last_edit):
        first.get_by_label(words["required"]).uncheck()
    page.get_by_role("button", name=words["remove"]).click()
    expect(page.locator('[data-variable-row="1"]')).to_have_count(0)

    # The Advanced view says the same, and back to the form nothing is lost.
    expect(first.locator("[data-variable-problems]")).to_have_count(0)
    page.locator("#variables-builder").screenshot(path=ARTIFACTS / f"builder_{language}.png")
    page.get_by_role("button", name=words["json"]).click()
    json_view = page.get_by_label(words["json_label"])
    expect(json_view).to_have_value(
        '[\n  {\n    "name": "mood",\n    "type": "choice",\n    "label": "Mood",\n'
        '    "required": false,\n    "choices": [\n      "calm",\n      "bold"\n    ]\n  }\n]'
    )
    page.get_by_role("button", name=words["form"]).click()
    expect(first.get_by_label(words["choices"])).to_have_value("calm\nbold")
    expect(first.get_by_label(words["name"])).to_have_value("mood")

    page.get_by_role("button", name=words["create"]).click()
    row = page.locator('[data-template-variables] tr[data-variable="mood"]')
    expect(row).to_contain_text(words["choice"])
    expect(row).to_contain_text("calm, bold")
    expect(row.locator("td").nth(2)).to_have_text(words["no"])
    template = PromptTemplate.objects.get(workspace=workspace)
    assert template.current_version().variable_specs[0].choices == ("calm", "bold")

    page.get_by_role("link", name=words["use"]).click()
    expect(page.get_by_label("Mood")).to_have_value("calm")  # the workspace, this template picked


def _check_of_the_last_edit(response) -> bool:
    """The live check whose form has the label typed and "Required" unticked: an unticked
    box is not posted, and the label was typed before the box was unticked."""
    request = response.request
    body = request.post_data or ""
    return (
        request.headers.get("hx-target") == "variables-errors"
        and "var-0-label=Mood" in body
        and "var-0-required" not in body
    )
