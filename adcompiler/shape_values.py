"""What the shape pass knows of a value (``Value``) and the algebra of shapes it follows:
broadcasting (``join``), matrix products, keepdims reductions, and what a name holding one of two
values is known to hold (``meet``). A shape is ``PY`` for a Python number, ``SHAPE_TUPLE`` for
``x.shape``, a tuple of axis symbols for an array (1 for a length 1, else the name its length
has among the arguments' axes, ``arguments.dims_of``), or None when not known."""
from __future__ import annotations

import numpy as np

from .ir import name

FLOAT_DTYPES = {np.dtype(t).str: np.dtype(t) for t in (np.float32, np.float64)}  # native byte order
F32, F64 = np.dtype(np.float32).str, np.dtype(np.float64).str  # (native byte order)
PY = "py"  # the shape of a Python number
SHAPE_TUPLE = "shape tuple"  # (x.shape: its entries are ints)


class Value:
    """What is known of a value: ``shape`` (PY, a tuple of axis symbols: 1 for length 1, else
    the name of the length among the arguments' axes, or None), the dtype
    string of an array ("float" or "int" for a Python number, None if unknown), ``ident`` (an int
    for an array created by one operation of this code), and for a Python number the node holding
    it; for an expand_like result, the expanded Value; for an int that is the length of an
    argument's axis, that axis's symbol (``length``)."""

    __slots__ = ("shape", "dtype", "ident", "node", "expanded", "parts", "length", "zero_or")

    def __init__(self, shape=None, dtype=None, ident=None, node=None, expanded=None, parts=(),
                 length=None, zero_or=None):
        self.shape, self.dtype, self.ident, self.node, self.expanded = (shape, dtype, ident, node,
                                                                        expanded)
        self.parts = parts  # a tuple display's entries (of ``x.shape``: its lengths)
        self.length = length
        # a name that holds the number 0 or an array of this Value (an adjoint or a sum started
        # at 0 before a loop that makes it an array): unknown but to arithmetic, where the other
        # operand decides the result's shape either way
        self.zero_or = zero_or


UNKNOWN = Value()


def join(a, b):
    """The broadcast shape of two known shapes, or None."""
    if a == PY:
        return b
    if b == PY or a == b:
        return a
    if not (isinstance(a, tuple) and isinstance(b, tuple)):
        return None
    a, b = (1,) * (len(b) - len(a)) + a, (1,) * (len(a) - len(b)) + b
    joined = []
    for x, y in zip(a, b):
        if x != y and x != 1 and y != 1:
            return None  # (two lengths known to differ: NumPy raises)
        joined.append(y if x == 1 else x)
    return tuple(joined)


def meet(a: Value, b, v: str):
    """What is known of a name that holds ``a`` or ``b`` (None: nothing)."""
    if b is a:
        return a
    zero_or = _zero_or(a, b) if b is not None else None
    if zero_or is not None:
        return Value(zero_or=zero_or)
    if b is None or a.shape is None or (a.shape, a.dtype) != (b.shape, b.dtype):
        return None
    if a.shape == PY:
        return Value(PY, a.dtype, node=name(v), length=a.length if a.length == b.length else None)
    return Value(a.shape, a.dtype, a.ident if a.ident == b.ident else None)


def _zero_or(a: Value, b: Value):
    """The array Value ``v`` when one of ``a``, ``b`` is the number 0 (or holds 0 or ``v``) and
    the other ``v`` (or holds 0 or ``v``), else None."""
    arrays, zeros = [], 0
    for one in (a, b):
        if one.zero_or is not None:
            arrays.append(one.zero_or)
            zeros += 1
        elif isinstance(one.shape, tuple):
            arrays.append(one)
        elif one.shape == PY and one.node.__class__.__name__ == "Constant" \
                and one.node.value == 0 and one.node.value.__class__ in (int, float):
            zeros += 1
        else:
            return None
    if not arrays or not zeros or any((x.shape, x.dtype) != (arrays[0].shape, arrays[0].dtype)
                         for x in arrays) or arrays[0].dtype is None:
        return None
    return Value(arrays[0].shape, arrays[0].dtype)


def facts(value: Value) -> tuple:
    return value.shape, value.dtype, value.ident, value.zero_or and facts(value.zero_or)


def product(a: Value, b: Value, ident) -> Value:
    """The value of the matrix product ``a @ b`` (a new array; not of two vectors: a scalar)."""
    x, y = a.shape, b.shape
    if not (isinstance(x, tuple) and isinstance(y, tuple) and x and y) or len(x) == len(y) == 1:
        return UNKNOWN
    if len(y) == 1:
        shape = x[:-1]
    elif len(x) == 1:
        shape = y[:-2] + y[-1:]
    else:
        stacked = join(x[:-2], y[:-2])
        if stacked is None:
            return UNKNOWN
        shape = stacked + (x[-2], y[-1])
    return Value(shape, float_dtype(a.dtype, b.dtype), ident)


def broadcast_shape(values):
    """The broadcast shape of the shapes of ``values``, or None when one is unknown."""
    shape = values[0].shape
    for v in values[1:]:
        shape = join(shape, v.shape) if shape is not None and v.shape is not None else None
    return shape


def float_dtype(*dtypes):
    """The dtype of an elementwise result: that of its arrays when they share one float dtype
    (Python numbers do not change it)."""
    known = [d for d in dtypes if d != PY]
    if not known or any(d != known[0] for d in known) or known[0] not in FLOAT_DTYPES:
        return None
    return known[0]


def reduced(of: Value, axis: int, ident) -> Value:
    """The value of ``of`` summed along ``axis`` with keepdims: that axis has length 1."""
    if not isinstance(of.shape, tuple) or not -len(of.shape) <= axis < len(of.shape):
        return UNKNOWN
    shape = list(of.shape)
    shape[axis] = 1
    return Value(tuple(shape), of.dtype, ident)


def indexed(shape: tuple, full: list, values: list):
    """The shape of ``x[index]`` for ``x`` of ``shape``, when each item of the index is ``:``
    (``full``: the axis stays) or an int (of Value ``values[k]``: the axis goes), or None. (Not a
    0-d result: that is a NumPy scalar, not an array.)"""
    if len(full) > len(shape):
        return None
    kept = []
    for axis, whole, value in zip(shape, full, values):
        if whole:
            kept.append(axis)
        elif (value.shape, value.dtype) != (PY, "int"):
            return None
    kept += shape[len(full):]
    return tuple(kept) or None


def lengths(value: Value):
    """The axis symbols of a shape given as ``x.shape``, a display of ints of known lengths (or
    the literal 1), or one such int; None when one is not known."""
    parts = value.parts if value.shape in (SHAPE_TUPLE, None) else [value]
    if value.shape not in (SHAPE_TUPLE, None, PY) or not parts:
        return None
    known = []
    for part in parts:
        one = part.node.__class__.__name__ == "Constant" and part.node.value == 1 \
            and part.node.value.__class__ is int
        if part.length is None and not one:
            return None
        known.append(1 if one else part.length)
    return tuple(known)
