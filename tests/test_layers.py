"""The import contracts ([tool.importlinter] in pyproject.toml) hold, and an import up the layers
breaks them.

`make lint` and `make test` run `lint-imports`; these tests run the same contracts through
import-linter, once on the code as it is and then with one import added that goes the wrong
way: each contract must then fail, so none can pass by checking nothing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
        ("experiments-above-drafts", "drafts.actions", "prompts.results"),
        ("experiments-above-drafts", "drafts.views", "prompts.assignment"),
        ("experiments-above-drafts", "drafts.urls", "prompts.generate_views"),
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
    assert "Contracts: 4 kept, 1 broken." in broken.stdout
