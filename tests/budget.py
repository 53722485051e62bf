"""How many generated examples a property test runs, by tier.

`make test` runs a smaller, representative number, so that a contributor can run it before
each commit; `make test-all` (SEMANTIC_SLOW=1, what CI runs) runs the full number, so CI's
coverage does not shrink. An environment variable named by the test, when set, wins over both
(CI sets SEMANTIC_DIFFERENTIAL_EXAMPLES=1000, for instance).
"""

from __future__ import annotations

import os


def examples(*, full: int, fast: int, variable: str | None = None) -> int:
    """`full` in the slow tier (SEMANTIC_SLOW=1), `fast` otherwise; `variable`, when set in the
    environment, gives the number instead."""
    if variable and os.environ.get(variable):
        return int(os.environ[variable])
    return full if os.environ.get("SEMANTIC_SLOW") == "1" else fast
