"""Every channel has a name and every violation words, in English and Chinese."""

from __future__ import annotations

import pytest
from django.utils import translation

from studio.campaigns.channels import BUILT_IN, Violation
from studio.campaigns.labels import CHANNEL_NAMES, channel_name, violation_message

EVERY_VIOLATION = [
    Violation("too_long", {"length": 32, "limit": 30}),
    Violation("emoji"),
    Violation("missing_cta"),
    Violation("missing_link"),
    Violation("forbidden_word", {"word": "cheap"}),
    Violation("item_count", {"found": 2, "expected": 3}),
    Violation("too_many_items", {"found": 16, "max": 15}),
]


def test_every_built_in_channel_has_a_name():
    assert set(CHANNEL_NAMES) == set(BUILT_IN)
    assert channel_name("x_post") == "X post"


@pytest.mark.parametrize("violation", EVERY_VIOLATION, ids=lambda v: v.code)
def test_every_violation_is_worded_in_both_languages(violation):
    english = violation_message(violation)
    assert english != violation.code
    with translation.override("zh-hans"):
        chinese = violation_message(violation)
    assert chinese != english and chinese != violation.code


def test_too_long_says_by_how_much():
    assert violation_message(EVERY_VIOLATION[0]) == "32 of 30: 2 too long."
    with translation.override("zh-hans"):
        assert violation_message(EVERY_VIOLATION[0]) == "32 / 30：超出 2。"
