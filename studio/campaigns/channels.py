"""Channels and their rules, and the check of a deliverable's text against them.

Pure Python (no Django, no project imports: tests/test_layers.py holds it to that), so the
same check can run in a view, the API, a task or a script. Each :class:`Channel` declares:

- its length limit per item, counted as the platform counts (``counting``): graphemes for most,
  X's weighted length, Google Ads' double-width count, or SMS's GSM-7/UCS-2 units;
- how many items one deliverable may hold (ten headlines, five posts) and whether the text is a
  list of items or one piece;
- the elements each item needs (a call to action, a link) and whether emoji are allowed.

Forbidden words (a brand voice's) and the number of items asked for come with each check.
:func:`check` answers per item: each item's length, its limit and its violations, as codes with
parameters; the Django side words them in the reader's language (``studio.campaigns.labels``).

The limits are the platforms' published ones (Google Ads 30/90, X 280, SMS 160/70) or, where a
platform truncates rather than refuses, the length it shows before "See more" (Meta's primary
text 125, an email subject 60, a meta description 155). A workspace will be able to override
them (a later increment).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import regex

from . import counting


class Counter(StrEnum):
    GRAPHEMES = "graphemes"
    X = "x"
    DOUBLE_WIDTH = "double_width"
    SMS = "sms"


# The elements a channel may require in each item.
CTA = "cta"
LINK = "link"


@dataclass(frozen=True)
class Channel:
    key: str
    name: str  # English; ``labels.channel_name`` translates it
    limit: int | None  # per item, in the counter's units; None: no length rule (SMS: 160/70)
    counter: Counter = Counter.GRAPHEMES
    max_items: int = 1
    requires: tuple[str, ...] = ()
    emoji: bool = True

    @property
    def is_list(self) -> bool:
        """Whether the text is a list of items (headlines) rather than one piece (a post)."""
        return self.max_items > 1

    def measure(self, text: str) -> tuple[int, int | None]:
        """The item's length as this channel counts it, and the limit that applies to it."""
        match self.counter:
            case Counter.X:
                return counting.x_weight(text), self.limit
            case Counter.DOUBLE_WIDTH:
                return counting.double_width(text), self.limit
            case Counter.SMS:
                sent = counting.sms(text)
                return sent.length, self.limit or sent.single
            case _:
                return counting.grapheme_count(text), self.limit


BUILT_IN: dict[str, Channel] = {
    channel.key: channel
    for channel in (
        Channel(
            "google_ads_headline", "Google Ads headline", 30, Counter.DOUBLE_WIDTH, 15, (), False
        ),
        Channel(
            "google_ads_description",
            "Google Ads description",
            90,
            Counter.DOUBLE_WIDTH,
            4,
            (),
            False,
        ),
        Channel("meta_primary_text", "Meta primary text", 125, max_items=5),
        Channel("meta_headline", "Meta headline", 40, max_items=5),
        Channel("x_post", "X post", 280, Counter.X, max_items=10),
        Channel("linkedin_post", "LinkedIn post", 3000),
        Channel("sms", "SMS", None, Counter.SMS, requires=(LINK,)),
        Channel("email", "Email", None, requires=(CTA,)),
        Channel("email_subject", "Email subject line", 60, max_items=10),
        Channel("email_preheader", "Email preheader", 100, max_items=10),
        Channel("meta_description", "Meta description", 155),
        Channel("landing_hero", "Landing page hero", 160, requires=(CTA,)),
    )
}

# What counts as a call to action when a channel requires one (English and Chinese).
CTA_WORDS = (
    "buy", "shop", "order", "get", "try", "start", "learn more", "sign up", "join", "book",
    "download", "subscribe", "register", "discover", "save", "claim", "call", "visit",
    "reserve", "pre-order", "preorder", "explore", "see",
    "立即", "马上", "购买", "抢购", "下单", "了解更多", "注册", "下载", "订阅", "预订", "预约",
    "领取", "试用", "访问", "点击", "选购",
)  # fmt: skip


@dataclass(frozen=True)
class Violation:
    code: str  # too_long, emoji, missing_cta, missing_link, forbidden_word, item_count, …
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemCheck:
    text: str
    length: int
    limit: int | None
    violations: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class Report:
    channel: Channel
    items: tuple[ItemCheck, ...]
    violations: tuple[Violation, ...] = ()  # the deliverable's own: how many items

    @property
    def ok(self) -> bool:
        return not self.violations and all(item.ok for item in self.items)

    @property
    def problems(self) -> int:
        return len(self.violations) + sum(len(item.violations) for item in self.items)


