"""Adjoints and tangents as values of a structure: owned arrays generated code updates in place
(``own``, ``add_at``, ``take_adjoint``), sums and elements of adjoints of any structure (``add``,
``element``, ``container_adjoint``, ``zero_like``, ``dense``), and the final gradient given the
type of its argument (``cast_like``, objects included, ``distinct``). These are on the hot path
too: a zero adjoint is the Python float ``0.0`` (never a zero array), which every helper takes;
containers (tuple/list/dict arguments) have adjoints of the same structure."""
from __future__ import annotations

import numpy as np

from ..errors import AdError
from ._base import (
    _F32,
    _adjoint_dtype,
    _broadcast,
    _by_position,
    _effectful,
    _f32,
    _float,
    _is_plain_object,
    _Named,
    _ndarray,
    _rebuilt,
)

_float64 = np.float64


def own(g, x, wide=False):
    """An adjoint array that generated code may update in place (a private copy, never a view);
    complex when ``wide`` (code computing with complex values: a real value's adjoint may be
    complex there, docs/complex.md; its real part is what counts)."""
    if isinstance(x, (list, tuple)):
        if hasattr(x, "_fields"):  # a namedtuple's (``g`` may be by attribute: see _Named)
            return _Named(x._fields, [0.0] * len(x) if g.__class__ is _float
                          else _by_position(g, x))
        return [0.0] * len(x) if g.__class__ is _float else list(g)
    if isinstance(x, dict):
        return dict.fromkeys(x, 0.0) if g.__class__ is _float else dict(g)
    if x.__class__ is not _ndarray and _is_plain_object(x) and not isinstance(x, np.ndarray):
        raise _item_store_refused(x)
    dtype = _adjoint_dtype(x)
    out = np.zeros(np.shape(x), dtype=np.result_type(dtype, np.complex64) if wide else dtype)
    if not (g.__class__ is _float and not g):
        out += np.real(g) if out.dtype.kind != "c" and _complex(g) else g
    return out


def _item_store_refused(obj):
    """The AdError for ``obj[k] = v`` (or ``obj[k] += v``) into an object of a user's class:
    Python runs its ``__setitem__``, which the derivative does not follow (its adjoint is one
    per attribute, not per item)."""
    cls = type(obj).__name__
    return AdError("storing into an item of a %s object (obj[k] = v runs %s.__setitem__) is not "
                   "supported: the derivative does not follow the class's __setitem__"
                   % (cls, cls), hint="store into the list or array the object holds "
                                      "(obj.items[k] = v), or keep the values in a list or array")


def put_back(dlst, index, g):
    """A new list: the list adjoint ``dlst`` (the length of the list after ``v = lst.pop(index)``)
    with ``v``'s adjoint ``g`` back at its place; ``g`` is then at ``index`` of the result,
    counted from either end as ``index`` counts. For a dict's ``v = d.pop(key)``, a new dict
    adjoint with ``g`` at ``key``."""
    if dlst.__class__ is _float:
        return dlst
    if dlst.__class__ is dict:
        return {**dlst, index: g}
    at = index if index >= 0 else len(dlst) + 1 + index
    return dlst[:at] + [g] + dlst[at:]


def with_entry(lst, index, value):
    """A new list: ``lst`` with ``value`` at ``index`` (a row of a table written an entry at a
    time: see ``normalize/tables.py``); the scalar zero 0.0 of a list given a zero stays 0.0."""
    if lst.__class__ is _float:
        if value.__class__ is _float and not value:
            return lst
        raise TypeError("with_entry of a zero list")
    out = list(lst)
    out[index] = value
    return out


def left_out(dlst, index):
    """A new list: ``dlst`` without its entry at ``index`` (``put_back``'s adjoint)."""
    if dlst.__class__ is _float:
        return dlst
    if dlst.__class__ is dict:
        return {k: v for k, v in dlst.items() if k != index}
    return dlst[:index] + dlst[index + 1:] if index != -1 else dlst[:-1]


@_effectful
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
    return cls is tuple and all(p.__class__ in (int, slice) or p is None or p is Ellipsis
                                for p in index)


def _winners(shape, index):
    """Where a fancy index names one element more than once, NumPy's store keeps one of the
    values given for it: a mask of the entries of ``x[index]`` whose value is kept (found by
    NumPy storing their positions through the same index), or None when none repeats."""
    positions = np.arange(int(np.prod(shape))).reshape(shape)[index]
    if not np.ndim(positions) or np.unique(positions).size == positions.size:
        return None
    order = np.arange(positions.size).reshape(positions.shape)
    owner = np.full(shape, -1, dtype=order.dtype)
    owner[index] = order
    return owner[index] == order


def winners_only(g, x, index):
    """``g``, shaped like ``x[index]``, with zeros at the entries whose value the store
    ``x[index] = v`` did not keep (an element named twice keeps one of them)."""
    if g.__class__ is _float or x.__class__ is not _ndarray or _basic_index(index):
        return g
    kept = _winners(x.shape, index)
    return g if kept is None else np.where(kept, g, 0)


