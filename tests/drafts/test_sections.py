"""Sections: an outline from the headings; replacing one leaves every other byte identical."""

import pytest

from drafts.actions import VersionConflict, add_version, reorder_section, save_section
from drafts.models import Draft
from drafts.sections import move_section, outline, plan_move, replace_section

DOC = (
    "Intro line.\n\n"
    "# Install\n\nRun `pip install x`.\n\n```sh\n# not a heading\n```\n\n"
    "## Configure\r\n\nSet  **KEY**.  \n\n"
    "# 使用\n\n中文说明。\n"
)


def test_the_outline_lists_headings_but_not_code_comments():
    sections = outline(DOC)
    assert [(s.level, s.title) for s in sections] == [(1, "Install"), (2, "Configure"), (1, "使用")]
    assert DOC[sections[0].start :].startswith("# Install")
    assert sections[-1].end == len(DOC)


def test_replacing_one_section_leaves_the_others_byte_identical():
    before = outline(DOC)

    new = replace_section(DOC, 1, "## Configure\n\nSet the API key in `.env`.")

    after = outline(new)
    assert [s.title for s in after] == ["Install", "Configure", "使用"]
    assert new[: after[1].start] == DOC[: before[1].start]  # preamble and section 0
    assert new[after[2].start :] == DOC[before[2].start :]  # section 2 to the end
    assert new[after[1].start : after[1].end] == "## Configure\n\nSet the API key in `.env`.\n\n"


def test_replacing_the_last_section_and_a_missing_one():
    assert replace_section(DOC, 2, "# 使用\n\n新的说明。\n").endswith("# 使用\n\n新的说明。\n")
    with pytest.raises(IndexError):
        replace_section(DOC, 3, "# Nope")


