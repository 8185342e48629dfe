"""LLM-as-judge: the prompt that asks DeepSeek to score one output against a rubric, and a
robust reading of its reply (strict JSON asked for; fences, prose around it and "7/10" coped
with; anything else is recorded as unparseable, never guessed)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SYSTEM = (
    "You are a strict, consistent reviewer of marketing and technical writing. "
    "Score the OUTPUT against the RUBRIC only, from 1 (fails it) to 10 (meets every point). "
    'Reply with one JSON object and nothing else: {"score": <integer 1-10>, '
    '"reason": "<one short sentence>"}.'
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*10)?\s*$")


@dataclass(frozen=True)
class Verdict:
    score: int | None  # None: the reply could not be read
    reason: str

    @property
    def parsed(self) -> bool:
        return self.score is not None


def judge_messages(*, rubric: str, inputs: dict[str, Any], output: str) -> list[dict[str, str]]:
    """The chat messages for one judgement: the rubric, the inputs it answered, the output."""
    brief = "\n".join(f"- {name}: {value}" for name, value in inputs.items())
    user = f"RUBRIC:\n{rubric.strip()}\n\nINPUTS:\n{brief}\n\nOUTPUT:\n{output.strip()}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_verdict(reply: str) -> Verdict:
    """Read ``{"score": n, "reason": "…"}`` from a reply; ``score`` None when it cannot."""
    match = _OBJECT.search(reply or "")
    if not match:
        return Verdict(None, "")
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return Verdict(None, "")
    if not isinstance(data, dict):
        return Verdict(None, "")
    score = _score(data.get("score"))
    reason = str(data.get("reason") or "").strip()[:500]
    return Verdict(score, reason)


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        found = _FRACTION.match(value)
        value = float(found.group(1)) if found else None
    if isinstance(value, int | float) and float(value).is_integer() and 1 <= value <= 10:
        return int(value)
    return None
