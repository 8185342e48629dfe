"""Framework tuning (``studio.tuning``): what it assumes of Django and asgiref still holds, and
each tuning does what it is for — and nothing when ``STUDIO_FRAMEWORK_TUNING`` is off."""

import asyncio
import gc
import threading
import weakref

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import checks
from django.http import HttpRequest
from django.test import RequestFactory

from studio import tuning


def test_every_assumption_about_django_and_asgiref_holds():
    """Fails after a Django or asgiref upgrade that breaks one: adapt studio/tuning.py, or
    turn the tuning off (STUDIO_FRAMEWORK_TUNING=false) until it is."""
    assert tuning.broken_assumptions() == []


def test_a_broken_assumption_is_named_and_fails_the_system_check(monkeypatch, settings):
    monkeypatch.delattr(SyncToAsync, "context_to_thread_executor")
    monkeypatch.setattr(tuning.MessageMiddleware.__mro__[1], "async_capable", False)

    problems = tuning.broken_assumptions()

    assert problems == [
        "studio.tuning: asgiref's SyncToAsync.context_to_thread_executor is gone",
        "studio.tuning: django.contrib.messages.middleware.MessageMiddleware is no "
        "async-capable MiddlewareMixin",
    ]
    errors = checks.run_checks()
    assert [e.msg for e in errors if e.id == "studio.E001"] == problems
    settings.STUDIO_FRAMEWORK_TUNING = False  # off: nothing relies on them
    assert not [e for e in checks.run_checks() if e.id == "studio.E001"]


async def test_a_stream_gives_its_request_thread_back_once_it_starts():
    """An SSE stream must not hold an idle OS thread per watcher for minutes; anything
    synchronous after that still runs (on a fresh thread)."""
    async with ThreadSensitiveContext():
        request_thread = await sync_to_async(threading.current_thread)()

        frames = [frame async for frame in tuning.threadless(_frames())]
        await asyncio.to_thread(request_thread.join, timeout=5)

        assert frames == [b"one", b"two"]
        assert not request_thread.is_alive()
        later = await sync_to_async(threading.current_thread)()
        assert later is not request_thread and later is not threading.main_thread()


@pytest.mark.django_db
async def test_untuned_a_stream_keeps_its_request_thread(settings):
    settings.STUDIO_FRAMEWORK_TUNING = False
    async with ThreadSensitiveContext():
        request_thread = await sync_to_async(threading.current_thread)()

        frames = [frame async for frame in tuning.threadless(_frames())]

        assert frames == [b"one", b"two"] and request_thread.is_alive()
        assert await sync_to_async(threading.current_thread)() is request_thread


async def _frames():
    yield b"one"
    yield b"two"


def _one_trip(client):
    """The client's handler, loaded, with its view hooks in one trip (as studio.asgi's)."""
    client.handler.load_middleware(is_async=True)
    tuning.one_view_trip(client.handler)
    return client


@pytest.mark.django_db(transaction=True)
async def test_a_request_s_view_hooks_run_in_one_trip_to_its_thread(
    async_client, user, thread_trips
):
    await async_client.aforce_login(user)
    thread_trips.clear()
    assert (await async_client.get("/")).status_code == 200
    apart = list(thread_trips)

    _one_trip(async_client)
    thread_trips.clear()
    assert (await async_client.get("/")).status_code == 200

    # CSRF, the user read with a membership, login required, the rate limits, the role check
    # and the view's first read: six trips before, one now.
    assert len(apart) - len(thread_trips) == 5
    assert [t for t in thread_trips if t.startswith("studio.tuning.")] == [
        "studio.tuning._in_one_trip.<locals>.process_view"
    ]


