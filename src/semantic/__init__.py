"""semantic: a business glossary that compiles to SQL.

>>> from semantic import Project
>>> Project.load(".").model.terms["net_revenue"].label("fr")
"Chiffre d'affaires net"

`import semantic` loads nothing else: the names below are imported on first use, so that
`semantic --help` or a script that only needs `__version__` does not pay for the compiler,
the engines and their libraries (see docs/benchmarks.md, "Start-up").
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from semantic.errors import Diagnostic, SemanticError
    from semantic.project import Project

__all__ = ["Diagnostic", "Project", "SemanticError"]
__version__ = "0.1.0"

#: where each public name lives, imported when it is first asked for
_LAZY = {
    "Diagnostic": "semantic.errors",
    "SemanticError": "semantic.errors",
    "Project": "semantic.project",
}


def __getattr__(name: str) -> Any:
    """The public name `name`, imported from its module on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'semantic' has no attribute '{name}'")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
