"""Subroutines compiled at run time: the forward/backward pair (``build_split``) and the tangent
code (``build_jvp``) of a user function called by differentiated code, generated on first use
per active positions and argument kinds and cached here, with stand-ins while a function's code
is being generated (mutual recursion). The compiler and generated code reach them through
``hooks.subroutine_pair`` and ``hooks.subroutine_jvp``, installed when this module is imported
(by ``api.caches``, which clears these caches with its own)."""
from __future__ import annotations

from . import hooks
from .compiler import Compiled, Split, build_jvp, build_split

_SUBROUTINES: dict = {}
_IN_PROGRESS: dict = {}  # (function, key, mode) -> stand-ins while its code is generated


class _Pending:
    """Stands for a generated function still being generated (mutual recursion: f's code calls
    g's, whose code calls f's); calls go to the function once it exists."""

    def __init__(self, name):
        self.__name__ = name
        self.target = None
        self.used = False

    def __call__(self, *args):
        return self.target(*args)


def _generate_once(cache, fn, key, mode, build, functions, assemble):
    """``cache[key]`` for ``fn``, made by ``build()``. Asked for while it is being built (mutual
    recursion), it is ``assemble(*stand_ins)`` for its generated ``functions(made)``, which are
    filled in when it is done."""
    made = cache.get(key)
    if made is not None:
        return made
    pending = _IN_PROGRESS.get((fn, key, mode))
    if pending is not None:
        for stand_in in pending:
            stand_in.used = True
        return assemble(*pending)
    stand_ins = [_Pending("%s_%s" % (fn.__name__, part)) for part in ("forward", "backward")]
    _IN_PROGRESS[(fn, key, mode)] = stand_ins
    try:
        made = build()
    except BaseException:
        clear_cache()  # code generated meanwhile may call the stand-ins, which stay empty
        raise
    finally:
        del _IN_PROGRESS[(fn, key, mode)]
    for stand_in, real in zip(stand_ins, functions(made)):
        stand_in.target = real
    cache[key] = made
    # code that calls a stand-in now calls the real one
    if any(stand_in.used for stand_in in stand_ins):
        generated = [f for table in (_SUBROUTINES, _SUBROUTINE_JVPS) for by_key in table.values()
                     for entry in by_key.values() for f in _functions_of(entry)]
        for f in generated:
            for cell in f.__closure__ or ():
                if isinstance(cell.cell_contents, _Pending):
                    cell.cell_contents = cell.cell_contents.target
    return made


def _functions_of(entry):
    return (entry.forward, entry.backward) if isinstance(entry, Split) else (entry.fn,)


def _subroutine_pair(fn, key) -> Split:
    return _generate_once(_SUBROUTINES.setdefault(fn, {}), fn, key, "vjp",
                          lambda: build_split(fn, key[0], key[1], reusable=False), _functions_of,
                          lambda forward, backward: Split(forward, backward, ""))


def clear_cache() -> None:
    """Forget generated subroutine code (after registering a new rule)."""
    _SUBROUTINES.clear()
    _SUBROUTINE_JVPS.clear()


_SUBROUTINE_JVPS: dict = {}


def _subroutine_jvp(fn, key) -> Compiled:
    return _generate_once(_SUBROUTINE_JVPS.setdefault(fn, {}), fn, key, "jvp",
                          lambda: build_jvp(fn, key[0], key[1], top_level=False), _functions_of,
                          lambda forward, _: Compiled(forward, "", forward.__name__))


hooks.install(subroutine_pair=_subroutine_pair, subroutine_jvp=_subroutine_jvp)
