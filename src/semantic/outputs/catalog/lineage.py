"""Where a term comes from and what uses it, as a small graph for the catalog's diagrams.

The graph is computed in `semantic.compiler.lineage`, which `semantic lineage` and
`Project.lineage` share; this module names what the catalog site uses of it.

>>> from semantic.project import Project
>>> graph = term_lineage(Project.load(".").model, "average_order_value")
>>> sorted(n.key for n in graph.nodes if n.kind == "term")
['average_order_value', 'net_revenue', 'order_count']
"""

from __future__ import annotations

from semantic.compiler.lineage import (
    LineageGraph,
    LineageNode,
    term_lineage,
    term_sources,
    term_users,
)

__all__ = ["LineageGraph", "LineageNode", "term_lineage", "term_sources", "term_users"]
