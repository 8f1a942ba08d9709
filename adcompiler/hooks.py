"""The narrow interface through which the layers below reach the compiler and the public API at
run time. Generated code compiles a callee chosen at run time (``runtime.call_forward``), planning
recognises ``ad.grad`` inside a differentiated function, a new user rule invalidates cached code:
each goes through a name here, which the upper module sets when it is imported (``subroutines``
and ``api`` call ``install``). Nothing imports an upper module back, so the import graph has
no cycle."""
from __future__ import annotations

import functools
import gc
from typing import Callable

# set by ``subroutines``
# (fn, (active positions, argument kinds)) -> forward/backward pair
subroutine_pair: Callable = None
# (fn, (active positions, argument kinds)) -> compiled tangent code (.fn)
subroutine_jvp: Callable = None
# set by ``rules``
lookup_rule: Callable = None       # callable -> its derivative Rule, or None
# set by ``api``
grad: Callable = None              # ad.grad, recognised when differentiated code makes a gradient
gradient_vjp: Callable = None      # vjp of a gradient function called inside differentiated code
gradient_jvp: Callable = None      # jvp of such a call
clear_cache: Callable = None       # forget all generated code (a new user rule changes it)
# (builder, args, kwargs) -> what builder(*args, **kwargs) gives, from $ADCOMPILER_CACHE_DIR
disk_cache: Callable = None


def install(**functions: Callable) -> None:
    """Set the hooks named by the keywords (each must be one of the names above)."""
    for name_, fn in functions.items():
        if name_ not in __annotations__:  # (the hooks are the annotated names above)
            raise AttributeError("adcompiler.hooks has no hook %r" % name_)
        globals()[name_] = fn


def collection_paused(builder: Callable) -> Callable:
    """``builder`` run with Python's cyclic garbage collector paused, and resumed when it returns
    (unless it was off already): generation allocates AST nodes that mostly live until it ends,
    and each full collection during it traversed all of them (a quarter of the time at 2,000
    lines, growing faster than the code). Cycles made meanwhile are collected afterwards."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        if not gc.isenabled():  # (a build inside a build: the outer one resumes it)
            return builder(*args, **kwargs)
        gc.disable()
        try:
            return builder(*args, **kwargs)
        finally:
            gc.enable()
    return build


def disk_cached(builder: Callable) -> Callable:
    """``builder`` (the compiler's), which the disk cache (``disk_cache``, once installed by
    ``api``) may answer; when it runs, the collector is paused (``collection_paused``)."""
    builder = collection_paused(builder)

    @functools.wraps(builder)
    def build(*args, **kwargs):
        if disk_cache is None:
            return builder(*args, **kwargs)
        return disk_cache(builder, args, kwargs)
    return build
