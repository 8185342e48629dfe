"""DeepSeek API client: typed events and errors, an SSE decoder and an offline simulator.

This package imports only httpx and the standard library (never Django), so a CLI, a task
worker or a benchmark can use it directly.
"""

from .client import DeepSeekClient, Timeouts
from .errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectionFailed,
    DeepSeekError,
    InsufficientBalance,
    Overloaded,
    ProtocolError,
    RateLimited,
    StreamTruncated,
    UpstreamTimeout,
    error_from_response,
)
from .events import Balance, ChatResult, ContentDelta, Event, Finish, ReasoningDelta, Usage
from .sse import iter_sse_data

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "Balance",
    "ChatResult",
    "ConnectionFailed",
    "ContentDelta",
    "DeepSeekClient",
    "DeepSeekError",
    "Event",
    "Finish",
    "InsufficientBalance",
    "Overloaded",
    "ProtocolError",
    "RateLimited",
    "ReasoningDelta",
    "StreamTruncated",
    "Timeouts",
    "UpstreamTimeout",
    "Usage",
    "error_from_response",
    "iter_sse_data",
]