_MARKER = regex.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)、])\s+")
_WRAPPING = "\"'“”‘’「」『』"


def split_items(text: str, *, is_list: bool) -> list[str]:
    """The items of a deliverable's text: the whole text for one piece; for a list, the
    entries of a Markdown list (a line after one continues it; a preamble before the first is
    left out), else its paragraphs, else its lines. Markers and wrapping quotes are removed."""
    text = text.strip()
    if not is_list:
        return [text] if text else []
    lines = text.splitlines()
    if any(_MARKER.match(line) for line in lines):
        items: list[list[str]] = []
        for line in lines:
            if _MARKER.match(line):
                items.append([_MARKER.sub("", line, count=1)])
            elif items and line.strip():
                items[-1].append(line.strip())
        entries = ["\n".join(item) for item in items]
    else:
        paragraphs = [p for p in regex.split(r"\n\s*\n", text) if p.strip()]
        entries = paragraphs if len(paragraphs) > 1 else lines
    cleaned = (entry.strip().strip(_WRAPPING).strip() for entry in entries)
    return [entry for entry in cleaned if entry]


def item_spans(text: str, *, is_list: bool) -> list[tuple[int, int]]:
    """Where each of :func:`split_items`' items is in ``text``, in the same order: from its
    first character to its last (a list item's marker and wrapping quotes left out; an item
    over several lines spans them all). What "Fit to limits" replaces, item by item."""
    spans: list[tuple[int, int]] = []
    position = 0
    for item in split_items(text, is_list=is_list):
        lines = item.split("\n")
        start = text.find(lines[0], position)
        line = text.rfind("\n", 0, start) + 1
        marker = _MARKER.match(text, line) if is_list else None
        if marker and start < marker.end():  # the item "-5%" after "- ", or "1" after "1. "
            start = text.find(lines[0], marker.end())
        end = text.find(lines[-1], max(start, 0)) + len(lines[-1])
        if start < 0 or end < start:  # cannot happen for split_items' own items
            raise ValueError(f"item not found in the text: {item!r}")
        spans.append((start, end))
        position = end
    return spans


def find_words(text: str, words: Iterable[str]) -> list[str]:
    """Which of ``words`` occur in ``text``, case-insensitively: as whole words for Latin
    script, anywhere for words in scripts without spaces (Chinese)."""
    found = []
    for word in words:
        word = word.strip()
        if not word:
            continue
        pattern = regex.escape(word)
        if regex.search(r"\w", word[0]) and not counting.is_wide(word[0]):
            pattern = rf"(?<![\w]){pattern}(?![\w])"
        if regex.search(pattern, text, regex.IGNORECASE | regex.V1):
            found.append(word)
    return found


def check_item(
    channel: Channel, text: str, *, forbidden: Iterable[str] = (), cta_words=CTA_WORDS
) -> ItemCheck:
    length, limit = channel.measure(text)
    found: list[Violation] = []
    if limit is not None and length > limit:
        found.append(Violation("too_long", {"length": length, "limit": limit}))
    if not channel.emoji and any(counting.is_emoji(c) for c in counting.graphemes(text)):
        found.append(Violation("emoji"))
    if CTA in channel.requires and not find_words(text, cta_words):
        found.append(Violation("missing_cta"))
    if LINK in channel.requires and not counting.urls(text):
        found.append(Violation("missing_link"))
    found += [Violation("forbidden_word", {"word": w}) for w in find_words(text, forbidden)]
    return ItemCheck(text, length, limit, tuple(found))


def check(
    channel: Channel,
    text: str,
    *,
    count: int | None = None,
    forbidden: Iterable[str] = (),
    cta_words: Iterable[str] = CTA_WORDS,
) -> Report:
    """Check a deliverable's text: each item against the channel's rules, and the number of
    items against ``count`` (what the deliverable asked for) and the channel's maximum."""
    forbidden, cta_words = tuple(forbidden), tuple(cta_words)
    items = tuple(
        check_item(channel, item, forbidden=forbidden, cta_words=cta_words)
        for item in split_items(text, is_list=channel.is_list)
    )
    violations = []
    if count is not None and len(items) != count:
        violations.append(Violation("item_count", {"found": len(items), "expected": count}))
    if len(items) > channel.max_items:
        violations.append(
            Violation("too_many_items", {"found": len(items), "max": channel.max_items})
        )
    return Report(channel, items, tuple(violations))
