"""Shared fixtures: users, a workspace, the demo templates, and DeepSeek wire-format helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable

import httpx
import pytest
from django.contrib.auth import get_user_model

from prompts.actions import import_template
from prompts.management.commands.load_demo_templates import DEMO_FILE
from studio.workspaces.actions import create_workspace

CHAT_URL = "https://api.deepseek.test/chat/completions"


@pytest.fixture(scope="session", autouse=True)
def _close_thread_connections(django_db_setup, django_db_blocker):
    """Close the connections threads keep for the whole run before the test database is
    dropped (PostgreSQL refuses to drop a database that is in use): the background tasks'
    database thread, and asgiref's single thread, where the test client (which, unlike the
    ASGI handler, gives a request no thread of its own) runs views' synchronous code."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from studio import background

    background.close_connections().result(timeout=10)
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request through the test client leaves
    its language (e.g. Chinese after set_language) active in the thread."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the circuit breaker, rate limits and heartbeats
    live there, and one test's failures must not open the breaker for the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("hamlet", password="pw-hamlet-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("cordelia", password="pw-cordelia-123")


@pytest.fixture
def workspace(user):
    return create_workspace(name="Marketing", owner=user)


@pytest.fixture
def demo_templates(db):
    return [import_template(data=d)[0] for d in json.loads(DEMO_FILE.read_text("utf-8"))]


@pytest.fixture
def product_template(demo_templates):
    return next(t for t in demo_templates if t.slug == "product-description")


@pytest.fixture
def product_inputs() -> dict[str, str]:
    return {
        "product_name": "Aurora desk lamp",
        "features": "Warm light\nUSB-C",
        "audience": "designers",
        "tone": "friendly",
        "words": "120",
        "language": "English",
    }


def chunk(delta: dict, finish: str | None = None, usage: dict | None = None) -> bytes:
    """One chat.completion.chunk as DeepSeek sends it (compact JSON, blank line after)."""
    body: dict = {
        "id": "24cf6cd3-b4b3-46cc-9347-0928013daea0",
        "object": "chat.completion.chunk",
        "created": 1764000000,
        "model": "deepseek-flash",
        "system_fingerprint": "fp_test",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_cache_hit_tokens": 0,
    "prompt_cache_miss_tokens": 12,
}


def sse_body(pieces: Iterable[str], *, finish: str = "stop", done: bool = True) -> bytes:
    """A whole non-thinking stream: keep-alive, role chunk, content, final chunk, [DONE]."""
    out = [b": keep-alive\n\n", chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": piece}) for piece in pieces]
    if done:
        out += [chunk({"content": ""}, finish=finish, usage=USAGE), b"data: [DONE]\n\n"]
    return b"".join(out)


def sse_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def completion(content: str = "Light, simply.", usage: dict | None = None) -> httpx.Response:
    """A whole non-streaming chat.completion as DeepSeek sends it."""
    return httpx.Response(
        200,
        json={
            "id": "c1",
            "object": "chat.completion",
            "created": 1764000000,
            "model": "deepseek-flash",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": usage or USAGE,
        },
    )


def streaming_response(chunks: AsyncIterator[bytes]) -> httpx.Response:
    """A response whose body arrives as the async iterator yields (for stop/cut tests)."""
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file (as in production: WAL, busy timeout), not Django's shared-cache
    in-memory database, where a second concurrent writer fails at once with "database table is
    locked" instead of waiting: the concurrency tests need writers that queue as they really do.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


def pytest_terminal_summary(terminalreporter) -> None:
    """The fault-injection suite's summary line (tests/faults/)."""
    from tests.faults.conftest import STATS

    if STATS["generations"]:
        terminalreporter.write_line(
            f"fault injection: {STATS['faults']} faults injected, "
            f"{STATS['generations']} generations, {STATS['lost']} characters lost"
        )


@pytest.fixture
def thread_trips(monkeypatch) -> list[str]:
    """The module-qualified names of the functions each ``sync_to_async`` call ran, in order
    (``drafts.views._watch``): tests count trips and name the studio's own, never Django's."""
    from asgiref import sync

    trips: list[str] = []
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        name = getattr(self.func, "__qualname__", type(self.func).__name__)
        # Where the function is defined (a wrapper's __module__ is what it wraps).
        module = getattr(self.func, "__globals__", {}).get("__name__") or getattr(
            self.func, "__module__", ""
        )
        trips.append(f"{module}.{name}")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    return trips


@pytest.fixture(autouse=True)
def _launch_when_the_action_commits(monkeypatch):
    """A ``db`` test runs inside a transaction that never commits, so the generate action's
    launches (``transaction.on_commit``) would never run there: they run when the action's
    own transaction ends instead, as they do in production. Under ``transactional_db`` the
    real ``on_commit`` runs them (``test_generate.py`` checks nothing launches before)."""
    from django.db import connection

    from drafts import generate

    real = generate._launch_on_commit

    def launch_on_commit(generations, loop) -> None:
        blocks = connection.atomic_blocks
        if blocks and blocks[0]._from_testcase:
            for generation in generations:
                generate._launch(generation, loop)
        else:
            real(generations, loop)

    monkeypatch.setattr(generate, "_launch_on_commit", launch_on_commit)


def studio_trips(trips: list[str]) -> list[str]:
    """Of ``thread_trips``, those that ran the studio's own code (not Django's, nor a
    middleware's ``process_view``, which Django runs in a trip of its own)."""
    return [t for t in trips if not t.startswith("django.") and not t.endswith(".process_view")]
