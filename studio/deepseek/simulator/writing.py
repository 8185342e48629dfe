"""The answer builders: one per kind of request, each a few lines over the pen.

:func:`write` picks the builder for a :class:`~.brief.Brief` and returns the answer and the
reasoning that goes before it. Everything is drawn from one ``random.Random`` seeded by the
request (messages, temperature) and the simulator's seed, so the same request always gets the
same text and a change of temperature gets other wording.

A grounded request (a ``<sources>`` block, :mod:`.citing`) gets its facts from the passages
given: the article, product page, email, documentation section and list builders quote their
sentences, each followed by its number (``[2]``), and take a documentation example's commands
from them; the pen's own sentences only join them up. Passages in another language than the
answer's are not quoted, and no number that was not given is ever written.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, replace

from . import brief as kinds
from .brief import Brief
from .citing import Quotes
from .fitting import fit
from .pen import Pen, capital, keywords, size, tokenize, width
from .rewriting import rewrite

_MARKER_RE = re.compile(r"\[(\d{1,4})\]")


@dataclass(frozen=True)
class Answer:
    text: str
    reasoning: str


def write(
    brief: Brief, rng: random.Random, *, reasoning_tokens: int, answer_tokens: int | None = None
) -> Answer:
    """The answer ``brief`` asks for, and about ``reasoning_tokens`` of thinking about it.

    ``answer_tokens`` (``[[sim:tokens=N]]``): at least that many tokens, more paragraphs
    added where the shape asked for is shorter (the caller cuts it to exactly N).
    """
    pen = _pen(brief, rng)
    text = _BUILDERS.get(brief.kind, article)(brief, pen)
    if answer_tokens:
        text = pen.paragraphs_until(text, ["more", "sentence"], answer_tokens)
    if brief.sources:  # the request's own words ("Lamp [4]") may not pass for a citation
        given = {str(p.number) for p in brief.sources}
        text = _MARKER_RE.sub(lambda m: m[0] if m[1] in given else f"({m[1]})", text)
    return Answer(text, reasoning(brief, pen, reasoning_tokens))


def _pen(brief: Brief, rng: random.Random) -> Pen:
    fields = dict(brief.fields)
    subject = brief.product if brief.kind == kinds.SECTION else brief.subject or brief.product
    if brief.features and "benefit" not in fields:
        fields["benefit"] = brief.features[0]
    words = keywords(_source(brief), brief.chinese) or keywords(brief.prompt, brief.chinese)
    return Pen(brief.chinese, rng, words, {"s": subject, **fields})


def _source(brief: Brief) -> str:
    """The text the ``{a}``/``{b}`` words come from: what the user wrote, not the template's
    instructions around it."""
    if brief.kind == kinds.SECTION:
        return brief.notes or brief.subject
    if brief.target:  # a rewrite: the editor's instruction and the text
        return f"{brief.notes}\n{brief.target}"
    if brief.kind in (kinds.ITEMS, kinds.PRODUCT, kinds.EMAIL):
        return " ".join([*brief.fields.values(), *brief.features, brief.subject])
    return brief.ask or brief.prompt


def _quotes(brief: Brief, pen: Pen) -> Quotes:
    """The facts the request's passages give, in the answer's language (none: no sources)."""
    return Quotes(list(brief.sources), pen.chinese)


def article(brief: Brief, pen: Pen) -> str:
    """A heading, two paragraphs, a list and a closing paragraph, about ``target`` tokens."""
    target = _target_tokens(brief, pen)
    if quotes := _quotes(brief, pen):
        return _grounded_article(pen, quotes, target)
    blocks = ["## " + pen.pick("heading")]
    count = len(tokenize(blocks[0]))
    for shape in ["p", "p", "list", "p", "p", "p", "p", "p", "p", "p"]:
        sep = "\n" if shape == "list" else pen.joiner
        parts: list[str] = []
        blocks.append("")
        for _ in range(pen.rng.randint(3, 4)):
            parts.append(pen.pick("bullet" if shape == "list" else "sentence"))
            blocks[-1] = sep.join(parts)
            count += len(tokenize(parts[-1]))  # separators join the token before them
            if count >= target:
                return "\n\n".join(blocks)
    return pen.paragraphs_until("\n\n".join(blocks), ["sentence"], target)


def _grounded_article(pen: Pen, quotes: Quotes, target: int) -> str:
    """A heading, a lead sentence and the facts: a paragraph, a list, then paragraphs of what
    is left until about ``target`` tokens (shorter when the passages hold fewer facts)."""
    blocks = ["## " + pen.pick("heading")]
    blocks.append(pen.joiner.join([pen.pick("grounded_lead"), *quotes.take(2)]))
    if len(quotes) >= 2:
        blocks.append("\n".join(f"- {fact}" for fact in quotes.take(4)))
    text = "\n\n".join(blocks)
    while quotes and len(tokenize(text)) < target:
        text += "\n\n" + pen.joiner.join(quotes.take(3))
    return text


def items(brief: Brief, pen: Pen) -> str:
    """``count`` distinct items, each within ``max_chars`` (as :func:`~.pen.width` counts,
    so within the limit however the channel counts), as a numbered list or lines; with
    sources, first the facts short enough to be items. Where the request gives a call to
    action or a link ("Call to action: Shop now", "Link: https://…"), each item ends with
    them, inside the limit."""
    count, limit = brief.count or 5, brief.max_chars or 10_000
    tail = _tail(brief, pen)
    room = max(4, limit - width(tail)) if tail else limit
    facts = [f for f in _quotes(brief, pen).take(count * 4) if width(f) <= room][:count]
    chosen = facts + (pen.items(count - len(facts), room) if count > len(facts) else [])
    chosen = [item + tail for item in chosen]
    if not brief.numbered:
        return "\n".join(chosen)
    return "\n".join(f"{n}. {item}" for n, item in enumerate(chosen, 1))


def _tail(brief: Brief, pen: Pen) -> str:
    """What ends each item: the request's call to action and link, if it gives them."""
    cta, link = brief.fields.get("cta", "").strip(), brief.fields.get("link", "").strip()
    if not cta and not link:
        return ""
    if pen.chinese:
        return "，" + "：".join(part for part in (cta, link) if part)
    return " " + ": ".join(part for part in (cta, link) if part)


