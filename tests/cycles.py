"""What a piece of code leaves in reference cycles (issue 17: `serve` runs the cyclic collector
rarely, so a request must leave nothing for it to find)."""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Iterator


@contextlib.contextmanager
def cycles_left() -> Iterator[Counter[str]]:
    """Collects first, then runs the block with the collector off; on leaving, one collection
    with `DEBUG_SAVEALL` keeps what it found in cycles, and the counter gets their type names
    (empty: reference counting freed everything the block left)."""
    found: Counter[str] = Counter()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.update(type(thing).__name__ for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
