"""The client's deadlines for the next event (``studio.deepseek.client._Waits``): one timer per
stream, moved only when a deadline comes earlier, and the same outcomes as a timeout per wait."""

from __future__ import annotations

import asyncio

import pytest

from studio.deepseek.client import _Waits


async def test_a_deadline_that_moves_on_with_every_event_keeps_one_timer(monkeypatch):
    loop = asyncio.get_running_loop()
    timers = []
    call_at = loop.call_at
    monkeypatch.setattr(loop, "call_at", lambda *a, **k: timers.append(a) or call_at(*a, **k))
    waits = _Waits(loop)
    for _ in range(50):  # 50 events 2 ms apart, each waited for with a 1 s deadline
        with waits.until(loop.time() + 1):
            await asyncio.sleep(0.002)
    waits.close()
    ours = [t for t in timers if getattr(t[1], "__self__", None) is waits]
    assert len(ours) == 1  # set again only when it fires early (not once per event)


async def test_a_wait_past_its_deadline_raises_timeout_error():
    loop = asyncio.get_running_loop()
    waits = _Waits(loop)
    with pytest.raises(TimeoutError), waits.until(loop.time() + 0.02):
        await asyncio.sleep(1)
    assert asyncio.current_task().cancelling() == 0  # the task is not left cancelling
    with waits.until(loop.time() + 1):  # and the next wait is a wait like any other
        await asyncio.sleep(0.01)
    waits.close()


async def test_an_earlier_deadline_moves_the_timer_forward():
    loop = asyncio.get_running_loop()
    waits = _Waits(loop)
    with waits.until(loop.time() + 10):  # the first token may take long
        await asyncio.sleep(0)
    started = loop.time()
    with pytest.raises(TimeoutError), waits.until(loop.time() + 0.03):  # then idle is short
        await asyncio.sleep(5)
    assert loop.time() - started < 1
    waits.close()


async def test_the_consumer_between_waits_is_never_cancelled():
    loop = asyncio.get_running_loop()
    waits = _Waits(loop)
    with waits.until(loop.time() + 0.01):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)  # the consumer's own code, past that deadline: not cancelled
    waits.close()


async def test_a_cancel_from_outside_stays_a_cancel():
    loop = asyncio.get_running_loop()

    async def waiting() -> None:
        waits = _Waits(loop)
        try:
            with waits.until(loop.time() + 10):
                await asyncio.sleep(10)
        finally:
            waits.close()

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
