"""The package's rooms and the way imports flow between them, as intended (STYLE.md, README).

Each module belongs to a layer (its sub-package); a module may import its own layer and the
layers below it, never one above. A few named "never" rules say more than the order alone.
A change that breaks the design fails with the rule's name; `test_a_violation_is_named`
shows that each rule does catch what it names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "semantic"

#: Lowest first: (layer, what lives there). A module is in the layer of its first name.
LAYERS: list[tuple[str, str]] = [
    ("errors", "codes, diagnostics, suggest(): imports nothing of ours"),
    ("progress", "long work announced for a front end to show: imports nothing of ours"),
    ("files", "YAML <-> typed specs: schema, read, fmt, atomic writes"),
    ("model", "the checked catalog: entities, terms, names"),
    ("compiler", "business query -> plan -> SQL text in any dialect"),
    ("engines", "DuckDB, PostgreSQL, Spark: run SQL, load data, describe databases"),
    ("audit", "the audit trail: a JSON line for each compile, query and explain"),
    ("project", "load + compile + query facade"),
    ("outputs", "views, publish, quality, lint, search, diff, RDF, catalog site"),
    ("interchange", "dbt, OSI, SKOS and databases in; OSI out"),
    ("serve", "the service every server front end shares: tokens, reload, plan cache, API"),
    ("cli", "thin shells over the above"),
]

#: (rule, importer prefix, imported prefix, allowed exceptions): `importer` never imports
#: `imported`, except the modules listed.
NEVER: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("the compiler never runs SQL", "compiler", "engines", ()),
    ("the compiler never reaches for outputs", "compiler", "outputs", ()),
    ("the model knows no compiler", "model", "compiler", ()),
    (
        "interchange reads databases only through engines.describe",
        "interchange",
        "engines",
        ("engines.describe",),
    ),
    ("outputs never import importers", "outputs", "interchange", ()),
    ("the server reads no importer", "serve", "interchange", ()),
]


def layer_of(module: str) -> str:
    """The layer `module` (a dotted name under `semantic`) belongs to."""
    first = module.split(".")[0]
    names = [name for name, _ in LAYERS]
    if first not in names:
        raise AssertionError(
            f"semantic.{module} is in no layer: put it in one of the sub-packages "
            f"{', '.join(names)} (see CONTRIBUTING.md)"
        )
    return first


def rank(module: str) -> int:
    return [name for name, _ in LAYERS].index(layer_of(module))


def internal_imports(path: Path) -> set[str]:
    """The modules of ours that the file at `path` imports (the `semantic.` prefix cut)."""
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
    """Every module of the package but its root `__init__`, by dotted name."""
    return {
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__"): p
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent != PACKAGE
    }


def violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every import of `graph` (module -> modules it imports) that breaks a rule, named."""
    wrong = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if rank(target) > rank(name):
                wrong.append(
                    f"layers: semantic.{name} ({layer_of(name)}) imports semantic.{target} "
                    f"({layer_of(target)}), a layer above it"
                )
            for rule, importer, imported, allowed in NEVER:
                if (
                    layer_of(name) == importer
                    and layer_of(target) == imported
                    and target not in allowed
                ):
                    wrong.append(f"{rule}: semantic.{name} imports semantic.{target}")
            if layer_of(name) == "errors" and target != name:
                wrong.append(f"errors imports nothing of ours: semantic.{name} imports {target}")
            if layer_of(name) == "progress" and target != name:
                wrong.append(f"progress imports nothing of ours: semantic.{name} imports {target}")
    return wrong


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles of `graph` (each as the modules along it)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target in graph and not state.get(target):
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [node])
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t in internal_imports(p) if t in known} for name, p in known.items()}


def test_every_module_has_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_imports_follow_the_rules() -> None:
    assert violations(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_a_violation_is_named() -> None:
    """The test of the test: each rule catches the import it names."""
    broken = {
        "compiler.plan": {"engines.duckdb", "outputs.views"},
        "model": {"compiler.parse"},
        "interchange.dbt": {"engines.postgres", "engines.describe"},
        "outputs.views": {"interchange.dbt", "project"},
        "errors": {"files.read"},
        "files.fmt": {"project"},
    }
    found = "\n".join(violations(broken))
    for rule in (
        "the compiler never runs SQL: semantic.compiler.plan imports semantic.engines.duckdb",
        "the compiler never reaches for outputs",
        "the model knows no compiler",
        "interchange reads databases only through engines.describe: "
        "semantic.interchange.dbt imports semantic.engines.postgres",
        "outputs never import importers",
        "errors imports nothing of ours",
        "layers: semantic.files.fmt (files) imports semantic.project (project), a layer above it",
    ):
        assert rule in found
    assert "engines.describe" not in found.replace("engines.describe:", "")
    assert "outputs.views imports semantic.project" not in found  # outputs sit above project
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


#: the longest a module may grow: past it, it holds more than one idea (CONTRIBUTING.md)
MAX_LINES = 600


def test_every_module_is_small() -> None:
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: split them by idea: {long}"