def product(brief: Brief, pen: Pen) -> str:
    """A headline, a short paragraph, the benefits as a list, then a closing paragraph,
    about the requested number of words (characters, in Chinese)."""
    target = brief.words or (200 if pen.chinese else 150)
    heading = "## " + pen.trim(pen.pick("product_heading"), 60 if pen.chinese else 70)
    features = [pen.native(f) or f for f in brief.features]
    features = features or keywords(brief.prompt, pen.chinese)[:3] or [pen.slots["b"]]
    colon = "：" if pen.chinese else ": "
    end = "。" if pen.chinese else "."
    quotes = _quotes(brief, pen)  # with sources, each benefit is the fact about its feature
    bullets = "\n".join(
        f"- **{capital(f)}**{colon}{quotes.about(f) or pen.pick('benefit') + end}"
        for f in features[:6]
    )
    intro = pen.joiner.join([pen.pick("product"), *(quotes.take(1) or [pen.pick("product")])])
    text = f"{heading}\n\n{intro}\n\n{bullets}\n\n{quotes.next() or pen.pick('product')}"
    length = size(text, pen.chinese)
    # Quoted facts carry figures and names the count leaves out: aim at the whole length.
    while length < (target if brief.sources else 0.9 * target):
        sentence = quotes.next() or pen.pick("product")
        text += pen.joiner + sentence
        length += size(sentence, pen.chinese)
    return text


def email(brief: Brief, pen: Pen) -> str:
    """Subject line, preview text, greeting, body, one call to action, sign-off."""
    zh = pen.chinese
    subject = pen.trim(pen.pick("email_subject"), 30 if zh else 60)
    labels = ("**主题：**", "**预览：**") if zh else ("**Subject:**", "**Preview:**")
    target = brief.words or (180 if zh else 120)
    facts = _quotes(brief, pen).take(2)  # with sources: the offer's facts, cited
    body = [
        pen.joiner.join([pen.sentences("email", 3 - len(facts[:1])), *facts[:1]]),
        pen.joiner.join([*facts[1:], pen.sentences("email", 2 - len(facts[1:]))]),
    ]
    while size("".join(body), zh) < 0.8 * target:
        body[-1] += pen.joiner + pen.pick("email")
    cta = f"**{pen.slots['cta']} →**"
    return "\n\n".join(
        [
            f"{labels[0]} {subject}  \n{labels[1]} {pen.pick('email_preview')}",
            pen.pick("greeting"),
            *body,
            cta,
            pen.pick("signoff"),
        ]
    )


def section(brief: Brief, pen: Pen) -> str:
    """A documentation section: its heading, paragraphs, numbered steps and a code block.
    With sources: the paragraphs and steps are their facts, the example their commands."""
    title = brief.subject or capital(pen.words[0])
    quotes = _quotes(brief, pen)
    lead = quotes.take(2)
    count = pen.rng.randint(3, 5)
    steps = quotes.take(count)
    steps += [pen.pick("step") for _ in range(count - len(steps))]
    intro = pen.joiner.join(lead) or pen.sentences("doc", 2)
    blocks = [f"## {title}", intro, "\n".join(f"{n}. {s}" for n, s in enumerate(steps, 1))]
    if brief.code:
        blocks.extend(_example(quotes, pen) or [_code(brief, pen, title)])
    blocks.append(pen.joiner.join(quotes.take(2)) or pen.sentences("doc", 2))
    text = "\n\n".join(blocks)
    target = _target_tokens(brief, pen)
    return pen.paragraphs_until(text, ["doc"], target * 0.8)


def _example(quotes: Quotes, pen: Pen) -> list[str]:
    """The commands a passage shows, in a code block after a line that cites it."""
    found = quotes.example()
    if found is None:
        return []
    lines, number = found
    lead = f"示例见资料 [{number}]：" if pen.chinese else f"For example [{number}]:"
    return [lead, "```bash\n" + "\n".join(lines) + "\n```"]


