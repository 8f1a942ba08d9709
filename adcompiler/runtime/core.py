"""The hot path of generated gradient code: broadcasting and unbroadcasting, reductions and
their adjoints, products (``matmul``, ``dmatmul_left``, ...), and the few functions the normal
form calls (``log_softmax``, ``key_order``, ``r_items``, ...). Generated code calls these on
every step, so each is small, checks the cheap common case first (a class identity test, not
``isinstance``) and takes the Python float ``0.0`` for a zero adjoint of any shape."""
from __future__ import annotations

import numpy as np

from ..errors import AdError
from ._base import _F32, _SMALL, _adjoint_dtype, _broadcast, _f32, _float, _ndarray

_SCALARS = (float, int, np.float64, np.float32, np.float16, np.longdouble)
_SCALAR_CLASSES = frozenset(_SCALARS)
_PYTHON_NUMBERS = frozenset([float, int, bool])


def _sum(g, axis, keepdims=False):
    """``np.sum`` without its dispatch cost for arrays (the method is twice as fast on small
    ones)."""
    if g.__class__ is _ndarray:
        return g.sum(axis=axis, keepdims=keepdims)
    return np.sum(g, axis=axis, keepdims=keepdims)


def _expand_dims(g, axis):
    """``np.expand_dims`` without its dispatch cost for an array and one axis."""
    if g.__class__ is _ndarray and axis.__class__ is int:
        shape = g.shape
        axis = axis % (len(shape) + 1)
        return g.reshape(shape[:axis] + (1,) + shape[axis:])
    return np.expand_dims(g, axis)


_CONTAINERS = (list, tuple, dict)


def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x`` (the adjoint of a broadcast operand)."""
    if g.__class__ is _float:
        return g
    if g.__class__ is _ndarray and x.__class__ is _ndarray:
        shape, gshape = x.shape, g.shape
        if gshape == shape:
            return g
        extra = len(gshape) - len(shape)
        if extra > 0 and gshape[extra:] == shape:  # (the common case: leading axes added)
            return g.sum(axis=0) if extra == 1 else g.sum(axis=tuple(range(extra)))
    elif x.__class__ in _SCALAR_CLASSES:
        return g.sum() if g.__class__ is _ndarray else g
    elif g.__class__ in _CONTAINERS and x.__class__ in _CONTAINERS:
        return g  # (a list's adjoint for a list stored whole, d['hist'] = items: nothing broadcast)
    else:
        shape, gshape = np.shape(x), np.shape(g)
        if gshape == shape:
            return g
    if not shape:
        return g.sum() if g.__class__ is _ndarray else np.sum(g)
    extra = len(gshape) - len(shape)
    if extra < 0 or any(n != m and n != 1 for m, n in zip(gshape[extra:], shape)):
        # g is not of the broadcast shape: a zero adjoint (0.0) times an operand of another shape
        g = _broadcast(g, np.broadcast_shapes(gshape, shape))
        gshape = g.shape
        extra = len(gshape) - len(shape)
    if extra:
        g = _sum(g, tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = _sum(g, axes, True)
    return g


class _Shaped:
    """Stands for an array of which gradient code reads only the shape and dtype (``np.shape`` and
    ``np.size`` read these attributes)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = shape, dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for k in self.shape:
            n *= k
        return n


def shape_of(*operands):
    """Something with the shape and dtype of the operands' elementwise result: the first operand
    of that shape and dtype, else a stand-in. Gradient code uses it where the result was needed
    for its shape only (and the dtype, which the adjoint seeded from it takes)."""
    first = operands[0]
    if first.__class__ is _ndarray:  # (the common case, without NumPy's dispatch: arrays of
        full, dtype = first.shape, first.dtype  # one dtype, one of them of the result's shape)
        for o in operands:
            if o.__class__ is not _ndarray or o.dtype != dtype:
                break
            full = _broadcast_pair(full, o.shape)
        else:
            for o in operands:
                if o.shape == full:
                    return o
    elif first.__class__ is _float and all(o.__class__ is _float for o in operands):
        return first
    shapes = [o.shape if o.__class__ is _ndarray else np.shape(o) for o in operands]
    dtypes = {o.dtype for o in operands
              if o.__class__ is not _float and o.__class__ is not int and hasattr(o, "dtype")}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.result_type(*operands) if dtypes else None
    full = shapes[0] if all(s == shapes[0] for s in shapes) else np.broadcast_shapes(*shapes)
    for o, s in zip(operands, shapes):
        if s == full and getattr(o, "dtype", None) == dtype:
            return o
    return _Shaped(full, dtype if dtype is not None else np.result_type(*operands))


def _broadcast_pair(a, b):
    """``np.broadcast_shapes(a, b)``, without its cost when one shape ends with the other."""
    if a == b or (len(a) > len(b) and a[len(a) - len(b):] == b):
        return a
    if len(b) > len(a) and b[len(b) - len(a):] == a:
        return b
    return np.broadcast_shapes(a, b)


