"""Helpers called by generated code. They are on the hot path: each is small and checks the
cheap common case first.

A zero adjoint is represented by the Python float ``0.0`` (never a zero array), so every
helper accepts a scalar ``g``; containers (tuple/list/dict arguments) have adjoints of the same
structure.
"""
from __future__ import annotations

import types

import numpy as np

from . import hooks
from .arguments import TUPLE_OF, kind_of
from .errors import COMPLEX_UNSUPPORTED, AdError, error_at
from .parse import define, is_library_function

_ndarray = np.ndarray
_float = float
_SCALARS = (float, int, np.float64, np.float32, np.float16, np.longdouble)
_SCALAR_CLASSES = frozenset(_SCALARS)
_PYTHON_NUMBERS = frozenset([float, int, bool])

# Below this many elements a broadcast is materialised: np.broadcast_to costs microseconds of
# Python bookkeeping, more than copying a few thousand numbers.
_SMALL = 4096
_F32, _f32 = np.dtype(np.float32), np.float32


def _broadcast(g, shape):
    """``np.broadcast_to(g, shape)``, as a fresh array when it is small."""
    size = 1
    for n in shape:
        size *= n
    if size > _SMALL:
        return np.broadcast_to(g, shape)
    out = np.empty(shape, dtype=g.dtype if g.__class__ is _ndarray else np.result_type(g))
    out[...] = g
    return out


def _sum(g, axis, keepdims=False):
    """``np.sum`` without its dispatch cost for arrays (the method is twice as fast on small ones)."""
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


def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x`` (the adjoint of a broadcast operand)."""
    if g.__class__ is _float:
        return g
    if g.__class__ is _ndarray and x.__class__ is _ndarray:
        if g.shape == x.shape:
            return g
        shape, gshape = x.shape, g.shape
    elif x.__class__ in _SCALAR_CLASSES:
        return g.sum() if g.__class__ is _ndarray else g
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
    shapes = [o.shape if o.__class__ is _ndarray else np.shape(o) for o in operands]
    dtypes = {o.dtype for o in operands if o.__class__ is not _float and o.__class__ is not int and hasattr(o, "dtype")}
    dtype = dtypes.pop() if len(dtypes) == 1 else np.result_type(*operands) if dtypes else None
    full = shapes[0] if all(s == shapes[0] for s in shapes) else np.broadcast_shapes(*shapes)
    for o, s in zip(operands, shapes):
        if s == full and getattr(o, "dtype", None) == dtype:
            return o
    return _Shaped(full, dtype if dtype is not None else np.result_type(*operands))


def log_softmax(p, z, axis=None):
    """``np.log(p)``, where ``p`` is the softmax of ``z`` along ``axis`` (the normal form's
    ``np.log(p)`` after fusion.py): differentiated w.r.t. ``z`` as a whole, not through ``p``."""
    return np.log(p)


def above(a, b):
    """1 where ``a > b``, 1/2 where ``a == b``, else 0: the share of ``a`` in the derivative of
    ``np.maximum(a, b)``, as floats in the precision of ``a`` and ``b`` (a bool mask times 0.5
    would be float64, and turn a float32 backward pass into float64)."""
    ca, cb = a.__class__, b.__class__
    if ca is _ndarray and a.dtype.kind == "f" and (cb is _float or cb is int or (cb is _ndarray and b.dtype == a.dtype)):
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
    (a softmax's 64 x 10 rows: 0.6 us instead of 1.9 us); the same sums, possibly in another order."""
    if g.__class__ is _ndarray and g.ndim and (axis == -1 or axis == g.ndim - 1) and g.shape[-1] <= _SMALL \
            and g.dtype in _DOT_FLOATS:
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
    """The positions of ``keys`` in sorted order (``sorted(xs, key=f)`` picks ``xs`` in this order)."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse)


def key_pick(keys, largest):
    """The position of the first largest (or smallest) key (``max(xs, key=f)``)."""
    return (max if largest else min)(range(len(keys)), key=keys.__getitem__)


def sum_product(a, b):
    """``np.sum(a * b)``: the adjoint of a scalar multiplying an array, as one dot product when
    the shapes agree (no temporary array)."""
    if a.__class__ is _ndarray and b.__class__ is _ndarray and a.shape == b.shape:
        return np.vdot(a, b)
    return np.sum(a * b)


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    shape = np.shape(x)
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
        return g * np.ones_like(np.asarray(x), dtype=_adjoint_dtype(x)).reshape(np.shape(g) if np.ndim(g) else ())
    if axis is not None and not keepdims:
        ans = _expand_dims(ans, axis)
        if np.ndim(g):
            g = _expand_dims(g, axis)
    share = (np.asarray(x) == ans).astype(_adjoint_dtype(x))  # (in x's precision: float32 stays float32)
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
        raise AdError("reverse mode over gradient code met a number standing for the zero adjoint of an array, "
                      "whose shape it does not know", hint="use forward over reverse: ad.hessian(f) (the default "
                      "mode), or ad.jvp of the gradient")
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
    if v.__class__ is _ndarray and v.ndim or (np.ndim(a) == 0 or np.ndim(b) == 0) or (v.__class__ is _float and not v):
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


def keep_dtype(x, value):
    """The value of ``x op= v`` (``value`` is ``x op v``) for a name that holds an array: of ``x``'s
    dtype, as NumPy's in-place operation leaves it (a 0-d array stays one: ``x * v`` is a scalar)."""
    if x.__class__ is _ndarray:
        if value.__class__ is not _ndarray:
            return np.array(value, dtype=x.dtype)
        if value.dtype is not x.dtype and value.dtype != x.dtype:
            return value.astype(x.dtype)
    return value


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
    return x




