"""Rewrites of a suggestion's ``<target>``: shorter, more formal, expanded, translated, a
section written afresh, or alternative headlines. Each keeps the target's Markdown shape:
headings stay headings, lists stay lists and code blocks are never touched."""

from __future__ import annotations

import math
import re

from . import phrases
from .brief import Brief
from .pen import Pen, capital, english_terms, keywords, lower_first, size

_EN_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_ZH_SENTENCE_RE = re.compile(r"(?<=[。！？])")
_LIST_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINE_RE = re.compile(r"^(\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)*)(.*)$")
_LABEL_RE = re.compile(r"^\*\*(.+?)\*\*\s*([:：]?)\s*(.*)$")
_EN_FILLERS_RE = re.compile(
    r"\b(?:very|really|just|actually|basically|quite|simply|completely|totally|truly|"
    r"extremely|in order)\s+",
    re.I,
)
_EN_ARTICLES_RE = re.compile(r"\b(?:a|an|the)\s+")
_ZH_FILLERS_RE = re.compile(r"非常|真的|其实|基本上|一些|的话|就是|特别|十分")
# fmt: off
_EN_FORMAL = {
    "don't": "do not", "doesn't": "does not", "didn't": "did not", "can't": "cannot",
    "won't": "will not", "isn't": "is not", "aren't": "are not", "it's": "it is",
    "that's": "that is", "there's": "there is", "you're": "you are", "we're": "we are",
    "they're": "they are", "let's": "let us", "i'm": "I am", "you'll": "you will",
    "we'll": "we will", "you've": "you have", "we've": "we have", "get": "obtain",
    "gets": "obtains", "got": "obtained", "buy": "purchase", "help": "assist",
    "helps": "assists", "need": "require", "needs": "requires", "show": "demonstrate",
    "shows": "demonstrates", "check": "verify", "fix": "resolve", "make sure": "ensure",
    "a lot of": "a considerable amount of", "lots of": "numerous", "big": "substantial",
    "tell": "inform", "ask": "request", "maybe": "perhaps", "kids": "children",
    "great": "excellent", "awesome": "excellent", "cheap": "economical", "start": "commence",
    "hi": "dear reader", "okay": "acceptable", "but": "however,", "enough": "sufficient",
    "try": "attempt",
    "wipe": "clean", "hold": "press and hold", "screw": "fasten", "tightly": "securely",
}
_IMPERATIVES = frozenset({
    "add", "apply", "avoid", "charge", "check", "choose", "clean", "click", "close", "connect",
    "enter", "follow", "hold", "install", "keep", "make", "open", "place", "plug", "press",
    "read", "remove", "run", "save", "screw", "select", "send", "set", "start", "store",
    "try", "turn", "use", "visit", "wait", "wipe", "write",
})
_OPENINGS = ("It is recommended that you ", "Subsequently, ", "Thereafter, ")
_ZH_FORMAL = (
    ("你们", "各位"), ("咱们", "我们"), ("你", "您"), ("帮忙", "协助"), ("帮", "协助"),
    ("买", "购买"), ("很", "十分"), ("搞定", "完成"), ("马上", "即刻"), ("赶紧", "尽快"),
    ("看看", "查看"), ("想要", "希望"), ("大家", "各位"), ("吧", ""), ("啦", ""), ("哦", ""),
    ("呢", ""), ("挺", "颇为"), ("弄", "处理"),
)
_KEEP_LOWER = frozenset({
    "the", "a", "an", "how", "why", "what", "when", "getting", "notes", "on", "in", "of",
    "for", "and", "with", "your", "our", "this", "that", "it", "we", "you", "i",
})
# fmt: on
_FORMAL_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _EN_FORMAL), key=len, reverse=True)) + r")\b", re.I
)


def rewrite(brief: Brief, pen: Pen) -> str:
    """The rewrite ``brief.task`` asks for, of ``brief.target``."""
    target = brief.target.strip("\n")
    source_chinese = pen.chinese if brief.task != "translate" else not pen.chinese
    if brief.task == "shorter":
        return shorter(target, pen.chinese)
    if brief.task == "formal":
        return formal(target, pen.chinese)
    if brief.task == "expand":
        return expand(target, pen)
    if brief.task == "translate":
        return translate(target, pen, source_chinese)
    if brief.task == "headlines":
        heading = next((b.lstrip("# ") for b in blocks(target) if b.startswith("#")), "")
        pen.slots["s"] = heading.split("\n")[0] or (pen.words[0] if pen.words else pen.slots["s"])
        lines = pen.items(brief.count or 5, None)
        if brief.numbered:
            return "\n".join(f"{n}. {line}" for n, line in enumerate(lines, 1))
        return "\n".join(lines)
    return regenerate(target, pen)


