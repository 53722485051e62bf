"""What an access policy decided about one query, kept on the parsed query and its plan
(`BusinessQuery.decision`, `Plan.policy`) so that `explain` and an audit record can say it
without deriving it again.

>>> d = PolicyDecision("emea_analyst", "internal", ("customer_region = 'EUROPE'",),
...                    ("customer", "orders"), (("customer_name", "hash"),), ())
>>> d.as_dict()["filters"]
["customer_region = 'EUROPE'"]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The role a query ran with and what its policy did to the query: the row filters
    applied (as written in the policy file), the entities whose rows they restrict, the
    output terms shown masked (term id, mask), and the caller's attributes bound (names
    only: an attribute's value is the caller's, never recorded here)."""

    role: str
    clearance: str
    filters: tuple[str, ...]
    restricted: tuple[str, ...]
    masked: tuple[tuple[str, str], ...]
    attributes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form (an audit record's `policy` field)."""
        return {
            "role": self.role,
            "clearance": self.clearance,
            "filters": list(self.filters),
            "restricted_entities": list(self.restricted),
            "masked": {term: mask for term, mask in self.masked},
            "attributes": list(self.attributes),
        }

    def describe(self) -> list[str]:
        """The decision in words, for `explain`."""
        lines = [f"policy: role {self.role} (clearance {self.clearance})"]
        if self.filters:
            lines.append(
                f"  rows of {', '.join(self.restricted) or 'no entity'} only where "
                + " and ".join(self.filters)
            )
        lines += [f"  {term} shown masked ({mask})" for term, mask in self.masked]
        return lines