class Refusal:
    """An AdError prepared when code is generated (function, file, line, fix), raised by generated
    code when a check it can only make at run time fails; ``%s`` in the message takes the detail."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error

    def __call__(self, detail):
        e = self.error
        return AdError(e.message % detail, function=e.function, filename=e.filename, lineno=e.lineno, col=e.col,
                       hint=e.hint)


_RECEIVERS = (np.generic, float, int, complex, list, tuple, dict)


def check_receiver(value, refusal):
    """Raise ``refusal`` unless ``value`` is an array, a number or a container (what the array-method
    rule applied to ``value.method(...)`` is right for)."""
    if value.__class__ is not _ndarray and not isinstance(value, _RECEIVERS):
        raise refusal("a %s" % type(value).__name__)


_FLOAT_SCALARS = frozenset([float, np.float64, np.float32, np.float16, np.longdouble])


def scalar_seed(value, function):
    """The seed adjoint of the result of ``grad``: 1.0 for a real float scalar, ones for a float
    array of size 1 (a sum with ``keepdims=True``, a 0-d array); an AdError for anything else
    (an array of several values, a bool, an int, a complex number, None)."""
    if value.__class__ in _FLOAT_SCALARS:
        return 1.0
    if value.__class__ is _ndarray and value.size == 1 and value.dtype.kind == "f":
        return np.ones(value.shape, value.dtype)
    if np.ndim(value) and np.size(value) != 1:
        hint = "use ad.vjp(f, x) with a cotangent, or ad.jacobian(f)"
    elif np.iscomplexobj(value):
        hint = "differentiate a real quantity: np.real(z), np.abs(z) ** 2, ... (complex outputs are not supported yet)"
    else:
        hint = "return the float quantity to differentiate (a bool, int or None output has no gradient)"
    raise AdError("grad needs a real float scalar output (a float, a NumPy float or a float array of size 1), "
                  "but %s returned %s" % (function, _describe(value)), function=function, hint=hint)


def _describe(value):
    if isinstance(value, np.ndarray):
        return "an array of shape %s and dtype %s" % (value.shape, value.dtype)
    text = repr(value)
    return "%s (%s)" % (text if len(text) <= 40 else text[:37] + "...", type(value).__name__)


def own(g, x):
    """An adjoint array that generated code may update in place (a private copy, never a view)."""
    if isinstance(x, (list, tuple)):
        return [0.0] * len(x) if g.__class__ is _float else list(g)
    if isinstance(x, dict):
        return dict.fromkeys(x, 0.0) if g.__class__ is _float else dict(g)
    out = np.zeros(np.shape(x), dtype=_adjoint_dtype(x))
    if not (g.__class__ is _float and not g):
        out += g
    return out


def _adjoint_dtype(x):
    """The dtype of an adjoint array for ``x``: its own if inexact, else float64."""
    if x.__class__ is _ndarray and x.dtype.kind in "fc":
        return x.dtype
    return float


def add_at(dx, index, g):
    """``dx[index] += g`` into an owned adjoint, correct for repeated fancy indices."""
    if g.__class__ is _float and not g:
        return dx
    if dx.__class__ is _ndarray:
        if index.__class__ is int or index.__class__ is slice:
            dx[index] += g
        else:
            np.add.at(dx, index, g)
    else:
        dx[index] = add(dx[index], g)
    return dx


def _basic_index(index):
    """An index with no integer arrays or lists in it (no element can be picked twice)."""
    cls = index.__class__
    if cls is int or cls is slice or index is None or index is Ellipsis:
        return True
    return cls is tuple and all(p.__class__ in (int, slice) or p is None or p is Ellipsis for p in index)


def _check_distinct_targets(dx, index):
    """Subscript assignment through a fancy index that names one element twice keeps the last
    value only; its adjoint is not supported (an error, never a silent wrong gradient)."""
    positions = np.arange(dx.size).reshape(dx.shape)[index]
    if np.ndim(positions) and np.unique(positions).size != np.size(positions):
        raise AdError("a subscript assignment through an index that repeats an element (%r): only the last "
                      "value is kept, and the gradient of that is not supported" % (index,),
                      hint="use distinct indices, or np.add.at-style accumulation written as y = y + ...")


def take_adjoint(dx, index):
    """Read the adjoint of ``x[index]`` out of an owned ``dx`` and zero it there (subscript
    assignment overwrote those elements)."""
    if dx.__class__ is _float:
        return dx
    if dx.__class__ is _ndarray:
        if not _basic_index(index):
            _check_distinct_targets(dx, index)
        g = dx[index]
        g = g.copy() if g.__class__ is _ndarray else g
        dx[index] = 0
        return g
    g = dx[index]
    dx[index] = 0.0
    return g


def add(a, b):
    """Sum of two adjoints of any structure (0.0 is the zero of every structure)."""
    if a.__class__ is _float and not a:
        return b
    if b.__class__ is _float and not b:
        return a
    if isinstance(a, (list, tuple)):
        return type(a)(add(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):  # (an object's adjoint holds only the attributes read so far)
        return {**b, **{k: add(v, b.get(k, 0.0)) for k, v in a.items()}}
    return a + b


def container_adjoint(x, index, g):
    """Adjoint of a container ``x`` receiving ``g`` at ``index`` and zero elsewhere (zeros shaped
    like the other entries: a rule applied to one of them needs its shape)."""
    if isinstance(x, (list, tuple)):
        out = [zero_like(e) for e in x]
    elif isinstance(x, dict):
        out = {k: zero_like(v) for k, v in x.items()}
    else:
        out = np.zeros(x.shape if x.__class__ is _ndarray else np.shape(x), dtype=_adjoint_dtype(x))
        if g.__class__ is _float and not g:
            return out
        if index.__class__ is int or _basic_index(index):
            out[index] += g
        else:
            np.add.at(out, index, g)  # repeated fancy indices each add their part
        return out
    if not (g.__class__ is _float and not g) or out[index].__class__ is _float:
        out[index] = g
    return out


def element(g, i):
    """Element ``i`` of an adjoint or tangent ``g`` (which may be the scalar zero 0.0); never a view
    into an array ``g``, which generated code may go on to update in place."""
    if g.__class__ is _float:
        return g
    if g.__class__ is _ndarray:
        part = g[i]
        return part.copy() if part.__class__ is _ndarray else part
    return g[i]


def expand_like(t, ans):
    """A tangent with the shape of its primal ``ans`` (a Python number in ``ans``'s precision when
    that is float32, as NumPy arithmetic of the two would give)."""
    shape = ans.shape if ans.__class__ is _ndarray else np.shape(ans)
    if (t.shape if t.__class__ is _ndarray else np.shape(t)) == shape:
        return t
    if t.__class__ is _float and getattr(ans, "dtype", None) == _F32:
        t = _f32(t)
    if t.__class__ is _ndarray and t.ndim and ans.__class__ is not _ndarray and not shape:
        return t  # (ans is a number computed from gradient code's 0.0 standing for a zero array:
        # the tangent has the array's shape)
    return _broadcast(t, shape)


def zero_like(x):
    """A zero tangent or adjoint with the structure of ``x``."""
    if x.__class__ is _ndarray:
        return np.zeros_like(x, dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else float)
    if isinstance(x, (list, tuple)):
        return type(x)(zero_like(e) for e in x)
    if isinstance(x, dict):
        return {k: zero_like(v) for k, v in x.items()}
    return 0.0


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
    shape = t.shape[:1] + np.shape(ans)
    return t if t.shape == shape else np.broadcast_to(t, shape)


def batch_size(tangents):
    """The batch size of batched tangent code: the leading axis of its first array tangent."""
    for t in tangents:
        if t.__class__ is _ndarray:
            return t.shape[0]
    return 1


def batch_zeros(n, x):
    """A batch of ``n`` zero tangents of an array like ``x``."""
    return np.zeros((n,) + np.shape(x), dtype=x.dtype if np.issubdtype(np.asarray(x).dtype, np.inexact) else float)


def batch_cast(t, x):
    """A batch of tangents of a value like ``x``: shape ``(batch,) + x.shape``, x's dtype."""
    if t.__class__ is _float or x.__class__ is not _ndarray:
        return t
    out = np.empty(t.shape[:1] + x.shape, dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else float)
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


