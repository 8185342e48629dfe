"""Fit to limits through the simulator, asked exactly as the board asks
(``studio.campaigns.fitting``): every repaired item is within the rules the prompt states,
checked with the campaigns' own rules, answered in the numbered tags; the items that passed
are never sent and stay as they were."""

from __future__ import annotations

import pytest

from drafts.rewrite_prompts import fill_parts
from studio.campaigns.channels import BUILT_IN, check
from studio.campaigns.fitting import broken_items, messages

CASES = [
    (
        "google_ads_headline",
        "- Warm light for late nights\n"
        "- Lumen lamp: warm light that lasts all night long for every reader\n"
        "- Glow 🌙 all night, every night\n"
        "- 夜读好伴侣，Lumen 台灯温暖护眼一整晚都舒适",
    ),
    ("x_post", "- " + "Warm light, all night long. " * 12 + "\n- Short and fine."),
    ("x_post", "- " + "暖光护眼，一夜长明。" * 16),
    ("sms", "Lumen lamp is here with 20% off in launch week, warm light that lasts all night."),
    ("sms", "Lumen 台灯上市，首发周八折，暖光护眼一夜长明，" * 3),
    ("landing_hero", "Warm light that lasts all night, for every reader who stays up late."),
    ("meta_headline", "- Lumen: the lamp that keeps reading warm, all night long\n- Read late"),
]


@pytest.mark.parametrize(("channel", "text"), CASES)
def test_each_repaired_item_is_within_the_rules_and_the_rest_is_verbatim(ask, channel, text):
    rules = BUILT_IN[channel]
    report = check(rules, text, forbidden=["every"])
    broken = broken_items(text, report)
    assert broken
    answer = ask(messages(rules, broken))
    assert answer.count('<item n="') == len(broken)
    fitted = fill_parts(answer, text, [list(entry.span) for entry in broken])
    after = check(rules, fitted, forbidden=["every"])
    assert len(after.items) == len(report.items)
    for before, now in zip(report.items, after.items, strict=True):
        assert now.ok, (now.text, now.violations)
        if before.ok:
            assert now.text == before.text  # kept verbatim


def test_the_same_request_gets_the_same_repair(ask):
    rules = BUILT_IN["google_ads_headline"]
    text = "- Lumen lamp: warm light that lasts all night long"
    prompt = messages(rules, broken_items(text, check(rules, text)))
    assert ask(prompt) == ask(prompt)
