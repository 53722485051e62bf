"""The PostgreSQL wire endpoint of `semantic serve` (`--pg-port`): psql, DBeaver, Metabase,
Superset, Power BI and Tableau connect with the PostgreSQL driver they ship, a server token
as the password, and send business queries or SQL over the subject areas and entities
(docs/serve.md, "PostgreSQL wire").

`start(service, host, port)` listens in a thread of its own and returns the server (its
`.port`, and `.close()`); `server` holds the protocol, `statements` what each statement means,
`rewrite` SQL over a virtual table into its business query, `tables` the virtual tables,
`catalog` the catalog's answers, `types` values on the wire.
"""

from semantic.serve.pgwire.server import PgServer, start

__all__ = ["PgServer", "start"]
