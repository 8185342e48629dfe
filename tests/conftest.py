"""Shared fixtures: users, a workspace, the demo templates, and DeepSeek wire-format helpers."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from hypothesis import settings as hypothesis_settings

from prompts.actions import import_template
from prompts.management.commands.load_demo_templates import DEMO_FILE
from studio.workspaces.actions import create_workspace

CHAT_URL = "https://api.deepseek.test/chat/completions"

# No per-example time limit: Hypothesis's default 200 ms deadline is a timed test, and a busy
# 2-core machine (four workers, servers, browsers) ran one example in 305 ms.
hypothesis_settings.register_profile("studio", deadline=None)
hypothesis_settings.load_profile("studio")


def pytest_configure(config: pytest.Config) -> None:
    """A fast password hasher for the suite (Django's advice for tests): PBKDF2's deliberate
    ~0.5 s per hash, paid for every user a fixture creates and every browser log-in, was the
    suite's largest single cost. Under pytest-xdist, each worker gets Redis to itself (see
    ``_redis_for_worker``)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _index_static_files_once()
    _empty_tables_by_delete()
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        _redis_for_worker(worker)


# The longest modules (seconds each takes alone, -n 0, on either database: measured 2026-12-05,
# most first). Under `make test` each module runs whole on one worker (--dist loadscope), taken
# in collection order (--no-loadscope-reorder): these go first, so that the short modules even
# out the end instead of one long module (a browser module of half a minute, the bench run,
# the fault suites) running alone while the other workers wait. Every other module keeps
# pytest-randomly's order. The infrastructure suite (PostgreSQL only, ~85 s) leads.
LONGEST_FIRST = (
    "tests/infra_faults/test_infra_faults.py",
    "tests/infra_faults/test_scale_out.py",  # short, but next to it: one cluster (below)
    "tests/faults/test_faults.py",
    "tests/test_isolation.py",
    "tests/browser/test_editing.py",
    "tests/browser/test_ui.py",
    "tests/browser/test_campaigns.py",
    "tests/studio/test_shutdown.py",
    "tests/browser/test_grounding.py",
    "tests/test_field_sweep.py",
    "tests/bench/test_bench_smoke.py",
    "tests/browser/test_campaign_fit.py",
    "tests/workspaces/test_roles.py",
    "tests/browser/test_watching.py",
    "tests/browser/test_sections.py",
    "tests/drafts/test_migrations.py",
    "tests/browser/test_generate_flow.py",
    "tests/bench/test_trace.py",
    "tests/bench/test_image_shape.py",
    "tests/test_reads_only_read.py",
    "tests/browser/test_accounts.py",
    "tests/browser/test_queued.py",
    "tests/prompts/knowledge/test_ingesting.py",
    "tests/browser/test_template_builder.py",
    "tests/browser/test_experiment_friction.py",
    "tests/streams/test_outages.py",
    "tests/browser/test_campaign_review.py",
    "tests/browser/test_channel_rules.py",
    "tests/browser/test_length_limit.py",
    "tests/studio/test_docker.py",
    "tests/browser/test_batches.py",
)


@pytest.hookimpl(trylast=True)  # after pytest-randomly has shuffled
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONGEST_FIRST)}
    root = config.rootpath
    missing = [path for path in LONGEST_FIRST if not (root / path).exists()]
    if missing:
        raise pytest.UsageError(f"LONGEST_FIRST names modules that do not exist: {missing}")
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))


