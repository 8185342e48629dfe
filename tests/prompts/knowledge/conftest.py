"""Fixtures for the knowledge tests: a document parsed from Markdown, and a way to store one."""

from __future__ import annotations

import pytest

from prompts.knowledge.actions import add_source
from prompts.knowledge.parsing import Kind, parse

LUMEN = """# Lumen lamp

The Lumen is a desk lamp with stepless dimming and a warm-to-cool colour range.

## Battery

The battery lasts twelve hours at half brightness and charges over USB-C in two hours.

## 调光

Lumen 台灯支持无级调光，长按按钮即可调节亮度。
"""


@pytest.fixture
def store(workspace, user):
    """``store(text, title=…)``: a Markdown source added to the workspace (its version)."""

    def store(text: str = LUMEN, *, title: str = "Lumen sheet", space=None, kind=Kind.MARKDOWN):
        document = parse(text.encode(), kind=kind, filename="lumen.md")
        return add_source(
            workspace=space or workspace, user=user, title=title, tags=["lumen"], document=document
        )

    return store
