"""The studio's look and feel in a real browser: workspaces, language, dark mode, shortcuts,
the phone layout, and axe-core finding no serious accessibility problem on any main page."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from drafts.actions import finish_generation
from tests.browser.conftest import ARTIFACTS, log_in, release_held_streams
from tests.browser.test_generate_flow import fill_product_form
from tests.generating import start_generation

pytestmark = pytest.mark.django_db(transaction=True)

# axe-core, copied from theme/node_modules (pinned in theme/package.json) so that the test
# suite needs no npm. Evaluated through the DevTools protocol, which the page's CSP (script-src
# 'self' + nonce) does not apply to, so no CSP bypass is needed.
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text("utf-8")
SERIOUS = ("serious", "critical")


@pytest.fixture
def ready(user, workspace, demo_templates):
    return workspace


@pytest.fixture
def finished_draft(ready, user, product_template, product_inputs):
    generation = start_generation(
        workspace=ready, version=product_template.current_version(), inputs=product_inputs,
        user=user,
    )  # fmt: skip
    finish_generation(
        generation_id=generation.pk,
        status="done",
        text="# Aurora\n\nBright **light** for late nights.\n\n- Warm\n- USB-C",
        reasoning="",
        fields={"prompt_tokens": 120, "completion_tokens": 80, "cost": "0.000300"},
    )
    return generation.draft


def sign_in(page: Page, base_url: str) -> None:
    """Log in as hamlet. Navigating on at once may abort the favicon Chromium fetches after
    the load event, which the `page` fixture does not count as a failed request (a missing
    favicon is a 404, which it does): no wait for the network to be idle (0.5 s each)."""
    log_in(page, base_url, "hamlet", "pw-hamlet-123")


def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now, one line each."""
    # The page is loaded (goto waits for the load event: its stylesheet and scripts; no htmx
    # request starts on load on these pages); its fonts too. Nothing else is fetched after
    # the load event but the favicon, so no wait for the network to be idle (0.5 s each).
    page.evaluate("document.fonts.ready.then(() => document.fonts.status)")
    results = page.evaluate(
        AXE + "\n;axe.run(document, {resultTypes: ['violations']})"
    )  # the value of the last expression: a promise Playwright awaits
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in SERIOUS
    ]


def test_no_serious_accessibility_violations_on_the_main_pages(
    page: Page, studio_url, ready, finished_draft
):
    """axe-core on login, home, workspace, draft, template library and drafts list, in the
    light and the dark theme."""
    page.goto(f"{studio_url}/accounts/login/")
    found = {"login": axe_violations(page)}
    sign_in(page, studio_url)
    pages = {
        "home": "/",
        "workspace": ready.get_absolute_url(),
        "draft": finished_draft.get_absolute_url(),
        "templates": f"/w/{ready.pk}/templates/",
        "drafts list": f"/w/{ready.pk}/drafts/",
        "dashboard": f"/w/{ready.pk}/dashboard/",
    }
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name, path in pages.items():
            page.goto(studio_url + path)
            expect(page.locator("main")).to_be_visible()
            found[f"{name} ({scheme})"] = axe_violations(page)

    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "\n".join(problems)


