"""A generated SKOS vocabulary shaped like the large public thesauri (UNESCO, AGROVOC,
EuroVoc): one concept scheme, thousands of concepts in a broader/narrower hierarchy stated
both ways, preferred and alternative labels in three languages, a definition, a few related
links and matches to another vocabulary, creation and modification dates, and SKOS-XL
labels on some concepts. Written as Turtle by `vocabulary_turtle`; `bench/skos_bench.py`
and the slow tests of `semantic import skos` use it.

The structure is that of the UNESCO Thesaurus (http://vocabularies.unesco.org/thesaurus,
concept IRIs `.../thesaurus/concept<N>`, labels in several languages, dct:modified on every
concept) and of AGROVOC (skosxl:prefLabel/altLabel resources with skosxl:literalForm); the
data is made up.

>>> text = vocabulary_turtle(20)
>>> text.count("a skos:Concept")
20
"""

from __future__ import annotations

#: the languages of the labels
LANGUAGES = ("en", "fr", "es")
#: children per concept in the hierarchy
BRANCHING = 8
NS = "http://vocab.example.org/thesaurus/"
WORDS = {
    "en": ("Topic", "subject", "matter", "heading"),
    "fr": ("Sujet", "thème", "matière", "rubrique"),
    "es": ("Tema", "asunto", "materia", "epígrafe"),
}


def vocabulary_turtle(concepts: int) -> str:
    """A vocabulary of `concepts` concepts as Turtle text (see the module's docstring)."""
    lines = [
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix skosxl: <http://www.w3.org/2008/05/skos-xl#> .",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        f"@prefix th: <{NS}> .",
        "",
        "th:thesaurus a skos:ConceptScheme ;",
        '    dct:title "Generated thesaurus"@en, "Thésaurus généré"@fr, "Tesauro generado"@es ;',
        '    dct:description "A made-up thesaurus shaped like the public ones."@en ;',
        "    skos:hasTopConcept "
        + ", ".join(f"th:concept{i}" for i in range(min(BRANCHING, concepts)))
        + " .",
        "",
    ]
    for i in range(concepts):
        lines += _concept(i, concepts)
    return "\n".join(lines) + "\n"


def _concept(i: int, concepts: int) -> list[str]:
    """The triples of concept number `i`."""
    parent = i // BRANCHING - 1 if i >= BRANCHING else None
    children = [c for c in range((i + 1) * BRANCHING, (i + 2) * BRANCHING) if c < concepts]
    labels = ", ".join(f'"{WORDS[lang][0]} {i}"@{lang}' for lang in LANGUAGES)
    synonyms = ", ".join(f'"{WORDS[lang][k]} {i}"@{lang}' for lang in LANGUAGES for k in (1, 2, 3))
    lines = [
        f"th:concept{i} a skos:Concept ;",
        "    skos:inScheme th:thesaurus ;",
        f"    skos:prefLabel {labels} ;",
        f"    skos:altLabel {synonyms} ;",
        f'    skos:definition "What topic {i} is about, in one sentence."@en ;',
        f'    dct:created "20{10 + i % 10}-0{1 + i % 9}-1{i % 10}"^^xsd:date ;',
        f'    dct:modified "2024-0{1 + i % 9}-2{i % 8}T10:00:00Z"^^xsd:dateTime ;',
    ]
    if parent is None:
        lines.append("    skos:topConceptOf th:thesaurus ;")
    else:
        lines.append(f"    skos:broader th:concept{parent} ;")
    if children:
        lines.append("    skos:narrower " + ", ".join(f"th:concept{c}" for c in children) + " ;")
    if i % 10 == 3 and i + 2 < concepts and (i + 2) // BRANCHING == i // BRANCHING:
        lines.append(f"    skos:related th:concept{i + 2} ;")  # a sibling, never an ancestor
    if i % 7 == 0:
        lines.append(f"    skos:exactMatch <http://other.example.net/id/{i}> ;")
    if i % 5 == 0:
        lines.append(f"    skosxl:altLabel th:xl{i} ;")
    lines[-1] = lines[-1][:-2] + " ."
    if i % 5 == 0:
        lines += [
            f"th:xl{i} a skosxl:Label ;",
            f'    skosxl:literalForm "Alias {i}"@en ;',
            '    dct:created "2015-01-01"^^xsd:date .',
        ]
    lines.append("")
    return lines
