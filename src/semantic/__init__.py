"""semantic: a business glossary that compiles to SQL.

>>> from semantic import Project
>>> Project.load(".").model.terms["net_revenue"].label("fr")
"Chiffre d'affaires net"
"""

from semantic.errors import Diagnostic, SemanticError
from semantic.project import Project

__all__ = ["Diagnostic", "Project", "SemanticError"]
__version__ = "0.1.0"
