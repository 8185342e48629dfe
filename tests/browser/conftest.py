"""Browser tests: Debian's chromium driven by Playwright, against the studio served by uvicorn
(ASGI, so streams really stream) and the offline DeepSeek simulator (the real wire format).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

from studio.deepseek.simulator import create_app
from studio.landing import last_used_workspace
from tests.servers import LiveServer, run_asgi, serve_asgi

# Playwright's sync API runs an event loop in this thread, so Django's async-safety check
# would refuse the ORM calls our fixtures make here (microsoft/playwright-pytest#46).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def _browser() -> Iterator[tuple[Browser, asyncio.AbstractEventLoop]]:
    """One Playwright driver and chromium for the session (per xdist worker), not one per
    module: each start cost ~1.2 s of CPU (the driver, chromium's processes), ~27 a phase.
    Each test has a fresh context of its own (``page``), as before."""
    if not Path(CHROMIUM).exists():
        pytest.fail("The browser tests need Debian's chromium: run `make test` (it installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        loop = asyncio.get_running_loop()  # Playwright's own, marked running after each call
        asyncio._set_running_loop(None)
        yield browser, loop
        asyncio._set_running_loop(loop)
        browser.close()


@pytest.fixture
def browser(_browser) -> Iterator[Browser]:
    """The session's browser, for one test. Playwright's sync API marks its event loop as
    running in this thread between its calls; a test that came after it on this worker (an
    async test, ``async_to_sync``) would find that loop running and refuse to start its own.
    So the loop is marked running for a browser test only, and not after it: between tests
    Playwright's loop waits (the driver's messages queue in its pipe until the next call).
    A context the test opened and left open (it failed first) is closed after it.

    While a loop runs, Django keeps database connections per context, not per thread: the
    test's own (its body's queries) are closed here, before the loop is no longer marked
    and its database fixtures (set up before this one) empty the tables on the thread's."""
    from django.db import connections

    browser, loop = _browser
    asyncio._set_running_loop(loop)
    yield browser
    for context in browser.contexts:
        context.close()
    connections.close_all()
    asyncio._set_running_loop(None)


# The simulator's pace. A test that acts while a stream is live holds it
# ([[sim:hold_after=N]], ``release_held_streams``) instead of relying on a slow one, so the
# tests that only wait for answers to end wait for 400 tokens a second. A module whose checks
# need a paced stream they cannot hold says ``SIMULATOR_TOKENS_PER_SECOND = 100``
# (test_assistant.py: its question is shown as asked, so it carries no directive;
# test_campaigns.py: long deliverables keep sending deltas through other panels' steps).
TOKENS_PER_SECOND = 400


def _run_simulator(tokens_per_second: int) -> Iterator[str]:
    """A simulator for the session (per xdist worker): it keeps no state between requests
    but the [[sim:…]] directives each request carries (and the holds they ask for)."""
    app = create_app(
        tokens_per_second=tokens_per_second, first_token_delay=0.3, keepalive_interval=0.1
    )
    with run_asgi(app, lifespan="off") as url:
        yield url


@pytest.fixture(scope="session")
def _simulator() -> Iterator[str]:
    yield from _run_simulator(TOKENS_PER_SECOND)


@pytest.fixture(scope="session")
def _paced_simulator() -> Iterator[str]:
    yield from _run_simulator(100)


@pytest.fixture
def simulator_url(request: pytest.FixtureRequest) -> str:
    """The offline DeepSeek-compatible server: keep-alives, usage chunk, [DONE], at
    TOKENS_PER_SECOND (or the module's ``SIMULATOR_TOKENS_PER_SECOND``: 100)."""
    paced = getattr(request.module, "SIMULATOR_TOKENS_PER_SECOND", TOKENS_PER_SECOND)
    if paced == TOKENS_PER_SECOND:
        return request.getfixturevalue("_simulator")
    assert paced == 100, "the paced simulator streams 100 tokens a second"
    return request.getfixturevalue("_paced_simulator")


@pytest.fixture(scope="session")
def _studio_server(django_db_setup, django_db_blocker) -> Iterator[LiveServer]:
    """One uvicorn server for the session (per xdist worker), in a thread of this process:
    it shares the test database and sees the settings a test overrides (``settings`` changes
    the process-wide settings object). Stopped before the test database is dropped. It runs
    no sweeper: one would query between tests, outside any test's database access, and settle
    what a test set up (a test that needs a sweep calls ``drafts.sweeper.sweep()``); nor the
    knowledge ingestions' start-up sweep, for the same reason."""
    from contextlib import ExitStack
    from unittest import mock

    from django.test import override_settings

    from studio.asgi import application

    with override_settings(GENERATION_SWEEP_INTERVAL=0), ExitStack() as running:
        # Only while it starts: a later test of the start-up sweep runs the real one.
        with mock.patch("prompts.knowledge.ingesting.start_sweep", lambda: None):
            server = running.enter_context(serve_asgi(application))
        yield server


