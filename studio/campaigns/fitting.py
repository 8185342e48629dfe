""" "Fit to limits": the prompt that asks the model to repair only the items that break a rule.

Pure Python like ``channels`` (the ``channel-rules`` contract): the items to repair are the
check's own (:func:`channels.check`), counted as the platform counts them, and each is sent
with the rules it breaks and its counts; items that pass are not sent at all, and stay in the
draft verbatim (the answer's items replace only these ranges: ``drafts.rewrite_prompts.
fill_parts``). The prompt is in English, as the studio's other rewrite prompts are; the
model is told to keep each item's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from .channels import Channel, Counter, ItemCheck, Report, Violation, item_spans

SYSTEM = (
    "You are a careful copy editor. You fit marketing copy to the rules of the channel it is "
    "published on. Answer with the repaired items only, each inside its own <item> tag with "
    "the number it was given: no preamble, no explanations, no Markdown around them."
)

HOW_COUNTED = {
    Counter.GRAPHEMES: (
        "every character counts 1 (an emoji, a flag or a letter with its accents is one)"
    ),
    Counter.X: (
        "X's weighted count: Latin letters, digits and common punctuation count 1; Chinese, "
        "Japanese and Korean characters and every emoji count 2; every link counts 23"
    ),
    Counter.DOUBLE_WIDTH: (
        "a wide character (Chinese, Japanese, Korean, full-width forms) counts 2, everything else 1"
    ),
    Counter.SMS: (
        "SMS units: a text only in the GSM alphabet holds 160 characters in one message; one "
        "character outside it (Chinese, an emoji) makes it 70 UTF-16 units"
    ),
}


@dataclass(frozen=True)
class Broken:
    """An item to repair: its number in the prompt, its range in the text, its check."""

    number: int
    span: tuple[int, int]
    item: ItemCheck


def broken_items(text: str, report: Report) -> list[Broken]:
    """The items of ``text`` that break a rule, numbered from 1, with where they are."""
    spans = item_spans(text, is_list=report.channel.is_list)
    pairs = [(span, item) for span, item in zip(spans, report.items, strict=True) if not item.ok]
    return [Broken(n, span, item) for n, (span, item) in enumerate(pairs, 1)]


def describe(violation: Violation) -> str:
    """One broken rule, for the model, with the counts the platform makes."""
    params = violation.params
    match violation.code:
        case "too_long":
            over = int(params["length"]) - int(params["limit"])  # type: ignore[call-overload]
            return (
                f"too long: {params['length']} as the platform counts, at most "
                f"{params['limit']} allowed ({over} over)"
            )
        case "emoji":
            return "contains emoji, which this channel does not allow"
        case "missing_cta":
            return "no call to action: add a short one (such as “Shop now”)"
        case "missing_link":
            return "no link: add the campaign's link"
        case "forbidden_word":
            return f"uses the forbidden word “{params['word']}”: leave it out"
    return violation.code


def messages(channel: Channel, broken: list[Broken]) -> list[dict[str, str]]:
    """The chat messages asking for the ``broken`` items repaired, and nothing else."""
    rules = [f"Lengths are counted as the platform counts them: {HOW_COUNTED[channel.counter]}."]
    if not channel.emoji:
        rules.append("Emoji are not allowed.")
    blocks = []
    for entry in broken:
        problems = "; ".join(describe(v) for v in entry.item.violations)
        blocks.append(
            f"Item {entry.number} breaks: {problems}.\n"
            f'<item n="{entry.number}">\n{entry.item.text}\n</item>'
        )
    user = (
        f"Channel: {channel.name}.\n{' '.join(rules)}\n\n"
        "Each item below breaks a rule of this channel. Rewrite each one so that it breaks "
        "none: keep its language, its meaning and its voice, change no more than needed, and "
        "stay within the limit as counted above.\n\n"
        + "\n\n".join(blocks)
        + '\n\nAnswer with each repaired item inside <item n="…"></item> with its number, '
        "in the same order, and nothing else."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
