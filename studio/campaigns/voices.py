"""A brand voice's forbidden words, read from its style guide. Pure Python.

A brand voice is one versioned text (``prompts.BrandVoice``). The words it forbids are the
lines of that text labelled as such, in English or Chinese, so a team keeps its voice in one
place and the campaign check (``channels.check(forbidden=…)``) follows its newest version::

    Forbidden words: cheap, revolutionary, "game-changer"
    Never use: best-in-class
    禁用词：最便宜、第一

The label is case-insensitive and ends at the first ``:`` or ``：``; the words are separated
by commas, semicolons or 、 (either width); quotes around a word are dropped.
"""

from __future__ import annotations

import re

LABELS = (
    "forbidden words",
    "forbidden",
    "banned words",
    "never use",
    "do not use",
    "don't use",
    "avoid words",
    "禁用词",
    "禁用词语",
    "禁止使用",
    "不要使用",
)
_LINE = re.compile(r"^\s*[-*•]?\s*([^:：]{1,40})[:：](.*)$")
_SEPARATORS = re.compile(r"[,，;；、]")
_QUOTES = "\"'“”‘’「」『』`"
MAX_WORDS = 200


def forbidden_words(text: str) -> tuple[str, ...]:
    """The words the style guide forbids, in order, each once (case-insensitively)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or match.group(1).strip().casefold() not in LABELS:
            continue
        for word in _SEPARATORS.split(match.group(2)):
            word = word.strip().strip(_QUOTES).strip()
            if word and len(word) <= 60:
                found.setdefault(word.casefold(), word)
    return tuple(found.values())[:MAX_WORDS]
