"""Word-level diffs: whole words in English, single characters in Chinese, escaped HTML."""

from drafts.word_diff import diff_texts, tokenize


def changes(diff) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in diff.changes]


def test_english_changes_are_whole_words():
    diff = diff_texts("The quick brown fox jumps.", "The quick red fox leaps.")

    assert changes(diff) == [
        ("equal", "The quick "),
        ("delete", "brown"),
        ("insert", "red"),
        ("equal", " fox "),
        ("delete", "jumps"),
        ("insert", "leaps"),
        ("equal", "."),
    ]
    assert (diff.words_added, diff.words_removed) == (2, 2)


def test_a_word_is_never_cut_in_half():
    diff = diff_texts("colour", "color")
    assert changes(diff) == [("delete", "colour"), ("insert", "color")]


def test_chinese_changes_are_characters_not_whole_sentences():
    diff = diff_texts("我们的产品很好用，价格便宜。", "我们的新产品非常好用，价格实惠。")

    assert changes(diff) == [
        ("equal", "我们的"),
        ("insert", "新"),
        ("equal", "产品"),
        ("delete", "很"),
        ("insert", "非常"),
        ("equal", "好用，价格"),
        ("delete", "便宜"),
        ("insert", "实惠"),
        ("equal", "。"),
    ]


def test_mixed_chinese_and_english_tokens():
    assert tokenize("用 DeepSeek 写作2026！") == [
        "用",
        " ",
        "DeepSeek",
        " ",
        "写",
        "作",
        "2026",
        "！",
    ]


def test_the_columns_and_inline_view_mark_changes_and_escape_text():
    diff = diff_texts("Say <b>hi</b>", "Say <script>alert(1)</script>")

    inline = diff.inline_html()
    assert "<script" not in inline and "<b>" not in inline and "&lt;" in inline
    assert "<del " in inline and "<ins " in inline
    assert "<ins " not in diff.old_html() and "<del " not in diff.new_html()
    assert "&lt;/" in diff.old_html() and "<script" not in diff.new_html()


def test_identical_texts_have_an_empty_diff():
    diff = diff_texts("same\n\ntext", "same\n\ntext")
    assert diff.is_empty and (diff.words_added, diff.words_removed) == (0, 0)


def test_a_long_text_diff_keeps_both_texts_intact():
    old = " ".join(f"word{i}" for i in range(5000))
    new = old.replace("word2500", "changed")

    diff = diff_texts(old, new)

    assert "".join(c.text for c in diff.changes if c.kind != "insert") == old
    assert "".join(c.text for c in diff.changes if c.kind != "delete") == new
    assert (diff.words_added, diff.words_removed) == (1, 1)


def test_a_rendered_diff_keeps_each_block_its_kind_with_the_changes_marked():
    diff = diff_texts("## Plan\n\n- one\n- two\n", "## New plan\n\n- one\n- two\n- three\n")

    new = diff.new_markdown()

    assert new.startswith("<h2>") and "New plan</ins></h2>" in new  # still a heading
    assert "<li><ins " in new and "three</ins></li>" in new  # the new item is an item
    assert "<del" not in new and "<ins" not in diff.old_markdown()
    assert "<h2>Plan</h2>" not in new


def test_a_rendered_diff_is_sanitized_and_a_changed_link_keeps_its_target():
    diff = diff_texts(
        "See [docs](https://example.com/a).", "See [docs](https://example.com/b) <script>x</script>"
    )

    new = diff.new_markdown()

    assert 'href="https://example.com/b"' in new  # no marks left inside the URL
    assert "<script" not in new and "&lt;script&gt;" in new
