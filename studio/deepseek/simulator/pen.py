"""The pen every writer uses: one language's phrase banks, a random source, and the words of
the request to fill the banks' slots with."""

from __future__ import annotations

import random
import re
import unicodedata

from . import phrases
from .brief import CJK, CJK_RE

TOKEN_RE = re.compile(rf"[{CJK}]|[^\s{CJK}]+\s*|\s+")
_EN_WORD_RE = re.compile(r"(?<![\w'])[A-Za-z][A-Za-z-]{3,}(?![\w'])")
# Splitting Chinese text on common particles and verbs leaves the content words.
_ZH_SPLIT_RE = re.compile(
    r"[^\u4e00-\u9fff]+|[的了是在和与请写篇个关于我你他们吗呢把给为对一这那些中]"
)
_DANGLING_RE = re.compile(r"\s+(?:for|and|or|the|a|an|to|of|with|in|on)$", re.I)
_ENGLISH_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
# fmt: off
_STOPWORDS = frozenset({
    "about", "after", "again", "also", "because", "been", "before", "being", "could", "does",
    "doing", "from", "have", "into", "just", "like", "make", "more", "most", "much", "only",
    "other", "over", "please", "should", "some", "such", "than", "that", "their", "them", "then",
    "there", "these", "they", "this", "those", "very", "want", "what", "when", "where", "which",
    "while", "will", "with", "would", "write", "your", "short", "long", "give", "tell",
    "explain", "describe", "text", "below", "keep", "markdown", "document", "whole", "context",
    "target", "section", "rewrite", "answer", "requested", "language", "structure",
})
# fmt: on


def tokenize(text: str) -> list[str]:
    """Split text into simulator tokens; ``"".join(tokenize(t)) == t``."""
    return TOKEN_RE.findall(text)


def keywords(text: str, chinese: bool) -> list[str]:
    """Content words of ``text``, in order, without repeats."""
    if chinese:
        words = [w for w in _ZH_SPLIT_RE.split(text) if 2 <= len(w) <= 6]
    else:
        words = [w.lower() for w in _EN_WORD_RE.findall(text)]
        words = [w for w in words if w not in _STOPWORDS]
    return list(dict.fromkeys(words))


def english_terms(text: str) -> list[str]:
    """The glossary's English for the Chinese terms in ``text``, and its Latin words and
    numbers as they are, in the order they come (the longest term wins: 可折叠, not 折叠)."""
    found = []
    for zh in sorted(phrases.REVERSE_GLOSSARY, key=len, reverse=True):
        while (at := text.find(zh)) >= 0:
            found.append((at, phrases.REVERSE_GLOSSARY[zh]))
            text = text[:at] + " " * len(zh) + text[at + len(zh) :]
    found += [(m.start(), m.group()) for m in re.finditer(r"[A-Za-z0-9][\w-]*", text)]
    return [term for _, term in sorted(found)]


def size(text: str, chinese: bool) -> int:
    """How long a text is as a writer counts it: words in English, characters in Chinese."""
    return len(CJK_RE.findall(text)) if chinese else len(_ENGLISH_WORD_RE.findall(text))


# Every URL counts this much at least: X counts any link as 23 (t.co), however short.
URL_WIDTH = 23
_URL_RE = re.compile(r"https?://\S+|www\.\S+")


def width(text: str) -> int:
    """How long ``text`` is for the strictest platform that may show it: a wide or
    full-width character (Chinese) counts 2, as Google Ads and X count it, and a link at least
    :data:`URL_WIDTH`; anything else 1. Within ``width(text) <= n``, a text is within ``n``
    however the channel counts (graphemes, X's weights, Google Ads' double width, SMS's
    GSM-7 or UCS-2 units), so the simulator needs no channel table of its own."""
    total, position = 0, 0
    for found in _URL_RE.finditer(text):
        total += _plain_width(text[position : found.start()])
        total += max(URL_WIDTH, len(found.group()))
        position = found.end()
    return total + _plain_width(text[position:])


def _plain_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case a phrase's first letter for use mid-sentence ("Brighter desks" → "brighter
    desks"); "USB-C" and "iPhone" stay as they are."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


