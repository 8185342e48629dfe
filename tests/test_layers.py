"""The import contracts ([tool.importlinter] in pyproject.toml) hold, and an import up the layers
breaks them; no two project modules import each other, even through others or inside a
function; and no import hides in a function unless it is a known, deliberate late one.

`make lint` and `make test` run `lint-imports`; these tests run the same contracts through
import-linter, once on the code as it is and then with one import added that goes the wrong
way: each contract must then fail, so none can pass by checking nothing.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases
from importlinter.application.app_config import settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
PACKAGES = ("studio", "drafts", "prompts")


class GraphWithImport:
    """Import-linter's graph builder, plus one import the code does not have."""

    def __init__(self, builder, importer: str, imported: str) -> None:
        self.builder, self.importer, self.imported = builder, importer, imported

    def build(self, **options):
        graph = self.builder.build(**options)
        assert self.importer in graph.modules, self.importer  # a typo would prove nothing
        graph.add_import(
            importer=self.importer,
            imported=self.imported,
            line_number=1,
            line_contents=f"import {self.imported}",
        )
        return graph


def lint(*contracts: str, adding: tuple[str, str] | None = None) -> bool:
    """Whether the contracts (ids; all when none given) hold, with ``adding`` imported too."""
    configuration.configure()
    if adding:
        settings.configure(GRAPH_BUILDER=GraphWithImport(settings.GRAPH_BUILDER, *adding))
    try:
        return use_cases.lint_imports(
            config_filename=str(CONFIG),
            limit_to_contracts=contracts,
            cache_dir=None,
            no_logo=True,
            is_debug_mode=True,  # a broken configuration raises instead of reading as "broken"
        )
    finally:
        configuration.configure()


def test_every_contract_holds():
    assert lint() is True


@pytest.mark.parametrize(
    ("contract", "importer", "imported"),
    [
        ("client", "studio.deepseek.client", "django"),
        ("client", "studio.deepseek.sse", "drafts.models"),
        ("client", "studio.deepseek.pricing", "studio.ai"),
        ("foundation", "studio.guardrails.budgets", "studio.api.models"),
        ("foundation", "studio.guardrails.prompt_checks", "drafts.models"),
        ("foundation", "studio.audit.models", "prompts.models"),
        ("foundation", "studio.audit.recording", "drafts.models"),
        ("layers", "studio.audit.recording", "drafts.audit"),
        ("foundation", "studio.workspaces.access", "studio.assistant.models"),
        ("foundation", "studio.workspaces.views", "studio.dashboard.board"),
        ("layers", "drafts.views", "studio.dashboard.board"),
        ("layers", "drafts.models", "studio.assistant.models"),
        ("layers", "prompts.models", "studio.api.models"),
        ("layers", "studio.audit.models", "studio.guardrails.budgets"),
        ("layers", "studio.guardrails.rate_limits", "studio.workspaces.models"),
        ("layers", "studio.deepseek.events", "studio.audit.models"),
        ("layers", "studio.api.models", "studio.urls"),
        ("prompts-core", "prompts.schema", "drafts.models"),
        ("experiments-above-drafts", "drafts.actions", "prompts.experiments.results"),
        ("experiments-above-drafts", "drafts.views", "prompts.experiments.assignment"),
        ("experiments-above-drafts", "drafts.urls", "prompts.experiments.views.generate"),
        ("layers", "drafts.models", "prompts.experiments.stats"),
        ("layers", "prompts.variable_builder", "drafts.models"),
        ("layers", "prompts.admin", "prompts.experiments.results"),
        ("layers", "prompts.experiments.views.batches", "prompts.urls"),
        ("layers", "drafts.views", "prompts.views"),
        ("layers", "prompts.experiments.views", "prompts.views"),
        # Campaigns drive drafts: nothing below them may reach up; they do not reach the API.
        ("layers", "drafts.generate", "studio.campaigns.models"),
        ("layers", "prompts.experiments.actions", "studio.campaigns.actions"),
        ("layers", "studio.campaigns.views", "studio.api.models"),
        ("foundation", "studio.workspaces.access", "studio.campaigns.models"),
        # The channel rules and counting stay plain Python.
        ("channel-rules", "studio.campaigns.counting", "django"),
        ("channel-rules", "studio.campaigns.channels", "drafts.models"),
        ("channel-rules", "studio.campaigns.filling", "prompts.variables"),
    ],
)
def test_an_import_up_the_layers_breaks_the_contract(contract, importer, imported):
    assert lint(contract) is True
    assert lint(contract, adding=(importer, imported)) is False