@pytest.mark.django_db(transaction=True)
async def test_the_hooks_in_one_trip_still_answer_in_order(user, workspace, monkeypatch):
    from django.test import AsyncClient

    from studio.guardrails import page_rate_limits

    counted: list[str] = []
    real = page_rate_limits.check_rate
    monkeypatch.setattr(
        page_rate_limits,
        "check_rate",
        lambda request, **kwargs: counted.append(kwargs["route"]) or real(request, **kwargs),
    )
    anonymous = _one_trip(AsyncClient())
    assert (await anonymous.get(f"/w/{workspace.pk}/")).status_code == 302  # login required

    signed_in = _one_trip(AsyncClient(enforce_csrf_checks=True))
    await signed_in.aforce_login(user)
    refused = await signed_in.post(f"/w/{workspace.pk}/generate/", {"version": "1"})
    assert refused.status_code == 403  # CSRF answers first: the rate limit never counts it
    assert counted == []


def test_untuned_the_view_hooks_are_left_as_django_adapts_them(settings):
    from django.core.handlers.asgi import ASGIHandler

    settings.STUDIO_FRAMEWORK_TUNING = False
    handler = ASGIHandler()
    hooks = list(handler._view_middleware)
    assert len(hooks) >= 3
    assert tuning.one_view_trip(handler)._view_middleware == hooks

    settings.STUDIO_FRAMEWORK_TUNING = True
    assert len(tuning.one_view_trip(handler)._view_middleware) == 1


@pytest.mark.django_db(transaction=True)
async def test_the_security_middleware_runs_on_the_loop_and_still_does_its_work(
    async_client, user, thread_trips, settings
):
    """Tuning 5: no trip to the request's thread for its two hooks; its headers and its
    redirect to HTTPS as before."""
    settings.SECURE_HSTS_SECONDS = 3600
    await async_client.aforce_login(user)
    async_client.handler.load_middleware(is_async=True)
    thread_trips.clear()
    assert (await async_client.get("/", secure=True)).status_code == 200
    apart = list(thread_trips)

    tuning.security_on_the_loop(async_client.handler)
    thread_trips.clear()
    page = await async_client.get("/", secure=True)

    assert [t for t in apart if "SecurityMiddleware" in t] == [
        "django.middleware.security.SecurityMiddleware.process_request",
        "django.middleware.security.SecurityMiddleware.process_response",
    ]
    assert not [t for t in thread_trips if "SecurityMiddleware" in t]
    assert page.status_code == 200 and page["Strict-Transport-Security"].startswith("max-age=3600")
    assert page["X-Content-Type-Options"] == "nosniff"
    settings.SECURE_SSL_REDIRECT = True
    async_client.handler.load_middleware(is_async=True)  # the middleware reads it at start
    tuning.security_on_the_loop(async_client.handler)
    redirect = await async_client.get("/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")


def test_without_the_tuning_the_security_middleware_keeps_its_trips(async_client, settings):
    settings.STUDIO_FRAMEWORK_TUNING = False
    async_client.handler.load_middleware(is_async=True)
    chain = list(tuning._chain(async_client.handler))

    tuning.security_on_the_loop(async_client.handler)

    (security,) = [m for m in chain if type(m).__name__ == "SecurityMiddleware"]
    assert "__acall__" not in vars(security)


# --- 6. Request threads are reused ------------------------------------------------------


def _recording_app(threads: list[threading.Thread], *, calls: int = 2, during=None):
    """An ASGI app whose request makes ``calls`` synchronous calls, each noting its thread."""

    async def app(scope, receive, send) -> None:
        for _ in range(calls):
            threads.append(await sync_to_async(threading.current_thread)())
        if during is not None:
            await during()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return tuning.request_threads(app)


async def _request(app) -> None:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": "/"}, receive, send)
    assert sent[-1]["body"] == b"ok"


@pytest.fixture
def pool(monkeypatch):
    """An empty pool of idle request threads of this test's own."""
    threads = tuning.RequestThreads(keep=4)
    monkeypatch.setattr(tuning, "REQUEST_THREADS", threads)
    return threads


async def test_one_request_s_synchronous_parts_share_a_thread_the_next_request_reuses(pool):
    """No OS thread started (and another to join it) per request: each request borrows an
    idle one, and keeps it to itself while it runs."""
    first, second = [], []

    await _request(_recording_app(first))
    await _request(_recording_app(second))

    assert first[0] is first[1] is second[0] is second[1]
    assert first[0] is not threading.main_thread() and first[0].is_alive()
    assert len(pool) == 1


