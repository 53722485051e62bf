"""The catalog site (`semantic docs build`): a static site of the vocabulary that opens from
disk, with the same search as `semantic search`. See docs/catalog.md."""
