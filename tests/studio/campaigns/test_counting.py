"""Counting as each platform counts: graphemes, X's weights, Google Ads' widths, SMS units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.campaigns import counting
from studio.campaigns.channels import BUILT_IN, check

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # four people joined by ZWJs: one emoji
FLAG = "🇨🇳"  # two regional indicators: one flag
THUMB = "👍🏽"  # an emoji with a skin tone modifier
KEYCAP = "#\ufe0f\u20e3"
DECOMPOSED = "e\u0301"  # e + combining acute: one character on screen
STACKED = "q\u0301\u0323"  # no precomposed form: still one character on screen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lumen", 5),
        (FAMILY, 1),
        (FLAG, 1),
        (FLAG + FLAG, 2),
        (THUMB, 1),
        (KEYCAP, 1),
        (DECOMPOSED, 1),
        (STACKED, 1),
        ("café" + DECOMPOSED, 5),
        ("你好，世界", 5),
        ("\r\n", 1),
    ],
)
def test_graphemes_are_what_a_reader_sees(text, expected):
    assert counting.grapheme_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", 5),
        ("你好", 4),  # CJK weighs 2
        ("한국", 4),  # Hangul too
        ("😀", 2),
        (FAMILY, 2),  # a ZWJ sequence is one emoji: 2, not 2 per person
        (FLAG, 2),
        (THUMB, 2),
        (KEYCAP, 2),
        (DECOMPOSED, 1),  # normalised to é first
        ("“quoted” — ok…", 15),  # general punctuation weighs 1
        ("https://example.com/a/very/long/path?with=query&and=more", 23),
        ("Buy at https://lumen.shop/launch.", 7 + 23 + 1),  # the full stop is not the URL's
        ("lumen.shop/x and www.example.org", 23 + 5 + 23),
        ("mail hi@lumen.shop", 5 + 13),  # an address is not a link
    ],
)
def test_x_weighs_text_as_twitter_text_does(text, expected):
    assert counting.x_weight(text) == expected


def test_an_x_post_of_chinese_holds_140_characters():
    assert counting.x_weight("灯" * 140) == 280
    assert counting.x_weight("灯" * 141) == 282


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Lumen lamp", 10),
        ("露明台灯", 8),  # Chinese counts 2 each
        ("ＬＵＭＥＮ", 10),  # full-width Latin too
        ("ﾙﾐﾈ", 3),  # half-width katakana counts 1
        ("灯 lamp", 7),
        (DECOMPOSED, 1),
    ],
)
def test_google_ads_counts_wide_characters_twice(text, expected):
    assert counting.double_width(text) == expected


def test_sms_in_gsm7():
    sent = counting.sms("Lumen ships today! Get 20% off: lumen.shop")
    assert (sent.encoding, sent.length, sent.single, sent.segments) == ("GSM-7", 42, 160, 1)


def test_sms_extension_characters_take_two_septets():
    assert counting.sms("[a]{b}€").length == 12  # five of them, two letters
    assert counting.sms("^" * 80).segments == 1  # 160 septets: exactly one message
    assert counting.sms("^" * 81).segments == 2


def test_sms_with_one_non_gsm_character_is_ucs2():
    sent = counting.sms("Lumen ✨")
    assert (sent.encoding, sent.length, sent.single) == ("UCS-2", 7, 70)
    assert counting.sms("露" * 70).segments == 1
    assert counting.sms("露" * 71).segments == 2  # 67 per part once split
    assert counting.sms("露" * 134).segments == 2
    assert counting.sms("露" * 135).segments == 3


def test_sms_counts_an_emoji_outside_the_bmp_as_two_units():
    assert counting.sms("😀").length == 2
    assert counting.sms(FAMILY).length == 11  # 4 × 2 + 3 ZWJs


def test_sms_long_gsm7_splits_in_153s():
    assert counting.sms("a" * 160).segments == 1
    assert counting.sms("a" * 161).segments == 2
    assert counting.sms("a" * 306).segments == 2
    assert counting.sms("a" * 307).segments == 3
    assert counting.sms("").segments == 0


def test_urls_found_with_and_without_a_scheme():
    text = "See https://a.example.com/x, www.lumen.shop and lumen.cn/zh. Not e.g. or a.b"
    assert counting.urls(text) == ["https://a.example.com/x", "www.lumen.shop", "lumen.cn/zh"]


@given(st.text())
def test_any_text_is_counted_without_error(text):
    """Any Unicode at all (lone surrogates, controls, unassigned code points) is counted."""
    clusters = counting.grapheme_count(text)
    assert clusters <= len(text) and "".join(counting.graphemes(text)) == text
    assert clusters <= counting.double_width(text) <= 2 * clusters
    assert counting.x_weight(text) >= 0
    sent = counting.sms(text)
    assert (sent.segments == 0) is (sent.length == 0)
    assert (sent.segments <= 1) is (sent.length <= sent.single)
    for channel in BUILT_IN.values():
        check(channel, text, count=3, forbidden=["x"])
