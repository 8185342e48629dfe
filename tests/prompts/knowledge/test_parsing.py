"""Every format to text, every limit with its message, and hostile documents."""

import pytest

from prompts.knowledge import parsing
from prompts.knowledge.chunking import chunk
from prompts.knowledge.parsing import Kind, SourceError, kind_for, parse

from .documents import blank_pdf, docx_file, pdf_with_text, zip_bomb


def test_markdown_keeps_headings_and_paragraphs():
    document = parse(b"# Lumen\n\nA **lamp**.\n\n- one\n- two", kind=Kind.MARKDOWN)
    assert document.text == "# Lumen\n\nA lamp.\n\n- one\n- two"
    assert document.title == "Lumen"
    assert len(document.sha256) == 64 and document.size == 33


def test_plain_text_is_kept_with_its_line_breaks_and_without_control_characters():
    document = parse("Line one\r\nline two\x00\n\n\n\nEnd\ufeff".encode(), kind=Kind.TEXT)
    assert document.text == "Line one\nline two\n\nEnd\ufeff"
    assert parse("\ufeffBOM".encode(), kind=Kind.TEXT).text == "BOM"


def test_html_becomes_text_with_markdown_headings():
    markup = "<html><head><title>Sheet</title></head><body><h2>Battery</h2><p>Twelve\n hours</p>"
    markup += "<ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table></body>"
    assert parse(markup.encode(), kind=Kind.HTML).text == (
        "# Sheet\n\n## Battery\n\nTwelve hours\n\n- a\n- b\n\nx y"
    )


def test_docx_headings_paragraphs_and_tables():
    data = docx_file(("Heading 1", "Guide"), ("Normal", "Body text."), ("Heading 2", "步骤"))
    document = parse(data, kind=Kind.DOCX, filename="guide.docx")
    assert document.text == "# Guide\n\nBody text.\n\n## 步骤"
    assert document.filename == "guide.docx"


def test_pdf_text_of_every_page_and_the_page_count():
    document = parse(pdf_with_text("First page (one).", "Second page."), kind=Kind.PDF)
    assert document.text == "First page (one).\n\nSecond page."
    assert document.pages == 2


def test_kinds_by_extension():
    assert kind_for("Sheet.MD") == Kind.MARKDOWN
    assert kind_for("a.htm") == Kind.HTML
    with pytest.raises(SourceError, match="not a format the studio reads"):
        kind_for("photo.png")


# --- Limits -----------------------------------------------------------------------------------


def test_a_document_over_the_size_limit_is_refused(settings):
    settings.KNOWLEDGE_MAX_BYTES = 10
    with pytest.raises(SourceError, match="the most this studio accepts is 10"):
        parse(b"x" * 11, kind=Kind.TEXT)


def test_a_pdf_over_the_page_limit_is_refused_before_its_pages_are_read(settings):
    settings.KNOWLEDGE_MAX_PAGES = 2
    with pytest.raises(SourceError, match="has 3 pages; the most this studio reads is 2"):
        parse(pdf_with_text("a", "b", "c"), kind=Kind.PDF)


def test_invalid_utf8_says_where(settings):
    with pytest.raises(SourceError, match=r"not valid UTF-8 \(byte 3\)"):
        parse(b"abc\xff\xfe", kind=Kind.MARKDOWN)


def test_a_scanned_pdf_without_a_text_layer_says_so():
    with pytest.raises(SourceError, match="no text layer"):
        parse(blank_pdf(3), kind=Kind.PDF)


def test_empty_and_broken_documents():
    with pytest.raises(SourceError, match="no text to search"):
        parse(b"  \n\n ", kind=Kind.TEXT)
    with pytest.raises(SourceError, match="not a valid DOCX"):
        parse(b"not a zip", kind=Kind.DOCX)
    with pytest.raises(SourceError, match="not a valid PDF"):
        parse(b"%PDF-1.4 garbage", kind=Kind.PDF)


