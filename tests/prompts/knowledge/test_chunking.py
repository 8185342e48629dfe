from prompts.knowledge.chunking import chunk


def test_passages_follow_headings_and_keep_their_path():
    text = "# Lamp\n\nIntro.\n\n## Battery\n\nTwelve hours.\n\n### Charging\n\nUSB-C."
    text += "\n\n## Price\n\n$129."
    chunks = chunk(text, size=200)
    assert [(c.heading, c.text) for c in chunks] == [
        ("Lamp", "Intro."),
        ("Lamp › Battery", "Twelve hours."),
        ("Lamp › Battery › Charging", "USB-C."),
        ("Lamp › Price", "$129."),
    ]


def test_short_paragraphs_are_packed_and_every_passage_is_bounded():
    english = "\n\n".join(f"Paragraph {i} says something useful." for i in range(40))
    long_sentences = "This sentence goes on. " * 100
    chinese = "台灯支持无级调光。" * 200
    for text in (english, long_sentences, chinese, "x" * 5000):
        chunks = chunk(text, size=300)
        assert all(0 < len(c.text) <= 300 for c in chunks)
        assert len(chunks) > 1
    assert chunk(english, size=300)[0].text.startswith("Paragraph 0 says something useful.\n\n")


def test_long_paragraphs_are_cut_at_sentence_ends_in_both_languages():
    assert all(c.text.endswith("on.") for c in chunk("This sentence goes on. " * 100, size=300))
    assert all(c.text.endswith("。") for c in chunk("台灯支持无级调光。" * 200, size=300))


def test_text_without_headings_is_one_section():
    chunks = chunk("Just a line.\nAnd another.", size=300)
    assert [(c.heading, c.text) for c in chunks] == [("", "Just a line.\nAnd another.")]


def test_a_hash_line_in_code_is_code_not_a_heading():
    text = "# Install\n\nRun it:\n\n```\n# make a config first\nlumen init\n\nlumen start\n```"
    text += "\n\n## Next\n\nDone."
    chunks = chunk(text, size=300)
    assert [c.heading for c in chunks] == ["Install", "Install › Next"]
    assert chunks[0].text == (
        "Run it:\n\n```\n# make a config first\nlumen init\n\nlumen start\n```"
    )


def test_long_code_is_cut_between_lines_and_every_piece_stays_fenced():
    lines = [f"  step --number {i}  # comment {i}" for i in range(60)]
    chunks = chunk("# CLI\n\n```\n" + "\n".join(lines) + "\n```", size=200)
    assert len(chunks) > 1
    assert all(len(c.text) <= 200 and c.heading == "CLI" for c in chunks)
    assert all(c.text.startswith("```\n") and c.text.endswith("\n```") for c in chunks)
    kept = [line for c in chunks for line in c.text.split("\n")[1:-1]]
    assert kept == lines  # every line whole, in order, indentation kept


def test_a_fence_never_closed_runs_to_the_end_as_code():
    chunks = chunk("# A\n\n```\n# not a heading\ncode", size=300)
    assert [(c.heading, c.text) for c in chunks] == [("A", "```\n# not a heading\ncode\n```")]
