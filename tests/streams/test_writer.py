"""The partial-text writer: every stream that changed, saved together, at an interval or
at once when one has a lot unsaved."""

import asyncio

from studio.streams.writer import PartialWriters


class Stream:
    def __init__(self, text: str) -> None:
        self.text = text

    def texts(self) -> tuple[str, str]:
        return self.text, ""


async def test_an_urgent_mark_saves_every_changed_stream_in_one_call(settings):
    settings.GENERATION_PERSIST_INTERVAL = 60  # no timer in play
    saves: list[dict] = []
    saved = asyncio.Event()

    def save(texts):
        saves.append(texts)
        saved.set()

    writers = PartialWriters(save, asyncio.create_task)
    writer = writers.current()
    assert writers.current() is writer  # one per event loop

    writer.mark(1, Stream("first"), urgent=False)
    writer.mark(2, Stream("gone"), urgent=False)
    writer.forget(2)  # ended meanwhile: its end saves it
    writer.mark(3, Stream("second"), urgent=True)
    async with asyncio.timeout(5):
        await saved.wait()
    writer.task.cancel()

    assert saves == [{1: ("first", ""), 3: ("second", "")}]


async def test_the_interval_saves_what_changed_and_a_failed_save_does_not_stop_the_writer(
    settings,
):
    settings.GENERATION_PERSIST_INTERVAL = 0.01
    calls: list[dict] = []
    second = asyncio.Event()

    def save(texts):
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("database away")
        second.set()

    writer = PartialWriters(save, asyncio.create_task).current()
    writer.mark(1, Stream("a"), urgent=False)
    await asyncio.sleep(0.05)
    writer.mark(1, Stream("ab"), urgent=False)
    async with asyncio.timeout(5):
        await second.wait()
    writer.task.cancel()

    assert calls == [{1: ("a", "")}, {1: ("ab", "")}]
