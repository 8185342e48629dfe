"""Arbitrary text, bytes and nested data into the import parsers and the batch CSV parser:
the only failure ever raised is the studio's own InvalidTemplate (a clear message), and
the CSV parser never raises at all (its problems are listed)."""

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prompts.actions import InvalidTemplate
from prompts.experiments.batch_inputs import ParsedInputs, parse_inputs
from prompts.transfer import loads
from tests.prompts.hostile_documents import nested_json, nested_yaml

# No deadline: a shared CI machine is slow now and then; what is checked is what is raised.
FUZZ = settings(max_examples=150, deadline=None)
DB_FUZZ = settings(
    max_examples=60,
    deadline=None,
    # The template version is only read, so one per test function is fine.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)
# Fragments of YAML syntax (anchors, aliases, tags, flow and block nesting), shuffled.
YAML_BITS = st.lists(
    st.sampled_from(
        [
            "- ",
            "[",
            "]",
            "{",
            "}",
            ", ",
            ": ",
            "? ",
            "&a ",
            "*a",
            "&b ",
            "*b",
            "<<: ",
            "!!str ",
            "!!python/object ",
            "'",
            '"',
            "\n",
            "  ",
            "slug",
            "x",
            "1e400",
            "2001-02-30",
            "---\n",
            "%YAML 1.1\n",
            "|\n",
            "\t",
            "#",
            "\\",
        ]  # fmt: skip
    ),
    max_size=60,
).map("".join)
CSV_BITS = st.lists(
    st.sampled_from(
        [
            "product_name",
            "features",
            "words",
            "tone",
            ",",
            '"',
            '""',
            "\n",
            "\r",
            "\r\n",
            "\x00",
            "x",
            "80",
            "friendly",
            "\ufeff",
            " ",
            "\\",
            "Lamp",
        ]  # fmt: skip
    ),
    max_size=80,
).map("".join)


def _loads_or_refuses(text: str, fmt: str) -> None:
    try:
        items = loads(text, fmt)
    except InvalidTemplate as error:
        assert str(error)
    else:
        assert isinstance(items, list) and all(isinstance(i, dict) for i in items)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@FUZZ
@given(text=st.text())
def test_any_text(fmt, text):
    _loads_or_refuses(text, fmt)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@FUZZ
@given(data=st.binary())
def test_any_bytes(fmt, data):
    _loads_or_refuses(data.decode("latin-1"), fmt)


@FUZZ
@given(text=YAML_BITS)
def test_yaml_syntax_soup(text):
    _loads_or_refuses(text, "yaml")


@FUZZ
@given(data=DATA)
def test_any_structure_as_json_and_yaml(data):
    _loads_or_refuses(json.dumps(data), "json")
    _loads_or_refuses(yaml.safe_dump(data), "yaml")


@FUZZ
@given(depth=st.integers(0, 20_000))
def test_any_nesting_depth(depth):
    _loads_or_refuses(nested_json(depth), "json")
    _loads_or_refuses(nested_yaml(min(depth, 3_000)), "yaml")


@pytest.fixture
def version(product_template):
    return product_template.current_version()


@DB_FUZZ
@given(data=st.binary(max_size=2_000))
def test_any_bytes_as_a_batch_csv(version, data):
    assert isinstance(parse_inputs(data, version), ParsedInputs)


@DB_FUZZ
@given(text=CSV_BITS)
def test_csv_syntax_soup(version, text):
    parsed = parse_inputs(text.encode(), version)

    assert parsed.errors or parsed.rows
