"""Imports flow one way, down the layers of STYLE.md; no module imports one above it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "semantic"

#: Lowest first. A module may import only modules of a lower or equal layer.
LAYERS: list[set[str]] = [
    {"errors", "names", "naming", "nodes", "atomic"},
    {"schema"},
    {"files", "jsonschema"},
    {"model"},
    {"resolve", "lint"},
    {"query"},
    {"periods", "dialects"},
    {"plan"},
    {"render"},
    {"engines.base"},
    {"engines.datagen", "engines.duckdb", "engines", "engines.catalog", "engines.postgres"},
    {"engines.spark", "engines.load", "engines.connect"},
    {"quality"},
    {"views"},
    {"publish"},
    {"rdf", "rdf.iris", "rdf.text", "rdf.vocab", "rdf.r2rml"},
    {"rdf.export", "rdf.validate"},
    {"rdf.skos_import"},
    {"interchange"},
    {"scaffold", "dbt_import", "osi"},
    {"project"},
    {"search"},
    {"catalog.areas"},
    {"catalog", "catalog.lineage", "catalog.diagrams", "catalog.examples", "catalog.site"},
    {"fmt", "gitrev"},
    {"vocabdiff"},
    {"cli"},
]


def layer_of(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"module semantic.{module} is not placed in LAYERS")


def internal_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("semantic."):
            found.add(node.module.removeprefix("semantic."))
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("semantic.")]
            found |= {n.removeprefix("semantic.") for n in names}
    return found


def modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent != PACKAGE
    }


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_imports_only_go_down() -> None:
    wrong = [
        f"semantic.{name} imports semantic.{target}"
        for name, path in modules().items()
        for target in internal_imports(path)
        if layer_of(target) > layer_of(name)
    ]
    assert wrong == []


def test_errors_module_imports_nothing_of_ours() -> None:
    assert internal_imports(PACKAGE / "errors.py") == set()
