""" "Fit to limits": each numbered ``<item>`` the request gives, repaired for the rules its
"Item N breaks: …" line names, and answered in the same tags.

The prompt (``studio.campaigns.fitting``) states each item's limit ("at most 30 allowed"),
whether emoji are refused, a missing call to action or link, and forbidden words. Each item
is repaired for exactly those: forbidden words and emoji taken out, a call to action or a
link added, then the text cut (at a word in English) until it fits the limit as the
strictest platform counts it (:func:`.pen.width`): within ``n`` there, within ``n`` however
the channel counts.
"""

from __future__ import annotations

import re
import unicodedata

from .brief import Brief, is_chinese
from .pen import Pen, width

ITEM_RE = re.compile(r'<item n="(\d{1,3})">\n?(.*?)\n?</item>', re.S)
BREAKS_RE = re.compile(r"^Item (\d{1,3}) breaks: (.*)$", re.M)
_LIMIT_RE = re.compile(r"at most (\d{1,5}) allowed")
_FORBIDDEN_RE = re.compile(r"forbidden word “(.+?)”")
LINK = "https://lumen.example/"


def items_of(text: str) -> list[tuple[str, str, str]]:
    """The request's items: (number, text, the rules it breaks)."""
    breaks = dict(BREAKS_RE.findall(text))
    return [(n, body, breaks.get(n, "")) for n, body in ITEM_RE.findall(text)]


def fit(brief: Brief, pen: Pen) -> str:
    out = []
    for number, text, breaks in items_of(brief.target):
        out.append(f'<item n="{number}">{repair(text, breaks, pen)}</item>')
    return "\n".join(out)


def repair(text: str, breaks: str, pen: Pen) -> str:
    chinese = is_chinese(text)
    for word in _FORBIDDEN_RE.findall(breaks):
        text = re.sub(re.escape(word), "", text, flags=re.I)
    if "emoji" in breaks:
        text = "".join(c for c in text if not _emoji(c))
    text = re.sub(r"[ \t]{2,}", " ", text).strip()
    ending = []
    if "call to action" in breaks:
        ending.append("立即选购" if chinese else "Shop now.")
    if "no link" in breaks:
        ending.append(LINK)
    tail = ("，" if chinese else " ").join(ending)
    if found := _LIMIT_RE.search(breaks):
        room = int(found.group(1)) - width(tail) - (1 if tail else 0)
        text = pen.trim(text, max(room, 0)) if room > 0 else ""
    if not tail:
        return text
    return f"{text}{'，' if chinese else ' '}{tail}" if text else tail


def _emoji(char: str) -> bool:
    """An emoji, or what joins or styles one (ZWJ, variation selectors, keycaps, skin tones)."""
    if char in "\u200d\ufe0f\ufe0e\u20e3" or 0x1F3FB <= ord(char) <= 0x1F3FF:
        return True
    return unicodedata.category(char) == "So" or 0x1F000 <= ord(char) <= 0x1FAFF
