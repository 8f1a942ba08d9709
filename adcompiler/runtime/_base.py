"""Private names shared by the runtime's modules: the classes tested on the hot path (bound once,
so a test is one identity check), the size below which a broadcast is materialised, and the
few small helpers more than one module calls (broadcasting, the dtype of an adjoint, whether a
value is a user's object). Nothing here is called by generated code."""
from __future__ import annotations

import types

import numpy as np

from ..errors import AdError

_ndarray = np.ndarray
_float = float

# Below this many elements a broadcast is materialised: np.broadcast_to costs microseconds of
# Python bookkeeping, more than copying a few thousand numbers.
_SMALL = 4096
_F32, _f32 = np.dtype(np.float32), np.float32


def _effectful(helper):
    """Marks a helper that checks, raises or writes: generated code runs it where it stands, even
    when its result is not used (the optimizer neither drops nor moves it)."""
    helper.effectful = True
    return helper


def _broadcast(g, shape):
    """``np.broadcast_to(g, shape)``, as a fresh array when it is small."""
    size = 1
    for n in shape:
        size *= n
    if size > _SMALL:
        return np.broadcast_to(g, shape)
    out = np.empty(shape, dtype=g.dtype if g.__class__ is _ndarray
                   else _float if g.__class__ is _float else np.result_type(g))
    out[...] = g
    return out


def _adjoint_dtype(x):
    """The dtype of an adjoint array for ``x``: its own if inexact, else float64."""
    if x.__class__ is _ndarray and x.dtype.kind in "fc":
        return x.dtype
    return float


def _is_plain_object(value):
    """An instance of a user class holding attributes (a layer inside a model)."""
    return hasattr(value, "__dict__") and not isinstance(
        value, (type, types.ModuleType, types.FunctionType, types.MethodType))


class _Named(list):
    """The adjoint (or tangent) of a namedtuple as generated code updates it: a list, entry by
    position, that knows the fields' names, so what an attribute read (``p.b``) and what an
    element read (``a, b = p``) give back add into the one adjoint."""

    __slots__ = ("_fields",)

    def __init__(self, fields, entries=()):
        super().__init__(entries)
        self._fields = fields


def _by_position(d, like) -> list:
    """The entries of a namedtuple's adjoint by position: ``d`` by attribute (a dict), or by
    position already (a list, a tuple); ``like`` knows the fields (the namedtuple, or its adjoint
    by position)."""
    if not isinstance(d, dict):
        return list(d)
    fields = getattr(like, "_fields", None)
    if fields is None:
        raise AdError("internal error: an adjoint by attribute (%s) met one by position with no "
                      "fields' names; please report this program" % ", ".join(map(str, d)),
                      hint="adcompiler refuses rather than add them up wrongly")
    return [d.get(f, 0.0) for f in fields]


def _rebuilt(like, entries):
    """A container of ``like``'s type (a namedtuple's adjoint keeps its fields) holding
    ``entries``."""
    fields = getattr(like, "_fields", None)
    if fields is None:
        return type(like)(entries)
    return _Named(fields, entries) if like.__class__ is _Named else type(like)(*entries)