def batch_add_at(dt, index, t):
    """``add_at`` into an owned batch of tangents."""
    if t.__class__ is _float:
        return dt
    where, t = _batch_slot(t, dt[0], index)
    np.add.at(dt, where, t)
    return dt


def batch_take_adjoint(dt, index):
    """``take_adjoint`` from an owned batch of tangents."""
    where = (slice(None),) + (index if isinstance(index, tuple) else (index,))
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


def dense(t, x):
    """Tangent ``t`` with the structure of ``x`` when it is the scalar 0.0 standing for an array,
    list or tuple of zeros (and so for each entry of a list or tuple)."""
    if t.__class__ is _float and (x.__class__ is _ndarray or x.__class__ in (list, tuple)):
        return zero_like(x) if not t else _broadcast(t, np.shape(x)) if x.__class__ is _ndarray else t
    if x.__class__ in (list, tuple) and t.__class__ in (list, tuple):
        return x.__class__(dense(e, v) for e, v in zip(t, x))
    return t


def add_attribute(d, attr, g):
    """Adjoint of a simple object after reading ``obj.attr``: a dict of per-attribute adjoints."""
    out = {} if d.__class__ is _float else dict(d)
    out[attr] = add(out.get(attr, 0.0), g)
    return out


def attribute(t, attr):
    """Attribute ``attr`` of a tangent object (0.0: the zero tangent)."""
    if t.__class__ is _float:
        return t
    if isinstance(t, dict):
        return t.get(attr, 0.0)
    return getattr(t, attr)



