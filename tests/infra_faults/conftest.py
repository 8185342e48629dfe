"""The infrastructure fault suite: two real uvicorn worker processes of the studio on the test
PostgreSQL database, a Redis server of the suite's own, and the offline DeepSeek server
(recorded, so the suite knows exactly which text it sent), with faults injected into the
processes and services themselves: kill -9, terminated database connections, Redis going away,
SIGTERM with streams open, a burst of generations.

Each generation is checked three ways: what a watcher saw over SSE, the text stored in the
database, and what the upstream generated (``Checked``).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import httpx
import psycopg
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from drafts.models import Generation
from studio.deepseek.simulator import create_app
from tests.faults.conftest import RecordingUpstream, parse_frame
from tests.servers import free_port, run_asgi

logger = logging.getLogger(__name__)


def on_postgresql_only(why: str) -> None:
    """Skip the calling module, saying ``why``, unless the test run is on PostgreSQL (where
    the suite's cluster runs the studio's workers)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(f"{why}: set DATABASE_URL=postgres://...", allow_module_level=True)


# Counted over the session and printed by tests/conftest.py's terminal summary.
STATS = {"faults": 0, "generations": 0, "lost": 0, "stuck": 0}
STUCK: set[int] = set()  # the generations counted as stuck (each once)


def count_stuck(ids) -> None:
    STUCK.update(ids)
    STATS["stuck"] = len(STUCK)


ROOT = Path(__file__).resolve().parents[2]
APPLICATION_NAME = "studio-infra"  # how the suite finds the workers' database connections
PASSWORD = "pw-hamlet-123"  # noqa: S105 — a test user's


def wait_for(condition: Callable[[], object], timeout: float, what: str, step: float = 0.05):
    """Poll ``condition`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if result := condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(step)


class RedisServer:
    """A redis-server of the suite's own on a free port (no persistence: a restart is empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 — fixed arguments
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, 10, "redis-server to answer")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def command(self, *words: str) -> bytes:
        """One command (inline protocol), its raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall((" ".join(words) + "\r\n").encode())
            return sock.recv(65536)

    def runners_beating(self) -> bool:
        """Whether a worker still runs a generation: its heartbeat key is there until the
        runner's last write (the audit row, after the end the tests wait for). No answer
        (Redis down) is none: nothing beats through it."""
        try:
            return not self.command("KEYS", "*generation-alive:*").startswith(b"*0")
        except OSError:
            return False


class Worker:
    """One studio worker process: ``uvicorn studio.asgi:application`` on a port of its own, as
    production runs it (its lifespan sweeps, its shutdown settles its generations)."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "studio.asgi:application"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "on"]
        command += ["--loop", "studio.event_loop:new_event_loop"]  # the image's loop
        command += ["--log-level", "warning"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 — fixed arguments
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        wait_for(self.ready, 60, f"worker {self.name} to serve")

    def ready(self) -> bool:
        if self.process is None or self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited: {self.tail()}")
        try:
            return httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker {self.name} still running {timeout:g} s after the signal"
            ) from None

    def ensure_running(self) -> None:
        """Start it again if a fault took it down (a fresh process, as a supervisor would)."""
        if not self.alive():
            if self.process is not None:
                self.process.wait()
            self.start()

    def reap(self) -> None:
        """Kill -9 (if still running) and wait for the process."""
        if self.alive():
            self.process.kill()
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    upstream: HookedUpstream
    redis: RedisServer
    a: Worker
    b: Worker
    database: dict
    # A fault left the workers in a state the next test must not inherit (say a broken
    # connection the studio does not heal yet): the suite starts fresh ones after the test.
    tainted: bool = False

    @property
    def workers(self) -> list[Worker]:
        return [self.a, self.b]

    def restart(self, *workers: Worker) -> None:
        """Fresh processes for ``workers`` (default: any that are down), started side by side."""
        workers = workers or tuple(w for w in self.workers if not w.alive())
        for worker in workers:
            worker.reap()
            worker.spawn()
        for worker in workers:
            worker.wait_ready()

    def terminate_connections(self) -> int:
        """``pg_terminate_backend`` on every database connection the workers hold."""
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND datname = %s",
                [APPLICATION_NAME, self.database["NAME"]],
            ).fetchall()
        return len(rows)

    def studio_connections(self) -> int:
        with self.admin() as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = %s",
                [APPLICATION_NAME, self.database["NAME"]],
            ).fetchone()[0]

    def admin(self) -> psycopg.Connection:
        d = self.database
        return psycopg.connect(
            host=d["HOST"] or "127.0.0.1",
            port=d["PORT"] or 5432,
            user=d["USER"],
            password=d["PASSWORD"] or None,
            dbname=d["NAME"],
            autocommit=True,
        )


