"""Shutdown within SHUTDOWN_TIMEOUT (``studio.asgi``): once it has begun (SIGTERM or the
lifespan shutdown), new requests get 503 with Retry-After while the requests in flight
finish; what is still in flight at the bound is cut off, and the server exits in time."""

import asyncio
import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings as django_settings

from studio import asgi
from tests.faults.conftest import parse_frame
from tests.servers import free_port, serve_asgi, serve_command


class Held:
    """A stand-in for Django: each request waits until released, then answers 200."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0
        self.cancelled = 0

    async def __call__(self, scope, receive, send) -> None:
        self.entered += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def http(path: str, language: bytes = b"en") -> ApplicationCommunicator:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"accept-language", language)],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    return ApplicationCommunicator(asgi.application, scope)


async def answer(request: ApplicationCommunicator) -> tuple[int, dict[bytes, bytes], bytes]:
    await request.send_input({"type": "http.request", "body": b""})
    start = await request.receive_output(5)
    body = await request.receive_output(5)
    return start["status"], dict(start["headers"]), body["body"]


async def until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
def held(monkeypatch, settings):
    settings.GENERATION_SWEEP_INTERVAL = 0  # no sweeps: nothing here touches the database
    app = Held()
    monkeypatch.setattr(asgi, "django_application", app)
    return app


async def start_lifespan() -> ApplicationCommunicator:
    lifespan = ApplicationCommunicator(asgi.application, {"type": "lifespan"})
    await lifespan.send_input({"type": "lifespan.startup"})
    assert (await lifespan.receive_output(5))["type"] == "lifespan.startup.complete"
    return lifespan


async def test_once_the_lifespan_shutdown_begins_new_requests_get_503_in_flight_ones_finish(
    held,
):
    lifespan = await start_lifespan()
    in_flight = http("/drafts/")
    await in_flight.send_input({"type": "http.request", "body": b""})
    await until(lambda: held.entered == 1)

    await lifespan.send_input({"type": "lifespan.shutdown"})
    await until(lambda: asgi.DRAIN.draining)
    status, headers, body = await answer(http("/w/1/"))
    api_status, api_headers, api_body = await answer(http("/api/ai/models"))

    assert status == 503 and headers[b"retry-after"] == b"5"
    assert headers[b"content-type"].startswith(b"text/plain")
    assert headers[b"connection"] == b"close"
    assert b"try again" in body
    assert api_status == 503 and api_headers[b"retry-after"] == b"5"
    error = json.loads(api_body)["error"]
    assert error["code"] == "shutting_down" and error["type"] == "server_error"
    _, _, in_chinese = await answer(http("/w/1/", language=b"zh-hans"))
    assert "重启" in in_chinese.decode()
    assert held.entered == 1  # none reached Django

    held.release.set()
    assert (await in_flight.receive_output(5))["status"] == 200
    assert (await lifespan.receive_output(5))["type"] == "lifespan.shutdown.complete"


async def test_sigterm_drains_first_then_hands_the_signal_to_the_server(held):
    """The server's own handler (uvicorn's: stop accepting, exit) runs only once the drain is
    over; until then the socket stays open and new requests are answered 503, not left
    waiting in the listen queue."""
    handed_on = []

    def server_handler(signum, frame) -> None:
        handed_on.append(signum)

    previous = signal.signal(signal.SIGTERM, server_handler)
    try:
        lifespan = await start_lifespan()
        in_flight = http("/drafts/")
        await in_flight.send_input({"type": "http.request", "body": b""})
        await until(lambda: held.entered == 1)

        signal.raise_signal(signal.SIGTERM)
        status, headers, _ = await answer(http("/w/1/"))

        assert status == 503 and headers[b"retry-after"] == b"5"
        assert handed_on == []
        held.release.set()
        assert (await in_flight.receive_output(5))["status"] == 200
        await until(lambda: handed_on == [signal.SIGTERM])

        await lifespan.send_input({"type": "lifespan.shutdown"})
        assert (await lifespan.receive_output(5))["type"] == "lifespan.shutdown.complete"
        assert held.cancelled == 0
        assert signal.getsignal(signal.SIGTERM) is server_handler  # the studio's is gone
    finally:
        signal.signal(signal.SIGTERM, previous)


async def test_what_is_still_in_flight_at_the_bound_is_cut_off(held, settings):
    settings.SHUTDOWN_TIMEOUT = 1.0
    lifespan = await start_lifespan()
    in_flight = http("/drafts/")
    await in_flight.send_input({"type": "http.request", "body": b""})
    await until(lambda: held.entered == 1)

    began = time.monotonic()
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert (await lifespan.receive_output(5))["type"] == "lifespan.shutdown.complete"

    assert time.monotonic() - began < settings.SHUTDOWN_TIMEOUT + 0.5
    assert held.cancelled == 1


async def test_a_new_lifespan_serves_again(held):
    """One process may serve again (tests, a restarted server): the drain is per lifespan."""
    lifespan = await start_lifespan()
    await lifespan.send_input({"type": "lifespan.shutdown"})
    assert (await lifespan.receive_output(5))["type"] == "lifespan.shutdown.complete"

    await start_lifespan()
    held.release.set()

    assert (await answer(http("/drafts/")))[0] == 200


# A process that ends with a reference cycle whose finalizer says when it is collected; the
# collector off, as if no automatic pass came between the cycle and the exit.
EXITS = """
import asyncio, gc, sys, django
django.setup()
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
import prompts.knowledge.ingesting
from studio import asgi
settings.GENERATION_SWEEP_INTERVAL = 0  # no sweeps: no database here
prompts.knowledge.ingesting.start_sweep = lambda: None
async def serve():
    lifespan = ApplicationCommunicator(asgi.application, {"type": "lifespan"})
    for step in ("startup", "shutdown"):
        await lifespan.send_input({"type": f"lifespan.{step}"})
        assert (await lifespan.receive_output(5))["type"] == f"lifespan.{step}.complete"
