"""Form fields in a real browser: the audience field (a text input with suggestions) looks like
every other text field, in the light and the dark theme, in English and in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from prompts.actions import duplicate_template
from prompts.experiments.actions import create_experiment
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

LOOK = ("border-top-width", "border-top-color", "padding-left", "background-color", "height")


@pytest.fixture
def pages(user, workspace, product_template) -> list[str]:
    """The workspace's generate form and an experiment's run form, both with an audience."""
    own = duplicate_template(template=product_template, workspace=workspace, user=user)
    version = own.current_version()
    experiment = create_experiment(
        workspace=workspace,
        name="Audiences",
        user=user,
        variants=[{"name": name, "version": version} for name in ("A", "B")],
    )
    return [f"{workspace.get_absolute_url()}?template={own.pk}", experiment.get_absolute_url()]


def look(page: Page, name: str) -> dict[str, str]:
    field = page.locator(f"input[name={name}]").first
    expect(field).to_be_visible()
    return field.evaluate(
        "(el, props) => Object.fromEntries(props.map(p => [p, getComputedStyle(el)[p]]))",
        list(LOOK),
    )


def test_the_audience_field_looks_like_a_text_field_light_dark_english_chinese(
    page: Page, studio_url, pages
):
    log_in(page, studio_url, "hamlet", "pw-hamlet-123")
    for language in ("en", "zh-hans"):
        if language != "en":
            page.goto(studio_url + pages[0])
            page.locator("#language-switcher").select_option(language)
            expect(page.locator("html")).to_have_attribute("lang", language)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for path in pages:
                page.goto(studio_url + path)  # its stylesheet loaded: the load event
                audience, text = look(page, "audience"), look(page, "product_name")
                assert audience == text, (language, scheme, path)
                assert audience["border-top-width"] == "1px" and audience["padding-left"] != "0px"
                light = audience["background-color"] == "rgb(255, 255, 255)"
                assert light == (scheme == "light"), (language, scheme, path)
