"""bench.blocks: the live Markdown blocks measured alone, on a run's stored answers."""

import sqlite3

from bench.blocks import answers, measure


def test_the_stored_answers_are_read_and_split_as_the_runner_splits_them(tmp_path):
    database = tmp_path / "bench.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE drafts_generation (id integer, status text, text text)")
        connection.executemany(
            "INSERT INTO drafts_generation VALUES (?, ?, ?)",
            [
                (1, "done", "# Title\n\nA paragraph.\n\n1. one\n2. two\n\nThe end."),
                (2, "failed", "Half an answer"),
                (3, "done", ""),
            ],
        )
    texts = answers(database)
    assert texts == ["# Title\n\nA paragraph.\n\n1. one\n2. two\n\nThe end."]

    cpu, parses = measure(texts, rounds=2)
    assert cpu > 0
    # the heading's, the paragraph's and each item's line end, and the list's next line
    assert parses == 5
