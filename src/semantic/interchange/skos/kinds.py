"""The term kinds beyond the expression, read back from our own RDF export
(`semantic.outputs.rdf.kinds`): a semi-additive metric's time dimension and period value, a
conversion metric's events, times, window and constant properties, and the classes and
`sem:MeasureAtGrain` nodes that a `MEASURE(...) PER (...)` in the expression implies.

Without them a semi-additive metric would come back additive (its balances summed over
time) and a conversion metric a plain metric: numbers that change with no error.
"""

from __future__ import annotations

from typing import Any

from rdflib.namespace import RDF
from rdflib.term import Node

from semantic.interchange.skos.read import _number, _Reader
from semantic.outputs.rdf.vocab import SEM

#: what a sem:MeasureAtGrain node says, all of it written in the term's expression
_MEASURE = (
    RDF.type,
    SEM.measuredMetric,
    SEM.measureFilter,
    SEM.grainMode,
    SEM.perEntity,
    SEM.grainDimension,
)


class _KindReader(_Reader):
    """Reads the kind details of a term's concept into its glossary spec."""

    def kind_details(self, concept: Node, kind: str, spec: dict[str, Any]) -> None:
        """Semi-additive and conversion metrics into `spec`; the PER classes and nodes,
        which the expression already says, marked read."""
        self.take_type(concept, SEM.PerEntityDimension)
        self.take_type(concept, SEM.MetricAtAnotherGrain)
        for node in self.take(concept, SEM.measures):
            for predicate in _MEASURE:
                self.take(node, predicate)
        if kind != "metric":
            return
        if self.take_type(concept, SEM.SemiAdditiveMetric):
            over = self.take_one(concept, SEM.semiAdditiveOver)
            value = self.take_one(concept, SEM.periodValue)
            if over is None:
                self.note(concept, RDF.type, SEM.SemiAdditiveMetric, "no sem:semiAdditiveOver")
            else:
                spec["semi_additive"] = {
                    "time": self.ref(over),
                    "period_value": str(value) if value is not None else "last",
                }
        if self.take_type(concept, SEM.ConversionMetric):
            self.conversion(concept, spec)

    def conversion(self, concept: Node, spec: dict[str, Any]) -> None:
        """A conversion metric's spec: its metric, entity, times, window, calculation and
        constant properties."""
        found: dict[str, Any] = {}
        for key, predicate in (
            ("metric", SEM.conversionMetric),
            ("entity", SEM.conversionEntity),
            ("base_time", SEM.baseTime),
            ("time", SEM.conversionTime),
        ):
            value = self.take_one(concept, predicate)
            if value is None:
                self.note(concept, RDF.type, SEM.ConversionMetric, f"no <{predicate}>")
                return
            found[key] = self.identifier(value) if key == "entity" else self.ref(value)
        last = _number(self.take_one(concept, SEM.windowLast))
        grain = self.take_one(concept, SEM.periodGrain)
        if last is not None and grain is not None:
            found["window"] = {"last": last, "grain": str(grain)}
        calculation = self.take_one(concept, SEM.calculation)
        if calculation is not None:
            found["calculation"] = str(calculation)
        pairs = []
        for node in self.take(concept, SEM.constantProperty):
            base = self.take_one(node, SEM.baseDimension)
            other = self.take_one(node, SEM.conversionDimension)
            if base is not None and other is not None:
                pairs.append({"base": self.ref(base), "conversion": self.ref(other)})
        if pairs:
            found["constant_properties"] = pairs
        spec["conversion"] = found
