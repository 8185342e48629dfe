"""Framework tuning (``studio.tuning``): what it assumes of Django and asgiref still holds, and
each tuning does what it is for — and nothing when ``STUDIO_FRAMEWORK_TUNING`` is off."""

import asyncio
import threading

import pytest
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import checks

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