def without_attribute(d, attr):
    """An object's adjoint or tangent without its entry for ``attr``: the value ``obj.attr = v``
    overwrote (its adjoint went to ``v``)."""
    if d.__class__ is _float:
        return d
    out = _attribute_entries(d)
    out.pop(attr, None)
    return out


def with_attribute(t, attr, v):
    """An object's tangent after ``obj.attr = v``, ``v`` holding the value's tangent."""
    out = {} if t.__class__ is _float else _attribute_entries(t)
    out[attr] = v
    return out


def _attribute_entries(t):
    """A copy of an object's adjoint or tangent as a dict of per-attribute entries (the API gives
    one as an object of the argument's class)."""
    return dict(t) if isinstance(t, dict) else dict(vars(t))


# (id(obj), attribute) -> (obj, value): what differentiated code left in an object's attribute when
# its function returned, a value that depends on the arguments being differentiated: its caller
# does not receive that value's derivative, so differentiated code may not read it (check_followed)
_UNFOLLOWED: dict = {}


def unfollowed(obj, attr):
    """Record, as a function returns, the value it stored in ``obj.attr`` (see ``check_followed``)."""
    if hasattr(obj, attr):
        _UNFOLLOWED[id(obj), attr] = (obj, getattr(obj, attr))


def make_function(made, defaults):
    """The function a user's lambda makes: ``made`` is its code object and the globals of its
    module, ``defaults`` its default values (see ``Normalizer.lambda_value``)."""
    return types.FunctionType(made[0], made[1], "<lambda>", defaults or None)


def fresh_computation():
    """Forget what earlier computations stored (called as a gradient computation starts)."""
    if _UNFOLLOWED:
        _UNFOLLOWED.clear()


def check_followed(obj, attr, refusal):
    """Raise ``refusal`` when differentiated code reads ``obj.attr`` that a called function set to a
    value depending on the differentiated arguments (the derivative would not follow it)."""
    if _UNFOLLOWED:
        entry = _UNFOLLOWED.get((id(obj), attr))
        if entry is not None and entry[0] is obj and getattr(obj, attr, None) is entry[1]:
            raise refusal(())


def r_items(items):
    """``np.r_[a, b, ...]`` for a list of array and number items (its normal form: a function with
    a rule, as the items are data, not an index)."""
    return np.r_[tuple(items)]


def c_items(items):
    """``np.c_[a, b, ...]`` for a list of array and number items (its normal form)."""
    return np.c_[tuple(items)]


SELECTING = (_ndarray, list, tuple, dict, range, str, bytes)  # their [index] selects, computes nothing


def subscript_check(base, index, site):
    """Raise an AdError at ``site`` if ``base`` is not an array, list, tuple or dict and the
    values of ``index`` (a tuple of them), which depend on the differentiated arguments, are
    floats: ``base`` computes its items from them, and they would get no gradient."""
    if isinstance(base, SELECTING) or not any(map(_inexact, index)):
        return
    raise error_at(site, "a %s is not an array, list, tuple or dict: its [...] computes a value from an index "
                         "that depends on the differentiated arguments, which would get no gradient"
                   % type(base).__name__,
                   hint="compute the value with functions that have derivative rules (np.concatenate, "
                        "np.column_stack, np.where, ...) or methods of your own")


def _inexact(value) -> bool:
    """Whether an index holds float or complex values (a slice's bounds, a tuple's entries)."""
    if isinstance(value, (float, complex, np.inexact)):
        return True
    if isinstance(value, _ndarray):
        return value.dtype.kind in "fc"
    if isinstance(value, slice):
        return any(map(_inexact, (value.start, value.stop, value.step)))
    if isinstance(value, (tuple, list)):
        return any(map(_inexact, value))
    return False


