"""The Fit to limits prompt: only the items that break a rule are sent, each with the rules
it breaks and its count as the platform counts it (CJK, emoji, links, combining marks)."""

from __future__ import annotations

import pytest

from studio.campaigns.channels import BUILT_IN, check, item_spans, split_items
from studio.campaigns.fitting import broken_items, messages

HEADLINES = (
    "Here are your headlines:\n\n"
    "1. Warm light for late nights\n"
    "2. Lumen lamp: warm light that lasts all night long\n"  # 50: too long
    "3. “Read all night”\n"
    "4. 夜读好伴侣，Lumen 台灯温暖护眼\n"  # 12 wide ×2 + "Lumen " 6: 30, within
    "5. Glow 🌙 all night\n"  # emoji: refused by Google Ads
)


def prompt(channel: str, text: str, **kwargs) -> tuple[str, list]:
    report = check(BUILT_IN[channel], text, **kwargs)
    broken = broken_items(text, report)
    return messages(BUILT_IN[channel], broken)[1]["content"], broken


def test_only_the_broken_items_are_sent_each_with_what_it_breaks():
    user, broken = prompt("google_ads_headline", HEADLINES)
    sent = [entry.item.text for entry in broken]
    assert "Lumen lamp: warm light that lasts all night long" in sent
    assert "Glow 🌙 all night" in sent
    for ok in ("Warm light for late nights", "Read all night", "夜读好伴侣"):
        assert ok not in user  # passing items are not sent at all
    assert "Here are your headlines" not in user
    assert [entry.number for entry in broken] == list(range(1, len(broken) + 1))
    first = next(e for e in broken if e.item.text.startswith("Lumen lamp"))
    assert f"Item {first.number} breaks: too long: 48 as the platform counts, at most 30" in user
    assert "(18 over)" in user
    item = f'<item n="{first.number}">\nLumen lamp: warm light that lasts all night long\n</item>'
    assert item in user
    assert "contains emoji" in user and "Emoji are not allowed." in user


def test_chinese_counts_double_on_google_ads_and_the_prompt_says_so():
    text = "- 夜读好伴侣，Lumen 台灯温暖护眼一整晚\n- Short"
    user, broken = prompt("google_ads_headline", text)
    assert len(broken) == 1
    # 15 wide characters (the full-width comma among them) count 2, "Lumen " 6: 36.
    assert "too long: 36 as the platform counts, at most 30 allowed (6 over)" in user
    assert "a wide character (Chinese, Japanese, Korean, full-width forms) counts 2" in user


def test_x_counts_links_as_23_and_emoji_as_2():
    post = "🙂" * 100 + " https://example.com/path " + "a" * 60 + " " + "光" * 20
    user, broken = prompt("x_post", f"- {post}")
    # 100 emoji ×2, a space, a link 23, a space, 60, a space, 20 CJK ×2.
    assert "too long: 326 as the platform counts, at most 280 allowed (46 over)" in user
    assert "every link counts 23" in user


def test_combining_marks_count_once_and_sms_switches_to_ucs2():
    hero = "Cafe\u0301 " * 30 + "Shop now"  # é as e + a combining accent: one character
    user, _ = prompt("landing_hero", hero)
    assert "too long: 158" not in user and "Item 1" not in user  # 158 graphemes: within 160
    sms = "Lumen 台灯 " * 10 + "https://lumen.example/"
    user, broken = prompt("sms", sms)
    assert "at most 70 allowed" in user and len(broken) == 1


def test_rules_other_than_length_are_described():
    user, _ = prompt("landing_hero", "Warm light that lasts.", forbidden=["warm"])
    assert "no call to action" in user and "forbidden word “warm”" in user
    user, _ = prompt("sms", "Lumen is here.")
    assert "no link" in user


def test_nothing_broken_nothing_sent():
    assert prompt("google_ads_headline", "- Warm light\n- Read late")[1] == []


@pytest.mark.parametrize(
    "text",
    [HEADLINES, "- -5% off\n1. 1 lamp", "a\nb\n\nc", "Intro\n\n- one\n  more\n- two", "  x  "],
)
def test_each_item_is_found_where_it_is(text):
    for is_list in (True, False):
        items = split_items(text, is_list=is_list)
        spans = item_spans(text, is_list=is_list)
        assert len(spans) == len(items)
        for (start, end), item in zip(spans, items, strict=True):
            assert text[start:end].split("\n")[0] == item.split("\n")[0]
            assert text[start:end].endswith(item.split("\n")[-1])