# The workers' GENERATION_HEARTBEAT_TTL: beats every 3.3 s. At 6 s (beats every 2 s) a runner
# saving its end through a connection storm (every connection terminated at once) on a machine
# running three test workers beside the cluster went unseen long enough for the other worker's
# sweeper to end it as interrupted, its text whole.
HEARTBEAT_TTL = 10


def worker_env(database: dict, redis_url: str, upstream_url: str) -> dict[str, str]:
    d = database
    auth = d["USER"] + (f":{d['PASSWORD']}" if d["PASSWORD"] else "")
    host = f"{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "PYTEST"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DEBUG": "false",
        "SECRET_KEY": "infra-fault-suite-secret-key-not-for-production-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "DATABASE_URL": f"postgres://{auth}@{host}/{d['NAME']}?application_name={APPLICATION_NAME}",
        "REDIS_URL": redis_url,
        # No API key: the studio talks to the simulator at this address.
        "DEEPSEEK_SIMULATOR_URL": upstream_url,
        "DEEPSEEK_MAX_TOKENS": "8000",  # long answers outlast a Redis outage
        "DEEPSEEK_FIRST_TOKEN_TIMEOUT": "30",
        # Long enough for a stalled answer to wait out a Redis outage on a busy machine (a Stop
        # must find it running: test_redis_killed_and_restarted_mid_stream).
        "DEEPSEEK_IDLE_TIMEOUT": "120",
        "GENERATION_PERSIST_INTERVAL": "0.1",
        "GENERATION_SWEEP_INTERVAL": "0.5",
        # A dead runner looks alive this long (not the default 15 s): the suite waits less.
        "GENERATION_HEARTBEAT_TTL": str(HEARTBEAT_TTL),
        "GENERATION_SSE_HEARTBEAT": "5",
        "RATELIMIT_RATE": "100000/m",
        "AI_DAILY_TOKEN_BUDGET": "0",
        "AI_CACHE_TTL": "0",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
    }
    return env


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Each test's outcome on its item, for ``recovered`` to see whether it failed."""
    report = yield
    if report.when == "call":
        item.report_call = report
    return report


@pytest.fixture(scope="package")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Cluster]:
    from django.db import connection

    database = dict(connection.settings_dict)
    logs = tmp_path_factory.mktemp("infra-workers")
    recorder = HookedUpstream(
        create_app(tokens_per_second=400, first_token_delay=0.05, keepalive_interval=0.02)
    )
    redis = RedisServer()
    redis.start()
    with run_asgi(recorder, lifespan="off") as upstream_url:
        env = worker_env(database, redis.url, upstream_url)
        a, b = Worker("A", env, logs / "a.log"), Worker("B", env, logs / "b.log")
        try:
            a.spawn()
            b.spawn()
            a.wait_ready()
            b.wait_ready()
            yield Cluster(recorder, redis, a, b, database)
        finally:
            for worker in (a, b):  # both asked at once, then waited for
                if worker.alive():
                    worker.process.terminate()
            for worker in (a, b):
                worker.stop()
            redis.kill()


