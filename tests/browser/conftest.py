"""Browser tests: Debian's chromium driven by Playwright, against the studio served by uvicorn
(ASGI, so streams really stream) and the offline DeepSeek simulator (the real wire format).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from studio.deepseek.simulator import create_app
from tests.servers import run_asgi

# Playwright's sync API runs an event loop in this thread, so Django's async-safety check
# would refuse the ORM calls our fixtures make here (microsoft/playwright-pytest#46).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would stop pytest-asyncio from running the async tests that come after.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("The browser tests need Debian's chromium: run `make test` (it installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def simulator_url() -> Iterator[str]:
    """The offline DeepSeek-compatible server: keep-alives, usage chunk, [DONE], at 100 tok/s."""
    app = create_app(tokens_per_second=100, first_token_delay=0.3, keepalive_interval=0.1)
    with run_asgi(app, lifespan="off") as url:
        yield url


@pytest.fixture
def studio_url(transactional_db, settings, simulator_url) -> Iterator[str]:
    """The studio under uvicorn, talking to the simulator."""
    settings.DEEPSEEK_BASE_URL = simulator_url
    from studio.asgi import application

    with run_asgi(application) as url:
        yield url


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page that fails the test on any console error or failed request (but the
    statuses a test module expects: its ``EXPECTED_HTTP_ERRORS``, e.g. {429})."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    problems: list[str] = []
    expected = getattr(request.module, "EXPECTED_HTTP_ERRORS", set())
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and not any(str(status) in m.text for status in expected)
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"failed: {r.method} {r.url} {r.failure}")
            if not _closed_event_source(r)
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.status not in expected
            else None
        ),
    )
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    assert not problems, problems


def _closed_event_source(request) -> bool:
    """Aborted by the browser, not failed: sse-close="done" closes the EventSource on the
    final event (before the server's end of the stream arrives), and navigating away aborts
    a favicon still loading."""
    if request.failure != "net::ERR_ABORTED":
        return False
    return request.resource_type == "eventsource" or request.url.endswith("/favicon.svg")


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/")
