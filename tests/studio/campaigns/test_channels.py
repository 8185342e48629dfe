"""Channels' rules and the per-item check of a deliverable's text."""

from __future__ import annotations

import pytest

from studio.campaigns.channels import BUILT_IN, Violation, check, find_words, split_items


def codes(item) -> list[str]:
    return [v.code for v in item.violations]


def test_the_built_in_set_covers_the_common_channels():
    assert {
        "google_ads_headline",
        "google_ads_description",
        "meta_primary_text",
        "x_post",
        "linkedin_post",
        "sms",
        "email_subject",
        "email_preheader",
        "meta_description",
        "landing_hero",
    } <= set(BUILT_IN)
    assert BUILT_IN["google_ads_headline"].limit == 30
    assert BUILT_IN["google_ads_description"].limit == 90
    assert BUILT_IN["x_post"].limit == 280


def test_google_ads_headlines_are_checked_one_by_one():
    text = (
        "Here are your headlines:\n\n1. Light that follows you\n"
        "2. 露明台灯，整夜柔光，随心调亮度\n3. “A lamp that lasts twelve hours and more”\n"
    )
    report = check(BUILT_IN["google_ads_headline"], text, count=3)
    assert [item.text for item in report.items] == [
        "Light that follows you",
        "露明台灯，整夜柔光，随心调亮度",
        "A lamp that lasts twelve hours and more",
    ]
    assert [item.length for item in report.items] == [22, 30, 39]
    assert [codes(item) for item in report.items] == [[], [], ["too_long"]]
    assert report.items[2].violations[0].params == {"length": 39, "limit": 30}
    assert report.violations == () and not report.ok and report.problems == 1


def test_sixteen_chinese_characters_break_a_headline():
    report = check(BUILT_IN["google_ads_headline"], "- " + "灯" * 16, count=1)
    assert report.items[0].violations == (Violation("too_long", {"length": 32, "limit": 30}),)


def test_google_ads_refuses_emoji():
    report = check(BUILT_IN["google_ads_headline"], "- Glow on 👨\u200d👩\u200d👧")
    assert codes(report.items[0]) == ["emoji"]


def test_the_number_of_items_is_checked():
    report = check(BUILT_IN["google_ads_headline"], "- One\n- Two", count=3)
    assert report.violations == (Violation("item_count", {"found": 2, "expected": 3}),)
    many = "\n".join(f"- H{n}" for n in range(16))
    assert [v.code for v in check(BUILT_IN["google_ads_headline"], many).violations] == [
        "too_many_items"
    ]


def test_an_x_post_counts_urls_and_emoji_as_x_does():
    url = "https://lumen.shop/" + "x" * 200
    post = "灯" * 120 + " " + url + " 🇨🇳"  # 240 + 1 + 23 + 1 + 2
    report = check(BUILT_IN["x_post"], post)
    assert report.items[0].length == 267 and report.ok


def test_posts_without_list_markers_split_by_paragraph():
    text = "First post\nstill first.\n\nSecond post."
    assert split_items(text, is_list=True) == ["First post\nstill first.", "Second post."]
    assert split_items("One\nTwo\n", is_list=True) == ["One", "Two"]
    assert split_items("One\n\nTwo", is_list=False) == ["One\n\nTwo"]
    assert split_items("   ", is_list=False) == []


def test_a_list_item_continues_on_the_next_line():
    text = "- First\n  more of it\n- Second"
    assert split_items(text, is_list=True) == ["First\nmore of it", "Second"]


def test_sms_switches_to_70_on_one_non_gsm_character():
    sms = BUILT_IN["sms"]
    gsm = "a" * 149 + " lumen.shop"  # 160 septets
    assert check(sms, gsm).ok
    ucs = "露明台灯上市" * 10 + " lumen.shop/x"
    item = check(sms, ucs).items[0]
    assert (item.length, item.limit, codes(item)) == (73, 70, ["too_long"])


def test_sms_requires_a_link():
    assert codes(check(BUILT_IN["sms"], "Lumen ships today").items[0]) == ["missing_link"]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("Light that follows you. Shop now", True),
        ("Light that follows you. 立即购买", True),
        ("Light that follows you.", False),
        ("Workshop lights", False),  # "shop" inside a word is not a call to action
    ],
)
def test_a_landing_hero_needs_a_call_to_action(text, ok):
    item = check(BUILT_IN["landing_hero"], text).items[0]
    assert ("missing_cta" not in codes(item)) is ok


def test_forbidden_words_are_found_whole_and_in_chinese():
    report = check(
        BUILT_IN["linkedin_post"],
        "The CHEAPEST lamp, cheaper than ever. 最便宜的台灯",
        forbidden=["cheapest", "cheap", "最便宜", ""],
    )
    found = [v.params["word"] for v in report.items[0].violations]
    assert found == ["cheapest", "最便宜"]


def test_find_words_ignores_case_and_blank_words():
    assert find_words("Learn More today", ["learn more", " "]) == ["learn more"]


def test_combining_characters_count_once_in_a_meta_description():
    text = "Cafe\u0301 " * 31  # 31 × 5 graphemes = 155, though 186 code points
    report = check(BUILT_IN["meta_description"], text.strip() + " ")
    assert report.items[0].length == 154 and report.ok
