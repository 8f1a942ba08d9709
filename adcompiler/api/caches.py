"""Every cache of generated functions the API keeps, and the clearing of them. Derived functions
(``grad(f)``) keep their code by function, wrt and argument kinds, with per-instance fast paths
keyed by argument classes and shapes; vjp, jvp, batched Jacobians and the vjps of gradients keep
theirs by function. ``clear_cache`` empties them all (and the compiler's subroutine caches),
after a new rule is registered or when a callee was redefined; ``STATS`` counts generations."""
from __future__ import annotations

import weakref

from .. import subroutines
from . import disk_cache  # noqa: F401  (installs the compiler's disk cache: ADCOMPILER_CACHE_DIR)

# every derived function made so far (their class-keyed fast paths are cleared with the cache)
_LIVE: "weakref.WeakSet" = weakref.WeakSet()
# function -> {(wrt, mode, options, argument kinds): generated function}
_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
STATS = {"generated": 0}

# function -> {(positions, kinds): Split}
_SPLITS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

# function -> {(positions, kinds): Compiled jvp}
_JVPS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

# function -> {(position, kinds): batched jvp function, or None when the function does not allow it}
_BATCHED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

_GRAD_BY_ARG: dict = {}

_FAST_PATHS: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()  # id -> FastPaths


class FastPaths(dict):
    """A table of fast paths to generated code (an operator's calls by argument key), emptied
    with the caches."""

    def __init__(self):
        super().__init__()
        _FAST_PATHS[id(self)] = self


def _cache_for(fn) -> dict:
    try:
        return _CACHE.setdefault(fn, {})
    except TypeError:  # not weak-referenceable: cache on nothing
        return {}


def clear_cache() -> None:
    """Forget all generated code (after registering a new rule, or when a callee was redefined)."""
    subroutines.clear_cache()
    for entry in list(_CACHE.values()):
        for table in entry.values():
            table.clear()
    for derived in list(_LIVE):
        derived._forget()
    _SPLITS.clear()
    _JVPS.clear()
    _GRAD_BY_ARG.clear()
    for table in list(_FAST_PATHS.values()):
        table.clear()