def stored_derivative(d, x):
    """The adjoint (or tangent) ``d`` of a value stored into ``x``, or 0.0 when ``x`` is an
    integer or bool array (the store truncated the value: piecewise constant)."""
    if x.__class__ is _ndarray and x.dtype.kind not in "fc":
        return 0.0
    return d


@_effectful
def take_adjoint(dx, index):
    """Read the adjoint of ``x[index]`` out of an owned ``dx`` and zero it there (subscript
    assignment overwrote those elements); an element named twice gets it once, at the value
    NumPy kept."""
    if dx.__class__ is _float:
        return dx
    if dx.__class__ is _ndarray:
        kept = None if _basic_index(index) else _winners(dx.shape, index)
        g = dx[index]
        g = g.copy() if g.__class__ is _ndarray else g
        if kept is not None:
            g[~kept] = 0
        dx[index] = 0
        return g
    g = dx[index]
    dx[index] = 0.0
    return g


def add(a, b):
    """Sum of two adjoints of any structure (0.0 is the zero of every structure)."""
    if a.__class__ is _ndarray and b.__class__ is _ndarray:
        return a + b
    if a.__class__ is _float and not a:
        return b
    if b.__class__ is _float and not b:
        return a
    # (a namedtuple's adjoint by position and by attribute, a dict: summed by position)
    if isinstance(a, (list, tuple)):
        if isinstance(b, dict):
            b = _by_position(b, a)
        return _rebuilt(b if hasattr(b, "_fields") else a, [add(p, q) for p, q in zip(a, b)])
    if isinstance(b, (list, tuple)):  # (a list's adjoint from np.array(lst): an array of rows)
        if isinstance(a, dict):
            a = _by_position(a, b)
        return _rebuilt(b, [add(p, q) for p, q in zip(a, b)])
    if isinstance(a, dict):  # (an object's adjoint holds only the attributes read so far)
        return {**b, **{k: add(v, b.get(k, 0.0)) for k, v in a.items()}}
    return a + b


def added_tangent(t, value):
    """The tangent ``t`` of ``add(u, v)`` with the structure of its ``value``: the rows of
    an array for a list's adjoint (``add(0.0, unreduce(...))`` of ``np.sum(parts)`` on a zero
    tangent of ``parts``' adjoint, which generated code pops from)."""
    if t.__class__ is _ndarray and value.__class__ is list:
        return list(t)
    return t


def container_adjoint(x, index, g):
    """Adjoint of a container ``x`` receiving ``g`` at ``index`` and zero elsewhere (zeros shaped
    like the other entries: a rule applied to one of them needs its shape)."""
    if isinstance(x, (list, tuple)):
        out = [zero_like(e) for e in x]
        if hasattr(x, "_fields"):
            out = _Named(x._fields, out)
    elif isinstance(x, dict):
        out = {k: zero_like(v) for k, v in x.items()}
    else:
        if g.__class__ is _float and not g:
            return np.zeros(x.shape if x.__class__ is _ndarray else np.shape(x),
                            dtype=_adjoint_dtype(x))
        # (a real entry's adjoint may be complex, docs/complex.md: kept so, as own(wide) does)
        dtype = np.result_type(_adjoint_dtype(x), g) if _complex(g) else _adjoint_dtype(x)
        out = np.zeros(x.shape if x.__class__ is _ndarray else np.shape(x), dtype=dtype)
        if index.__class__ is int or _basic_index(index):
            out[index] += g
        else:
            np.add.at(out, index, g)  # repeated fancy indices each add their part
        return out
    if not (g.__class__ is _float and not g) or out[index].__class__ is _float:
        out[index] = g
    return out


@_effectful
def popped(t, *index):
    """``t.pop(*index)`` of the tangents kept on a list, or 0.0 when ``t`` is the 0.0 standing
    for a list of zero tangents."""
    return t if t.__class__ is _float else t.pop(*index)


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
    cls = t.__class__
    if (t.shape if cls is _ndarray else () if cls is _float else np.shape(t)) == shape:
        return t
    if t.__class__ is _float and getattr(ans, "dtype", None) == _F32:
        t = _f32(t)
    if t.__class__ is _ndarray and t.ndim and ans.__class__ is not _ndarray and not shape:
        return t  # (ans is a number computed from gradient code's 0.0 standing for a zero array:
        # the tangent has the array's shape)
    if t.__class__ is _ndarray and t.size > int(np.prod(shape)) \
            and np.broadcast_shapes(t.shape, shape) == t.shape:
        return t  # (likewise for ans computed from a number standing for a uniform array: the
        # tangent has the full array's shape, seed 685656)
    return _broadcast(t, shape)


def zero_like(x):
    """A zero tangent or adjoint with the structure of ``x``."""
    if x.__class__ is _ndarray:
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else float)
    if isinstance(x, (list, tuple)):
        return _rebuilt(x, [zero_like(e) for e in x])
    if isinstance(x, dict):
        return {k: zero_like(v) for k, v in x.items()}
    return 0.0


