"""Engine URLs as they may be shown: in messages, progress lines and audit records.

A password, and any parameter whose name says it holds a secret (`password=`, `token=`,
`sslkey=`...; Spark Connect's `;token=` too), is replaced by `***`, so a message says that
one was given without showing it.

>>> redact("postgresql://ann:s3cret@db:5432/sales?sslmode=require&password=x")
'postgresql://ann:***@db:5432/sales?sslmode=require&password=***'
>>> redact("sc://spark:15002/;user_id=ann;token=abc")
'sc://spark:15002/;user_id=ann;token=***'
>>> redact("duckdb:///data/tpch.duckdb")
'duckdb:///data/tpch.duckdb'
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: a URL's query or Spark Connect parameter whose name says it holds a secret
_SECRET = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
#: what a secret is shown as
HIDDEN = "***"


def redact(url: str) -> str:
    """`url` with its password and every secret parameter's value shown as `***` (a URL
    that does not parse is not shown at all)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable url>"
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        user, colon, _ = credentials.partition(":")
        netloc = f"{user}:{HIDDEN}@{host}" if colon else netloc
    path, *extras = parts.path.split(";")  # Spark Connect: sc://host/;user_id=...;token=...
    hidden = [_hide(*e.partition("=")) for e in extras]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    hidden_pairs = [(k, HIDDEN if _SECRET.search(k) else v) for k, v in pairs]
    if netloc == parts.netloc and hidden == extras and hidden_pairs == pairs:
        return url  # nothing secret: as written (`duckdb:///file` keeps its slashes)
    query = urlencode(hidden_pairs, safe="*")
    return urlunsplit((parts.scheme, netloc, ";".join([path, *hidden]), query, parts.fragment))


def _hide(name: str, equals: str, value: str) -> str:
    """A `name=value` parameter of a path, its value hidden when the name says secret."""
    return f"{name}{equals}{HIDDEN if equals and _SECRET.search(name) else value}"
