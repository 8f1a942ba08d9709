"""Writes into the caller's data that the user's code makes (``x += v`` on an argument,
``np.add.at``, ``container[k] op= v``) as generated code performs them, and the copies that
keep the values a backward pass needs intact across such writes (``snapshot``, ``copy``). They
are apart from the adjoint helpers because they act on primal values, which they change in
place."""
from __future__ import annotations

import numpy as np

from ..errors import AdError
from ._base import _effectful, _float, _ndarray
from .adjoints import zero_like


def keep_dtype(x, value):
    """The value of ``x op= v`` (``value`` is ``x op v``) for a name that holds an array: of
    ``x``'s dtype, as NumPy's in-place operation leaves it (a 0-d array stays one: ``x * v`` is a
    scalar)."""
    if x.__class__ is _ndarray:
        if value.__class__ is not _ndarray:
            return np.array(value, dtype=x.dtype)
        if value.dtype is not x.dtype and value.dtype != x.dtype:
            return value.astype(x.dtype)
    return value


@_effectful
def in_place(x, value):
    """``x op= v`` on an argument: Python writes the result into an array (or list) ``x``, which
    the caller holds too; ``value`` is ``x op v``. Returns what ``x`` is afterwards."""
    if x.__class__ is _ndarray:
        x[...] = value
        return x
    if x.__class__ is list:
        x[:] = value
        return x
    return value


@_effectful
def out_value(out, value):
    """``value`` (what ``f(...)`` computes) as ``f(..., out=out)`` writes it into ``out``: NumPy's
    checks first (``out`` an array, the result cast to its dtype by kind: a float into an int
    array is the plain call's TypeError)."""
    if out.__class__ is not _ndarray:
        raise TypeError("return arrays must be of ArrayType")
    dtype = value.dtype if value.__class__ is _ndarray else np.result_type(value)
    if not np.can_cast(dtype, out.dtype, "same_kind"):
        raise TypeError("Cannot cast the result from dtype(%r) to the out array's dtype(%r) with "
                        "casting rule 'same_kind'" % (dtype.name, out.dtype.name))
    return value


def scatter_add(a, index, value):
    """``np.add.at(a, index, value)`` written in the user's code: ``a`` changed in place (repeated
    indices add up), and returned."""
    np.add.at(a, index, value)
    return a


def scattered(t, a, index, t_value):
    """The tangent of ``scatter_add(a, index, value)``: a new array (``t``, ``a``'s tangent, is left
    as it is)."""
    out = zero_like(a) if t.__class__ is _float else t.copy()
    if not (t_value.__class__ is _float and not t_value):
        np.add.at(out, index, t_value)
    return out


@_effectful
def flat_index(x, index, value=None):
    """The index of ``x`` that ``x.flat[index]`` selects, for ``x[...]`` (a store through ``.flat``
    is then a store into ``x``). With ``value`` (``x.flat[index] = value``): refused when NumPy
    would repeat the value cyclically, which indexing does not."""
    if x.__class__ is not _ndarray:
        raise AdError("a write through .flat of a %s (not an array) changes a temporary copy of "
                      "it, which is not supported: make it an array first, np.array(x)"
                      % type(x).__name__)
    positions = np.arange(x.size)[index]
    if value is not None and np.size(value) not in (1, np.size(positions)):
        raise AdError("x.flat[...] = v with %d values for %d positions repeats them (NumPy's flat "
                      "assignment), which is not supported: give one value per position"
                      % (np.size(value), np.size(positions)))
    return np.unravel_index(positions, x.shape)


@_effectful
def diagonal_index(a, value):
    """The index of the entries ``np.fill_diagonal(a, value)`` writes (``a[i, i, ...]`` for ``i``
    below the smallest axis; ``a`` must have equal axes beyond two, as NumPy requires); refused
    when NumPy would repeat the values cyclically, which indexing does not."""
    if a.__class__ is not _ndarray or a.ndim < 2 or (a.ndim > 2 and len(set(a.shape)) > 1):
        raise ValueError("array must be at least 2-d, and all dimensions must be of equal length")
    k = np.arange(min(a.shape))
    if np.size(value) not in (1, k.size):
        raise AdError("np.fill_diagonal(a, v) with %d values for %d diagonal entries repeats them "
                      "(NumPy's fill), which is not supported: give one value per entry"
                      % (np.size(value), k.size))
    return (k,) * a.ndim


@_effectful
def stored_value(x, index, value, refusal):
    """The value of ``x[index] = value`` where ``value`` may be a view of ``x``. NumPy writes an
    overlapping view element by element in an order of its own (``x[1, :] = x[:, -1]`` reads
    entries it has already written), which the derivative cannot follow: the write is made here
    as NumPy makes it, and refused unless it stored what ``value`` held before it (it then
    returns that, which the store that follows writes again)."""
    if value.__class__ is not _ndarray or x.__class__ is not _ndarray \
            or not np.may_share_memory(x, value):
        return value
    before = value.copy()
    x[index] = value
    written = x[index]
    if not np.array_equal(written, np.broadcast_to(before, written.shape), equal_nan=True):
        raise refusal()
    return before