class Client:
    """A logged-in browser over real HTTP, able to talk to either worker (one cookie jar: the
    session lives in the database, so it is valid on both)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(timeout=30)
        page = self.http.get(f"{base}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.http.post(
            f"{base}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": "hamlet", "password": PASSWORD},
        )
        assert response.status_code == 302, response.text[:500]

    def headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.http.cookies["csrftoken"], "HX-Request": "true"}

    def post_generate(self, base: str, ready: dict, inputs: dict) -> httpx.Response:
        return self.http.post(
            f"{base}/w/{ready['workspace']}/generate/",
            data={"version": ready["version"], **inputs},
            headers=self.headers(),
        )

    def stop(self, base: str, generation_id: int) -> httpx.Response:
        return self.http.post(f"{base}/generations/{generation_id}/cancel/", headers=self.headers())


def generation_id(response: httpx.Response) -> int:
    match = re.search(r"/generations/(\d+)/events/", response.text)
    assert response.status_code == 200 and match, (response.status_code, response.text[:500])
    return int(match.group(1))


@dataclass
class Watcher:
    """A browser tab's EventSource on one generation: it follows the stream, and when the
    connection breaks it reconnects with Last-Event-ID, to the next worker in ``bases`` (a
    load balancer sends it to one that answers), until the ``done`` frame or ``timeout``."""

    cookies: httpx.Cookies
    generation_id: int
    bases: list[str]
    timeout: float = 40
    text: str = ""
    last_id: int | None = None
    done: bool = False
    reconnects: int = 0
    # The studio answered with nothing but the end (a ``done`` frame without an id): the
    # generation had ended before the tab came, which then shows the final panel, not deltas.
    came_after_end: bool = False
    errors: list[str] = field(default_factory=list)
    thread: threading.Thread | None = None
    first_delta: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Watcher:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        attempt = 0
        with httpx.Client(cookies=self.cookies, timeout=httpx.Timeout(5, read=15)) as http:
            while not self.done and time.monotonic() < deadline:
                base = self.bases[attempt % len(self.bases)]
                if attempt:
                    self.reconnects += 1
                    time.sleep(0.1)  # EventSource's retry pause, shortened
                attempt += 1
                try:
                    self.follow(http, base)
                except (httpx.HTTPError, AssertionError) as exc:
                    self.errors.append(f"{base}: {type(exc).__name__}: {exc}")

    def follow(self, http: httpx.Client, base: str) -> None:
        headers = {} if self.last_id is None else {"Last-Event-ID": str(self.last_id)}
        url = f"{base}/generations/{self.generation_id}/events/"
        with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200, f"status {response.status_code}"
            block: list[str] = []
            for line in response.iter_lines():
                if line:
                    block.append(line)
                    continue
                frame, block = parse_frame(block), []
                if frame is None:
                    continue
                if frame.id is not None:
                    self.last_id = frame.id
                if frame.event == "delta":
                    self.text += unescape(frame.data)
                    self.first_delta.set()
                elif frame.event == "done":
                    self.came_after_end = frame.id is None and self.last_id is None
                    self.done = True
                    return

    def join(self) -> Watcher:
        assert self.thread is not None
        self.thread.join(self.timeout + 15)
        return self


def common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Checked:
    """One generation's three texts: what the upstream generated, what is stored, and what a
    watcher saw; and how many characters the upstream generated that neither kept."""

    generation_id: int
    marker: str
    status: str
    sent: str
    stored: str
    seen: str | None

    @property
    def lost(self) -> int:
        """Finished: what the upstream generated that neither the database nor the watcher
        has. Ended early (a drain, a Stop, a crash) with a watcher: what the studio had
        received (its watcher saw every delta it parsed) and did not keep; the upstream's text
        still in flight when the studio stopped reading it never reached the studio."""
        kept = common_prefix(self.stored, self.sent)
        if self.seen is None:
            return len(self.sent) - kept
        if self.status == "done":
            return len(self.sent) - max(kept, common_prefix(self.seen, self.sent))
        return max(0, common_prefix(self.seen, self.sent) - kept)

    def describe(self) -> str:
        seen = "no live watcher" if self.seen is None else f"seen {len(self.seen)}"
        return (
            f"generation {self.generation_id} ({self.marker}): status {self.status}, "
            f"{seen}, stored {len(self.stored)}, generated {len(self.sent)} characters"
            f" ({self.lost} lost)"
        )


class HookedUpstream(RecordingUpstream):
    """The recorder, able to run a fault at an exact point of one answer: ``at_finish[marker]``
    runs just before the upstream sends that answer's final chunk (finish reason, usage)."""

    def __init__(self, app) -> None:
        super().__init__(app)
        self.at_finish: dict[str, Callable[[], None]] = {}

    async def __call__(self, scope, receive, send) -> None:
        request = bytearray()

        async def noting_receive():
            message = await receive()
            if message["type"] == "http.request":
                request.extend(message.get("body", b""))
            return message

        async def hooked_send(message) -> None:
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if b'"finish_reason":"' in body:
                for marker in [m for m in self.at_finish if m.encode() in request]:
                    self.at_finish.pop(marker)()
            await send(message)

        await super().__call__(scope, noting_receive, hooked_send)

    def sent_text(self, marker: str) -> str:
        """As the recorder's, and "" while no request mentioning ``marker`` has come."""
        return "".join(self.sent_pieces(marker))

    def sent_pieces(self, marker: str) -> list[str]:
        """As the recorder's, and none while no request mentioning ``marker`` has come."""
        if not any(marker.encode() in exchange.request for exchange in self.exchanges):
            return []
        return super().sent_pieces(marker)


