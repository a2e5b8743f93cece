"""Pausing Python's cyclic garbage collector while the ladder decides a whole centre.

A run (or a backtest) builds hundreds of thousands of small objects (facts, scorecards,
explanations) that all live until it ends. Each time enough of them have been made, the
cyclic collector walks every one of them again, looking for reference cycles they do not
form: for 10,000 agents that was a third of a run's time. Reference counting still frees
everything the moment it is no longer used; the collector runs again as soon as the run
ends, and anything cyclic left over is collected then.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (or, as a decorator, the call), and
    restore it afterwards as it was (a block inside another leaves it paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
