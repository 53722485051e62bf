"""The garbage collector paused while `semantic.project` imports the compiler and sqlglot.

Those imports make some 200,000 objects that all live on (functions, classes, sqlglot's
tables), and the collections they set off walk them again and again: 25 to 30 ms of the
0.2 s of CPU of `semantic compile` (docs/benchmarks.md, "Start-up without pydantic").
Importing this module, which `semantic.project` does first, pauses the collector;
`resume`, which it calls once its imports are done, turns it back on if it was on.
"""

from __future__ import annotations

import gc

#: whether the collector ran before the imports
_COLLECTING = gc.isenabled()
gc.disable()


def resume() -> None:
    """The collector as it was before `semantic.project`'s imports."""
    if _COLLECTING:
        gc.enable()