# A dead runner's heartbeat outlives it HEARTBEAT_TTL; the sweeper (every 0.5 s here) settles
# an orphan seen without one for HEARTBEAT_TTL more: within SETTLE.
# After connections are terminated, the psycopg pool may make a save wait its whole `timeout`
# (30 s, studio/settings.py) for a new connection (seen in CI under load), then it completes.
POOL_TIMEOUT = 30
SETTLE = max(2 * HEARTBEAT_TTL + 16, POOL_TIMEOUT + 15)
# The upstream holds short answers in its queue (keep-alives) this long before the first
# token: the watcher, started once the Generate post has answered, is then surely there for
# every token even on a busy machine (one that comes after the end sees only the final panel).
QUEUED = "[[sim:first_token_delay=1]]"


@pytest.fixture
def ready(user, workspace, product_template, product_inputs):
    # The workers hash with Django's default hashers (the suite's MD5 is only this process's):
    # PBKDF2, with few iterations so that logging in stays quick.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "infrasalt", iterations=1000)
    user.save(update_fields=["password"])
    return {
        "workspace": workspace.pk,
        "version": product_template.current_version().pk,
        "inputs": product_inputs,
    }


@pytest.fixture(autouse=True)
def recovered(request, transactional_db, cluster: Cluster):
    """Each test starts with both workers and Redis up (a fault before may have taken one
    down: a fresh one is started, as a supervisor would), and ends with no generation left
    running before its rows are flushed."""
    if not cluster.redis.answers():
        cluster.redis.kill()
        cluster.redis.start()
    cluster.restart()
    yield
    active = Generation.objects.filter(status__in=Generation.ACTIVE)
    try:
        wait_for(lambda: not active.exists(), 5, "the last generations to end")
    except AssertionError:
        left = list(active.values_list("pk", "status"))
        count_stuck(pk for pk, _ in left)
        cluster.tainted = True
    else:
        left = []
    # A generation's status comes before its runner's last write (its audit row): its rows
    # are emptied only once no runner is left, or a late row breaks the emptying (a foreign
    # key to a user deleted meanwhile). A dead worker's heartbeat expires within its TTL.
    try:
        wait_for(lambda: not cluster.redis.runners_beating(), HEARTBEAT_TTL + 5, "the runners")
    except AssertionError:
        cluster.tainted = True  # its workers are restarted below
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # What the workers logged (WARNING and up) goes with the failure's report: their log
        # files are gone with the run's temporary directory.
        for worker in cluster.workers:
            logger.warning("Worker %s's log, last lines:\n%s", worker.name, worker.tail(60))
    if cluster.tainted or report is None or report.failed:
        # A failed test may leave its workers broken (say a database connection the studio
        # did not heal): the next test gets fresh ones, so that each fails for its own fault.
        cluster.tainted = False
        cluster.restart(*cluster.workers)
        active.update(status=Generation.Status.INTERRUPTED)  # no process runs them any more
    if report is not None and report.passed:
        assert not left, f"generations stuck after the test: {left}"


