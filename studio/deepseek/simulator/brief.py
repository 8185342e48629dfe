"""What a chat request asks for, read from its messages and parameters only.

The studio's own prompts (the demo templates, the rewrite and section prompts, the judge's
rubric, the assistant, "Continue") say what they want in a few recognisable ways: "Write 8 ad
headlines", "at most 40 characters", "about 150 words", "Write in English", "用简体中文写作",
"Translate the text below into Simplified Chinese", a ``<target>`` to rewrite, a RUBRIC and an
OUTPUT to score. :func:`read_brief` turns those phrases, in English or Chinese, into a
:class:`Brief`; anything it does not recognise falls back to a general article in the
language of the prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .citing import Passage, read_sources

CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_RE = re.compile(f"[{CJK}]")
_LETTER_RE = re.compile(rf"[A-Za-z{CJK}]")

# What the answer should look like (Brief.kind).
ARTICLE = "article"  # a heading, paragraphs and a list: anything not recognised below
ITEMS = "items"  # N short items (headlines, slogans…), each within a character limit
PRODUCT = "product"  # a product page: headline, paragraph, bullet list of benefits
EMAIL = "email"  # subject line, preview text, body with one call to action
SECTION = "section"  # a documentation section: heading, paragraphs, steps, a code block
REWRITE = "rewrite"  # a suggestion on a <target>: see Brief.task
VERDICT = "verdict"  # the judge's JSON: {"score": n, "reason": "..."}
JSON = "json"  # any other JSON-mode request
CONTINUE = "continue"  # "Continue exactly where the text above stops"
CHAT = "chat"  # the assistant answering a question about a draft
FIT = "fit"  # "Fit to limits": numbered <item>s to repair, each for the rules it breaks

# Rewrite tasks (Brief.task), as drafts/rewrite_prompts.py words them.
_TASKS = (
    ("translate", re.compile(r"\btranslate\b|翻译|译成", re.I)),
    ("shorter", re.compile(r"\bshorter\b|更短|缩短|精简", re.I)),
    ("formal", re.compile(r"\bformal\b|正式", re.I)),
    ("expand", re.compile(r"\bexpand\b|扩写|展开|更详细", re.I)),
    ("headlines", re.compile(r"\bheadlines?\b|标题", re.I)),
    ("regenerate", re.compile(r"\brewrite\b|\bregenerate\b|重写|改写", re.I)),
)

# "Fit to limits" (studio.campaigns.fitting): "Item 1 breaks: …" and <item n="1">…</item>.
_FIT_ITEM_RE = re.compile(r'<item n="\d{1,3}">\n?(.*?)\n?</item>', re.S)
_FIT_BREAKS_RE = re.compile(r"^Item \d{1,3} breaks: ", re.M)
_TARGET_RE = re.compile(r"<target>\n?(.*?)\n?</target>", re.S)
_DOCUMENT_RE = re.compile(r"<document>.*?</document>", re.S)
_WRITE_IN_RE = re.compile(
    r"\b(?:write|answer|respond|reply)(?: it)? in "
    r"([A-Za-z\u4e00-\u9fff][\w ()-]{0,30}?)(?:[.,;。\n]|$)",
    re.I,
)
_ZH_WRITE_IN_RE = re.compile(r"用\s*([^\s，。,.；;]{1,16}?)\s*(?:写作|撰写|书写|写|回答|回复)")
_TRANSLATE_RE = re.compile(
    r"(?:translate\b[^\n]*?\binto|翻译成|翻译为|译成)\s*([^\n.。:：]{1,40})", re.I
)
_NUMBER_WORDS = {
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twelve": 12, "fifteen": 15, "twenty": 20,
}  # fmt: skip
_ITEM_NOUNS = (
    r"headlines?|taglines?|slogans?|titles?|subject lines?|ideas?|names?|tweets?|posts?|"
    r"captions?|bullets?|bullet points?|questions?|tips?|options?|variants?|alternatives?|"
    r"examples?|items?|points?|reasons?|ways?|hooks?|ctas?|calls to action"
)
_COUNT_RE = re.compile(
    rf"\b(\d{{1,3}}|{'|'.join(_NUMBER_WORDS)})\s+(?:[\w-]+\s+){{0,3}}?(?:{_ITEM_NOUNS})\b", re.I
)
_ZH_COUNT_RE = re.compile(
    r"(\d{1,3})\s*(?:条|个|句|则|组|款|种)\s*[^\s，。]{0,6}?"
    r"(?:标题|口号|标语|文案|广告语|建议|想法|名称|卖点|选项|主题|问题)"
)
_LIMIT_RES = (
    re.compile(
        r"(?:at most|no more than|up to|under|fewer than|less than|maximum(?: of)?|max\.?|"
        r"not exceeding|within|≤|<=)\s*(\d{1,4})\s*(?:characters|chars)\b",
        re.I,
    ),
    re.compile(r"(\d{1,4})\s*(?:characters|chars)\s*(?:or fewer|or less|max(?:imum)?)\b", re.I),
    re.compile(r"(?:不超过|不多于|最多|少于|至多)\s*(\d{1,4})\s*个?(?:字符|汉字|字)"),
    re.compile(r"(\d{1,4})\s*个?(?:字符|汉字|字)(?:以内|之内|以下)"),
)
_WORDS_RES = (
    re.compile(r"(\d{2,5})\s+words\b", re.I),
    re.compile(r"约\s*(\d{2,5})\s*个?字|(\d{2,5})\s*个?字左右"),
)
_FIELD_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,30}|[\u4e00-\u9fff]{2,8})\s*[:：]\s*(.+?)\s*$")
# Field labels of the demo templates (EN and ZH) to the names the writers use.
_FIELDS = {
    "audience": "audience", "目标人群": "audience", "tone": "tone", "语气": "tone",
    "call to action": "cta", "行动号召": "cta", "main benefit": "benefit", "主要卖点": "benefit",
    "benefit": "benefit", "offer": "offer", "优惠内容": "offer", "campaign goal": "goal",
    "活动目标": "goal", "goal": "goal", "channel": "channel", "投放渠道": "channel",
    "reader level": "level", "读者水平": "level", "link": "link", "链接": "link",
}  # fmt: skip
_FEATURES_RE = re.compile(r"(?:key features|核心卖点)\s*[:：]\s*\n(.*?)(?:\n\s*\n|\Z)", re.I | re.S)
_SUBJECT_RES = (
    re.compile(r"\b(?:description|headlines?|slogans?|taglines?|copy) for (.+?)(?:[.\n]|$)", re.I),
    re.compile(r"\bsection\s+[\"“](.+?)[\"”]", re.I),
    re.compile(r"撰写文档章节\s*[\"“「](.+?)[\"”」]"),
    re.compile(r"为\s*(.+?)\s*(?:写|撰写)"),
)
_PRODUCT_RE = re.compile(r"\bfor (.+?)(?:[.\n]|$)|为\s*(.+?)\s*(?:写|撰写)", re.I)
_RUBRIC_RE = re.compile(r"RUBRIC:\n(.*?)\n\n(?:INPUTS:.*?\n\n)?OUTPUT:\n(.*)", re.S)


@dataclass(frozen=True)
class Brief:
    """One request, read: what to write, in which language, how many, how long."""

    kind: str
    chinese: bool
    prompt: str  # what the request says: system and last user message (directives removed)
    subject: str = ""  # the product, the section's title, the topic: "" when none is named
    product: str = ""  # what the section or the copy is about ("for Aurora desk lamp")
    fields: dict[str, str] = field(default_factory=dict)  # audience, tone, cta, benefit…
    features: list[str] = field(default_factory=list)
    count: int | None = None  # how many items
    max_chars: int | None = None  # the most characters per item
    words: int | None = None  # about how many words (characters, in Chinese)
    numbered: bool = True  # items as "1. …" (else one per line, no marks)
    code: bool = False  # a code block is wanted
    task: str = ""  # rewrite: translate, shorter, formal, expand, headlines, regenerate
    target: str = ""  # the text a rewrite works on
    rubric: str = ""  # the judge's rubric
    output: str = ""  # the output the judge scores
    earlier: str = ""  # the answer a "Continue" goes on from
    notes: str = ""  # the request's free text: its lines that are not "Label: value" fields
    ask: str = ""  # the last user message
    sources: tuple[Passage, ...] = ()  # the numbered passages given to quote and cite


def is_chinese(text: str) -> bool:
    """Mostly Chinese: at least a third of the letters are CJK characters."""
    letters = _LETTER_RE.findall(text)
    return bool(letters) and len(CJK_RE.findall(text)) * 3 >= len(letters)


def language_named(name: str) -> bool | None:
    """True for a name of Chinese, False for English, None for anything else."""
    if re.search(r"chinese|mandarin|中文|汉语|漢語|简体|繁體|繁体|\bzh\b", name, re.I):
        return True
    if re.search(r"english|英文|英语|\ben\b", name, re.I):
        return False
    return None


def read_brief(messages: list[dict[str, Any]], params: dict[str, Any]) -> Brief:
    """Read what ``messages`` (fault directives removed) and ``params`` ask for, and the
    passages a ``<sources>`` block gives."""
    passages: list[Passage] = []
    texts = []
    for message in messages:
        given, text = read_sources(message.get("content") or "")
        numbers = {p.number for p in passages}
        passages += [p for p in given if p.number not in numbers]
        texts.append((message["role"], text))
    asked = _read(texts, params)
    return replace(asked, sources=tuple(passages)) if passages else asked


def _read(texts: list[tuple[str, str]], params: dict[str, Any]) -> Brief:
    users = [t for role, t in texts if role == "user"] or [texts[-1][1]]
    system = "\n".join(t for role, t in texts if role == "system")
    last = users[-1]
    prompt = f"{system}\n{last}".strip()
    fmt = params.get("response_format") or {}
    json_mode = isinstance(fmt, dict) and fmt.get("type") == "json_object"

    if (judged := _RUBRIC_RE.search(last)) and (json_mode or "RUBRIC" in system):
        rubric, output = judged.group(1), judged.group(2)
        return Brief(VERDICT, is_chinese(rubric), rubric, rubric=rubric, output=output)
    if json_mode:
        return Brief(JSON, is_chinese(last), last)
    if _FIT_ITEM_RE.search(last) and _FIT_BREAKS_RE.search(last):
        items = "\n".join(_FIT_ITEM_RE.findall(last))
        return Brief(FIT, is_chinese(items), last, target=last)
    if target := _TARGET_RE.search(last):
        return _rewrite_brief(last, target.group(1))
    if "continue exactly where the text above stops" in last.lower():
        earlier = next((t for role, t in reversed(texts) if role == "assistant"), "")
        base = _generation_brief(system, users[0], f"{system}\n{users[0]}")
        return Brief(CONTINUE, base.chinese, base.prompt, earlier=earlier, subject=base.subject)
    if "--- DRAFT ---" in system:
        draft = system.split("--- DRAFT ---", 1)[1]
        return Brief(CHAT, is_chinese(last), f"{last}\n{draft}")
    return _generation_brief(system, last, prompt)


def _rewrite_brief(user: str, target: str) -> Brief:
    task_text = _DOCUMENT_RE.sub("", _TARGET_RE.sub("", user))
    # The editor's own instruction for a section ("make it shorter") is not the task.
    asked = re.split(r"the editor's instruction", task_text, flags=re.I)[0]
    task = next((name for name, pattern in _TASKS if pattern.search(asked)), "regenerate")
    chinese = is_chinese(target)
    if task == "translate":
        into = _TRANSLATE_RE.search(task_text)
        named = language_named(into.group(1)) if into else None
        # Only English and Chinese are written here: any other language counts as "not the
        # source's", so a translation always changes language.
        chinese = (not chinese) if named is None else named
    count = _count(task_text) if task == "headlines" else None
    numbered = not re.search(r"without numbering|不要编号|不编号", task_text, re.I)
    instruction = task_text[len(asked) :].partition(":")[2].strip()
    return Brief(
        REWRITE, chinese, f"{task_text}\n{target}", task=task, target=target, count=count,
        numbered=numbered, code="```" in target, notes=instruction,
    )  # fmt: skip


def _generation_brief(system: str, user: str, prompt: str) -> Brief:
    named = None
    for pattern in (_WRITE_IN_RE, _ZH_WRITE_IN_RE):
        for found in pattern.finditer(prompt):
            named = language_named(found.group(1)) if named is None else named
    chinese = is_chinese(user) if named is None else named
    fields = _fields(user)
    subject = next((m.group(1).strip() for p in _SUBJECT_RES if (m := p.search(user))), "")
    found = _PRODUCT_RE.search(user)
    product = (found.group(1) or found.group(2)).strip() if found else ""
    features = _features(user)
    notes = "\n".join(
        line
        for line in user.splitlines()[1:]
        if line.strip() and not _FIELD_RE.match(line) and not line.rstrip().endswith((":", "："))
    )
    # Counts and limits are the template's words, not the user's values: "Offer: 3 items for
    # the price of 2" asks for no list.
    instructions = "\n".join(line for line in prompt.splitlines() if not _FIELD_RE.match(line))
    count, limit, words = _count(instructions), _limit(instructions), _words(prompt)
    lowered = prompt.lower()
    code = bool(re.search(r"code block|code example|代码块|代码示例|代码", lowered))
    common = {
        "chinese": chinese, "prompt": prompt, "subject": subject, "product": product,
        "fields": fields, "features": features, "words": words, "code": code,
        "notes": notes, "ask": user,
    }  # fmt: skip
    if count is not None:
        numbered = not re.search(r"without numbering|one per line|不要编号|每行一条", lowered)
        return Brief(ITEMS, count=count, max_chars=limit, numbered=numbered, **common)
    if re.search(r"\bemail\b|e-mail|邮件", lowered) and re.search(r"subject|主题", lowered):
        return Brief(EMAIL, **common)
    if re.search(r"product description|产品描述", lowered):
        return Brief(PRODUCT, **common)
    if re.search(r"documentation|technical writer|文档|技术写作", lowered):
        return Brief(SECTION, **common)
    return Brief(ARTICLE, **common)


def _count(text: str) -> int | None:
    found = _COUNT_RE.search(text) or _ZH_COUNT_RE.search(text)
    if not found:
        return None
    value = found.group(1).lower()
    count = _NUMBER_WORDS.get(value) or int(value)
    return count if 1 <= count <= 100 else None


def _limit(text: str) -> int | None:
    for pattern in _LIMIT_RES:
        if found := pattern.search(text):
            return max(4, int(found.group(1)))
    return None


def _words(text: str) -> int | None:
    for pattern in _WORDS_RES:
        if found := pattern.search(text):
            return min(5000, int(next(g for g in found.groups() if g)))
    return None


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if (found := _FIELD_RE.match(line)) and (name := _FIELDS.get(found.group(1).lower())):
            fields.setdefault(name, found.group(2))
    return fields


def _features(text: str) -> list[str]:
    found = _FEATURES_RE.search(text)
    if not found:
        return []
    lines = (line.strip().lstrip("-*•·").strip() for line in found.group(1).splitlines())
    return [line for line in lines if line][:8]
