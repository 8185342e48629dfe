"""bench/parsers.py runs offline: every hostile document is refused, the long export parsed."""

from bench import parsers


def test_the_parser_benchmark_refuses_every_hostile_document(capsys):
    parsers.main()

    out = capsys.readouterr().out
    assert "Aliases and anchors are not supported in YAML imports" in out
    assert out.count("Nested too deeply") == 2 and "The file is too large" in out
    assert "Too many values" in out and out.count("parsed:") == 1