# --- Hostile documents --------------------------------------------------------------------------


def test_html_scripts_styles_and_handlers_leave_no_trace():
    markup = (
        '<p onclick="steal()">Hello <a href="javascript:alert(1)">link</a></p>'
        "<script>alert('x')</script><style>body{}</style><iframe src=//evil></iframe>"
        '<img src=x onerror="alert(1)"><svg><script>alert(2)</script></svg><noscript>ns</noscript>'
    )
    text = parse(markup.encode(), kind=Kind.HTML).text
    assert text == "Hello link"


def test_raw_html_in_markdown_is_dropped_not_stored():
    markdown = "# Notes\n\nSome <script>alert(1)</script> text <b onclick=x>bold</b>.\n\n"
    markdown += "<div>raw <iframe src=x></iframe> block</div>\n\n<script>\nalert(2)\n</script>\n"
    text = parse(markdown.encode(), kind=Kind.MARKDOWN).text
    assert "script" not in text and "alert" not in text and "onclick" not in text
    assert text.startswith("# Notes\n\nSome") and "bold" in text and "raw block" in text


def test_a_zip_bomb_posing_as_docx_is_refused_unopened(settings):
    settings.KNOWLEDGE_MAX_UNPACKED_BYTES = 1024 * 1024
    bomb = zip_bomb(20 * 1024 * 1024)
    assert len(bomb) < 100_000
    with pytest.raises(SourceError, match="unpacks to 20971520 bytes.*zip bomb"):
        parse(bomb, kind=Kind.DOCX, filename="report.docx")


def test_a_large_markdown_file_is_read_in_parts_never_inside_fenced_code(monkeypatch):
    monkeypatch.setattr(parsing, "MARKDOWN_PART_CHARS", 40)
    text = "# One\n\nFirst paragraph, long enough.\n\n```\ncode\n\nmore code\n```\n\nLast.\n"
    parts = parsing._markdown_parts(text)
    assert len(parts) > 1
    assert all(part.count("```") % 2 == 0 for part in parts)
    seen = []
    whole = parsing.markdown_to_text(text, lambda done, total: seen.append((done, total)))
    assert seen == [(n, len(parts)) for n in range(1, len(parts) + 1)]
    monkeypatch.setattr(parsing, "MARKDOWN_PART_CHARS", 10**6)
    assert whole == parsing.markdown_to_text(text)  # the same text as read in one part


@pytest.mark.parametrize("kind", [Kind.MARKDOWN, Kind.HTML])
def test_code_blocks_keep_their_lines_and_indentation(kind):
    if kind == Kind.MARKDOWN:
        source = "# CLI\n\nInstall it:\n\n```sh\npip install x\nx   --version\n  indented\n```\n\n"
    else:
        source = "<h1>CLI</h1><p>Install\nit:</p><pre><code>pip install x\nx   --version\n"
        source += "  indented\n</code></pre><p>Done.</p>"
    text = parse(source.encode(), kind=kind).text
    assert "```\npip install x\nx   --version\n  indented\n```" in text
    assert "Install it:" in text and "\x01" not in text
    [passage] = chunk(text)
    assert "pip install x\nx   --version" in passage.text


@pytest.mark.parametrize("kind", [Kind.MARKDOWN, Kind.HTML])
def test_a_comment_in_code_is_not_a_heading(kind):
    if kind == Kind.MARKDOWN:
        source = "Intro.\n\n```sh\n# configure first\nlumen init\n```\n\n# Usage\n\nRun it."
    else:
        source = "<p>Intro.</p><pre><code># configure first\nlumen init</code></pre>"
        source += "<h1>Usage</h1><p>Run it.</p>"
    document = parse(source.encode(), kind=kind)
    assert document.title == "Usage"  # not "configure first"
    assert [(c.heading, c.text) for c in chunk(document.text)] == [
        ("", "Intro.\n\n```\n# configure first\nlumen init\n```"),
        ("Usage", "Run it."),
    ]
