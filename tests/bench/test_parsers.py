"""bench/parsers.py runs offline and every hostile document in it is refused."""

from bench import parsers


def test_the_parser_benchmark_refuses_every_document(db, capsys):
    parsers.main()

    out = capsys.readouterr().out
    assert "Aliases and anchors are not supported in YAML imports" in out
    assert out.count("Nested too deeply") == 2 and "The file is too large" in out
    assert "imported (!)" not in out