# Packages whose modules share a package-scoped fixture too costly to build twice: the
# infrastructure suite's cluster (two studio workers, Redis; ~10 s). Under --dist loadscope
# each goes whole to one worker, as one module would.
ONE_SCOPE = ("tests/infra_faults/",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """--dist loadscope, with each package in ONE_SCOPE sent to one worker whole."""
    if config.getvalue("dist") != "loadscope":
        return None  # xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class PackageScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            package = next((p for p in ONE_SCOPE if nodeid.startswith(p)), None)
            return package or super()._split_scope(nodeid)

    return PackageScopes(config, log)


def _index_static_files_once() -> None:
    """Every test client builds its own middleware, and ServeStatic indexed every static file
    for each (finders, a thread pool of stats, headers: ~70 ms of CPU per client, a minute
    per CI phase). A server process indexes once; so does the suite now: the first index is
    copied into each later middleware. The files do not change while the suite runs."""
    from servestatic.middleware import ServeStaticMiddleware

    index_files = ServeStaticMiddleware.add_files_from_finders
    first: list[ServeStaticMiddleware] = []

    def indexed_once(middleware: ServeStaticMiddleware) -> None:
        if not first:
            index_files(middleware)
            first.append(middleware)
        middleware.files.update(first[0].files)
        middleware.directories[:] = first[0].directories

    ServeStaticMiddleware.add_files_from_finders = indexed_once


# Rows written by migrations' post_migrate signal, not by tests: kept between tests.
KEPT_TABLES = {"django_content_type", "auth_permission"}


def _empty_tables_by_delete() -> None:
    """After a transactional test (a live server, a stream, a thread), Django's flush empties
    every table with one ``TRUNCATE`` on PostgreSQL, which replaces each table's and index's
    files (~2.6 s a test on this machine under load), and then re-creates every content type
    and permission (post_migrate, ~1 s). Nearly empty tables are emptied far faster by
    ``DELETE`` (0.05 s, constraints deferred to the commit as Django declares them), and
    content types and permissions never change while the suite runs, so they are kept (their
    ids stay put, so ContentType's cache stays right). SQLite's flush already deletes; it
    also skips post_migrate now. ~300 transactional tests per phase."""
    from django.db import connections, transaction
    from django.test import TransactionTestCase

    def empty_tables(case: TransactionTestCase) -> None:
        for alias in case._databases_names(include_mirrors=False):
            connection = connections[alias]
            names = connection.introspection.django_table_names(only_existing=True)
            tables = sorted(set(names) - KEPT_TABLES)
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for table in tables:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")

    TransactionTestCase._fixture_teardown = empty_tables


def _redis_for_worker(worker: str) -> None:
    """Give xdist worker ``gwN`` the Redis database REDIS_URL's + N, and a pub/sub channel of
    its own, so that one worker's ``cache.clear()`` (FLUSHDB), keys and Stop requests never
    reach another (each worker has its own test database, so ids repeat between them; pub/sub
    channels are not per database). Settings are loaded already: the cache is not built yet,
    and everything else reads ``settings.REDIS_URL`` (or the environment) when it connects."""
    from django.conf import settings

    from studio.streams import registry

    registry.CANCEL_CHANNEL_PREFIX = f"{registry.CANCEL_CHANNEL_PREFIX}:{worker}"
    if not settings.REDIS_URL:
        return
    url = urlsplit(settings.REDIS_URL)
    base = int(url.path.strip("/") or 0)
    db = base + int(worker.removeprefix("gw"))
    if db > 15:
        raise pytest.UsageError(
            f"xdist worker {worker} would use Redis database {db} (REDIS_URL's {base} + its "
            "number): Redis has 16. Use fewer workers or a lower database in REDIS_URL."
        )
    worker_url = urlunsplit(url._replace(path=f"/{db}"))
    os.environ["REDIS_URL"] = settings.REDIS_URL = worker_url
    settings.CACHES["default"]["LOCATION"] = worker_url


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
def _heal_dropped_connections():
    """A test that had the database drop connections (tests/database_blips.py) leaves the
    threads that outlive it with live ones."""
    yield
    from tests import database_blips

    if database_blips.dropped:
        database_blips.heal_threads()


@pytest.fixture(autouse=True)
def _no_finished_logs_left():
    """A finished event log waits ``FINISHED_LOG_TTL`` for late watchers on a timer of the loop
    it ended on; a test's loop closes first, so the log would stay, and a later test whose
    generation gets the same id (SQLite reuses ids a rolled-back test took) would replay it."""
    yield
    from studio.streams import registry

    for runs in registry._registries:
        for key in [key for key, log in runs.logs.items() if log.done is not None]:
            runs.discard_log(key)


@pytest.fixture(autouse=True)
def _process_serves_again():
    """A test that ran a lifespan shutdown on the main thread leaves the process's drain on
    (``studio.asgi.DRAIN``): a later test in this worker that calls the application there (the
    OpenAI SDK over an ASGI transport) would get 503 "restarting"."""
    yield
    from studio import asgi

    asgi.DRAIN.reset()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the circuit breaker, rate limits and heartbeats
    live there, and one test's failures must not open the breaker for the next. An outage of
    the shared cache that a test caused (studio.degraded) ends with it."""
    from django.core.cache import cache

    from studio import degraded

    degraded.reset()
    cache.clear()
    yield
    degraded.reset()


@pytest.fixture(autouse=True)
def _one_rate_window(monkeypatch):
    """Each rate-limit counter keeps the window it started in for the whole test.

    django-ratelimit counts in fixed windows (a minute for "1/m"), each key's starting at its
    own second: two requests a test sends a moment apart can fall either side of a window's
    end, the second then counted from zero (a "1/m" test's 429 answered 200 once in CI)."""
    from django_ratelimit import core

    windows: dict[tuple[object, int], int] = {}
    real = core._get_window

    def held(value, period):
        return windows.setdefault((value, period), real(value, period))

    monkeypatch.setattr(core, "_get_window", held)


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("hamlet", password="pw-hamlet-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("cordelia", password="pw-cordelia-123")


@pytest.fixture
def workspace(user):
    return create_workspace(name="Marketing", owner=user)


@pytest.fixture(scope="session")
def _demo_rows(django_db_setup, django_db_blocker) -> list[tuple[dict, list[dict]]]:
    """The demo templates as ``import_template`` builds them, built once per session (per
    xdist worker) in a transaction that is rolled back: each template's and each of its
    versions' column values, without ids (and ``created``, set again on insert)."""
    from django.db import transaction

    from prompts.models import TemplateVersion

    definitions = json.loads(DEMO_FILE.read_text("utf-8"))
    rows = []
    with django_db_blocker.unblock(), transaction.atomic():
        for data in definitions:
            template = import_template(data=data)[0]
            versions = TemplateVersion.objects.filter(template=template).order_by("number")
            rows.append((_values(template), [_values(v, "template") for v in versions]))
        transaction.set_rollback(True)
    return rows


def _values(instance, *leave_out: str) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if not field.primary_key and field.name not in ("created", *leave_out)
    }


@pytest.fixture
def demo_templates(db, _demo_rows):
    """The eight demo templates (load_demo_templates' file), inserted in three queries from
    the session's ``_demo_rows`` instead of importing them again for each of the hundreds of
    tests that use them (tests/test_fixtures.py checks both give the same rows)."""
    from prompts.models import PromptTemplate, TemplateVersion

    templates = PromptTemplate.objects.bulk_create(
        [PromptTemplate(**template) for template, _ in _demo_rows]
    )
    TemplateVersion.objects.bulk_create(
        [
            TemplateVersion(template=template, **version)
            for template, (_, versions) in zip(templates, _demo_rows, strict=True)
            for version in versions
        ]
    )
    return templates


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
    if database["ENGINE"] in ("django.db.backends.sqlite3", "studio.sqlite"):
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its fault-injection counts to the controller (below)."""
    if (output := getattr(session.config, "workeroutput", None)) is not None:
        from tests.faults.conftest import STATS
        from tests.infra_faults.conftest import STATS as INFRA_STATS

        output["fault_stats"] = dict(STATS)
        output["infra_fault_stats"] = dict(INFRA_STATS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The xdist controller adds up each worker's fault-injection counts."""
    from tests.faults.conftest import STATS
    from tests.infra_faults.conftest import STATS as INFRA_STATS

    output = getattr(node, "workeroutput", {})
    for key, value in output.get("fault_stats", {}).items():
        STATS[key] += value
    for key, value in output.get("infra_fault_stats", {}).items():
        INFRA_STATS[key] += value


def pytest_terminal_summary(terminalreporter) -> None:
    """The fault suites' summary lines (tests/faults/, tests/infra_faults/), workers' counts
    included."""
    from tests.faults.conftest import STATS
    from tests.infra_faults.conftest import STATS as INFRA_STATS

    if STATS["generations"]:
        terminalreporter.write_line(
            f"fault injection: {STATS['faults']} faults injected, "
            f"{STATS['generations']} generations, {STATS['lost']} characters lost, "
            f"{STATS['busy']} Generates answered busy (then pressed again)"
        )
    if INFRA_STATS["generations"]:
        terminalreporter.write_line(
            f"infrastructure faults: {INFRA_STATS['faults']} injected, "
            f"{INFRA_STATS['generations']} generations, {INFRA_STATS['lost']} characters lost, "
            f"{INFRA_STATS['stuck']} stuck"
        )


@pytest.fixture
def thread_trips(monkeypatch) -> list[str]:
    """The module-qualified names of the functions each ``sync_to_async`` call ran, in order
    (``drafts.views.generations._watch``): tests count trips and name the studio's own, never
    Django's."""
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

    def launch_on_commit(generations, held, early, loop) -> None:
        blocks = connection.atomic_blocks
        if blocks and blocks[0]._from_testcase:
            count = len(generations)
            for generation, reservation, sent in zip(
                generations, held or [None] * count, early or [None] * count, strict=True
            ):
                generate._launch(generation, reservation, loop, sent)
        else:
            real(generations, held, early, loop)

    monkeypatch.setattr(generate, "_launch_on_commit", launch_on_commit)


def studio_trips(trips: list[str]) -> list[str]:
    """Of ``thread_trips``, those that ran the studio's own code (not Django's, nor a
    middleware's ``process_view``, which Django runs in a trip of its own)."""
    return [t for t in trips if not t.startswith("django.") and not t.endswith(".process_view")]


@pytest.fixture
def compiles(monkeypatch) -> list[str]:
    """The SQL each query compiled (Django's ``SQLCompiler.as_sql``) in the test, its
    subqueries' apart (each is compiled within its query's own)."""
    from django.db.models.sql.compiler import SQLCompiler

    compiled: list[str] = []
    real = SQLCompiler.as_sql

    def counted(self, *args, **kwargs):
        sql, params = real(self, *args, **kwargs)
        if not self.query.subquery:
            compiled.append(sql)
        return sql, params

    monkeypatch.setattr(SQLCompiler, "as_sql", counted)
    return compiled
