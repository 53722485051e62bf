"""Getting a project in and out of other formats: `semantic init` and `semantic import
dbt|osi|skos`, `semantic export osi|snowflake|databricks|lookml` (docs/importing.md,
docs/exporting.md, docs/rdf.md#import).

- `common`: what they all share: the report (`Notice`), ids made from names (`snake_id`,
  `new_id`), YAML written in the house style with keys in `fmt`'s order (`yaml_text`), the
  `Importer` protocol (`read(source) -> ImportResult(files, notices)`) and `write_files`;
- `database`: `semantic init`, from what `semantic.engines.describe` reads of a database
  (the only way this package reaches the engines);
- `dbt`: dbt semantic models (`dbt.models`) and metrics (`dbt.metrics`);
- `osi_import`, `osi_export` (and what they share, `osi_spec`): Apache Ossie (OSI) YAML;
- `warehouse` and the exports built on it, `snowflake` (a semantic view, DDL or Cortex
  Analyst YAML), `databricks` (Unity Catalog metric views) and `lookml` (a LookML project):
  `semantic export snowflake|databricks|lookml` (docs/exporting.md);
- `skos`: a SKOS vocabulary, read (`skos.read`, `skos.concepts`, `skos.schemes`) into
  glossary files (`skos.result`) and merged into existing ones (`skos.write`).
"""
