"""Edit distance from the generated text to the latest version, and the per-variant summary."""

import pytest

from prompts.experiments.edit_distance import EMPTY, edit_distance, summarise


@pytest.mark.parametrize(
    "old, new, distance",
    [
        ("kitten", "sitting", 3),  # the textbook Levenshtein example
        ("same", "same", 0),
        ("", "abc", 3),
        ("Warm light.", "", 11),
        ("暖光台灯", "冷光台灯", 1),
    ],
)
def test_edit_distance_counts_characters_changed(old, new, distance):
    assert edit_distance(old, new) == distance


def test_summary_averages_the_share_rewritten_and_counts_edits_and_approvals():
    drafts = [
        ("kitten", "sitting", True),  # 3 of 7 characters
        ("same text", "same text", False),  # kept as generated
        ("abcd", "", True),  # all of it
    ]
    summary = summarise(drafts)
    assert (summary.drafts, summary.edited, summary.approved) == (3, 2, 2)
    assert summary.rewritten == pytest.approx((3 / 7 + 0 + 1) / 3)
    assert summary.distance == pytest.approx((3 + 0 + 4) / 3)
    assert summary.approval_rate == pytest.approx(2 / 3)
    assert summary.approval_interval.low < 2 / 3 < summary.approval_interval.high
    assert summarise([]) == EMPTY and EMPTY.approval_interval is None
