from prompts.knowledge.segmenting import bigrams, highlight, index_text, query_terms


def test_cjk_runs_become_bigrams_and_other_text_stays():
    assert bigrams("调光") == ["调光"]
    assert bigrams("无级调光") == ["无级", "级调", "调光"]
    assert bigrams("灯") == ["灯"]
    assert index_text("Lumen 支持调光。").split() == ["Lumen", "支持", "持调", "调光", "。"]


def test_query_terms_are_words_and_bigrams_without_stop_words_or_repeats():
    assert query_terms("How do I dim the Lumen? 如何调光 lumen") == [
        "dim",
        "lumen",
        "如何",
        "何调",
        "调光",
    ]
    assert query_terms('"; DROP TABLE -- OR *') == ["drop", "table"]
    assert query_terms("   ") == []


def test_highlight_marks_words_at_their_start_and_overlapping_bigrams():
    pieces = highlight("The lamps dim. 支持无级调光。", query_terms("lamp 无级调光"))
    assert pieces == [
        ("The ", False),
        ("lamps", True),
        (" dim. 支持", False),
        ("无级调光", True),
        ("。", False),
    ]
    assert "".join(p for p, _ in pieces) == "The lamps dim. 支持无级调光。"


def test_highlight_keeps_markup_as_plain_text_pieces():
    """The pieces are text: the template escapes them (no |safe anywhere)."""
    pieces = highlight("<script>alert(1)</script> lamp", ["lamp"])
    assert pieces == [("<script>alert(1)</script> ", False), ("lamp", True)]
    assert highlight("", ["lamp"]) == []