def blocks(text: str) -> list[str]:
    """Markdown blocks (separated by blank lines); a code fence is one block, blanks and all."""
    found: list[str] = []
    current: list[str] = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not line.strip() and not fence:
            if current:
                found.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        found.append("\n".join(current))
    return found


def kind_of(block: str) -> str:
    if block.lstrip().startswith("```"):
        return "code"
    if re.match(r"#{1,6}\s", block):
        return "heading"
    lines = block.split("\n")
    if all(_LIST_RE.match(line) or line.startswith("  ") for line in lines):
        return "list"
    if block.lstrip().startswith(("|", ">")):
        return "other"
    return "paragraph"


def split_sentences(text: str, chinese: bool) -> list[str]:
    pattern = _ZH_SENTENCE_RE if chinese else _EN_SENTENCE_RE
    return [s for s in pattern.split(text.strip()) if s.strip()]


def shorter(text: str, chinese: bool) -> str:
    """Half the sentences of each paragraph, the first part of each list, a leaner sentence
    where there is only one; headings and code stay. Always shorter than ``text``."""
    out = []
    for block in blocks(text):
        kind = kind_of(block)
        if kind == "paragraph":
            sentences = split_sentences(block, chinese)
            if len(sentences) > 1:
                keep = sentences[: math.ceil(len(sentences) / 2)]
                out.append(("" if chinese else " ").join(keep))
            else:
                out.append(_leaner(block, chinese))
        elif kind == "list":
            lines = block.split("\n")
            if len(lines) > 1:
                out.append("\n".join(lines[: max(1, math.ceil(len(lines) * 0.6))]))
            else:
                prefix, body = _LINE_RE.match(block).groups()
                out.append(prefix + _leaner(body, chinese))
        else:
            out.append(block)
    result = "\n\n".join(out)
    if len(result) >= len(text):  # only headings and code: drop the last block
        result = "\n\n".join(blocks(text)[:-1]) or _leaner(text, chinese)
    return result


