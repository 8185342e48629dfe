"""Asking the simulator in-process, as the studio's client does."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from studio.deepseek import DeepSeekClient
from studio.deepseek.simulator import create_app

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN_RE = re.compile(r"[A-Za-z]")
FENCE_RE = re.compile(r"```.*?```", re.S)


def chinese_share(text: str) -> float:
    """The share of letters that are Chinese characters, code blocks left out."""
    prose = FENCE_RE.sub("", text)
    cjk, latin = len(CJK_RE.findall(prose)), len(LATIN_RE.findall(prose))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def is_chinese_prose(text: str) -> bool:
    return chinese_share(text) > 0.8


def is_english_prose(text: str) -> bool:
    return not CJK_RE.search(text) and len(LATIN_RE.findall(text)) > 10


async def chat(messages: list[dict[str, Any]], seed: int = 7, **params: Any) -> Any:
    """One non-streaming answer from a fresh simulator (no pacing, no queue)."""
    params.setdefault("model", "deepseek-flash")
    params.setdefault("thinking", False)
    app = create_app(tokens_per_second=0, first_token_delay=0, seed=seed)
    transport = httpx.ASGITransport(app=app)
    async with DeepSeekClient(base_url="http://sim", api_key="sk-sim", transport=transport) as c:
        return await c.chat(messages=messages, **params)


@pytest.fixture
def ask() -> Callable[..., str]:
    """``ask(messages, temperature=…)``: the simulator's answer text."""

    def ask(messages: list[dict[str, Any]], **params: Any) -> str:
        return asyncio.run(chat(messages, **params)).content

    return ask
