"""Counting text the way each platform counts it. Pure Python: no Django, no project imports.

- :func:`graphemes`: what a person sees as one character (Unicode extended grapheme clusters,
  UAX #29, through the ``regex`` module's ``\\X``): ``e`` + a combining accent is one, a family
  emoji joined by ZWJs is one, a flag (two regional indicators) is one.
- :func:`x_weight`: X's weighted length (twitter-text's v3 configuration): text NFC-normalised,
  code points in the Latin and general-punctuation ranges weigh 1, everything else (CJK,
  Hangul, …) 2, every emoji sequence 2 as a whole, every URL 23 however long.
- :func:`double_width`: Google Ads' count: full-width and wide characters (Chinese, Japanese,
  Korean, full-width forms) count 2, everything else 1, per grapheme cluster.
- :func:`sms`: GSM-7 septets (the extension characters ``^{}\\[~]|€`` and form feed take 2)
  or, as soon as one character is outside GSM-7, UCS-2 code units (an emoji outside the BMP is
  two); with the single-message limit (160 or 70) and the number of segments (153 or 67 each).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

_CLUSTER = regex.compile(r"\X")
# An emoji as platforms count it: a cluster with a character shown as emoji by default, or
# one asked for as emoji (VS16), a keycap, or a flag (regional indicators).
_EMOJI = regex.compile(r"[\p{Emoji_Presentation}\uFE0F\u20E3\p{Regional_Indicator}]")
# URLs as X and most platforms recognise them: with a scheme, with www., or a bare domain on a
# common top-level domain; trailing punctuation belongs to the sentence, not the link.
_TLDS = "com|org|net|io|co|ai|dev|app|shop|store|cn|uk|de|fr|jp|us|info|biz|me|ly|gl|link"
URL = regex.compile(
    r"(?:https?://[^\s<>\"]+|www\.[^\s<>\"]+|(?<![@\w.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:"
    + _TLDS
    + r")\b(?:/[^\s<>\"]*)?)(?<![.,;:!?)\]}'\"。，！？])",
    regex.IGNORECASE,
)

# twitter-text v3: weight 100 (one character) for these ranges, 200 (two) for the rest.
X_URL_LENGTH = 23
_X_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def graphemes(text: str) -> list[str]:
    """The text's user-perceived characters (extended grapheme clusters)."""
    return _CLUSTER.findall(text)


def grapheme_count(text: str) -> int:
    return len(graphemes(text))


def is_emoji(cluster: str) -> bool:
    return _EMOJI.search(cluster) is not None


def urls(text: str) -> list[str]:
    return [match.group() for match in URL.finditer(text)]


def x_weight(text: str) -> int:
    """X's weighted length: 280 is a full post (a post of only CJK text holds 140)."""
    text = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for match in URL.finditer(text):
        total += _x_plain(text[position : match.start()]) + X_URL_LENGTH
        position = match.end()
    return total + _x_plain(text[position:])


def _x_plain(text: str) -> int:
    total = 0
    for cluster in _CLUSTER.findall(text):
        if is_emoji(cluster):
            total += 2
            continue
        for char in cluster:
            code = ord(char)
            total += 1 if any(low <= code <= high for low, high in _X_LIGHT) else 2
    return total


def is_wide(cluster: str) -> bool:
    return unicodedata.east_asian_width(cluster[0]) in ("W", "F")


def double_width(text: str) -> int:
    """Google Ads' count: a wide or full-width character (CJK, full-width forms) counts 2."""
    return sum(2 if is_wide(cluster) else 1 for cluster in _CLUSTER.findall(text))


@dataclass(frozen=True)
class Sms:
    """How an SMS text is sent: its encoding, its length in that encoding, the length one
    message holds, and how many messages (segments) it takes."""

    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    single: int  # 160 or 70
    segments: int


def sms(text: str) -> Sms:
    if all(char in GSM_BASIC or char in GSM_EXTENSION for char in text):
        length = sum(2 if char in GSM_EXTENSION else 1 for char in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    segments = 0 if length == 0 else 1 if length <= single else -(-length // part)
    return Sms(encoding, length, single, segments)