async def test_requests_in_flight_at_once_each_have_a_thread_of_their_own(pool):
    both_in, threads, lent = asyncio.Barrier(2), [], []

    async def meet():
        await both_in.wait()
        lent.append(pool.lent)
        await both_in.wait()  # neither ends before both have looked

    app = _recording_app(threads, calls=1, during=meet)
    await asyncio.gather(_request(app), _request(app))

    assert threads[0] is not threads[1]
    assert len(pool) == 2
    assert lent == [2, 2] and pool.lent == 0  # counted while held, not after


async def test_the_pool_is_busy_from_busy_requests_threads_lent_or_waited_for(monkeypatch):
    pool = tuning.RequestThreads(keep=4, limit=1)
    monkeypatch.setattr(tuning, "BUSY_REQUESTS", 2)
    first = await pool.lend()
    assert not pool.busy()
    second = asyncio.ensure_future(pool.lend())
    await asyncio.sleep(0)
    assert pool.busy() and (pool.lent, pool.waiting) == (1, 1)
    pool.give_back(first)
    assert not pool.busy()
    pool.give_back(await second)
    assert (pool.lent, pool.waiting) == (0, 0)


async def test_beyond_the_limit_requests_wait_in_order_for_a_thread_given_back():
    """A burst of requests must not start a thread (and a database connection) each: past
    the limit they wait on the loop, first come first served, and get the thread given back."""
    pool = tuning.RequestThreads(keep=4, limit=2)
    held = [await pool.lend(), await pool.lend()]
    for thread in held:
        thread.submit(lambda: None).result()
    third, fourth = asyncio.ensure_future(pool.lend()), asyncio.ensure_future(pool.lend())
    await asyncio.sleep(0)
    assert not third.done() and not fourth.done() and pool.waiting == 2

    pool.give_back(held[1])
    assert await third is held[1] and not fourth.done()
    pool.give_back(held[0])
    assert await fourth is held[0]
    assert (pool.lent, pool.waiting) == (2, 0)


async def test_a_request_that_leaves_the_line_takes_no_thread_and_gives_back_one_handed_it():
    pool = tuning.RequestThreads(keep=4, limit=1)
    first = await pool.lend()
    leaving, next_one = asyncio.ensure_future(pool.lend()), asyncio.ensure_future(pool.lend())
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    assert pool.waiting == 1

    pool.give_back(first)
    assert await next_one is first  # the one that left was skipped

    handed = asyncio.ensure_future(pool.lend())
    await asyncio.sleep(0)
    pool.give_back(first)  # handed to it ...
    handed.cancel()  # ... as it leaves: it gives it back, nothing stays lent
    with pytest.raises(asyncio.CancelledError):
        await handed
    assert (pool.lent, pool.waiting, len(pool)) == (0, 0, 1)


async def test_a_thread_given_back_on_another_loop_reaches_the_request_waiting_on_this_one():
    """Servers on several threads share the pool (tests): the hand-over crosses loops."""
    pool = tuning.RequestThreads(keep=4, limit=1)
    first = await pool.lend()
    waiting = asyncio.ensure_future(pool.lend())
    await asyncio.sleep(0)

    await asyncio.to_thread(pool.give_back, first)

    assert await asyncio.wait_for(waiting, 5) is first and pool.lent == 1


async def test_a_thread_still_busy_when_its_request_ends_is_not_lent_again(pool):
    """A client that left mid-call: the call runs on, and the next request must not queue
    behind it."""
    release, threads = threading.Event(), []

    async def abandon_a_call():
        call = asyncio.ensure_future(sync_to_async(release.wait)(5))
        await asyncio.sleep(0.05)
        call.cancel()  # the await ends; the thread keeps running release.wait

    await _request(_recording_app(threads, calls=1, during=abandon_a_call))
    busy = threads[0]
    await _request(_recording_app(threads, calls=1))
    release.set()
    await asyncio.to_thread(busy.join, timeout=5)

    assert threads[1] is not busy
    assert not busy.is_alive()  # ended after its call, not kept


