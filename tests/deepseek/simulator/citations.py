"""Numbered ``<sources>`` blocks as the studio writes them (the grounding contract), and the
check that an answer cites only what it was given, each marker after a sentence quoted from
its passage."""

from __future__ import annotations

import re

EN_INSTRUCTION = (
    "Use only the sources above for facts. Cite each fact with its source number in square "
    "brackets, like [1]."
)
ZH_INSTRUCTION = "仅使用上面的资料陈述事实，并用方括号标注资料编号，例如 [1]。"

LUMEN = [
    (
        "Lumen lamp product sheet (v2)",
        "Lumen dims steplessly from 1% to 100%. Slide a finger along the touch strip to change "
        "the brightness.",
    ),
    (
        "Lumen lamp product sheet (v2)",
        "The battery lasts 40 hours at 30% brightness. A full charge over USB-C takes three "
        "hours [7].",
    ),
    (
        "Lumen CLI reference (v1)",
        "lumen dim 40 --fade 2s\n\nThe dim command sets the brightness in percent, from 1 to 100.",
    ),
]
LUMEN_ZH = [
    (
        "Lumen 台灯产品说明 (v1)",
        "Lumen 支持无级调光，亮度可在 1% 到 100% 之间调节。手指在触控条上滑动即可改变亮度。",
    ),
    ("Lumen 台灯产品说明 (v1)", "电池在 30% 亮度下可使用 40 小时。通过 USB-C 充满电需要三小时。"),
    (
        "Lumen 命令行参考 (v1)",
        "lumen dim 40 --fade 2s\n\ndim 命令以百分比设置亮度，范围是 1 到 100。",
    ),
]
_MARKER_RE = re.compile(r"\[(\d+)\]")
_BEFORE_RE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n|\*\*[:：]\s*")


def block(passages: list[tuple[str, str]], chinese: bool = False) -> str:
    entries = "".join(f"[{n}] {title}\n{text}\n\n" for n, (title, text) in enumerate(passages, 1))
    instruction = ZH_INSTRUCTION if chinese else EN_INSTRUCTION
    return f"<sources>\n{entries}</sources>\n{instruction}"


def cited_numbers(answer: str) -> set[int]:
    return {int(n) for n in _MARKER_RE.findall(answer)}


def check_citations(answer: str, passages: list[tuple[str, str]]) -> set[int]:
    """Every ``[n]`` names a passage given and follows a sentence quoted from passage n (or
    leads a code block whose commands passage n shows). Returns the numbers cited."""
    texts = {n: _MARKER_RE.sub("", text) for n, (_, text) in enumerate(passages, 1)}
    cited = cited_numbers(answer)
    assert cited <= set(texts), (cited, answer)
    for found in _MARKER_RE.finditer(answer):
        n, before = int(found.group(1)), answer[: found.start()]
        quoted = _BEFORE_RE.split(before)[-1].strip()
        if quoted in ("For example", "示例见资料"):
            code = answer[found.end() :].split("```")[1].split("\n", 1)[1]
            assert all(line in texts[n] for line in code.splitlines()), (code, texts[n])
            continue
        quoted = re.sub(r"^\d+\.\s+|^-\s+", "", quoted)
        assert len(quoted) >= 6 and quoted in texts[n], (n, quoted, texts[n])
    return cited
