"""Which model, thinking mode and temperature a kind of task gets.

Task types (``copy``, ``chat``, ``translate``, ``technical``, ``code``, ``reasoning``) map to
routes in settings; template purposes map to task types; a template may pin a model, force
thinking or set its own temperature. Model names are configuration, never constants here.

Temperatures follow DeepSeek's published recommendations (the V3-era "Temperature Parameter"
page; V4 docs no longer list them, and nothing has replaced them): coding/maths 0.0, data
cleaning/analysis 1.0, general conversation 1.3, translation 1.3, creative writing 1.5.
Thinking mode ignores temperature, so a thinking route has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TEMPERATURE_PRESETS: dict[str, float] = {
    "copy": 1.5,  # creative writing
    "chat": 1.3,  # general conversation
    "translate": 1.3,
    "technical": 1.0,  # documentation: accurate first, still readable (DeepSeek's "analysis")
    "code": 0.0,
}

# Template purposes (prompts.PromptTemplate.Purpose) to task types.
PURPOSE_TASKS: dict[str, str] = {
    "copy": "copy",
    "email": "copy",
    "ads": "copy",
    "docs": "technical",
    "rewrite": "translate",
}

REASONING = "reasoning"


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved choice of model and mode for one request."""

    model: str
    thinking: bool
    temperature: float | None = None
    reasoning_effort: str | None = None

    def params(self) -> dict[str, Any]:
        """Keyword arguments for ``stream_chat``/``chat`` (besides messages and max_tokens)."""
        params: dict[str, Any] = {"model": self.model, "thinking": self.thinking}
        if self.thinking:
            if self.reasoning_effort:
                params["reasoning_effort"] = self.reasoning_effort
        elif self.temperature is not None:
            params["temperature"] = self.temperature
        return params


def default_routes(
    *, fast_model: str, reasoning_model: str, reasoning_effort: str | None = "high"
) -> dict[str, Route]:
    """Every task on the fast model with thinking off, except ``reasoning``."""
    routes = {
        task: Route(fast_model, thinking=False, temperature=temperature)
        for task, temperature in TEMPERATURE_PRESETS.items()
    }
    routes[REASONING] = Route(reasoning_model, thinking=True, reasoning_effort=reasoning_effort)
    return routes


class Router:
    """Resolves a task type or template purpose, plus a template's own presets, to a route."""

    def __init__(
        self,
        routes: Mapping[str, Route],
        *,
        purposes: Mapping[str, str] = PURPOSE_TASKS,
        default_task: str = "copy",
    ) -> None:
        if default_task not in routes:
            raise ValueError(f"default task {default_task!r} has no route")
        self.routes = dict(routes)
        self.purposes = dict(purposes)
        self.default_task = default_task

    def task_for(self, purpose: str) -> str:
        """The task type for a purpose or task name; unknown names get the default task."""
        task = self.purposes.get(purpose, purpose)
        return task if task in self.routes else self.default_task

    def route(
        self,
        purpose: str,
        *,
        model: str = "",
        thinking: bool | None = None,
        temperature: float | None = None,
    ) -> Route:
        """Resolve ``purpose`` (a template purpose or a task type).

        ``model``: a model the template pins (blank: the route's). ``thinking``: ``True`` or
        ``False`` forces the mode, ``None`` follows the route; forcing thinking on a
        non-thinking route moves it to the reasoning route's model unless a model is pinned.
        ``temperature``: the template's own value (ignored when thinking).
        """
        base = self.routes[self.task_for(purpose)]
        reasoning = self.routes.get(REASONING, base)
        thinks = base.thinking if thinking is None else thinking
        if thinks and not base.thinking:
            chosen, effort = reasoning.model, reasoning.reasoning_effort
        else:
            chosen, effort = base.model, base.reasoning_effort
        if thinks:
            return Route(model or chosen, thinking=True, reasoning_effort=effort)
        preset = base.temperature if base.temperature is not None else None
        if base.thinking:  # thinking switched off on a reasoning route: use a neutral preset
            preset = TEMPERATURE_PRESETS["chat"]
        return Route(
            model or chosen,
            thinking=False,
            temperature=temperature if temperature is not None else preset,
        )