def test_a_module_that_imports_django_in_the_client_fails_lint_imports(tmp_path):
    """End to end, as `make lint` runs it: a real module in a copy of the code."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(CONFIG, tmp_path / "pyproject.toml")
    lint_imports = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]

    kept = subprocess.run(lint_imports, cwd=tmp_path, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    (tmp_path / "studio" / "deepseek" / "shortcut.py").write_text(
        "from django.conf import settings\n\nKEY = settings.DEEPSEEK_API_KEY\n"
    )
    broken = subprocess.run(lint_imports, cwd=tmp_path, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "studio.deepseek.shortcut -> django" in broken.stdout
    assert "Contracts: 5 kept, 1 broken." in broken.stdout


# Imports inside a function that are there on purpose: (module, imported) and why. Anything
# else belongs at the top of its module; one that would make an import cycle means the code
# is in the wrong module, and the cycle test below says so.
LATE_IMPORTS = {
    (
        "prompts.experiments.agreement",
        "statsmodels.stats.inter_rater",
    ): "statsmodels brings pandas: ~1 s",
    ("studio.deepseek.simulator.cli", "uvicorn"): "only the command line serves; the app is cheap",
    # SciPy: ~2 s of CPU in every process that loads the URLconf (each server, test worker
    # and command), for the few pages that compute statistics.
    ("prompts.experiments.agreement", "scipy.stats"): "SciPy: ~2 s of start-up",
    ("prompts.experiments.approvals", "scipy.stats"): "SciPy, as above",
    ("prompts.experiments.ranking", "scipy.special"): "SciPy, as above",
    ("prompts.experiments.stats", "scipy.stats"): "SciPy, as above",
    ("studio.apps", "studio"): "studio.tuning loads auth middleware: not while apps populate",
    ("studio.asgi", "drafts"): "lifespan: the app modules load after get_asgi_application()",
    ("studio.asgi", "drafts.generation"): "lifespan, as above",
    ("studio.asgi", "studio.ai"): "lifespan, as above",
    ("studio.asgi", "studio.audit.metrics"): "lifespan, as above",
    ("studio.asgi", "prompts.knowledge.ingesting"): "lifespan, as above",
}


def project_graph(**options) -> grimp.ImportGraph:
    """The import graph of this checkout's packages (inside functions too: grimp reads them)."""
    sys.path.insert(0, str(ROOT))
    try:
        graph = grimp.build_graph(*PACKAGES, cache_dir=None, **options)
    finally:
        sys.path.remove(str(ROOT))
    importers = graph.find_modules_that_directly_import("drafts.models")
    assert "drafts.views.workspace" in importers, (
        "not this checkout's graph: it would prove nothing"
    )
    return graph


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The project's modules that reach each other through imports, as groups (Tarjan)."""
    modules = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    edges = {
        m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in sorted(modules)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # recursion depth: the longest import chain
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = [stack.pop()]
            while group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in edges:
        if module not in index:
            visit(module)
    return cycles


def test_no_project_module_imports_itself_through_others():
    assert import_cycles(project_graph()) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import():
    graph = project_graph()
    graph.add_import(importer="drafts.models", imported="drafts.views.workspace")  # → models
    assert any(
        {"drafts.models", "drafts.views.workspace"} <= set(group) for group in import_cycles(graph)
    )


def late_imports(root: Path = ROOT) -> dict[tuple[str, str], str]:
    """Every import inside a function body in the packages' own code: (module, imported) →
    where ("path:line")."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            module = ".".join(parts).removesuffix(".__init__")
            package = parts[:-1]  # where a relative import starts from
            for function in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    for imported in _imported(node, package):
                        found[(module, imported)] = f"{path.relative_to(root)}:{node.lineno}"
    return found


def _imported(node: ast.AST, package: tuple[str, ...]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if not node.level:
            return [node.module or ""]
        base = package[: len(package) - node.level + 1]
        return [".".join([*base, node.module] if node.module else base)]
    return []


def test_no_function_level_import_but_the_deliberate_late_ones():
    unexpected = {key: where for key, where in late_imports().items() if key not in LATE_IMPORTS}
    assert unexpected == {}


def test_every_allowed_late_import_still_exists():
    """An allow-list entry whose import went away would let a new one in unnoticed."""
    assert set(LATE_IMPORTS) <= set(late_imports())


def test_the_late_import_scan_sees_a_method_s_relative_import(tmp_path):
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "shortcut.py").write_text(
        "class A:\n    def f(self):\n        from .generation import launch\n"
    )
    for package in ("studio", "prompts"):
        (tmp_path / package).mkdir()

    assert late_imports(tmp_path) == {
        ("drafts.shortcut", "drafts.generation"): "drafts/shortcut.py:3"
    }
