"""The campaign benchmark's figures (bench/campaign.py): medians and the added time."""

import pytest

from bench.campaign import report


def test_the_report_prints_the_added_time_per_deliverable():
    alone = [0.4, 0.5]
    singles = [[1.0, 2.0], [1.0, 3.0]]
    boards = [[0.5, 1.0], [0.7, 1.5]]
    text = report(alone, singles, boards, 2)
    assert "| 1 generation alone (the floor) | 450.0 | 500.0 |" in text
    assert "| 2 single generations (each its own POST and stream) | 1500.0 | 3000.0 |" in text
    assert "| a 2-deliverable campaign (Generate all, one stream) | 850.0 | 1500.0 |" in text
    assert "(k-th fastest vs k-th fastest) | -750.0 | -300.0 |" in text
    assert "-650.0 ms against 2 single generations at once, 400.0 ms against one" in text


def test_a_board_that_missed_a_deliverable_is_an_error():
    with pytest.raises(RuntimeError, match="not 2"):
        report([0.4], [[1.0, 2.0]], [[0.5]], 2)
