"""The vocabulary as RDF: export (SKOS, DCAT, CSVW, DQV, PROV), validation, import, R2RML."""