def log_softmax(p, z, axis=None):
    """``np.log(p)``, where ``p`` is the softmax of ``z`` along ``axis`` (the normal form's
    ``np.log(p)`` after fusion.py): differentiated w.r.t. ``z`` as a whole, not through ``p``."""
    return np.log(p)


def logistic(d, z):
    """``1.0 / d``, where ``d = 1.0 + np.exp(-z)`` (a sigmoid as people write it, after
    fusion.py): differentiated w.r.t. ``z`` as a whole, ``g * s * (1 - s)``, not through ``d``."""
    return 1.0 / d


def above(a, b):
    """1 where ``a > b``, 1/2 where ``a == b``, else 0: the share of ``a`` in the derivative of
    ``np.maximum(a, b)``, as floats in the precision of ``a`` and ``b`` (a bool mask times 0.5
    would be float64, and turn a float32 backward pass into float64)."""
    ca, cb = a.__class__, b.__class__
    if ca is _ndarray and a.dtype.kind == "f" \
            and (cb is _float or cb is int or (cb is _ndarray and b.dtype == a.dtype)):
        dtype = a.dtype
    elif cb is _ndarray and b.dtype.kind == "f" and (ca is _float or ca is int):
        dtype = b.dtype
    elif ca in _PYTHON_NUMBERS and cb in _PYTHON_NUMBERS:
        return 1.0 if a > b else 0.5 if a == b else 0.0
    else:
        dtype = np.result_type(a, b, 1.0)
    share = (a > b).astype(dtype)
    share += (a == b) * dtype.type(0.5)
    return share


_ONES: dict = {}  # (length, dtype) -> a read-only column of ones
_DOT_FLOATS = frozenset([np.dtype(np.float64), np.dtype(np.float32)])


def sum_keepdims(g, axis):
    """``g.sum(axis=axis, keepdims=True)``. Along the last axis of a float array with short rows it
    is a product with a column of ones (BLAS), several times faster than NumPy's reduction there
    (a softmax's 64 x 10 rows: 0.6 us instead of 1.9 us); the same sums, possibly in another
    order."""
    if g.__class__ is _ndarray and g.ndim and (axis == -1 or axis == g.ndim - 1) \
            and g.shape[-1] <= _SMALL and g.dtype in _DOT_FLOATS:
        key = (g.shape[-1], g.dtype)
        ones = _ONES.get(key)
        if ones is None:
            if len(_ONES) >= 64:
                _ONES.clear()
            ones = _ONES[key] = np.ones((g.shape[-1], 1), dtype=g.dtype)
            ones.flags.writeable = False
        return g.dot(ones)
    return np.sum(g, axis=axis, keepdims=True)


def key_order(keys, reverse=False):
    """The positions of ``keys`` in sorted order (``sorted(xs, key=f)`` picks ``xs`` in this
    order)."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


def key_pick(keys, largest):
    """The position of the first largest (or smallest) key (``max(xs, key=f)``)."""
    return (max if largest else min)(range(len(keys)), key=keys.__getitem__)


def sum_product(a, b):
    """``np.sum(a * b)``: the adjoint of a scalar multiplying an array, as one dot product when
    the shapes agree (no temporary array; np.vdot conjugates a complex ``a``: not then)."""
    if a.__class__ is _ndarray and b.__class__ is _ndarray and a.shape == b.shape \
            and a.dtype.kind != "c":
        return np.vdot(a, b)
    return np.sum(a * b)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    shape = x.shape if x.__class__ is _ndarray else np.shape(x)
    if g.__class__ is _float:
        if not g:
            return g
        if getattr(x, "dtype", None) == _F32:  # (as in expand_like)
            g = _f32(g)
    if axis is not None and not keepdims:
        g = _expand_dims(g, axis)
    return _broadcast(g, shape)


def reduced_size(x, axis=None):
    """How many elements of ``x`` each result of a reduction over ``axis`` combines."""
    if axis is None:
        return x.size if x.__class__ is _ndarray else int(np.size(x))
    shape = np.shape(x)
    if axis.__class__ is int:
        return shape[axis]
    n = 1
    for a in axis:
        n *= shape[a]
    return n


def unreduce_extreme(g, ans, x, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` shared equally by the elements that attain the extreme."""
    if g.__class__ is _float and not g:
        return g
    if not np.ndim(x):  # (a number's max is itself, whatever the axis)
        return g * np.ones_like(np.asarray(x), dtype=_adjoint_dtype(x)).reshape(
            np.shape(g) if np.ndim(g) else ())
    if axis is not None and not keepdims:
        ans = _expand_dims(ans, axis)
        if np.ndim(g):
            g = _expand_dims(g, axis)
    # (in x's precision: float32 stays float32)
    share = (np.asarray(x) == ans).astype(_adjoint_dtype(x))
    share /= _sum(share, axis, True)
    return g * share