def _code(brief: Brief, pen: Pen, title: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", (brief.product or "app").lower()).strip("-") or "app"
    key = re.sub(r"[^a-z0-9]+", "_", " ".join(keywords(title, False)[:2])).strip("_") or "feature"
    level = (brief.fields.get("level") or "default").lower()
    comment = "# 示例" if pen.chinese else "# Example"
    return (
        f"```yaml\n{comment}: {title}\n{name}:\n  {key}:\n    enabled: true\n"
        f"    profile: {level}\n```"
    )


def chat(brief: Brief, pen: Pen) -> str:
    """The assistant's answer about a draft: two short paragraphs and a few suggestions."""
    tips = "\n".join(f"- {pen.pick('more')}" for _ in range(3))
    return "\n\n".join([pen.sentences("chat", 2), tips, pen.sentences("chat", 1)])


def continuation(brief: Brief, pen: Pen) -> str:
    """More paragraphs that go on from the earlier answer (no heading: it is mid-text)."""
    text = pen.sentences("continue", 2)
    return pen.paragraphs_until(text, ["more", "sentence"], 120)


def verdict(brief: Brief, pen: Pen) -> str:
    """The judge's JSON: a score from how much of the rubric the output covers, whether it
    has structure and how long it is, plus a little noise; and a one-sentence reason."""
    output = brief.output
    wanted = [w[:5] for w in keywords(brief.rubric, pen.chinese)]
    covered = sum(w in output.lower() for w in wanted) / len(wanted) if wanted else 0.5
    built = bool(re.search(r"^(#|[-*] |\d+\. )", output, re.M))
    score = 2 + round(4 * covered) + built + (len(output) > 300) + pen.rng.choice((-1, 0, 1, 2))
    score = max(1, min(10, score))
    band = "reason_high" if score >= 8 else "reason_mid" if score >= 5 else "reason_low"
    reason = pen.rng.choice(pen.bank[band])
    return json.dumps({"score": score, "reason": reason}, ensure_ascii=False)


def json_answer(brief: Brief, pen: Pen) -> str:
    return json.dumps({"answer": pen.sentences("sentence", 3)}, ensure_ascii=False)


def reasoning(brief: Brief, pen: Pen, tokens: int) -> str:
    """The thinking before the answer: what the request asks for, then general thoughts."""
    if tokens <= 0:
        return ""
    parts = [_plan(brief, pen)]
    count = len(tokenize(parts[0]))
    while count < tokens:
        parts.append(pen.pick("thought"))
        count += len(tokenize(parts[-1]))
    return pen.joiner.join(parts)


def _plan(brief: Brief, pen: Pen) -> str:
    zh = pen.chinese
    if brief.sources:
        cite = ("事实只取自所给资料，并标注编号。", "Facts from the sources given, each cited.")
        return pen.joiner.join([_plan(replace(brief, sources=()), pen), cite[0 if zh else 1]])
    if brief.kind == kinds.ITEMS:
        limit = brief.max_chars
        if zh:
            return f"用户需要{brief.count}条内容" + (
                f"，每条不超过{limit}个字。" if limit else "。"
            )
        within = f", each at most {limit} characters" if limit else ""
        return f"The user wants {brief.count} items{within}."
    plans = {
        kinds.PRODUCT: ("先写标题，再写一段简介，最后列出卖点。",
                        "A headline, a short paragraph, then the benefits as a list."),
        kinds.EMAIL: ("主题行、预览文字，然后是只有一个行动号召的正文。",
                      "A subject line, a preview text, then a short body with one call to action."),
        kinds.SECTION: ("文档章节：标题、短段落、步骤和代码示例。",
                        "A documentation section: heading, short paragraphs, steps, an example."),
        kinds.REWRITE: (f"任务是{brief.task}，要保留原文的 Markdown 结构。",
                        f"The task is {brief.task}; the Markdown structure has to stay."),
        kinds.FIT: ("只改写违反规则的条目，每条都要在限制之内。",
                    "Only the items that break a rule, each repaired within its limit."),
        kinds.VERDICT: ("我要逐条对照评分标准检查输出。",
                        "I should check the output against each point of the rubric."),
    }  # fmt: skip
    if brief.kind in plans:
        return plans[brief.kind][0 if zh else 1]
    return pen.fill("好的，用户想了解{a}。" if zh else "Okay, the user wants something about {a}.")


def _target_tokens(brief: Brief, pen: Pen) -> int:
    if brief.words:
        return int(brief.words * (1.0 if pen.chinese else 1.4))  # ~1.4 tokens per English word
    return pen.rng.randint(150, 250)


_BUILDERS = {
    kinds.ARTICLE: article,
    kinds.ITEMS: items,
    kinds.PRODUCT: product,
    kinds.EMAIL: email,
    kinds.SECTION: section,
    kinds.REWRITE: rewrite,
    kinds.FIT: fit,
    kinds.VERDICT: verdict,
    kinds.JSON: json_answer,
    kinds.CONTINUE: continuation,
    kinds.CHAT: chat,
}
