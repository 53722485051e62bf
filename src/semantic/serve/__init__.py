"""`semantic serve`: the glossary served over the network.

The parts every front end shares are here, below the front ends themselves: `config` (who
may call: hashed bearer tokens mapped to roles, the anonymous role, the limits of a request),
`service` (the last good version of the project, hot-reloaded by `watch`, the plan cache of
`cache`, and compile, query and explain in an audit scope per request), `glossary` (terms,
search, lineage, RDF and quality as a caller's role may read them) and `formats` (a result
as JSON, CSV, Arrow or Parquet). The HTTP API (`http`), the MCP server and the PostgreSQL
wire endpoint call the `Service` and nothing below it.
"""