class Pen:
    """Fills one language's sentence templates with the request's own words.

    ``slots``: values for ``{s}``, ``{audience}``, ``{benefit}``…; missing ones come from the
    language's defaults. ``words``: the pool ``{a}`` and ``{b}`` are drawn from.
    """

    def __init__(
        self, chinese: bool, rng: random.Random, words: list[str], slots: dict[str, str]
    ) -> None:
        self.chinese = chinese
        self.rng = rng
        self.bank = phrases.ZH if chinese else phrases.EN
        defaults = phrases.ZH_DEFAULTS if chinese else phrases.EN_DEFAULTS
        given = {k: v if k == "s" else self.native(v) for k, v in slots.items() if v}
        self.slots = {**defaults, **{k: v for k, v in given.items() if v}}
        self.words = words or [self.slots["a"], self.slots["b"]]
        self.joiner = "" if chinese else " "
        self.decks: dict[str, list[str]] = {}

    def native(self, text: str) -> str:
        """``text`` if it is in the pen's language, else the glossary's words for it ("Warm
        light" → "温暖灯光"), else "" (a name, the subject, is never translated)."""
        if bool(CJK_RE.search(text)) == self.chinese:
            return text
        if self.chinese:
            words = re.findall(r"[A-Za-z][A-Za-z-]*|\d+", text)
            kept = {w: w for w in words if w[0].isdigit() or "-" in w}  # 20, USB-C
            known = [phrases.GLOSSARY.get(w.lower()) or kept.get(w, "") for w in words]
            return "".join(known) if all(known) else ""
        return " ".join(english_terms(text))

    def fill(self, template: str, **extra: str) -> str:
        a = self.rng.choice(self.words)
        b = self.rng.choice([w for w in self.words if w != a] or [self.slots["b"]])
        values = {**self.slots, "a": a, "b": b, **extra}
        if not self.chinese:
            for name in ("benefit", "offer", "goal", "feature"):
                values[name] = lower_first(values[name])
        values |= {capital(k): capital(v) for k, v in values.items()}
        return template.format_map(values)

    def pick(self, kind: str, **extra: str) -> str:
        """The next template of ``kind``, filled. Templates are dealt from a shuffled deck, so
        none comes twice before the others have had their turn."""
        deck = self.decks.get(kind)
        if not deck:
            deck = self.decks[kind] = self.rng.sample(self.bank[kind], len(self.bank[kind]))
        return self.fill(deck.pop(), **extra)

    def sentences(self, kind: str, count: int) -> str:
        return self.joiner.join(self.pick(kind) for _ in range(count))

    def paragraphs_until(self, text: str, kinds: list[str], tokens: float) -> str:
        """Add paragraphs (3 sentences each, from ``kinds`` in turn) until ``text`` is at
        least ``tokens`` long. Counted piece by piece: tokenizing the whole text again for
        each paragraph would make a 5,000-token answer hold the event loop for a while."""
        count = len(tokenize(text))
        n = 0
        while count < tokens:
            paragraph = self.sentences(kinds[n % len(kinds)], 3)
            text += "\n\n" + paragraph  # the blank line joins the previous token
            count += len(tokenize(paragraph))
            n += 1
        return text

    def items(self, count: int, limit: int | None) -> list[str]:
        """``count`` distinct short items (headlines, slogans), each at most ``limit``
        characters: whole ones that fit first, then short stock ones, then longer ones cut
        at a word."""
        bank, stock = self.bank["item"], self.bank["short_item"]
        candidates = [self.fill(t) for t in self.rng.sample(bank, len(bank))]
        stock = self.rng.sample(stock, len(stock))
        limit = limit or 10_000
        whole = [c for c in [*candidates, *stock] if width(c) <= limit]
        cut = [self.trim(c, limit) for c in [*candidates, *stock] if width(c) > limit]
        chosen: list[str] = []
        for item in [*whole, *cut]:
            if item and item.lower() not in {c.lower() for c in chosen}:
                chosen.append(item)
        n = 2
        while len(chosen) < count:  # a tiny limit and a long list: numbered stock items
            chosen.extend(self.trim(f"{s} {n}", limit) for s in stock)
            n += 1
        return chosen[:count]

    def trim(self, text: str, limit: int) -> str:
        """``text`` cut to at most ``limit`` characters (as :func:`width` counts them), at a
        word in English, without a dangling "for"/"and" or punctuation at the end."""
        if width(text) <= limit:
            return text
        if self.chinese or len(text) != width(text):
            while text and width(text) > limit:
                text = text[:-1]
            return text.rstrip("，、：；, ")
        head = text[: limit + 1]
        cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
        cut = cut[:limit].rstrip(" ,.:;?!-—")
        return _DANGLING_RE.sub("", cut)
