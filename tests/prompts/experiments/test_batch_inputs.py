"""A batch's CSV: the header names the template's variables; each row is checked by the same
form as one run's inputs, and any problem refuses the file with a message naming its line."""

import pytest

from prompts.experiments.batch_inputs import MAX_BYTES, MAX_COLUMNS, parse_inputs


@pytest.fixture
def version(product_template):
    return product_template.current_version()


def test_rows_become_validated_inputs_with_defaults_for_missing_columns(version):
    data = "\ufeffproduct_name,features,words\r\nAurora desk lamp,Warm light,80\r\n\r\n".encode()
    data += b'Beacon torch,"Bright, waterproof\nUSB-C",120\r\n'

    parsed = parse_inputs(data, version)

    assert parsed.errors == []
    (line_a, a), (line_b, b) = parsed.rows
    assert (line_a, line_b) == (2, 4)  # the file's own line numbers; blank lines skipped
    assert a == {
        "product_name": "Aurora desk lamp",
        "features": "Warm light",
        "audience": "busy professionals",
        "tone": "friendly",
        "words": 80,  # typed by the form: a number, not "80"
        "language": "English",
    }
    assert b["features"] == "Bright, waterproof\nUSB-C"


def test_each_bad_row_is_named_with_its_line_and_field(version):
    data = (
        b"product_name,features,tone,words\n"
        b"Aurora,Warm light,friendly,80\n"
        b",Warm light,friendly,80\n"
        b"Beacon,Bright,grumpy,eighty\n"
    )

    parsed = parse_inputs(data, version)

    assert parsed.errors == [
        "Line 3: Product name: This field is required.",
        "Line 4: Tone: Select a valid choice. grumpy is not one of the available choices.",
        "Line 4: Words: Enter a whole number.",
    ]


def test_header_problems_refuse_the_file(version):
    parsed = parse_inputs(b"product_name,colour\nAurora,red\n", version)

    assert parsed.rows == []
    assert parsed.errors[0].startswith("Unknown column(s) colour: the template's variables are")
    assert parsed.errors[1] == "Missing column(s) features: every row needs them."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty: its first line must name the variables."),
        (b"product_name,features\n", "The file has a header but no rows."),
        ("product_name,features\nLampe,Caf\xe9\n".encode("latin-1"), "The file is not UTF-8"),
        (b"product_name,features\nA,b,c\n", "Line 2: more values than columns"),
        (b"product_name,product_name,features\nA,A,b\n", "A column appears twice"),
        (b"product_name,features\n" + b"x" * MAX_BYTES, "The file is larger than 1 MB."),
    ],
)
def test_unreadable_files_say_why(version, data, message):
    parsed = parse_inputs(data, version)

    assert parsed.rows == []
    assert parsed.errors[0].startswith(message)


def test_the_row_count_is_capped(version):
    data = b"product_name,features\n" + b"Lamp,Light\n" * 4

    parsed = parse_inputs(data, version, max_rows=3)

    assert parsed.errors == ["Too many rows: 3 at most per batch."]


def test_blocked_patterns_are_refused_per_row(version):
    data = b"product_name,features\nLamp,<script>alert(1)</script>\n"

    parsed = parse_inputs(data, version)

    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("Line 2: ") and "<script>" in parsed.errors[0]


def test_the_brand_voice_is_not_a_column(version):
    """The template's included voice fills {{ brand_voice }}: a row cannot name another."""
    parsed = parse_inputs(b"product_name,features,brand_voice\nLamp,Light,House\n", version)

    assert parsed.rows == [] and len(parsed.errors) == 1
    assert parsed.errors[0].startswith("Unknown column(s) brand_voice:")


def test_a_value_over_the_csv_field_limit_is_a_clear_error(version):
    data = b"product_name,features\nLamp,Light\nTorch," + b"x" * 200_000 + b"\n"

    parsed = parse_inputs(data, version)

    assert parsed.rows == []
    assert parsed.errors == ["Line 3: a value is longer than 131072 characters."]


def test_a_header_with_too_many_columns_is_refused_whole(version):
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1)).encode()

    parsed = parse_inputs(header + b"\n" + b"x\n", version)

    assert parsed.errors == [f"Too many columns: {MAX_COLUMNS} at most."]


def test_a_knowledge_variable_is_not_a_column(workspace):
    """It is filled with passages when each row generates: no row names it or must."""
    from tests.drafts.grounding_helpers import grounded_template

    grounded = grounded_template(workspace).current_version()
    parsed = parse_inputs(b"topic\nBattery life\n", grounded)
    assert parsed.errors == [] and parsed.rows == [(2, {"topic": "Battery life"})]
    refused = parse_inputs(b"topic,knowledge\nBattery,typed sources\n", grounded)
    assert refused.errors[0].startswith("Unknown column(s) knowledge:")
