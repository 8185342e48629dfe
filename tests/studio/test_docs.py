"""The documentation holds: every environment variable the code reads is in
docs/configuration.md and .env.example, README.md stays short and starts with the two
commands, and every relative link in README.md, CONTRIBUTING.md and docs/ resolves."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
# The studio's own code (not tests/ or bench/, whose variables are the harness's own).
PACKAGES = ("studio", "drafts", "prompts")
# Reads of the environment: django-environ's typed getters, os.environ.get/[...], os.getenv.
# setdefault and pop are writes, not reads.
READS = [
    re.compile(r'\benv(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"'),
    re.compile(r'\bos\.environ\.get\(\s*"([A-Z][A-Z0-9_]*)"'),
    re.compile(r'\bos\.environ\[\s*"([A-Z][A-Z0-9_]*)"\s*\](?!\s*=[^=])'),
    re.compile(r'\bos\.getenv\(\s*"([A-Z][A-Z0-9_]*)"'),
]
# Framework plumbing, not studio configuration.
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _python_sources() -> list[Path]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return [p for p in files if "migrations" not in p.parts]


def code_variables() -> set[str]:
    """Every environment variable the studio's code reads."""
    names: set[str] = set()
    for path in _python_sources():
        source = path.read_text(encoding="utf-8")
        for pattern in READS:
            names |= set(pattern.findall(source))
    return names - NOT_CONFIGURATION


def settings_variables() -> set[str]:
    source = (ROOT / "studio" / "settings.py").read_text(encoding="utf-8")
    return {name for pattern in READS for name in pattern.findall(source)}


def container_variables() -> set[str]:
    """Variables the Docker image's entry command expands (``${NAME}``): uvicorn's, not ours."""
    recipe = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", recipe))


def documented() -> set[str]:
    text = CONFIGURATION.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.MULTILINE))


def test_the_parsers_find_the_settings():
    """So that the checks below cannot pass by reading nothing."""
    found = code_variables()
    assert len(settings_variables()) >= 50
    assert {"DATABASE_URL", "DEEPSEEK_API_KEY", "GENERATION_SSE_RATE", "LOG_LEVEL"} <= found
    assert "PROMETHEUS_MULTIPROC_DIR" in found  # read with os.environ.get outside settings too
    assert {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"} <= container_variables()


def test_every_variable_the_code_reads_is_in_the_configuration_table():
    missing = code_variables() - documented()
    assert not missing, f"add rows to docs/configuration.md for: {sorted(missing)}"


def test_the_configuration_table_lists_nothing_that_is_not_read():
    """A row for a variable nothing reads any more is a stale row."""
    stale = documented() - code_variables() - container_variables()
    assert not stale, f"docs/configuration.md documents variables nothing reads: {sorted(stale)}"


def test_every_variable_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z_]+)=", example, flags=re.MULTILINE))
    assert code_variables() == listed


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().splitlines()[:6]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_readme_is_at_most_150_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move detail into docs/"


def test_readme_points_at_the_docs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("configuration", "operations", "api", "security", "architecture", "benchmark"):
        assert f"](docs/{page}.md)" in readme
    assert "](CONTRIBUTING.md)" in readme


# --- links ---------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE)
CODE = re.compile(r"`[^`\n]*`")


def pages() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]


def links(page: Path) -> list[str]:
    """The targets of a page's Markdown links and images, outside code."""
    text = CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, flags=re.MULTILINE)}


def test_the_link_check_sees_the_links():
    assert "docs/configuration.md" in links(ROOT / "README.md")
    assert slug("What `make bench` does") == "what-make-bench-does"
    assert slug("Proxies and client addresses") in anchors(ROOT / "docs" / "security.md")


def test_every_relative_link_points_at_an_existing_file():
    broken = []
    for page in pages():
        for target in links(page):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: — not a file in this checkout
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            name = page.relative_to(ROOT)
            if not file.exists():
                broken.append(f"{name}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{name}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)