@pytest.fixture
def session(cluster: Cluster, ready) -> Iterator[Client]:
    session = Client(cluster.a.url)
    yield session
    session.http.close()


def start(session: Client, base: str, ready: dict, tokens: int, directive: str = "") -> tuple:
    """Start a generation the way the browser does (the Generate form, over htmx) on the
    worker at ``base``; returns its id and the marker that finds its upstream request. A user
    who gets an error page clicks again: up to three tries."""
    marker = f"infra{uuid.uuid4().hex[:12]}x"
    inputs = {
        **ready["inputs"],
        "product_name": marker,
        "features": f"Lamp [[sim:tokens={tokens}]] {directive}",
    }
    for attempt in range(3):
        try:
            response = session.post_generate(base, ready, inputs)
        except httpx.TransportError as exc:
            response = exc
        if isinstance(response, httpx.Response) and response.status_code < 500:
            break
        time.sleep(0.2 * (attempt + 1))
    STATS["generations"] += 1
    assert isinstance(response, httpx.Response), f"{marker}: {response!r}"
    return generation_id(response), marker


def watch(session: Client, generation: int, *bases: str, timeout: float = 40) -> Watcher:
    return Watcher(session.http.cookies, generation, list(bases), timeout=timeout).start()


def settle(*ids: int, timeout: float = SETTLE) -> None:
    """Until every one of ``ids`` has ended; those that have not are counted as stuck."""
    active = Generation.objects.filter(pk__in=ids, status__in=Generation.ACTIVE)
    try:
        wait_for(lambda: not active.exists(), timeout, f"generations {ids} to end")
    except AssertionError:
        stuck = list(active.values_list("pk", "status", "text"))
        count_stuck(pk for pk, _, _ in stuck)
        described = [(pk, status, f"{len(text)} characters stored") for pk, status, text in stuck]
        raise AssertionError(f"stuck after {timeout} s: {described}") from None


def check(cluster: Cluster, generation: int, marker: str, watcher: Watcher | None) -> Checked:
    """The generation's three texts (after it ended), its lost characters counted."""
    if watcher is not None:
        watcher.join()
    row = Generation.objects.get(pk=generation)
    checked = Checked(
        generation,
        marker,
        row.status,
        cluster.upstream.sent_text(marker),
        row.text,
        None if watcher is None or watcher.came_after_end else watcher.text,
    )
    STATS["lost"] += checked.lost
    return checked


def assert_exact(checked: Checked, watcher: Watcher | None = None) -> None:
    """Done, and the watcher saw, the database holds and the upstream generated one text."""
    detail = checked.describe()
    if watcher is not None:
        detail += f"; watcher: done={watcher.done}, {watcher.reconnects} reconnects"
        detail += f", errors {watcher.errors[-3:]}"
    assert checked.status == "done", detail
    assert checked.sent, detail
    assert checked.stored == checked.sent, detail
    if checked.seen is not None:
        assert watcher is None or watcher.done, detail
        assert checked.seen == checked.sent, detail
