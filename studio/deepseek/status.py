"""Is DeepSeek usable right now? One check for the provider-status page and health checks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .client import DeepSeekClient
from .errors import DeepSeekError, UpstreamTimeout
from .events import Balance
from .resilience import BreakerSnapshot, ResilientClient


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """What one check found. ``error`` is an editor-readable reason when not ``usable``."""

    reachable: bool
    models: list[str] = field(default_factory=list)
    balance: Balance | None = None
    breaker: BreakerSnapshot | None = None
    error: str = ""
    error_code: str = ""
    latency_ms: int | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def usable(self) -> bool:
        """Reachable, key accepted, credit available, breaker not open."""
        has_credit = self.balance is None or self.balance.is_available
        breaker_ok = self.breaker is None or self.breaker.state != "open"
        return self.reachable and has_credit and breaker_ok

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly summary (for a health endpoint)."""
        return {
            "usable": self.usable,
            "reachable": self.reachable,
            "models": self.models,
            "balance_available": None if self.balance is None else self.balance.is_available,
            "breaker": None if self.breaker is None else self.breaker.state,
            "error": self.error_code or None,
            "latency_ms": self.latency_ms,
        }


async def check_provider(
    client: DeepSeekClient | ResilientClient, *, timeout: float = 10.0
) -> ProviderStatus:
    """List the models and read the balance concurrently, bounded by ``timeout`` seconds.

    Never raises for DeepSeek problems: they become ``reachable=False`` with the error's
    ``user_message``. Bypasses the breaker (it reports it instead), so the page can show that
    DeepSeek is back before the breaker's cooldown ends.
    """
    breaker = client.breaker if isinstance(client, ResilientClient) else None
    snapshot = await breaker.snapshot() if breaker is not None else None
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            models, balance = await asyncio.gather(
                client.list_models(), client.balance(), return_exceptions=True
            )
    except TimeoutError:
        models = balance = UpstreamTimeout("total", timeout)
    latency = round((time.monotonic() - started) * 1000)
    for outcome in (models, balance):
        if isinstance(outcome, BaseException) and not isinstance(outcome, DeepSeekError):
            raise outcome  # a bug, not an outage
    if isinstance(models, DeepSeekError):
        return ProviderStatus(
            reachable=False,
            breaker=snapshot,
            error=models.user_message,
            error_code=type(models).__name__,
            latency_ms=latency,
        )
    # The balance endpoint failing on its own (a proxy that only forwards chat) is no outage.
    return ProviderStatus(
        reachable=True,
        models=models,
        balance=balance if isinstance(balance, Balance) else None,
        breaker=snapshot,
        latency_ms=latency,
    )
