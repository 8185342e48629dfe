"""A brand voice's forbidden words, read from its style guide's labelled lines."""

from __future__ import annotations

from studio.campaigns.voices import forbidden_words


def test_labelled_lines_give_the_words_in_english_and_chinese():
    guide = """Warm, plain, never pushy.
Forbidden words: cheap, "revolutionary"; game-changer
- Never use: best-in-class
禁用词：最便宜、第一，绝对
"""
    assert forbidden_words(guide) == (
        "cheap",
        "revolutionary",
        "game-changer",
        "best-in-class",
        "最便宜",
        "第一",
        "绝对",
    )


def test_labels_are_case_insensitive_and_words_kept_once():
    assert forbidden_words("FORBIDDEN WORDS: Cheap\nnever use: cheap, CHEAP, free") == (
        "Cheap",
        "free",
    )


def test_other_lines_forbid_nothing():
    assert forbidden_words("Tone: friendly, warm\nAvoid jargon: please\n") == ()
    assert forbidden_words("") == ()
    assert forbidden_words("Forbidden words:") == ()