if sys.argv[1] == "served":
    asyncio.run(serve())
gc.disable()
class Cycle:
    def __del__(self):
        print("collected", flush=True)
cycle = Cycle()
cycle.me = cycle
del cycle
print("exiting", flush=True)
"""


@pytest.mark.parametrize("served", [True, False], ids=["served", "never-served"])
def test_a_process_that_served_leaves_its_heap_to_the_exit(served):
    """Once a lifespan has started, the exit skips the collector's last passes over the heap
    (0.5 s of CPU for a worker, seconds on a loaded machine: serve missed its bound by them);
    a process that never served collects at exit as Python does."""
    ended = subprocess.run(  # noqa: S603 — this interpreter, a fixed script
        [sys.executable, "-c", EXITS, "served" if served else "plain"],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ended.returncode == 0, ended.stderr
    lines = ended.stdout.split()
    assert lines == (["exiting"] if served else ["exiting", "collected"]), ended.stdout


# ``manage.py serve`` for real, on its own SQLite file: the studio, the simulator, and a
# stand-in background worker that ignores SIGTERM (it is killed at the bound).
SERVE = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from studio.workspaces.actions import create_workspace
from studio.management.commands import serve
from django.conf import settings
class NoMigrations(dict):  # the tables straight from the models, as pytest-django makes them
    def __contains__(self, app): return True
    def __getitem__(self, app): return None
settings.MIGRATION_MODULES = NoMigrations()
call_command("migrate", run_syncdb=True, verbosity=0)
call_command("load_demo_templates")
from prompts.models import PromptTemplate
owner = get_user_model().objects.create_user("hamlet", password="pw-hamlet-123")
workspace = create_workspace(name="Marketing", owner=owner)
version = PromptTemplate.objects.get(slug="product-description").current_version()
print("READY", workspace.pk, version.pk, flush=True)
serve.WORKER = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"]
call_command("serve", "--port", sys.argv[1])
"""  # noqa: E501


# Seconds past SHUTDOWN_TIMEOUT allowed for the processes themselves to end (interpreter
# teardown, slow on a busy machine; without the collector's last passes since decision 58).
# Without the drain, serve took the whole generation (about a minute) and a request to the
# image's workers hung.
EXIT_MARGIN = 2.5


def test_sigterm_stops_serve_within_the_bound_with_a_stream_open(tmp_path, product_inputs):
    """An SSE stream open on a long generation, and a worker that ignores SIGTERM: serve
    still exits within SHUTDOWN_TIMEOUT; the stream ends with the generation, interrupted
    with its text kept; the worker and the simulator are gone."""

    from tests.faults.conftest import StudioSession

    bound = 3.0
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEEPSEEK_API_KEY", "PROMETHEUS_MULTIPROC_DIR", "REDIS_URL")
    }
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "DEEPSEEK_SIMULATOR_URL": f"http://127.0.0.1:{free_port()}",
        "SHUTDOWN_TIMEOUT": str(bound),
    }
    with serve_command(SERVE, env) as served:
        process, port, seen, children = served.process, served.port, served.seen, served.children
        workspace, version = map(int, next(x for x in seen if x.startswith("READY")).split()[1:])
        session = StudioSession(f"http://127.0.0.1:{port}")
        session.log_in("hamlet", "pw-hamlet-123")
        inputs = {**product_inputs, "features": "Lamp [[sim:tokens=5000]]"}
        generation_id = session.generate(workspace, version, inputs)

        frames: list = []
        with session.http.stream("GET", f"/generations/{generation_id}/events/") as stream:
            lines_in = stream.iter_lines()
            block: list[str] = []
            for line in lines_in:  # until the first text
                if line:
                    block.append(line)
                elif (frame := parse_frame(block)) and frame.event == "delta":
                    break
                else:
                    block = []
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            for line in lines_in:  # the stream ends with the generation
                if line:
                    block.append(line)
                    continue
                if frame := parse_frame(block):
                    frames.append(frame)
                block = []
        process.wait(timeout=30)
        took = time.monotonic() - signalled

        assert took < bound + EXIT_MARGIN, (took, printed_since(served.lines))
        assert [f.event for f in frames][-1:] == ["done"], frames
        assert "interrupted" in frames[-1].data
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == []


