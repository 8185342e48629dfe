"""The streaming engine: what runs in the background and what SSE watchers follow.

It knows nothing of drafts or the assistant (it imports only Django, the stdlib, asgiref
and redis): its owners say what runs, what is saved, and how the end looks to each viewer.

- ``events``: typed events (``Delta``, ``Reasoning``, ``Block`` with its owner's sanitized
  HTML, ``Done`` with a status and ids, never HTML) and the seq-numbered ``EventLog``, with
  ``follow()`` (replay after Last-Event-ID, then live, paced) for any number of watchers.
- ``admission``: at most so many runs at once per worker (a setting); the rest wait in
  order, their place in line in their log as ``Queued`` items.
- ``registry``: the running tasks of one kind, their logs, heartbeat (alive keys with a TTL),
  stopping from any worker, and shutdown.
- ``relay``: the Redis mirror of logs and the stop channel, for watchers in other workers.
- ``writer``: one writer per worker for the text so far of every running stream.
- ``framing`` and ``sse``: SSE frames, the final frame rendered for its viewer, the
  response, and database connections given back before a long stream.
"""

from .admission import Admission
from .events import Block, Delta, Done, EventLog, GrowingText, Queued, Reasoning, Snapshot, follow
from .framing import HEARTBEAT, sse_event
from .registry import Registry, shutdown
from .sse import frames, last_event_id, only, release_connections, response

__all__ = [
    "HEARTBEAT",
    "Admission",
    "Block",
    "Delta",
    "Done",
    "EventLog",
    "GrowingText",
    "Queued",
    "Reasoning",
    "Registry",
    "Snapshot",
    "follow",
    "frames",
    "last_event_id",
    "only",
    "release_connections",
    "response",
    "shutdown",
    "sse_event",
]
