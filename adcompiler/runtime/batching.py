"""Batched tangents (``jacobian``, ``hessian`` in forward mode): a batch of tangents is one
array with the batch axis first, and these helpers are the batch counterparts of the hot-path
ones (``batch_unbroadcast`` for ``unbroadcast``, ...), each keeping the batch axis in place.
They are apart because only batched code calls them."""
from __future__ import annotations

import numpy as np

from ._base import _adjoint_dtype, _effectful, _float, _ndarray
from .adjoints import _basic_index, _winners, take_adjoint


def lift(t, k):
    """A batched tangent (batch axis first) with ``k`` more unit axes after the batch axis, so it
    broadcasts against a result of higher rank."""
    if t.__class__ is _float:
        return t
    return t.reshape(t.shape[:1] + (1,) * k + t.shape[1:])


def expand_batch(t, ans):
    """A batched tangent given the full shape ``(batch,) + ans.shape``."""
    if t.__class__ is _float:
        return t
    shape = t.shape[:1] + (ans.shape if ans.__class__ is _ndarray else np.shape(ans))
    return t if t.shape == shape else np.broadcast_to(t, shape)


def batch_size(tangents):
    """The batch size of batched tangent code: the leading axis of its first array tangent."""
    for t in tangents:
        if t.__class__ is _ndarray:
            return t.shape[0]
    return 1


def batch_zeros(n, x):
    """A batch of ``n`` zero tangents of an array like ``x``."""
    return np.zeros((n,) + np.shape(x),
                    dtype=x.dtype if np.issubdtype(np.asarray(x).dtype, np.inexact) else float)


def batch_cast(t, x):
    """A batch of tangents of a value like ``x``: shape ``(batch,) + x.shape``, x's dtype."""
    if t.__class__ is _float or x.__class__ is not _ndarray:
        return t
    out = np.empty(t.shape[:1] + x.shape,
                   dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else float)
    out[...] = t.reshape(t.shape[:1] + (1,) * (x.ndim + 1 - t.ndim) + t.shape[1:])
    return out


def batch_unbroadcast(t, x):
    """``unbroadcast`` of every tangent of a batch (the batch axis stays)."""
    if t.__class__ is _float:
        return t
    shape = np.shape(x)
    extra = t.ndim - 1 - len(shape)
    if extra > 0:
        t = t.sum(axis=tuple(range(1, 1 + extra)))
    axes = tuple(i + 1 for i, n in enumerate(shape) if n == 1 and t.shape[i + 1] != 1)
    return t.sum(axis=axes, keepdims=True) if axes else t


def batch_unreduce(t, x, axis=None, keepdims=False):
    """``unreduce`` of every tangent of a batch: spread over the reduced axes of ``x``."""
    if t.__class__ is _float:
        return t
    shape = np.shape(x)
    if axis is None:
        t = t.reshape(t.shape[:1] + (1,) * len(shape))
    elif not keepdims:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        t = np.expand_dims(t, tuple(a % len(shape) + 1 for a in axes))
    return np.broadcast_to(t, t.shape[:1] + shape)


def batch_sum_product(t, other):
    """``sum_product`` of every tangent of a batch with ``other``."""
    if t.__class__ is _float:
        return t
    return np.sum(t * other, axis=tuple(range(1, max(t.ndim, np.ndim(other) + 1))))


def _batch_slot(t, x, index):
    """``(slice(None),) + index`` for a batch of tangents of ``x``, and ``t`` lifted to the rank
    of the slot ``x[index]`` it goes into."""
    where = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    slot = np.empty(np.shape(x), dtype=bool)[index] if np.ndim(x) else None
    extra = np.ndim(slot) + 1 - t.ndim
    return where, (t.reshape(t.shape[:1] + (1,) * extra + t.shape[1:]) if extra > 0 else t)


def batch_container_adjoint(x, index, t):
    """``container_adjoint`` for a batch of tangents of an array ``x``."""
    if t.__class__ is _float:
        return t
    out = np.zeros(t.shape[:1] + np.shape(x), dtype=_adjoint_dtype(x))
    where, t = _batch_slot(t, x, index)
    np.add.at(out, where, t)
    return out


@_effectful
def batch_add_at(dt, index, t):
    """``add_at`` into an owned batch of tangents."""
    if t.__class__ is _float:
        return dt
    where, t = _batch_slot(t, dt[0], index)
    np.add.at(dt, where, t)
    return dt


@_effectful
def batch_take_adjoint(dt, index):
    """``take_adjoint`` from an owned batch of tangents."""
    where = (slice(None),) + (index if isinstance(index, tuple) else (index,))
    if not _basic_index(index) and _winners(dt.shape[1:], index) is not None:
        # (an element named twice: each tangent of the batch has the value NumPy kept)
        return np.stack([take_adjoint(row, index) for row in dt])
    g = dt[where].copy()
    dt[where] = 0
    return g


def batch_reshape(t, shape):
    """``np.reshape`` of every tangent of a batch."""
    if t.__class__ is _float:
        return t
    return t.reshape(t.shape[:1] + (tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)))


def batch_index(t, index):
    """``t[:, index]`` for a batched tangent, whatever the index (int, slice, tuple, mask)."""
    if t.__class__ is _float:
        return t
    return t[(slice(None),) + (index if isinstance(index, tuple) else (index,))]