async def test_a_stream_gives_its_lent_thread_back_as_it_starts(pool):
    """The stream's request thread serves other requests while the stream runs on; a rare
    synchronous call later in the stream gets a fresh thread, ended with the request."""
    started, finish, threads = asyncio.Event(), asyncio.Event(), []

    async def stream_then_call():
        async for _ in tuning.threadless(_frames()):
            pass
        started.set()
        await finish.wait()
        threads.append(await sync_to_async(threading.current_thread)())

    streaming = asyncio.ensure_future(
        _request(_recording_app(threads, calls=1, during=stream_then_call))
    )
    await started.wait()
    other = []
    await _request(_recording_app(other, calls=1))
    finish.set()
    await streaming
    fresh = threads[1]
    await asyncio.to_thread(fresh.join, timeout=5)

    assert other[0] is threads[0]  # given back when the stream started
    assert fresh is not threads[0] and not fresh.is_alive()
    assert len(pool) == 1


def test_idle_threads_beyond_the_limit_end():
    threads = tuning.RequestThreads(keep=1)
    kept, extra = tuning.RequestThread(), tuning.RequestThread()
    for thread in (kept, extra):
        thread.submit(lambda: None).result()

    threads.give_back(kept)
    threads.give_back(extra)

    assert len(threads) == 1 and asyncio.run(threads.lend()) is kept
    assert extra._shutdown and kept.submit(lambda: 1).result() == 1


async def test_untuned_each_request_starts_a_thread_of_its_own(pool, settings):
    settings.STUDIO_FRAMEWORK_TUNING = False
    first, second = [], []

    async with ThreadSensitiveContext():  # as Django's handler enters it per request
        await _request(_recording_app(first))
    async with ThreadSensitiveContext():
        await _request(_recording_app(second))

    assert first[0] is first[1] and second[0] is second[1]
    assert first[0] is not second[0]
    assert len(pool) == 0


@pytest.mark.django_db(transaction=True)
async def test_the_studio_s_pages_run_on_reused_threads_and_leave_no_connection_open(pool):
    """Through studio.asgi: Django's own per-request context changes nothing inside the lent
    one, and each request still closes its database connection at its end."""
    from django.core.signals import request_started
    from django.db import connections

    from studio import asgi

    started_on = []

    def note_thread(**kwargs):
        started_on.append(threading.current_thread())

    request_started.connect(note_thread)
    for _ in range(3):
        communicator = ApplicationCommunicator(
            asgi.application,
            {
                "type": "http",
                "method": "GET",
                "path": "/accounts/login/",
                "query_string": b"",
                "headers": [(b"host", b"testserver")],
            },
        )
        await communicator.send_input({"type": "http.request", "body": b""})
        assert (await communicator.receive_output(5))["status"] == 200
        await communicator.wait(5)

    request_started.disconnect(note_thread)

    assert len(pool) == 1
    thread = await pool.lend()
    assert started_on == [await asyncio.wrap_future(thread.submit(threading.current_thread))] * 3
    open_connections = await asyncio.wrap_future(
        thread.submit(lambda: [c.alias for c in connections.all() if c.connection is not None])
    )
    assert open_connections == []


# --- 7. Hot reads compiled once -------------------------------------------------------------


def _generations_shape(pk: int):
    """finish_generation's shape: related rows, a reverse one-to-one and an annotation."""
    from django.db.models import Exists, OuterRef

    from drafts.models import DraftVersion, Generation

    kept = Exists(DraftVersion.objects.filter(generation=OuterRef("pk")))
    related = Generation.objects.select_related("draft", "suggestion", "variant_run")
    return related.annotate(kept=kept).filter(pk=pk)


def _seen(generation) -> tuple:
    return (
        generation.pk,
        generation.status,
        generation.text,
        generation.messages,
        generation.draft.title,
        generation.kept,
        hasattr(generation, "suggestion"),
        hasattr(generation, "variant_run"),
    )


