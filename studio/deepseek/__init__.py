"""DeepSeek API client: typed events and errors, an SSE decoder and an offline simulator.

This package imports only httpx and the standard library (never Django), so a CLI, a task
worker or a benchmark can use it directly. ``client`` speaks the wire format; ``resilience``
adds retries and a shared circuit breaker; ``pricing`` turns usage into cost and refuses
prompts that cannot fit; ``routing`` picks model and mode per task; ``status`` checks the
provider.
"""

from .client import ChatParams, DeepSeekClient, Timeouts
from .errors import (
    AuthenticationFailed,
    BadRequest,
    CircuitOpen,
    ConnectionFailed,
    ContextTooLong,
    DeepSeekError,
    InsufficientBalance,
    JsonPromptRequired,
    Overloaded,
    ProtocolError,
    RateLimited,
    StreamTruncated,
    UnknownModel,
    UpstreamTimeout,
    error_from_response,
)
from .events import Balance, ChatResult, ContentDelta, Event, Finish, ReasoningDelta, Usage
from .pricing import (
    check_context,
    cost_usd,
    estimate_prompt_tokens,
    estimate_tokens,
    estimated_usage,
)
from .resilience import (
    BreakerSnapshot,
    CircuitBreaker,
    MemoryStore,
    ResilientClient,
    RetryPolicy,
    StateStore,
)
from .routing import Route, Router, default_routes
from .sse import iter_sse_data
from .status import ProviderStatus, check_provider

__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "Balance",
    "BreakerSnapshot",
    "ChatParams",
    "ChatResult",
    "CircuitBreaker",
    "CircuitOpen",
    "ConnectionFailed",
    "ContentDelta",
    "ContextTooLong",
    "DeepSeekClient",
    "DeepSeekError",
    "Event",
    "Finish",
    "InsufficientBalance",
    "JsonPromptRequired",
    "MemoryStore",
    "Overloaded",
    "ProtocolError",
    "ProviderStatus",
    "RateLimited",
    "ReasoningDelta",
    "ResilientClient",
    "RetryPolicy",
    "Route",
    "Router",
    "StateStore",
    "StreamTruncated",
    "Timeouts",
    "UnknownModel",
    "UpstreamTimeout",
    "Usage",
    "check_context",
    "check_provider",
    "cost_usd",
    "default_routes",
    "error_from_response",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "estimated_usage",
    "iter_sse_data",
]