@pytest.fixture
def studio_url(transactional_db, settings, simulator_url, _studio_server) -> Iterator[str]:
    """The studio under uvicorn, talking to the simulator.

    Shared by the session's tests, so each test leaves it as a fresh server would be: what it
    left running (generations, assistant answers) is settled and the pooled DeepSeek client
    (built from the settings of its day) closed, before ``transactional_db`` empties the
    tables. Pages are closed before that too (``page`` depends on this fixture).

    The pages' polls are shortened (the recovering notice's 5 s, a batch's 2 s): the same
    requests, sooner, so a test waits less for them. The editor's autosave delay is not a
    setting: a 200 ms one aborted a POST in test_editing's conflict test
    (docs/decisions/test-suite-speed.md)."""
    settings.DEEPSEEK_BASE_URL = simulator_url
    settings.RECOVERING_POLL_SECONDS = settings.BATCH_POLL_SECONDS = 0.5
    yield _studio_server.url
    _studio_server.call(_settle)


async def _settle() -> None:
    """What a server's shutdown does, but the server goes on: running generations end as
    "interrupted" (their text kept), assistant answers stop, the DeepSeek client closes, and
    the Stop listener (Redis pub/sub) unsubscribes: a subscriber left over would receive the
    next test's Stop requests (tests/drafts/test_relay.py counts the subscribers)."""
    from drafts import generation
    from studio.ai import close_client

    await generation.shutdown()  # every registry's runs and Stop listeners (studio.streams)
    await close_client()


@pytest.fixture
def page(browser: Browser, studio_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page that fails the test on any console error or failed request (but the
    statuses a test module expects: its ``EXPECTED_HTTP_ERRORS``, e.g. {429}).

    It needs the studio (``studio_url``) so that it is closed, and its screenshot taken,
    while the shared server still holds this test's data."""
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
    failed: list = []
    downloaded: set[str] = set()
    page.on("requestfailed", lambda r: None if _closed_event_source(r) else failed.append(r))
    page.on("download", lambda d: downloaded.add(d.url))
    page.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and r.status not in expected
            else None
        ),
    )
    yield page
    # What failed while the test ran: closing the page below aborts what is still on its way
    # (an autosave the last keystroke started), as closing a tab would; that is not the page's.
    during = list(failed)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()
    # A link without a download attribute whose answer is a file (the Word export, which
    # may answer with a page saying why it was refused) ends its navigation as a download:
    # Chromium reports that navigation as aborted, and the file as downloaded.
    problems += [
        f"failed: {r.method} {r.url} {r.failure}"
        for r in during
        if not (r.failure == "net::ERR_ABORTED" and r.url in downloaded)
    ]
    assert not problems, problems


def _closed_event_source(request) -> bool:
    """Aborted by the browser, not failed: sse-close="done" closes the EventSource on the
    final event (before the server's end of the stream arrives), and navigating away aborts
    a favicon or a deferred script still loading (a static file that is missing is a 404,
    which the response check catches), and a page load that a newer navigation superseded
    (a server that fails answers with a status, or with another network error)."""
    if request.failure != "net::ERR_ABORTED":
        return False
    static = "/static/" in request.url and request.resource_type in ("script", "stylesheet")
    superseded = request.resource_type == "document" and request.is_navigation_request()
    return (
        request.resource_type == "eventsource"
        or request.url.endswith("/favicon.svg")
        or static
        or superseded
    )


def release_held_streams(simulator_url: str) -> None:
    """Let the simulator's held streams go on (``[[sim:hold_after=N]]``): a test holds a
    stream live for as long as it acts on it, then lets it end, instead of asking for an
    answer long enough to outlast its steps on the slowest machine. Call it once the held
    streams have sent text: a stream the simulator begins after a release waits for the
    next one."""
    httpx.post(f"{simulator_url}/sim/release", timeout=5).raise_for_status()


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Signed in as the login form signs in (Django's ``login()``: a session row, its cookie,
    ``user_logged_in``), then on to where the form lands: the last used workspace, or the list
    of workspaces (studio/landing.py). Without the login page's load and POST, paid by ~45
    tests that are about something else; test_accounts.py drives the form itself, in English
    and Chinese."""
    client = Client()
    assert client.login(username=username, password=password), f"{username} cannot log in"
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": cookie.key,
                "value": cookie.value,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    user = get_user_model().objects.get_by_natural_key(username)
    workspace = last_used_workspace(user)
    landing = workspace.get_absolute_url() if workspace else settings.LOGIN_REDIRECT_URL
    page.goto(f"{base_url}{resolve_url(landing)}")


def draft_text(page) -> str:
    """The shown draft's text as a reader sees it, without the grounding note or the Sources
    list under it (a grounded template with nothing matching says so in #draft-body)."""
    return page.locator("#draft-body").evaluate(
        """body => {
            const notes = body.querySelectorAll("[data-no-sources], [data-sources]");
            notes.forEach(note => { note.hidden = true; });
            const text = body.innerText;
            notes.forEach(note => { note.hidden = false; });
            return text;
        }"""
    )
