"""What the model is asked for a section or a rewrite: the messages, and reading its answer.

The whole draft always goes along for context, but the model is asked to write only the
replacement for the target (one section, a selection, or the whole text), so the answer can
stream into that place and the rest of the draft is never sent back or touched.
"""

from __future__ import annotations

import re

from .models import Suggestion

SYSTEM = (
    "You are a careful editor working on one part of a Markdown document. Answer with the "
    "requested text only: no preamble, no explanations, no code fences around the answer."
)

LANGUAGES = {"en": "English", "zh-hans": "Simplified Chinese"}

_TASKS = {
    Suggestion.Kind.SECTION_REGENERATE: (
        "Rewrite the section below from scratch, keeping its place in the document. Start "
        "with its heading line, at the same level. Write only this section."
    ),
    Suggestion.Kind.SECTION_EXPAND: (
        "Expand the section below with more detail, examples and steps, keeping what it "
        "already says. Start with its heading line, at the same level. Write only this section."
    ),
    Suggestion.Kind.SHORTER: (
        "Make the text below shorter: keep its meaning, its language and its Markdown."
    ),
    Suggestion.Kind.FORMAL: (
        "Rewrite the text below in a more formal register: keep its meaning, its language and "
        "its Markdown."
    ),
    Suggestion.Kind.TRANSLATE: (
        "Translate the text below into {language}. Keep its Markdown structure exactly."
    ),
    Suggestion.Kind.HEADLINES: (
        "Write 5 alternative headlines for the text below, in its language: one per line, "
        "without numbering, quotes or Markdown."
    ),
}


def build_messages(
    *, kind: str, document: str, target: str, instruction: str = ""
) -> list[dict[str, str]]:
    """The chat messages for one suggestion: context, the task, the target text."""
    task = _TASKS[kind].format(language=LANGUAGES.get(instruction, instruction))
    if instruction and kind in Suggestion.SECTION_KINDS:
        task += f"\n\nThe editor's instruction for this section: {instruction}"
    user = (
        f"The whole document, for context:\n\n<document>\n{document}\n</document>\n\n"
        f"{task}\n\n<target>\n{target}\n</target>"
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def fit_section(answer: str, original: str) -> str:
    """The model's section as a drop-in replacement for ``original``.

    It keeps the original's heading line if the model left the heading out, and ends with the
    same line breaks the original ended with, so the next section still starts where it did.
    """
    body = answer.strip("\n")
    if not body.lstrip().startswith("#"):
        heading = original.split("\n", 1)[0].rstrip("\r")
        body = f"{heading}\n\n{body}" if body else heading
    return body + original[len(original.rstrip("\r\n")) :]


_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#+)\s*")


def headlines(answer: str, limit: int = 5) -> list[str]:
    """The headline alternatives in an answer: one per non-empty line, marks and quotes off."""
    found = []
    for line in answer.splitlines():
        text = _LIST_MARK.sub("", line).strip().strip("\"'“”「」*").strip()
        if text:
            found.append(text)
    return found[:limit]


# Fit to limits (``Suggestion.Kind.FIT``): the prompt (written by studio.campaigns.fitting)
# numbers the parts to repair; the answer gives each back in ``<item n="N">…</item>``.
_ANSWER_ITEM = re.compile(r'<item n="(\d{1,3})">(.*?)</item>', re.S)


def fill_parts(answer: str, original: str, parts: list[list[int]]) -> str:
    """``original`` with each part (``[start, end]``, in order) replaced by the answer's item
    of the same number (1 for the first part); a part the answer has no item for, or an
    empty one, stays as it was, and so does everything between the parts. An answer without
    tags is the one part's text when there is only one."""
    answers = {int(n): body.strip() for n, body in _ANSWER_ITEM.findall(answer)}
    if not answers and len(parts) == 1 and "<item" not in answer:
        answers = {1: answer.strip()}
    out, position = [], 0
    for number, (start, end) in enumerate(parts, 1):
        out.append(original[position:start])
        out.append(answers.get(number) or original[start:end])
        position = end
    out.append(original[position:])
    return "".join(out)
