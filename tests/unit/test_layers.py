"""Imports point down the layers (README's architecture table): the arrows that once ran up
— services into the job worker, api into the pages — stay gone."""

import ast
from pathlib import Path

import pytest

import prepskul

ROOT = Path(prepskul.__file__).parent


def _imports(folder: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, node.module))
            elif isinstance(node, ast.Import):
                found.update((path.name, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize(("layer", "above"), [
    ("domain", ("prepskul.db", "prepskul.providers", "prepskul.queue", "prepskul.services",
                "prepskul.jobs", "prepskul.api", "prepskul.web", "prepskul.app")),
    ("queue", ("prepskul.services", "prepskul.jobs", "prepskul.api", "prepskul.web",
               "prepskul.app")),
    ("services", ("prepskul.jobs", "prepskul.api", "prepskul.web", "prepskul.app")),
    ("jobs", ("prepskul.api", "prepskul.web", "prepskul.app")),
    ("api", ("prepskul.jobs", "prepskul.web", "prepskul.app")),
    ("web", ("prepskul.jobs", "prepskul.app")),
])
def test_a_layer_never_imports_one_above_it(layer: str, above: tuple[str, ...]) -> None:
    upward = {(name, module) for name, module in _imports(layer)
              if module.startswith(above)}
    assert upward == set()


def test_services_import_each_other_at_the_top_only() -> None:
    """An import inside a function is how a cycle hides (booking ↔ moves once did): what two
    services both need sits in a module below them instead."""
    hidden = set()
    for path in (ROOT / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden.update((path.name, inner.lineno) for inner in ast.walk(node)
                              if isinstance(inner, ast.Import | ast.ImportFrom))
    assert hidden == set()