def dtype_gate(v, dtype, site):
    """The derivative ``v`` (an adjoint or a tangent) of a call whose result dtype is known only at
    run time: ``v`` for a float dtype (None: the operand's own), zero for an int or bool one (the
    cast is piecewise constant); any other dtype (complex) is an AdError at the call ``site``."""
    if dtype is None:
        return v
    kind = np.dtype(dtype).kind
    if kind == "f":
        return v
    if kind in "iub":
        return np.zeros_like(v) if v.__class__ is _ndarray else 0.0
    raise error_at(site, "the cast to dtype %s: %s" % (np.dtype(dtype).name, COMPLEX_UNSUPPORTED if kind == "c" else
                                                       "only float, int and bool dtypes are differentiated"),
                   hint="compute in a float dtype")


def cast_like(g, x):
    """Give a final gradient the type of its argument: float for float, an owned array of the
    argument's shape and dtype for an array, the same structure for containers."""
    if x.__class__ is _ndarray:
        if g.__class__ is _ndarray and g.base is None and g.shape == x.shape and (g.dtype is x.dtype or g.dtype == x.dtype):
            return g  # (an array that owns its memory: not a broadcast or read-only view)
        out = np.zeros(x.shape, dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else float)
        shape = np.shape(g)
        if shape != x.shape and np.size(g) != 1 and (np.size(g) != x.size or shape[len(shape) - x.ndim:] != x.shape):
            _inconsistent(g, x)  # (never broadcast a gradient across the argument's shape)
        out[...] = g
        return out
    if isinstance(x, float):
        if g.__class__ is _float:
            return g
        if np.size(g) != 1:
            _inconsistent(g, x)
        return float(g if np.ndim(g) == 0 else np.reshape(g, ()))
    if isinstance(x, (list, tuple)):
        if isinstance(g, dict) and hasattr(x, "_fields"):  # a namedtuple read by attribute
            g = [g.get(f, 0.0) for f in x._fields]
        if g.__class__ is _float:
            parts = [cast_like(0.0, e) for e in x]
        else:
            parts = [cast_like(a, e) for a, e in zip(g, x)]
        return type(x)(*parts) if hasattr(x, "_fields") else type(x)(parts)
    if isinstance(x, dict):
        if g.__class__ is _float:
            return {k: cast_like(0.0, v) for k, v in x.items()}
        return {k: cast_like(g.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    if hasattr(x, "__dict__"):
        return _object_like(g, x)
    return g


def _inconsistent(g, x):
    raise AdError("internal error: a gradient of shape %s was computed for an argument of shape %s; please report "
                  "this program" % (np.shape(g), np.shape(x)), hint="adcompiler refuses rather than return it")


def distinct(grads):
    """Gradients returned together as distinct objects (the same array may have reached two
    arguments: ``sum(sin(x + y))`` gives both the same ``cos(x + y)``)."""
    if len(grads) == 2:  # the common case, without a set
        first, second = grads
        if first is not second or first.__class__ is not _ndarray:
            return grads
        return first, second.copy()
    seen = set()
    out = []
    for g in grads:
        if g.__class__ is _ndarray:
            if id(g) in seen:
                g = g.copy()
            seen.add(id(g))
        out.append(g)
    return tuple(out)


def _object_like(g, x):
    """A gradient with the structure of a simple object: a copy whose float and array
    attributes hold their adjoints."""
    import copy as copy_module
    out = copy_module.copy(x)
    parts = g if isinstance(g, dict) else {}
    computed = [a for a in parts if a not in vars(x) and hasattr(_class_attribute(x, a), "__get__")]
    if computed:  # a property (or other computed attribute): its adjoint has no place to go
        raise AdError("the gradient flows through %s.%s, which is computed (a property?), not stored on the "
                      "object" % (type(x).__name__, computed[0]),
                      hint="read the stored attributes it is computed from in the differentiated code, or call "
                           "a method that computes it")
    for attr, value in vars(x).items():
        if isinstance(value, (float, np.ndarray, np.generic, list, tuple, dict)) and not isinstance(value, bool) \
                or _is_plain_object(value) and value is not x:
            setattr(out, attr, cast_like(parts.get(attr, 0.0), value))
    return out


def _class_attribute(x, attr):
    import inspect
    return inspect.getattr_static(type(x), attr, None)


def _is_plain_object(value):
    """An instance of a user class holding attributes (a layer inside a model)."""
    return hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType, types.FunctionType,
                                                                  types.MethodType))


class CalleeRedefined(Exception):
    """Raised by generated code whose callee was rebound since it was generated (caught by
    adcompiler, which generates the code again)."""


def callee_redefined(name):
    raise CalleeRedefined(name)


