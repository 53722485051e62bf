"""Project files: YAML read with positions, schemas, canonical formatting, atomic writes."""
