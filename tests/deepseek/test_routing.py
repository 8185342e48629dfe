"""Task types and template purposes to model, thinking mode and temperature."""

from __future__ import annotations

import pytest

from studio.deepseek import Route, Router, default_routes


@pytest.fixture
def router() -> Router:
    return Router(default_routes(fast_model="fast-m", reasoning_model="think-m"))


@pytest.mark.parametrize(
    ("purpose", "temperature"),
    [
        ("copy", 1.5),
        ("email", 1.5),
        ("ads", 1.5),
        ("docs", 1.0),
        ("rewrite", 1.3),
        ("chat", 1.3),
        ("code", 0.0),
        ("translate", 1.3),
    ],
)
def test_non_thinking_routes_use_the_fast_model_and_presets(router, purpose, temperature):
    route = router.route(purpose)
    assert route == Route("fast-m", thinking=False, temperature=temperature)
    assert route.params() == {"model": "fast-m", "thinking": False, "temperature": temperature}


def test_reasoning_route_thinks_on_the_reasoning_model(router):
    route = router.route("reasoning")
    assert route == Route("think-m", thinking=True, reasoning_effort="high")
    assert route.params() == {"model": "think-m", "thinking": True, "reasoning_effort": "high"}


def test_template_asking_for_thinking_moves_to_the_reasoning_model(router):
    assert router.route("copy", thinking=True) == Route(
        "think-m", thinking=True, reasoning_effort="high"
    )


def test_pinned_model_wins(router):
    assert router.route("copy", model="pinned").model == "pinned"
    assert router.route("copy", model="pinned", thinking=True).model == "pinned"


def test_template_temperature_wins_but_not_when_thinking(router):
    assert router.route("docs", temperature=0.2).temperature == 0.2
    assert router.route("docs", temperature=0.2, thinking=True).temperature is None


def test_reasoning_route_with_thinking_switched_off(router):
    route = router.route("reasoning", thinking=False)
    assert route == Route("think-m", thinking=False, temperature=1.3)


def test_unknown_purpose_gets_the_default_task(router):
    assert router.route("poetry") == router.route("copy")


def test_default_task_must_exist():
    with pytest.raises(ValueError, match="default task"):
        Router({}, default_task="copy")