@_effectful
def element_in_place(container, x, value):
    """``container[k] op= v``: an array (or list) element of a list or dict is changed in place
    (``x`` is ``container[k]``, ``value`` is ``x op v``); an array container's element is
    written by the store that follows."""
    if container.__class__ is _ndarray:
        return value
    return in_place(x, value)


def snapshot(saved):
    """A callee's saved state with its arrays copied (nested in tuples and lists): the caller goes
    on to write into arrays it passed to the callee, whose backward pass needs them as they were."""
    if saved.__class__ is _ndarray:
        return saved.copy()
    if saved.__class__ in (tuple, list):
        return saved.__class__(snapshot(v) for v in saved)
    return saved


def copy(x):
    """A private copy of an argument the function writes into (the caller's data stays intact)."""
    if x.__class__ is _ndarray:
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    if isinstance(x, _DICT_VIEWS):
        return list(x)  # (d.values() as it is now: writes into d change the view)
    return x


_DICT_VIEWS = (type({}.values()), type({}.items()), type({}.keys()))


class Overlap:
    """Where two arrays share memory: ``inner`` (flat positions of ``y``) hold the elements at
    ``outer`` (flat positions of ``x``), both empty when they share none. ``y_shape`` and
    ``x_shape`` are the arrays' shapes, ``x_dtype`` the dtype of an adjoint of ``x`` (None when
    ``x`` is no array), ``y_array`` whether ``y`` is one (a number or a dict shares nothing)."""

    __slots__ = ("y_shape", "x_shape", "x_dtype", "y_array", "inner", "outer")

    def __init__(self, y, x, inner=None, outer=None):
        self.y_shape, self.x_shape = np.shape(y), np.shape(x)
        self.x_dtype = None if x.__class__ is not _ndarray else \
            x.dtype if x.dtype.kind in "fc" else np.float64
        self.y_array = y.__class__ is _ndarray
        self.inner = _NOWHERE if inner is None else inner
        self.outer = _NOWHERE if outer is None else outer


_NOWHERE = np.zeros(0, dtype=np.intp)
_UNSHARED = (int, float, complex, bool, str, type(None), tuple, np.generic)  # (own no array)


def _addresses(a):
    """The memory address of each element of array ``a``, in C order (flat)."""
    out = np.full(a.shape, a.__array_interface__["data"][0], dtype=np.intp)
    for axis, (n, stride) in enumerate(zip(a.shape, a.strides)):
        shape = [1] * a.ndim
        shape[axis] = n
        out += (np.arange(n, dtype=np.intp) * stride).reshape(shape)
    return out.reshape(-1)


def overlap(y, x, refusal):
    """The ``Overlap`` of ``y`` with ``x``, an array just written into (in place, through a name
    that may be a view of ``y``, or ``y`` of it). Raises ``refusal`` where the derivative could
    not follow the write: elements overlapping only partly (views of another dtype) or an
    element ``x`` holds twice."""
    if y.__class__ is not _ndarray or x.__class__ is not _ndarray:
        if isinstance(y, _UNSHARED) or isinstance(x, _UNSHARED):
            return Overlap(y, x)
        raise refusal("a %s" % type(x if x.__class__ is not _ndarray else y).__name__)
    if not y.size or not x.size or not np.may_share_memory(y, x):
        return Overlap(y, x)
    if y is x:
        everything = np.arange(y.size)
        return Overlap(y, x, everything, everything)
    if y.dtype != x.dtype:
        raise refusal("arrays of other dtypes sharing its memory")
    if any(n > 1 and not stride for n, stride in zip(x.shape, x.strides)):
        raise refusal("an array holding one element more than once (a broadcast view)")
    at_x = _addresses(x) - y.__array_interface__["data"][0]
    if (at_x[:1] % x.itemsize).any():
        raise refusal("arrays of other offsets sharing its memory")
    if y.flags.c_contiguous:  # (an element's flat position in y is its offset: no search)
        at_x //= x.itemsize
        outer = np.flatnonzero((at_x >= 0) & (at_x < y.size))
        return Overlap(y, x, at_x[outer], outer)
    at_y = _addresses(y) - y.__array_interface__["data"][0]
    order = np.argsort(at_x, kind="stable")
    sorted_x = at_x[order]
    where = np.minimum(np.searchsorted(sorted_x, at_y), sorted_x.size - 1)
    hit = np.flatnonzero(sorted_x[where] == at_y)
    return Overlap(y, x, hit, order[where[hit]])


def synced(y, x, where):
    """``y`` after a write into ``x`` (``where`` is their ``overlap``): the same array, whose
    elements shared with ``x`` now hold the values written. A no-op in value (the memory is
    shared); the derivative takes those elements from ``x``."""
    return y