def test_create_a_workspace_from_the_first_run_empty_state(page: Page, studio_url, user):
    sign_in(page, studio_url)
    expect(page.get_by_text("No workspaces yet.")).to_be_visible()

    page.get_by_label("Name").fill("Launch team")
    page.get_by_role("button", name="Create workspace").click()

    expect(page.get_by_role("heading", name="Generate")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Launch team")
    page.get_by_role("link", name="Workspaces").click()
    expect(page.get_by_role("link", name="Launch team")).to_be_visible()


def test_switch_to_chinese_and_back(page: Page, studio_url, ready):
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())

    page.get_by_label("Language", exact=True).select_option("zh-hans")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="生成")).to_be_visible()
    assert page.url.endswith(ready.get_absolute_url())  # the switcher stays on the page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "workspace_zh-hans.png", full_page=True)
    page.get_by_label("语言", exact=True).select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_dark_mode_follows_the_os_until_toggled_and_the_choice_persists(
    page: Page, studio_url, ready
):
    html = page.locator("html")
    page.emulate_media(color_scheme="dark")
    sign_in(page, studio_url)
    expect(html).to_have_class("h-full dark")
    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_have_attribute("aria-pressed", "true")

    toggle.click()

    expect(html).not_to_have_class("h-full dark")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()  # the choice outlives the page, and overrides the OS
    expect(html).to_have_class("h-full")
    page.get_by_role("button", name="Dark mode").click()
    expect(html).to_have_class("h-full dark")  # toggled, and the choice stored with it
    page.goto(studio_url + ready.get_absolute_url())
    expect(html).to_have_class("h-full dark")
    body_colour = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert body_colour != "rgb(248, 250, 252)"  # not slate-50, the light background


def test_the_help_dialog_lists_the_shortcuts(page: Page, studio_url, ready):
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_hidden()

    page.keyboard.press("?")

    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Generate with the form")
    expect(dialog).to_contain_text("Stop the running generation")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Typing "?" in a field types it; the header button opens the dialog and gets focus back.
    page.get_by_label("Template").select_option(label="Product description")
    expect(page.get_by_label("Key features")).to_be_visible()  # the form has been swapped
    field = page.get_by_label("Product name")
    field.press_sequentially("Why?")
    expect(field).to_have_value("Why?")
    expect(dialog).to_be_hidden()
    opener = page.get_by_role("button", name="Keyboard shortcuts")
    opener.click()
    expect(dialog).to_be_visible()
    page.screenshot(path=ARTIFACTS / "help_dialog_open.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_a_generation_shows_live_stats_then_usage_and_the_heading_takes_focus(
    page: Page, studio_url, simulator_url, ready
):
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())
    # Held live after 30 tokens until the live stats are checked.
    fill_product_form(page, features="Warm light [[sim:tokens=60]] [[sim:hold_after=30]]")

    page.get_by_role("button", name="Generate").click()

    stats = page.locator("[data-live-stats]")
    expect(page.locator("#stream-text")).to_have_attribute("aria-live", "polite")
    expect(stats.locator("[data-live-tokens]")).not_to_have_text("0")
    expect(stats.locator("[data-live-rate]")).to_have_text(re.compile(r"^\d+$"))
    expect(stats.locator("[data-live-elapsed]")).not_to_have_text("0.0")
    page.screenshot(path=ARTIFACTS / "generation_live_stats.png", full_page=True)
    release_held_streams(simulator_url)
    # The end: exact usage, cost and model, the follow-ups, and focus on the draft's heading.
    expect(page.locator("[data-tokens]")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-cost]")).to_be_visible()
    expect(page.get_by_role("button", name="Regenerate", exact=True)).to_be_visible()
    expect(page.locator("#draft-panel h1")).to_be_focused()


def test_the_elapsed_counter_keeps_real_time_when_the_clocks_differ(
    page: Page, studio_url, simulator_url, ready
):
    """The browser's clock an hour ahead of the server's: the counter still starts near 0."""
    page.clock.install(time=time.time() + 3600)
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())
    # Held live after 30 tokens until the counter is read.
    fill_product_form(page, features="Warm light [[sim:tokens=60]] [[sim:hold_after=30]]")

    page.get_by_role("button", name="Generate").click()

    elapsed = page.locator("[data-live-stats] [data-live-elapsed]")
    expect(elapsed).not_to_have_text("0.0")
    assert 0 < float(elapsed.text_content()) < 30
    expect(page.locator("#stream-text")).not_to_be_empty()  # its stream has begun: release it
    release_held_streams(simulator_url)
    expect(page.locator("[data-tokens]")).to_be_visible(timeout=20_000)