def cotangent(parts, i):
    """Entry ``i`` of what a user's vjp rule returned (a bare value for a one-argument function;
    None, not differentiable, is the zero adjoint)."""
    part = parts[i] if isinstance(parts, (tuple, list)) else parts
    return 0.0 if part is None else part

# -- callables known only at run time (``layer(x)`` over a list of layers) ----------------------
_TRAMPOLINES: dict = {}


def _trampoline(fn, n, names=None, call_first=False, keywords=()):
    """A small function with source, ``call_<name>(arg0, ...)`` returning ``fn(arg0, ...)``, so
    the compiler differentiates ``fn`` as it would a call written in the source: through its
    Python source (a function, a method, an object's ``__call__``) or its rule (``np.tanh``).
    ``names``: parameter names to use instead of ``arg0, ...``; ``keywords``: names of keyword
    arguments passed after the ``n`` positional ones (parameters ``kw0, ...``)."""
    key = (id(fn), n, call_first) + tuple(keywords)
    made = _cached(fn, key)
    if made is not None:
        return made
    label = getattr(fn, "__name__", type(fn).__name__)
    label = label if label.isidentifier() else "fn"
    names = names or ["arg%d" % i for i in range(n)]
    callee, passed = (names[0], names[1:]) if call_first else ("fn", names)
    extra = ["kw%d" % i for i in range(len(keywords))]
    passed = list(passed) + ["%s=%s" % (k, v) for k, v in zip(keywords, extra)]
    source = "def call_%s(%s):\n    return %s(%s)\n" % (label, ", ".join(list(names) + extra), callee, ", ".join(passed))
    return _compiled(fn, key, "call of %s" % label, "call_" + label, source, {"fn": fn})


def _cached(fn, key):
    """The function made for ``fn`` under ``key`` (see _compiled), or None."""
    made = _TRAMPOLINES.get(key)
    return made[1] if made is not None and made[0] is fn else None


def _compiled(fn, key, title, function, source, namespace):
    """``function`` defined by ``source`` in ``namespace`` and registered with linecache (so it has
    source to differentiate), kept for ``key`` while it stands for ``fn``."""
    made = define(source, function, namespace, "<%s #%d>" % (title, len(_TRAMPOLINES)))
    _TRAMPOLINES[key] = (fn, made)
    return made


def vectorized(vec, n):
    """For an ``np.vectorize`` object, a function with source computing ``vec(arg0, ...)`` by
    calling its Python function on each element of the broadcast arguments, so it is
    differentiated like a loop; the result's dtype is the first output's (or ``otypes``), as
    NumPy's. Options it does not reproduce (``excluded``, ``signature``, several outputs) are
    an AdError."""
    made = _cached(vec, (id(vec), n, "vectorized"))
    if made is not None:
        return made
    label = getattr(vec.pyfunc, "__name__", "fn")
    label = label if label.isidentifier() else "fn"
    otypes = vec.otypes or ""
    if vec.excluded or vec.signature is not None or len(otypes) > 1 or n == 0:
        raise AdError("np.vectorize(%s) with %s is not differentiated" % (
            label, "excluded=" if vec.excluded else "signature=" if vec.signature is not None else
            "several otypes" if len(otypes) > 1 else "no arguments"),
            hint="write the loop over the elements in the function itself")
    args = ["arg%d" % i for i in range(n)]
    items = ["a%d" % i for i in range(n)]
    flat = ["np.ravel(np.broadcast_to(%s, shape))" % a for a in args]
    loop = ("%s in %s" % (items[0], flat[0]) if n == 1 else
            "%s in zip(%s)" % (", ".join(items), ", ".join(flat)))
    dtype = "otype" if otypes else "np.asarray(items[0]).dtype"
    source = ("def vectorized_%s(%s):\n"
              "    shape = np.broadcast_shapes(%s)\n"
              "    items = [fn(%s) for %s]\n"
              "    out = np.array(items, dtype=%s)\n"
              "    if np.ndim(out) != 1:\n"
              "        raise several_outputs\n"
              "    return np.reshape(out, shape)\n") % (
        label, ", ".join(args), ", ".join("np.shape(%s)" % a for a in args), ", ".join(items), loop, dtype)
    several = AdError("np.vectorize(%s): the function returns several values, which is not differentiated" % label,
                      hint="vectorize one function per output")
    namespace = {"np": np, "fn": vec.pyfunc, "otype": otypes[0] if otypes else None, "several_outputs": several}
    return _compiled(vec, (id(vec), n, "vectorized"), "np.vectorize(%s)" % label, "vectorized_" + label, source,
                     namespace)


def _callee_kinds(args):
    return tuple(kind_of(a) for a in args)