def dense(t, x):
    """Tangent ``t`` with the structure of ``x`` when it is the scalar 0.0 standing for an array,
    list, tuple or dict of zeros (and so for each entry of a list, tuple or dict)."""
    if t.__class__ is _float and (x.__class__ is _ndarray or x.__class__ in (list, tuple)):
        return (zero_like(x) if not t else
                _broadcast(t, np.shape(x)) if x.__class__ is _ndarray else t)
    if x.__class__ in (list, tuple) and t.__class__ in (list, tuple):
        return x.__class__(dense(e, v) for e, v in zip(t, x))
    if t.__class__ is _float and isinstance(x, np.generic):
        # (a NumPy scalar's tangent is one too: x.T, x.shape, x.astype(...) read it)
        return x.dtype.type(t) if x.dtype.kind in "fc" else np.float64(t)
    if x.__class__ is dict and (t.__class__ is dict or (t.__class__ is _float and not t)):
        # (a dict's: one per key, a callee reads them by key)
        return {k: dense(t.get(k, 0.0) if t.__class__ is dict else 0.0, v) for k, v in x.items()}
    return t


def _complex(g) -> bool:
    return g.__class__ is complex or getattr(g, "dtype", None) is not None and g.dtype.kind == "c"


def cast_like(g, x):
    """Give a final gradient the type of its argument: float for float, an owned array of the
    argument's shape and dtype for an array, the same structure for containers."""
    if x.__class__ is _ndarray:
        if g.__class__ is _ndarray and g.base is None and g.shape == x.shape \
                and (g.dtype is x.dtype or g.dtype == x.dtype):
            return g  # (an array that owns its memory: not a broadcast or read-only view)
        out = np.zeros(x.shape, dtype=x.dtype if np.issubdtype(x.dtype, np.inexact) else float)
        if out.dtype.kind != "c" and _complex(g):
            g = np.real(g)  # (a real argument's gradient: the real part, docs/complex.md)
        shape = np.shape(g)
        if shape != x.shape and np.size(g) != 1 \
                and (np.size(g) != x.size or shape[len(shape) - x.ndim:] != x.shape):
            _inconsistent(g, x)  # (never broadcast a gradient across the argument's shape)
        out[...] = g
        return out
    if x.__class__ is dict:  # (parameters in a dict: the common container, first)
        if g.__class__ is _float:
            return {k: cast_like(0.0, v) for k, v in x.items()}
        return {k: cast_like(g.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, float):
        if g.__class__ is _float:
            return g
        if g.__class__ is _float64:
            return float(g)
        if np.size(g) != 1:
            _inconsistent(g, x)
        return float(np.real(g) if np.ndim(g) == 0 else np.real(np.reshape(g, ())))
    if isinstance(x, complex):
        if np.size(g) != 1:
            _inconsistent(g, x)
        return complex(g if np.ndim(g) == 0 else np.reshape(g, ()))
    if isinstance(x, (list, tuple)):
        if isinstance(g, dict) and hasattr(x, "_fields"):  # a namedtuple read by attribute
            g = _by_position(g, x)
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
        return x.dtype.type(np.real(g) if x.dtype.kind != "c" and _complex(g) else g)
    if hasattr(x, "__dict__"):
        return _object_like(g, x)
    return g


def _inconsistent(g, x):
    raise AdError("internal error: a gradient of shape %s was computed for an argument of shape "
                  "%s; please report this program" % (np.shape(g), np.shape(x)),
                  hint="adcompiler refuses rather than return it")


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
    """The gradient of a simple object: a copy whose float and array attributes are adjoints."""
    import copy as copy_module
    out = copy_module.copy(x)
    parts = g if isinstance(g, dict) else {}
    computed = [a for a in parts if a not in vars(x) and hasattr(_class_attribute(x, a), "__get__")]
    if computed:  # a property (or other computed attribute): its adjoint has no place to go
        raise AdError("the gradient flows through %s.%s, which is computed (a property?), not "
                      "stored on the object" % (type(x).__name__, computed[0]),
                      hint="read the stored attributes it is computed from in the differentiated "
                           "code, or call a method that computes it")
    for attr, value in vars(x).items():
        if isinstance(value, (float, np.ndarray, np.generic, list, tuple, dict)) \
                and not isinstance(value, bool) or _is_plain_object(value) and value is not x:
            setattr(out, attr, cast_like(parts.get(attr, 0.0), value))
        elif value.__class__ is int:  # (not its value: a step along the gradient moves it)
            setattr(out, attr, 0)
    return out


def _class_attribute(x, attr):
    import inspect
    return inspect.getattr_static(type(x), attr, None)


def cotangent(parts, i):
    """Entry ``i`` of what a user's vjp rule returned (a bare value for a one-argument function;
    None, not differentiable, is the zero adjoint)."""
    part = parts[i] if isinstance(parts, (tuple, list)) else parts
    return 0.0 if part is None else part