def test_the_phone_layout_has_no_sideways_scrolling(browser, studio_url, ready, finished_draft):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    sign_in(page, studio_url)
    for name, path in {
        "workspace": ready.get_absolute_url(),
        "draft": finished_draft.get_absolute_url(),
        "dashboard": f"/w/{ready.pk}/dashboard/",
    }.items():
        page.goto(studio_url + path)
        expect(page.locator("main")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"phone_{name}.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} is {width}px wide"
    context.close()


def test_failed_htmx_requests_show_a_toast_and_keep_the_form(browser, studio_url, ready):
    """Network down, 429 and 5xx each get a clear message (a page of its own: the `page`
    fixture would count the deliberate failures as problems)."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())
    fill_product_form(page)
    toasts = page.locator("#toasts [role=alert]")
    cases = [
        (lambda route: route.fulfill(status=503, body="down"), "problem on its side"),
        (lambda route: route.fulfill(status=429, body="slow down"), "Too many requests"),
        (lambda route: route.abort("internetdisconnected"), "Network error"),
    ]
    for n, (handler, message) in enumerate(cases, start=1):
        page.route("**/generate/", handler)
        page.get_by_label("Product name").press("Control+Enter")  # the Generate shortcut
        expect(toasts).to_have_count(n)
        expect(toasts.nth(n - 1)).to_contain_text(message)
        page.unroute("**/generate/")
    expect(page.get_by_label("Product name")).to_have_value("Aurora desk lamp")
    page.screenshot(path=ARTIFACTS / "toasts.png")
    toasts.first.get_by_role("button", name="Dismiss").click()
    expect(toasts).to_have_count(2)
    context.close()


def test_the_dashboard_in_the_browser(page: Page, studio_url, ready, finished_draft):
    sign_in(page, studio_url)
    page.goto(studio_url + ready.get_absolute_url())
    page.get_by_role("link", name="Dashboard").click()

    expect(page.get_by_role("heading", name="Marketing at a glance")).to_be_visible()
    expect(page.locator("[data-status-count=draft]")).to_contain_text("1")
    expect(page.locator("#recent-generations")).to_contain_text("200")
    expect(page.locator("#tokens-chart rect")).to_have_count(14)


@pytest.mark.parametrize(
    ("language", "drafts", "experiments", "experiments_heading"),
    [("en", "Drafts", "Experiments", "A/B experiments"), ("zh-hans", "草稿", "实验", "A/B 实验")],
)
def test_the_top_bar_reaches_drafts_and_experiments_on_a_phone(
    browser, studio_url, ready, finished_draft, language, drafts, experiments, experiments_heading
):
    """The workspace's Drafts and Experiments are one click away in the top bar, in both
    languages, and on a phone the bar wraps instead of scrolling sideways."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, studio_url)
    page.goto(studio_url + finished_draft.get_absolute_url())
    if language == "zh-hans":
        page.locator("#language-switcher").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    top_bar = page.locator("header nav")
    top_bar.get_by_role("link", name=drafts, exact=True).click()
    expect(page.locator("#drafts-heading")).to_have_text(drafts)
    expect(page.locator("main")).to_contain_text(finished_draft.title)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    top_bar.get_by_role("link", name=experiments, exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(experiments_heading)
    assert page.url.endswith(f"/w/{ready.pk}/experiments/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / f"phone_top_bar_{language}.png", full_page=True)
    context.close()
    assert not errors, errors


@pytest.mark.parametrize(
    ("language", "link"), [("en", "Open in workspace"), ("zh-hans", "在工作区中打开")]
)
def test_open_in_workspace_fills_the_form_as_the_draft_was_made(
    page: Page, studio_url, ready, finished_draft, product_inputs, language, link
):
    sign_in(page, studio_url)
    page.goto(studio_url + finished_draft.get_absolute_url())
    if language == "zh-hans":
        page.locator("#language-switcher").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.get_by_role("link", name=link).click()

    assert page.url.endswith(f"{ready.get_absolute_url()}?draft={finished_draft.pk}")
    expect(page.locator("#template-form").get_by_label("Product name")).to_have_value(
        product_inputs["product_name"]
    )
    expect(page.locator(f"#draft-title-{finished_draft.pk}")).to_have_text(finished_draft.title)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_rewrite_form_on_a_phone_puts_the_label_above_a_full_width_field(
    browser, studio_url, ready, finished_draft, language
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, studio_url)
    page.goto(studio_url + finished_draft.get_absolute_url())
    if language == "zh-hans":
        page.locator("#language-switcher").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    form = page.locator("#rewrite-form")
    field = form.locator("[data-selection-field]")
    label = form.locator(f"label[for=rewrite-selection-{finished_draft.pk}]")
    part = form.locator(f"label[for=rewrite-section-{finished_draft.pk}]")

    field.click()  # a real control: it takes the text
    field.fill("Bright light")

    expect(field).to_have_value("Bright light")
    box, label_box, part_box = field.bounding_box(), label.bounding_box(), part.bounding_box()
    form_box = form.bounding_box()
    assert box["width"] > form_box["width"] * 0.8, (box, form_box)  # the whole row
    assert label_box["y"] + label_box["height"] <= box["y"] + 1  # above the field
    assert label_box["height"] < 3 * 24, label_box  # a line or two, not a word per line
    assert part_box["y"] >= box["y"] + box["height"]  # "Part" on a row below, no overlap
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / f"phone_rewrite_form_{language}.png", full_page=True)
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_choosing_an_old_version_changes_the_url_and_a_reload_keeps_it(
    page: Page, studio_url, user, finished_draft, language
):
    from drafts.actions import add_version

    add_version(
        draft_id=finished_draft.pk, text="# Aurora\n\nTake two.", source="edited", author_id=user.pk
    )
    sign_in(page, studio_url)
    page.goto(studio_url + finished_draft.get_absolute_url())
    page.locator("#language-switcher").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#draft-body")).to_contain_text("Take two.")

    page.locator("#version-list").get_by_role("link", name=re.compile(r"^v1 ")).click()

    expect(page).to_have_url(re.compile(rf"/drafts/{finished_draft.pk}/\?v=1$"))
    expect(page.locator("#draft-body")).to_contain_text("Bright light")
    page.reload()
    expect(page.locator("#draft-body")).to_contain_text("Bright light")


@pytest.mark.parametrize(
    ("language", "title", "tie"),
    [("en", "Keyboard shortcuts", "Tie"), ("zh-hans", "键盘快捷键", "平局")],
)
def test_the_shortcuts_dialog_on_a_run_page_lists_the_vote_keys(
    page: Page, studio_url, user, ready, product_template, product_inputs, language, title, tie
):
    from prompts.actions import duplicate_template
    from prompts.experiments.actions import create_experiment, start_run
    from studio.audit.origin import Origin

    template = duplicate_template(template=product_template, workspace=ready, user=user)
    version = template.current_version()
    experiment = create_experiment(
        workspace=ready, name="Questions sell?", user=user,
        variants=[{"name": "A", "version": version}, {"name": "B", "version": version}],
    )  # fmt: skip
    run = start_run(origin=Origin(), experiment=experiment, inputs=product_inputs, user=user)
    for generation_id in run.columns.values_list("generation_id", flat=True):
        finish_generation(
            generation_id=generation_id, status="done", text="Bright.", reasoning="", fields={}
        )
    sign_in(page, studio_url)
    page.goto(studio_url + run.get_absolute_url())
    if language == "zh-hans":
        page.locator("#language-switcher").select_option("zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.locator("[data-shortcuts-open]").click()

    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-vote-shortcuts]")).to_be_visible()
    expect(dialog).to_contain_text(tie)
    expect(dialog.locator("kbd", has_text=re.compile("^b$"))).to_be_visible()
