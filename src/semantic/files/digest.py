"""SHA-256 without OpenSSL for what is small: the keys of the caches (`files.cache`,
`files.loadcache`) hash a few kilobytes at each start of a command.

`import hashlib` loads OpenSSL's libcrypto: 3.6 MB more memory and about 3 ms. CPython's own
SHA-256 (`_sha256`; `_sha2` from Python 3.12) needs nothing loaded but is slower per byte
(about 2.5 ms a megabyte against 0.5), so `sha256(size)` hashes less than a megabyte with
it and more with hashlib. Both are SHA-256: the digests are the same.

>>> import hashlib
>>> small, large = sha256(), sha256(2 << 20)
>>> small.update(b"abc"); large.update(b"abc")
>>> small.hexdigest() == large.hexdigest() == hashlib.sha256(b"abc").hexdigest()
True
"""

from __future__ import annotations

import importlib
from typing import Any

#: from this many bytes, OpenSSL's SHA-256 (through hashlib) is worth loading
OPENSSL_FROM = 1 << 20


def sha256(size: int = 0) -> Any:
    """A new SHA-256 hash object for about `size` bytes (see the module's doc)."""
    if size < OPENSSL_FROM:
        for module in ("_sha2", "_sha256"):  # Python 3.12 and later, 3.11
            try:
                return importlib.import_module(module).sha256()
            except ImportError:
                continue
    import hashlib

    return hashlib.sha256()