def _object_trampoline(cls, n):
    """``call_<Class>(fn, arg0, ...)`` returning ``fn(arg0, ...)``: an object of a user class is an
    argument, so its ``__call__`` is differentiated with gradients into its attributes. (A class
    of NumPy's or another library's is an AdError: their Python code is not traced.)"""
    made = _cached(cls, (id(cls), n + 1, True))
    if made is not None:
        return made
    if is_library_function(cls.__call__):
        raise AdError("a %s object is called here, which has no derivative rule" % cls.__name__,
                      hint="call a function with a derivative rule or with Python source")
    return _trampoline(cls, n + 1, ["fn"] + ["arg%d" % i for i in range(n)], call_first=True)


def _dispatch(active, fn, args):
    """(function to differentiate, its arguments, active positions among them, the map of its
    adjoints back to ``args``' or None) for ``fn(*args)`` with ``active`` positions counted over
    ``(fn, *args)``."""
    call = getattr(type(fn), "__call__", None)
    if fn.__class__ is Unpacked:
        return _dispatch_unpacked(active, fn, args)
    if isinstance(fn, np.vectorize):
        return vectorized(fn, len(args)), args, tuple(i - 1 for i in active if i), None
    if fn.__class__ is np.ufunc and _cached(fn, (id(fn), len(args), False)) is None:
        if hooks.lookup_rule(fn) is None:
            raise AdError("the ufunc %r has no derivative rule (np.frompyfunc makes ufuncs of Python functions, "
                          "which are not differentiated)" % fn, hint="use np.vectorize(f), or call f in a loop")
    if not isinstance(fn, (types.FunctionType, types.MethodType, type)) and isinstance(call, types.FunctionType) \
            and not is_library_function(call):  # (a library's callable object: through a rule)
        return _object_trampoline(type(fn), len(args)), (fn,) + args, active, None
    _check_stateless(active, fn)
    return _trampoline(fn, len(args)), args, tuple(i - 1 for i in active if i), None


def _stateless(fn) -> bool:
    """A callable that holds no values a gradient could reach: a module-level function without
    a closure, a NumPy ufunc or a builtin (``self.act = np.tanh`` in a layer)."""
    if isinstance(fn, types.FunctionType):
        return not fn.__closure__
    if isinstance(fn, types.BuiltinFunctionType):  # (a bound method of a list or array holds it)
        return fn.__self__ is None or isinstance(fn.__self__, types.ModuleType)
    return isinstance(fn, np.ufunc)


def _check_stateless(active, fn):
    if 0 in active and not _stateless(fn):
        raise AdError("the callable %r is chosen at run time and depends on the differentiated arguments: only "
                      "objects with a __call__ method get gradients that way" % (fn,),
                      hint="pass the values it uses as arguments")


class Unpacked:
    """``fn`` called with arguments unpacked into it: ``f(a, *rest, key=v, **opts)`` is
    ``Unpacked(f, ("", "*", "=key", "**"))`` called with ``(a, rest, v, opts)``."""
    __slots__ = ("fn", "layout")

    def __init__(self, fn, layout):
        self.fn, self.layout = fn, layout


def unpacked(fn, layout):
    """The callee of a call with ``*args`` or keywords in generated code (see ``Unpacked``)."""
    return Unpacked(fn, layout)


def _may_carry_gradient(value) -> bool:
    cls = value.__class__
    if cls is _float or cls is _ndarray:
        return cls is _float or value.dtype.kind in "fc"
    return isinstance(value, (np.inexact, list, tuple, dict)) or _is_plain_object(value)


def _dispatch_unpacked(active, call, parts):
    """``_dispatch`` of ``call.fn(...)`` with ``parts`` unpacked as ``call.layout`` says: the
    callee gets one parameter per positional value and keyword; adjoints of the values of an
    unpacked sequence or mapping are put back together with its structure."""
    _check_stateless(active, call.fn)
    for i, (how, part) in enumerate(zip(call.layout, parts), 1):
        if how == "*" and i in active and not isinstance(part, (list, tuple, _ndarray)):
            raise AdError("a %s unpacked into a call carries values being differentiated" % type(part).__name__,
                          hint="unpack a list, tuple or array, or pass the arguments one by one")
    flat, keywords, owners = _flatten(call, parts)
    positions = tuple(p for p, (i, _) in enumerate(owners) if i in active and _may_carry_gradient(flat[p]))

    def repack(grads):
        """Adjoints of the active parts from those of the callee's active parameters."""
        by_part = {}
        for p, g in zip(positions, grads):
            by_part.setdefault(owners[p][0], []).append((owners[p][1], g))
        out = []
        for i in active:
            if i == 0:
                out.append(0.0)
                continue
            got, part, how = by_part.get(i, []), parts[i - 1], call.layout[i - 1]
            if how in ("*", "**"):
                whole = container_adjoint(part, 0, 0.0) if part.__class__ is _ndarray else zero_like(part)
                whole = list(whole) if part.__class__ is tuple else whole
                for key, g in got:
                    if not (g.__class__ is _float and not g):
                        whole[key] = g
                out.append(tuple(whole) if part.__class__ is tuple else whole)
            else:
                out.append(got[0][1] if got else 0.0)
        return tuple(out)

    return _trampoline(call.fn, len(flat) - len(keywords), keywords=tuple(keywords)), tuple(flat), positions, repack


