"""A grounded template and a small knowledge set, shared by the grounding and citation tests."""

from __future__ import annotations

from prompts.actions import create_template
from prompts.knowledge.actions import add_source
from prompts.knowledge.parsing import Kind, parse

LUMEN = """# Lumen lamp

The Lumen lamp dims steplessly from 1 % to 100 %.

## Battery

Battery life is 40 hours at 30 % brightness; it charges over USB-C in two hours.

## 调光

Lumen 台灯支持无级调光，长按按钮即可调节亮度。
"""

ORBIT = """# Orbit speaker

The Orbit speaker plays for 12 hours and pairs over Bluetooth.
"""


def add_text(workspace, user, text: str, *, title: str, tags: list[str]):
    document = parse(text.encode(), kind=Kind.MARKDOWN, filename="source.md")
    return add_source(workspace=workspace, user=user, title=title, tags=tags, document=document)


def grounded_template(workspace, *, user_prompt: str = "Write about {{ topic }}.", **knowledge):
    """A template asking for a topic, grounded in the workspace's knowledge (``knowledge``:
    the variable's tags, sources, passages)."""
    data = {
        "name": "Grounded answer",
        "purpose": "docs",
        "system_prompt": "You write product documentation.",
        "user_prompt": user_prompt,
        "variables": [
            {"name": "topic", "type": "text", "label": "Topic"},
            {"name": "knowledge", "type": "knowledge", "label": "Sources", **knowledge},
        ],
    }
    return create_template(workspace=workspace, data=data)
