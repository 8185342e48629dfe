"""Exports stay bounded: linear DOCX tables, XML-safe text, caps and a time budget."""

import io

import docx
import pytest
from django.urls import reverse

from drafts import exports
from drafts.actions import add_version
from drafts.models import Draft

# Every control character XML forbids but NUL, which no text can hold (forms refuse it, and
# PostgreSQL cannot store it); test_xml_safe_drops_every_character_xml_forbids covers NUL.
CONTROL = "".join(chr(c) for c in [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


@pytest.fixture
def draft(workspace, user, product_template):
    return Draft.objects.create(
        workspace=workspace,
        title="Quarterly\x01 figures",
        created_by=user,
        template_version=product_template.current_version(),
    )


def version_url(client, user, draft, text: str, fmt: str) -> str:
    client.force_login(user)
    version = add_version(draft_id=draft.pk, text=text, source="edited", author_id=user.pk)
    return reverse("drafts:export", args=[draft.pk, version.number, fmt])


def table(rows: int, cols: int) -> str:
    head = "| " + " | ".join(f"h{c}" for c in range(cols)) + " |"
    body = ["| " + " | ".join(f"r{r}c{c}" for c in range(cols)) + " |" for r in range(rows)]
    return "\n".join([head, "|" + "---|" * cols, *body])


def test_a_table_with_control_characters_exports_to_a_valid_docx(client, user, draft):
    text = f"# Head\x0b line\n\nIntro\x01 text {CONTROL}.\n\n"
    text += "| a\x01 | b\x0b |\n|---|---|\n| c\x1f | d |"
    response = client.get(version_url(client, user, draft, text, "docx"))

    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.content))
    texts = [p.text for p in document.paragraphs]
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert texts == ["Head line", "Intro text ."]
    assert cells == ["a", "b", "c", "d"]
    assert document.core_properties.title == "Quarterly figures"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_control_characters_export_as_markdown_and_html(client, user, draft, fmt):
    response = client.get(version_url(client, user, draft, f"Intro\x01 {CONTROL}", fmt))

    assert response.status_code == 200 and b"Intro" in response.content


def test_xml_safe_drops_every_character_xml_forbids():
    assert exports.xml_safe(f"a\x00{CONTROL}\ud800\udfff\ufffe\uffffb\t\n\r中") == "ab\t\n\r中"


def test_a_5000_cell_table_exports_every_cell_in_order():
    document = docx.Document(io.BytesIO(exports.markdown_to_docx(table(999, 5))))

    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert len(rows) == 1000 and rows[0] == ["h0", "h1", "h2", "h3", "h4"]
    assert rows[1:] == [[f"r{r}c{c}" for c in range(5)] for r in range(999)]
    assert all(
        run.bold for cell in document.tables[0].rows[0].cells for run in cell.paragraphs[0].runs
    )


def test_a_table_over_the_cell_cap_is_refused_with_a_clear_message(
    client, user, draft, monkeypatch
):
    monkeypatch.setattr(exports, "MAX_DOCX_CELLS", 20)

    response = client.get(version_url(client, user, draft, table(4, 5), "docx"))

    assert response.status_code == 422
    page = response.content.decode()
    assert "25 table cells" in page and "20" in page
    assert reverse("drafts:export", args=[draft.pk, 1, "md"]) in page  # the whole text, still


def test_a_document_over_the_size_cap_is_refused_as_docx_and_shown_in_full_as_html(
    client, user, draft, monkeypatch
):
    from drafts import markdown_html

    monkeypatch.setattr(markdown_html, "MAX_MARKDOWN_CHARS", 50)
    text = "**long** <b>" + "word " * 20

    refused = client.get(version_url(client, user, draft, text, "docx"))
    html = client.get(reverse("drafts:export", args=[draft.pk, 1, "html"]))

    assert refused.status_code == 422 and "too long" in refused.content.decode()
    assert html.status_code == 200
    page = html.content.decode()
    assert "**long** &lt;b&gt;" + "word " * 20 in page and "<strong>" not in page


def test_an_export_over_its_time_budget_stops_with_a_clear_message(
    client, user, draft, monkeypatch
):
    monkeypatch.setattr(exports, "TIME_BUDGET_SECONDS", -1)  # already spent when it starts

    response = client.get(version_url(client, user, draft, table(3, 3), "docx"))

    assert response.status_code == 422
    assert "Content-Disposition" not in response
    assert "took longer than" in response.content.decode()