def _leaner(sentence: str, chinese: bool) -> str:
    """One sentence with fewer words: fillers and articles out, else its first clause, else
    its first two thirds."""
    if chinese:
        lean = _ZH_FILLERS_RE.sub("", sentence)
        if len(lean) < len(sentence):
            return lean
        if "，" in sentence.strip("，"):
            return sentence.split("，")[0] + "。"
        body = sentence.rstrip("。！？!?. ")
        if len(body) <= 4:  # too short to cut: only the full stop goes
            return body
        return body[: len(body) * 2 // 3].rstrip("，、") + "。"
    lean = _EN_ARTICLES_RE.sub("", _EN_FILLERS_RE.sub("", sentence))
    lean = capital(lean) if sentence[:1].isupper() else lean
    if len(lean) < len(sentence):
        return lean
    if "," in sentence:
        return sentence.split(",")[0].rstrip() + "."
    words = sentence.rstrip(".!? ").split()
    if len(words) <= 1:
        return words[0] if words else ""
    return " ".join(words[: max(1, len(words) * 2 // 3)]) + "."


def formal(text: str, chinese: bool) -> str:
    """Contractions spelled out, plain words for formal ones, instructions as
    recommendations (您 for 你, no sentence-final particles, in Chinese)."""
    out = []
    for block in blocks(text):
        kind = kind_of(block)
        if kind in ("code", "heading", "other"):
            out.append(block)
        elif chinese:
            for plain, formal_word in _ZH_FORMAL:
                block = block.replace(plain, formal_word)
            out.append(block)
        else:
            out.append("\n".join(_formal_line(line) for line in block.split("\n")))
    return "\n\n".join(out)


def _formal_line(line: str) -> str:
    prefix, body = _LINE_RE.match(line).groups()
    sentences = []
    instructions = 0
    for sentence in split_sentences(body, False) or [body]:
        first = sentence.split(" ", 1)[0].lower()
        rest = _FORMAL_RE.sub(_formal_word, sentence)
        if first in _IMPERATIVES:  # an instruction: the first recommended, the next in order
            rest = _OPENINGS[min(instructions, len(_OPENINGS) - 1)] + lower_first(rest)
            instructions += 1
        sentences.append(capital(rest))
    return prefix + " ".join(sentences)


def _formal_word(found: re.Match[str]) -> str:
    """The formal word for an informal one, capitalised as the original was."""
    word = found.group(0)
    formal_word = _EN_FORMAL[word.lower()]
    return capital(formal_word) if word[:1].isupper() else formal_word


def expand(text: str, pen: Pen) -> str:
    """Every paragraph with two more sentences, and a short list closing each part that had
    none; the heading first, as it was. Always longer than ``text``."""
    out: list[str] = []
    parts = blocks(text)
    listed = False
    for n, block in enumerate(parts):
        kind = kind_of(block)
        listed = listed and kind != "heading" or kind == "list"
        if kind == "paragraph":
            block += pen.joiner + pen.sentences("more", 2)
        out.append(block)
        ends_part = n + 1 == len(parts) or kind_of(parts[n + 1]) == "heading"
        if ends_part and not listed and kind != "heading":
            out.append("\n".join(pen.pick("more_bullet") for _ in range(3)))
    if len(out) == len(parts):  # headings only: give the last one a paragraph
        out.append(pen.sentences("more", 3))
    return "\n\n".join(out)


def regenerate(text: str, pen: Pen) -> str:
    """The section written afresh: its heading line, then new paragraphs about as long as
    the old ones (a list where it had one, its code blocks kept)."""
    parts = blocks(text)
    heading = parts[0] if parts and kind_of(parts[0]) == "heading" else ""
    body = parts[1:] if heading else parts
    length = size("\n".join(body), pen.chinese)
    out = [heading] if heading else []
    out.append(pen.sentences("sentence", 2))
    if any(kind_of(b) == "list" for b in body):
        out.append("\n".join(pen.pick("bullet") for _ in range(3)))
    out.extend(b for b in body if kind_of(b) == "code")
    while size("\n\n".join(out), pen.chinese) < 0.8 * length:
        out.append(pen.sentences("more", 2))
    return "\n\n".join(out)


def translate(text: str, pen: Pen, source_chinese: bool) -> str:
    """The text in the pen's language, line by line: the same headings, list marks, bold
    labels and code blocks; names, numbers and known terms carried over."""
    out = []
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or line.lstrip().startswith(("```", "|")) or not line.strip():
            out.append(line)
            continue
        prefix, body = _LINE_RE.match(line).groups()
        out.append(prefix + _translate(body, pen, source_chinese, prefix.lstrip()[:1] == "#"))
    return "\n".join(out)


def _translate(body: str, pen: Pen, source_chinese: bool, heading: bool) -> str:
    if label := _LABEL_RE.match(body):
        name, colon, rest = label.groups()
        colon = ("：" if pen.chinese else ": ") if colon else " "
        rest = _sentences(rest, pen, source_chinese) if rest else ""
        return f"**{_phrase(name, pen, source_chinese)}**{colon}{rest}".rstrip()
    if heading:
        return _phrase(body, pen, source_chinese)
    return _sentences(body, pen, source_chinese)


def _phrase(text: str, pen: Pen, source_chinese: bool) -> str:
    terms = _terms(text, pen.chinese, source_chinese, name=True)
    if not terms:
        return pen.pick("heading")
    return "".join(terms) if pen.chinese else capital(" ".join(terms))


def _sentences(text: str, pen: Pen, source_chinese: bool) -> str:
    out = []
    for sentence in split_sentences(text, source_chinese) or [text]:
        terms = _terms(sentence, pen.chinese, source_chinese, name=False) or pen.words
        a = terms[0] if terms else pen.slots["a"]
        b = terms[1] if len(terms) > 1 else pen.slots["b"]
        out.append(pen.pick("sentence" if len(out) % 2 == 0 else "more", a=a, b=b))
    return pen.joiner.join(out)


def _terms(text: str, to_chinese: bool, source_chinese: bool, *, name: bool) -> list[str]:
    """What a translation carries over: known terms, translated; names and numbers as they
    are."""
    found: list[str] = []
    if source_chinese:
        found = english_terms(text)
    else:
        for n, word in enumerate(re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text)):
            lower = word.lower()
            if lower in phrases.GLOSSARY:
                found.append(phrases.GLOSSARY[lower] if to_chinese else lower)
            elif word[0].isdigit() or (
                word[0].isupper() and lower not in _KEEP_LOWER and (n > 0 or name)
            ):
                found.append(word)
    if not to_chinese and not source_chinese:
        found = found or keywords(text, False)[:2]
    return list(dict.fromkeys(found))
