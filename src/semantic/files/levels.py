"""The confidentiality levels a project has unless semantic.yml names its own, from the least
to the most secret: here, apart from the file schemas, so that a kept model (and
`semantic compile`) needs nothing of pydantic's to know them."""

DEFAULT_LEVELS: tuple[str, ...] = ("public", "internal", "confidential", "restricted")
