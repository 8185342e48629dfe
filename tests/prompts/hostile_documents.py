"""Hostile import documents shared by the parser tests and bench/parsers.py."""

from __future__ import annotations


def billion_laughs() -> str:
    """The classic nine levels of nine aliases (9⁹ "lol"s), as a template's description."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    lines += ["slug: laughs", "name: Laughs", "purpose: copy", "system_prompt: Hi."]
    lines += ["user_prompt: Hi.", "description: *i"]
    return "\n".join(lines) + "\n"


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_yaml(depth: int) -> str:
    """Block sequences, one inside the other (``- - - … x``)."""
    return "- " * depth + "x\n"