def _as_matrices(g, a, b):
    """View 1-D matmul operands as a row / column matrix, with ``g`` shaped to match."""
    if np.ndim(a) == 1:
        a = a[None, :]
        g = np.expand_dims(g, -2)
    if np.ndim(b) == 1:
        b = b[:, None]
        g = np.expand_dims(g, -1)
    return g, a, b


def matmul(a, b):
    """``a @ b``, or 0.0 when either is the scalar 0.0 standing for a zero adjoint."""
    if (a.__class__ is _float and not a) or (b.__class__ is _float and not b):
        return 0.0
    if (np.ndim(a) == 0 and not a) or (np.ndim(b) == 0 and not b):
        return 0.0  # (a NumPy zero standing for a zero adjoint: @ takes no number)
    if not np.ndim(a) or not np.ndim(b):
        raise AdError("reverse mode over gradient code met a number standing for the zero adjoint "
                      "of an array, whose shape it does not know",
                      hint="use forward over reverse: ad.hessian(f) (the default mode), or ad.jvp "
                           "of the gradient")
    return a @ b


def dot(a, b):
    """``np.dot(a, b)``, or 0.0 when either is the scalar 0.0 standing for a zero adjoint."""
    if (a.__class__ is _float and not a) or (b.__class__ is _float and not b):
        return 0.0
    return np.dot(a, b)


def _matmul_shape(a, b):
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) == 1 and len(sb) == 1:
        return ()
    if len(sa) == 1:
        return sb[:-2] + sb[-1:]
    if len(sb) == 1:
        return sa[:-1]
    return np.broadcast_shapes(sa[:-2], sb[:-2]) + (sa[-2], sb[-1])


def _dot_shape(a, b):
    sa, sb = np.shape(a), np.shape(b)
    return sa[:-1] + (sb[:-2] + sb[-1:] if len(sb) > 1 else ())


def product_adjoint(v, a, b, shape_of=_matmul_shape):
    """The adjoint ``v`` of ``a @ b`` (or ``np.dot``: ``shape_of=_dot_shape``) as an array, when it
    is a scalar standing for a uniform one (generated gradient code passes such scalars on); the
    0.0 of a zero adjoint stays 0.0, which every helper takes for zero."""
    if v.__class__ is _ndarray and v.ndim or (np.ndim(a) == 0 or np.ndim(b) == 0) \
            or (v.__class__ is _float and not v):
        return v
    shape = shape_of(a, b)
    return _broadcast(v, shape) if shape else v


def dot_adjoint(v, a, b):
    """``product_adjoint`` for ``np.dot(a, b)``."""
    return product_adjoint(v, a, b, _dot_shape)


def dmatmul_left(g, a, b):
    """Adjoint of ``a`` in ``a @ b`` for any ranks (1-D operands included)."""
    if (g.__class__ is _float and not g) or (b.__class__ is _float and not b):  # b: a zero tangent
        return 0.0
    if a.__class__ is not _ndarray or b.__class__ is not _ndarray:  # (np.dot of lists)
        a, b = np.asarray(a), np.asarray(b)
    if g.__class__ is not _ndarray or not g.ndim:
        g = product_adjoint(g, a, b)
    if a.ndim == 2:
        if b.ndim == 2:
            return g @ b.T
        if b.ndim == 1:
            return np.outer(g, b)
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    g2, a2, b2 = _as_matrices(g, a, b)
    return np.reshape(unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2), np.shape(a))


def dmatmul_right(g, a, b):
    """Adjoint of ``b`` in ``a @ b`` for any ranks (1-D operands included)."""
    if (g.__class__ is _float and not g) or (a.__class__ is _float and not a):  # a: a zero tangent
        return 0.0
    if a.__class__ is not _ndarray or b.__class__ is not _ndarray:  # (np.dot of lists)
        a, b = np.asarray(a), np.asarray(b)
    if g.__class__ is not _ndarray or not g.ndim:
        g = product_adjoint(g, a, b)
    if a.ndim == 2:
        if b.ndim == 2:
            return a.T @ g
        if b.ndim == 1:
            return g @ a
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    g2, a2, b2 = _as_matrices(g, a, b)
    return np.reshape(unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2), np.shape(b))


def nonzero(g):
    """Whether an adjoint is not the scalar 0.0 standing for a zero array."""
    return g.__class__ is not _float or g != 0.0


def r_items(items):
    """``np.r_[a, b, ...]`` for a list of array and number items (its normal form: a function with
    a rule, as the items are data, not an index)."""
    return np.r_[tuple(items)]


def c_items(items):
    """``np.c_[a, b, ...]`` for a list of array and number items (its normal form)."""
    return np.c_[tuple(items)]