@pytest.mark.django_db
def test_a_prepared_read_returns_the_queryset_s_row_and_compiles_once(user, workspace, compiles):
    from drafts.models import Draft, DraftVersion, Generation

    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=user)
    common = {"created_by": user, "model": "m", "messages": [{"role": "user", "content": "写"}]}
    kept = draft.generations.create(**common, status="done", text="Kept")
    DraftVersion.objects.create(
        draft=draft, number=1, text="Kept", source="generated", author=user, generation=kept
    )
    running = draft.generations.create(**common, status="running", text="So far")
    expected = {g.pk: _seen(_generations_shape(g.pk).get()) for g in (kept, running)}
    compiles.clear()

    prepared = tuning.Prepared(_generations_shape)
    seen = {pk: _seen(prepared.get(pk)) for pk in [kept.pk, running.pk, kept.pk]}

    assert seen == expected and expected[kept.pk][5] is True and expected[running.pk][5] is False
    assert len(compiles) == 1  # the first read's; the others ran its SQL with their own key
    with pytest.raises(Generation.DoesNotExist):
        prepared.get(running.pk + 1000)
    assert len(compiles) == 1


@pytest.mark.django_db
def test_a_prepared_read_of_two_keys_finds_each_pair_and_compiles_once(
    user, other_user, workspace, compiles
):
    """A generation by its id and the user's: found for a member, not for anyone else."""
    from drafts.models import Draft, Generation

    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=user)
    generation = draft.generations.create(created_by=user, model="m", status="running")
    compiles.clear()
    prepared = tuning.Prepared(
        lambda pk, user_id: Generation.objects.for_user(type(user)(pk=user_id)).filter(pk=pk)
    )

    assert prepared.get(generation.pk, user.pk) == generation
    assert prepared.first(generation.pk, other_user.pk) is None  # not a member
    with pytest.raises(Generation.DoesNotExist):
        prepared.get(generation.pk + 1000, user.pk)
    assert prepared.first(generation.pk, user.pk) == generation
    assert len(compiles) == 1


@pytest.mark.django_db
def test_a_locking_read_is_prepared_inside_its_transaction(user, workspace):
    from django.db import transaction

    from drafts.models import Draft, Generation

    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=user)
    generation = draft.generations.create(created_by=user, model="m", status="running")
    prepared = tuning.Prepared(
        lambda pk: Generation.objects.select_for_update(of=("self",)).filter(pk=pk)
    )

    with transaction.atomic():
        assert prepared.get(generation.pk) == generation


@pytest.mark.django_db
def test_a_shape_without_its_key_as_one_parameter_is_refused(user, workspace):
    from drafts.models import Generation

    twice = tuning.Prepared(lambda pk: Generation.objects.filter(pk=pk, draft_id=pk))

    with pytest.raises(ValueError, match="a key is not one parameter"):
        twice.get(1)


@pytest.mark.django_db
def test_untuned_a_prepared_first_is_the_queryset_s_first_row(user, workspace, settings):
    from drafts.models import Draft

    settings.STUDIO_FRAMEWORK_TUNING = False
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=user)
    prepared = tuning.Prepared(lambda pk, ws: Draft.objects.filter(pk=pk, workspace_id=ws))

    assert prepared.first(draft.pk, workspace.pk) == draft
    assert prepared.first(draft.pk, workspace.pk + 1) is None


@pytest.mark.django_db
def test_untuned_a_prepared_read_is_the_queryset_s_get(user, workspace, compiles, settings):
    from drafts.models import Draft

    settings.STUDIO_FRAMEWORK_TUNING = False
    draft = Draft.objects.create(workspace=workspace, title="Launch", created_by=user)
    prepared = tuning.Prepared(lambda pk: Draft.objects.filter(pk=pk))
    compiles.clear()

    assert prepared.get(draft.pk) == draft and prepared.get(draft.pk) == draft
    assert len(compiles) == 2


# --- 8. A request's start signal in the middleware chain's trip -------------------------


async def _login_page() -> int:
    """GET /accounts/login/ through studio.asgi: its status."""
    from studio import asgi

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/accounts/login/",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    communicator = ApplicationCommunicator(asgi.application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    status = (await communicator.receive_output(5))["status"]
    await communicator.wait(5)
    return status


