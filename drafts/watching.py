"""What one watcher of a generation's stream gets at the end: the final panel for their role.

The runner renders the final panel once, without a user, for every watcher alike: it shows
every editing control (``workspace_can`` answers True without a request). That suits editors,
who are most watchers. A watcher whose role may not edit (a reviewer) instead gets the panel
rendered for their own request when the ``done`` frame arrives: one render per such watcher,
at the end only, never per token. So what a reviewer sees after a stream is what a page load
shows them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from studio.workspaces.access import membership
from studio.workspaces.models import EDIT

from .events import sse_event


def may_edit_draft(user, draft_id: int) -> bool:
    """Whether the user's role in the draft's workspace may edit it (sync: it may query)."""
    member = membership(user, workspace__drafts=draft_id)
    return member is not None and member.can(EDIT)


def done_frame(frame: bytes) -> tuple[int | None, str] | None:
    """For the final ``done`` frame: its id (None if it has none) and data; else None."""
    head, _, _ = frame.partition(b"\ndata: ")
    lines = head.split(b"\n")
    if b"event: done" not in lines:
        return None
    ids = [line[4:] for line in lines if line.startswith(b"id: ")]
    event_id = int(ids[0]) if ids and ids[0].isdigit() else None
    data = [line[6:] for line in frame.rstrip(b"\n").split(b"\n") if line.startswith(b"data: ")]
    return event_id, b"\n".join(data).decode()


async def bare_done(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The same frames, but the final one says only that the generation ended."""
    async for frame in stream:
        if done_frame(frame) is not None:
            yield sse_event("done", "")
            return
        yield frame


async def final_for_watcher(
    stream: AsyncIterator[bytes], render: Callable[[], Awaitable[str]]
) -> AsyncIterator[bytes]:
    """The same frames, but the final panel is ``render()``'s (this watcher's), same id.

    An empty final event (the generation ended with nothing to show) stays empty.
    """
    async for frame in stream:
        if (done := done_frame(frame)) is None:
            yield frame
            continue
        event_id, html = done
        yield sse_event("done", await render() if html else "", event_id)
        return