def printed_since(lines: queue.Queue[str]) -> str:
    """What the served process printed since it was last read (its shutdown log)."""
    printed = []
    with contextlib.suppress(queue.Empty):
        while True:
            printed.append(lines.get(timeout=1))
    return "".join(printed)


def test_the_image_stops_within_the_compose_stop_timeout():
    """The image's bound fits inside compose's stop_grace_period (Docker's 10 s default, said
    explicitly), with uvicorn's own graceful timeout only a backstop behind the drain."""
    import yaml

    from tests.studio.test_docker import DOCKERFILE, ROOT, _uvicorn_options

    image = float(re.search(r"^\s+SHUTDOWN_TIMEOUT=(\S+) ", DOCKERFILE, re.MULTILINE).group(1))
    studio = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["studio"]
    grace = float(studio["stop_grace_period"].removesuffix("s"))
    backstop = _uvicorn_options("")["timeout_graceful_shutdown"]

    assert image == 8 and grace == 10 and image + 1 <= grace
    assert 0 < backstop <= asgi.CLOSING_RESERVE + 1
    assert image == django_settings.SHUTDOWN_TIMEOUT  # the default without the image


def test_the_image_s_uvicorn_workers_answer_503_while_they_drain_then_exit_in_time(tmp_path):
    """The image's way: ``uvicorn --workers 2``. A slow client's request is in flight (its
    body never comes); on SIGTERM the workers drain side by side, new requests are answered
    503 with Retry-After (none waits unanswered in the listen queue), and everything has
    exited within the bound, the slow request cut off."""
    bound = 4.0  # the slow request holds its worker for 2.5 s of it: then 503s are sure
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEEPSEEK_API_KEY", "PROMETHEUS_MULTIPROC_DIR", "REDIS_URL")
    }
    env |= {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "GENERATION_SWEEP_INTERVAL": "0",  # nothing here needs the database
        "SHUTDOWN_TIMEOUT": str(bound),
    }
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--port", str(port)]
    command += ["--workers", "2", "--loop", "studio.event_loop:new_event_loop"]
    command += ["--lifespan", "on", "--timeout-graceful-shutdown", "2"]
    process = subprocess.Popen(  # noqa: S603 — this interpreter, fixed arguments
        command, cwd=django_settings.BASE_DIR, env=env, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/healthz/live"
    try:
        deadline = time.monotonic() + 60
        while True:  # a worker answers (uvicorn starts both at once)
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        slow = socket.create_connection(("127.0.0.1", port))
        slow.settimeout(10)
        head = b"POST /healthz/live HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        slow.sendall(head + b"Expect: 100-continue\r\n\r\n")
        # uvicorn says "100 Continue" when the application asks for the body: it is in flight.
        assert slow.recv(4096).startswith(b"HTTP/1.1 100 Continue")
        slow.sendall(b"ab")
        workers = psutil.Process(process.pid).children()

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        answers: list[httpx.Response | str] = []
        while not answers or getattr(answers[-1], "status_code", None) != 503:
            assert time.monotonic() - signalled < bound, answers  # a 503 came before the end
            try:
                answers.append(httpx.get(url, timeout=2))  # a hang fails here (ReadTimeout)
            except httpx.RemoteProtocolError:
                # The idle worker, drained at once, stops serving: a connection it had just
                # accepted, its request not read yet, is closed like an idle keep-alive one
                # (uvicorn's shutdown; any server's). Answered, not left waiting: a client
                # tries again.
                answers.append("closed")
        process.wait(timeout=30)
        took = time.monotonic() - signalled

        assert answers[-1].headers["retry-after"] == "5"
        statuses = {getattr(a, "status_code", a) for a in answers}
        assert statuses <= {200, 503, "closed"}, answers
        assert took < bound + EXIT_MARGIN, took
        _, alive = psutil.wait_procs(workers, timeout=5)
        assert alive == []
        assert b"200 OK" not in slow.recv(4096)  # cut off: closed, or a 500
        slow.close()
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children():
                child.kill()
            process.kill()


@pytest.mark.django_db(transaction=True)
def test_a_server_stopping_in_a_thread_leaves_another_one_serving():
    """Tests run several uvicorn servers in one process (the browser suite's, a fault test's):
    one of them shutting down drains only itself. (With one process-wide drain, the browser
    tests after a fault test got 503 on the login page.)"""
    with serve_asgi(asgi.application) as staying:
        with serve_asgi(asgi.application) as leaving:
            assert httpx.get(f"{leaving.url}/accounts/login/").status_code == 200
        assert httpx.get(f"{staying.url}/accounts/login/").status_code == 200