@pytest.fixture
def start_signal(monkeypatch):
    """What reaches a request_started receiver, and when the session middleware starts."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.signals import request_started

    seen: list[tuple[str, object, threading.Thread]] = []

    def receiver(sender, **named):
        seen.append(("started", sender is ASGIHandler and "scope" in named, current()))

    def current() -> threading.Thread:
        return threading.current_thread()

    reads = tuning.SessionMiddleware.process_request

    def session_read(self, request):
        seen.append(("session", None, current()))
        return reads(self, request)

    monkeypatch.setattr(tuning.SessionMiddleware, "process_request", session_read)
    request_started.connect(receiver)
    yield seen
    request_started.disconnect(receiver)


@pytest.mark.django_db
async def test_the_start_signal_reaches_its_receivers_in_the_chain_s_trip(
    pool, thread_trips, start_signal
):
    """Through studio.asgi: request_started's receivers (Django's reset_queries and
    close_old_connections, and any other) get the ASGI handler's send once, with its scope,
    on the request's thread, before the session is read; no trip of its own."""
    assert await _login_page() == 200

    assert [(what, sent) for what, sent, _ in start_signal] == [
        ("started", True),
        ("session", None),
    ]
    assert start_signal[0][2] is start_signal[1][2] is not threading.main_thread()
    assert not [trip for trip in thread_trips if ".asend." in trip], thread_trips


@pytest.mark.django_db
async def test_untuned_the_start_signal_makes_its_own_trip(
    pool, thread_trips, start_signal, settings
):
    settings.STUDIO_FRAMEWORK_TUNING = False

    assert await _login_page() == 200

    assert [(what, sent) for what, sent, _ in start_signal] == [
        ("started", True),
        ("session", None),
    ]
    assert [trip for trip in thread_trips if ".asend." in trip] == [
        "django.dispatch.dispatcher.Signal.asend.<locals>.sync_send"
    ]


def test_other_senders_reach_the_receivers_as_django_sends_them(client, start_signal):
    """The test client sends request_started itself (without close_old_connections, which
    would end a test's transaction): unchanged."""
    assert client.get("/accounts/login/").status_code == 200

    assert [(what, sent) for what, sent, _ in start_signal] == [
        ("started", False),
        ("session", None),
    ]


# --- 9. A request's user lets go of its request ---------------------------------------------


def _signed_in(client, user) -> HttpRequest:
    """A request carrying ``user``'s session, through the session middleware."""
    client.force_login(user)
    request = RequestFactory().get("/")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.session.session_key
    SessionMiddleware(lambda r: None).process_request(request)
    return request


@pytest.mark.django_db
def test_a_request_s_user_once_read_no_longer_holds_the_request(client, user):
    request = _signed_in(client, user)
    tuning.AuthenticationMiddleware(lambda r: None).process_request(request)

    lazy = request.user
    assert lazy.pk == user.pk and request._cached_user == user  # read as Django reads it
    gone = weakref.ref(request)
    del request
    gc.collect()

    assert gone() is None and lazy.username == user.username


@pytest.mark.django_db
def test_a_user_not_read_yet_is_read_from_its_request_when_it_is(client, user):
    """Until it is read, the lazy user needs its request (the session says who it is)."""
    request = _signed_in(client, user)
    tuning.AuthenticationMiddleware(lambda r: None).process_request(request)
    lazy = request.user
    gone = weakref.ref(request)
    del request
    gc.collect()

    assert gone() is not None and lazy.pk == user.pk
    gc.collect()
    assert gone() is None


@pytest.mark.django_db
def test_untuned_django_s_user_holds_its_request_for_as_long_as_it_lives(client, user):
    """Why tuning 9 exists: a row made with created_by=request.user caches this object."""
    request = _signed_in(client, user)
    auth_middleware.AuthenticationMiddleware(lambda r: None).process_request(request)
    lazy = request.user
    assert lazy.pk == user.pk
    gone = weakref.ref(request)
    del request
    gc.collect()

    assert gone() is not None