def test_save_section_makes_a_version_with_only_that_section_changed(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Guide", created_by=user)
    add_version(draft_id=draft.pk, text=DOC, source="generated", author_id=user.pk)

    version = save_section(
        draft_id=draft.pk, index=0, text="# Install\n\nUse uv.", base_number=1, author_id=user.pk
    )

    first, rest = outline(DOC), outline(version.text)
    assert version.number == 2 and version.based_on == 1
    assert version.text[rest[1].start :] == DOC[first[1].start :]
    assert version.text.startswith("Intro line.\n\n# Install\n\nUse uv.\n\n## Configure\r\n")
    with pytest.raises(VersionConflict):
        save_section(draft_id=draft.pk, index=0, text="# X", base_number=1, author_id=user.pk)


def test_moving_a_section_swaps_it_with_its_neighbour_and_keeps_every_byte():
    moved = move_section(DOC, 2, 1)

    sections = outline(moved)
    assert [s.title for s in sections] == ["Install", "使用", "Configure"]
    assert moved.startswith(DOC[: outline(DOC)[1].start])  # preamble and section 0 as they were
    assert "# 使用\n\n中文说明。\n\n## Configure\r\n\nSet  **KEY**.  \n" in moved
    assert sorted(moved) == sorted(DOC)  # the same characters: nothing added or lost
    assert move_section(moved, 2, 1) == DOC  # the leaf back up: "使用" now heads "Configure"


def test_moving_a_section_past_either_end_is_refused():
    with pytest.raises(IndexError):
        move_section(DOC, 0, -1)
    with pytest.raises(IndexError):
        move_section(DOC, 2, 3)
    with pytest.raises(IndexError):
        move_section(DOC, 0, 2)  # one step at a time


def test_a_text_without_headings_has_no_sections():
    assert outline("Just a paragraph.\n") == []


def test_reorder_section_saves_a_version_based_on_the_newest_only(workspace, user):
    draft = Draft.objects.create(workspace=workspace, title="Guide", created_by=user)
    add_version(draft_id=draft.pk, text=DOC, source="generated", author_id=user.pk)

    version, landed = reorder_section(
        draft_id=draft.pk, index=0, to=1, base_number=1, author_id=user.pk
    )

    assert (version.number, version.source, version.based_on) == (2, "edited", 1)
    # "Install" has a subsection: the two move together, past "使用".
    assert [s.title for s in outline(version.text)] == ["使用", "Install", "Configure"]
    assert landed == 1
    with pytest.raises(VersionConflict):
        reorder_section(draft_id=draft.pk, index=0, to=1, base_number=1, author_id=user.pk)
    assert draft.versions.count() == 2


NESTED = (
    "Preface.\n\n"
    "## A\n\nAlpha.\n\n### A.1\n\nAlpha one.\n\n#### A.1.a\n\nDeep.\n\n"
    "## B\r\n\nBravo  **bold**.\n\n### B.1\n\n中文。\n\n"
    "## C\n\nCharlie.\n"
)


def block(text: str, first: str, last: str) -> str:
    """The bytes from heading ``first`` to the end of section ``last``, trailing blank lines
    left out (they stay between positions)."""
    sections = {s.title: s for s in outline(text)}
    return text[sections[first].start : sections[last].end].rstrip("\r\n")


def test_moving_a_parent_down_takes_its_subsections_and_keeps_every_other_byte():
    moved, landed = plan_move(NESTED, 0, 1)

    assert [s.title for s in outline(moved)] == ["B", "B.1", "A", "A.1", "A.1.a", "C"]
    assert landed == 2  # where "A" is now
    assert moved.startswith("Preface.\n\n" + block(NESTED, "B", "B.1") + "\n\n")
    assert block(moved, "A", "A.1.a") == block(NESTED, "A", "A.1.a")  # children attached
    assert moved.endswith("\n\n## C\n\nCharlie.\n")
    assert sorted(moved) == sorted(NESTED)  # nothing added or lost
    assert move_section(moved, 2, 1) == NESTED  # and back up again


def test_moving_a_parent_up_passes_the_whole_previous_block():
    moved, landed = plan_move(NESTED, 3, 2)  # "B" up: past "A" with A.1 and A.1.a

    assert [s.title for s in outline(moved)] == ["B", "B.1", "A", "A.1", "A.1.a", "C"]
    assert landed == 0
    assert block(moved, "B", "B.1") == block(NESTED, "B", "B.1")
    assert moved == plan_move(NESTED, 0, 1)[0]


def test_a_nested_parent_moves_with_its_own_subsections_only():
    # "A.1" (with A.1.a) is its parent's last subsection: down, it passes the next heading.
    moved, landed = plan_move(NESTED, 1, 2)

    assert [s.title for s in outline(moved)] == ["A", "B", "A.1", "A.1.a", "B.1", "C"]
    assert landed == 2
    assert block(moved, "A.1", "A.1.a") == block(NESTED, "A.1", "A.1.a")
    assert sorted(moved) == sorted(NESTED)
    # Up from the top of its parent, it passes the parent's heading section alone.
    up, landed = plan_move(NESTED, 1, 0)
    assert [s.title for s in outline(up)] == ["A.1", "A.1.a", "A", "B", "B.1", "C"]
    assert landed == 0


def test_leaf_sections_still_move_flat():
    assert [s.title for s in outline(move_section(NESTED, 5, 4))] == [
        "A",
        "A.1",
        "A.1.a",
        "B",
        "C",
        "B.1",
    ]
    assert plan_move(NESTED, 2, 3)[1] == 3  # "A.1.a" down past "B"'s heading


def test_a_parent_whose_block_ends_the_draft_cannot_move_down():
    text = "# One\n\nx\n\n# Two\n\n## Two.1\n\ny\n"
    with pytest.raises(IndexError):
        move_section(text, 1, 2)
    assert [s.title for s in outline(move_section(text, 1, 0))] == ["Two", "Two.1", "One"]


def test_a_heading_title_is_its_markdown_source():
    """Headings come from the block pass alone: the title is the heading's source text."""
    text = "# Set **up** the `lamp`\n\nBody *text*.\n\n## [Links](https://example.com)\n"

    assert [s.title for s in outline(text)] == [
        "Set **up** the `lamp`",
        "[Links](https://example.com)",
    ]