def _flatten(call, parts):
    """(the callee's arguments, positional first, then keyword values; the keywords; the (part
    position, key inside it) each argument comes from) of an ``Unpacked`` call."""
    positional, named = [], []
    for i, (how, part) in enumerate(zip(call.layout, parts), 1):
        if how == "*":
            positional.extend(((i, k), v) for k, v in enumerate(part))
        elif how == "**":
            named.extend(((i, k), v, k) for k, v in part.items())
        elif how:
            named.append(((i, None), part, how[1:]))
        else:
            positional.append(((i, None), part))
    flat = [v for _, v in positional] + [v for _, v, _ in named]
    owners = [o for o, _ in positional] + [o for o, _, _ in named]
    return flat, [k for _, _, k in named], owners


def _flat_tangents(fn, active, tangents, args, positions):
    """The tangents of the callee's active parameters from those of the ``active`` operands."""
    if fn.__class__ is not Unpacked:
        return tangents[len(active) - len(positions):]  # (a stateless callable's tangent is dropped)
    of_part = dict(zip(active, tangents))
    owners = _flatten(fn, args)[2]
    out = []
    for p in positions:
        i, key = owners[p]
        t = of_part.get(i, 0.0)
        out.append(t if key is None or t.__class__ is _float else t[key])
    return tuple(out)


def call_forward(active, fn, *args):
    """Forward half of differentiating ``fn(*args)`` for a callable chosen at run time: the value
    and what ``call_backward`` needs (``active``: positions over ``(fn, *args)``)."""
    target, operands, positions, repack = _dispatch(active, fn, args)
    pair = hooks.subroutine_pair(target, (positions, _callee_kinds(operands)))
    out, saved = pair.forward(*operands)
    return out, (pair, saved, repack or len(positions) < len(active))


def call_backward(saved, g):
    """The adjoints of the active operands of a ``call_forward`` call (a stateless callable's
    is zero)."""
    pair, inner, repack = saved
    grads = pair.backward(inner, g)
    return _repacked(repack, grads)


def _repacked(repack, grads):
    """Adjoints per active operand: ``repack`` is the map of an unpacked call, or True when the
    (stateless) callable itself is an active operand, whose adjoint is zero."""
    if repack is True:
        return (0.0,) + tuple(grads)
    return repack(grads) if repack else grads


def call_jvp(tangents, active, fn, *args):
    """``(fn(*args), its tangent)`` for a callable chosen at run time (forward mode)."""
    target, operands, positions, _ = _dispatch(active, fn, args)
    tangents = _flat_tangents(fn, active, tangents, args, positions)
    return hooks.subroutine_jvp(target, (positions, _callee_kinds(operands))).fn(tangents, *operands)


def call_forward_jvp(active, fn, args, t_fn, t_args):
    """Tangent of ``call_forward(active, fn, *args)`` (forward mode over gradient code that calls a
    callable chosen at run time): the tangent of the value and of the saved state."""
    target, operands, positions, _ = _dispatch(active, fn, args)
    if fn.__class__ is Unpacked:
        tangents = _flat_tangents(fn, range(1, len(args) + 1), tuple(t_args), args, range(len(operands)))
    else:
        tangents = ((t_fn,) if len(operands) > len(args) else ()) + tuple(t_args)
    kinds = _callee_kinds(operands)
    pair = hooks.subroutine_pair(target, (positions, kinds))
    tangents = tuple(zero_like(a) if t.__class__ is _float and not t else t for t, a in zip(tangents, operands))
    run = hooks.subroutine_jvp(pair.forward, (tuple(range(len(operands))), kinds)).fn
    _, (t_out, t_saved) = run(tangents, *operands)
    return t_out, (0.0, t_saved, 0.0)


def call_backward_jvp(saved, g, t_saved, t_g):
    """Tangent of ``call_backward(saved, g)``."""
    pair, inner, repack = saved
    t_inner = zero_like(inner) if t_saved.__class__ is _float else t_saved[1]
    t_g = dense(t_g, g) if t_g.__class__ is _float else t_g
    kinds = ((TUPLE_OF, tuple(map(kind_of, inner))), kind_of(g))
    t_grads = hooks.subroutine_jvp(pair.backward, ((0, 1), kinds)).fn((t_inner, t_g), inner, g)[1]
    return _repacked(repack, t_grads)
