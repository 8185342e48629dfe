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
