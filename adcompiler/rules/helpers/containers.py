"""Adjoints and tangents of Python's builtins and math functions over lists, tuples and dicts:
max / min (``dselect``), sum, sorted, ``math.prod``, ``math.dist``, ``list(...)``, a dict's
items, values and get, and lists joined (``+``) or repeated (``*``). A container's adjoint has
the container's structure."""
from __future__ import annotations

import types

import numpy as np

from ...runtime import dense, element, own, unbroadcast
from ...runtime._base import _is_plain_object
from ._base import _unsupported, _zero
from .elementwise import nonzero_or_inf
from .second_order import unbroadcast_back
from .sequences import _number_keys


def select_jvp(ans, args, tangents):
    """Tangent of builtin ``max``/``min``: the selected argument's tangent."""
    if len(args) == 1 and isinstance(args[0], dict):
        _number_keys(args[0])  # (max(d) of a dict: a key, no tangent)
        return 0.0
    if _zero(tangents):
        return tangents
    parts = dselect(1.0, ans, args)
    weights = parts[0] if len(args) == 1 else parts
    items = tangents[0] if len(args) == 1 else tangents
    if _zero(items):  # (the one iterable's tangent is the 0.0 of its zeros)
        return items
    if isinstance(ans, (tuple, list)) or _is_plain_object(ans):  # (a pair or an object: its own)
        return next(t for w, t in zip(weights, items) if not _zero(w))
    return sum(w * t for w, t in zip(weights, items) if np.any(w))


def prod_jvp(start, iterable, tangents):
    """Tangent of ``math.prod(iterable, start=start)`` along the factors' tangents."""
    if _zero(tangents):
        return tangents
    return sum(t * o for t, o in zip(tangents, _others_products(start, list(iterable)))
               if not _zero(t))


def _others_products(start, factors):
    """``start`` times the product of the factors other than each one (from the products before
    and after it: right where factors are 0)."""
    before, after = [start], [1.0]
    for v in factors[:-1]:
        before.append(before[-1] * v)
    for v in factors[:0:-1]:
        after.append(after[-1] * v)
    return [b * a for b, a in zip(before, reversed(after))]


def dist_jvp(ans, p, q, tp, tq):
    """Tangent of ``math.dist(p, q)``."""
    tp = [0.0] * len(p) if _zero(tp) else tp
    tq = [0.0] * len(q) if _zero(tq) else tq
    return sum((a - b) * (s - r) for a, b, s, r in zip(p, q, tp, tq)) / nonzero_or_inf(ans)


def dist_back(g, ans, p, q, which=0):
    """Adjoint of ``math.dist(p, q)`` w.r.t. ``p`` (which=0) or ``q``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    sign = 1.0 if which == 0 else -1.0
    return [sign * g * (a - b) / ans if ans else 0.0 for a, b in zip(p, q)]


def prod_back(g, iterable, start=1):
    """Adjoint of ``math.prod(iterable, start=start)``: ``g`` times the product of the others."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return [g * o for o in _others_products(start, list(iterable))]


def _added_in_python(iterable, start):
    """Refuse ``sum`` of objects of a class of the user's: Python adds them with its
    ``__add__``/``__radd__``, which may compute anything, not the sum this rule differentiates."""
    if isinstance(iterable, dict) or not isinstance(iterable, (list, tuple)):
        return
    for e in [start, *iterable]:
        if _is_plain_object(e) and any(isinstance(getattr(type(e), m, None), types.FunctionType)
                                       for m in ("__add__", "__radd__")):
            raise _unsupported(
                "sum() of objects of your class %s runs its __add__ and __radd__, which sum()'s "
                "derivative rule does not follow" % type(e).__name__,
                "add them with + in a loop from an object made there: total = %s(...); "
                "for v in vs: total = total + v" % type(e).__name__)


def sum_jvp(t_iterable, t_start, iterable=(), start=0):
    """Tangent of builtin ``sum(iterable, start)``; with a list or tuple ``start``
    (``sum(lists, [])`` concatenates), the entries' tangents one after the other."""
    _added_in_python(iterable, start)
    if isinstance(iterable, dict):  # (sum(d): of its keys, which have no tangent)
        _number_keys(iterable)
        return t_start
    if isinstance(start, (list, tuple)):
        parts = [0.0] * len(iterable) if _zero(t_iterable) else t_iterable
        return sum((_entries(t, e) for t, e in zip(parts, iterable)), _entries(t_start, start))
    return t_start if _zero(t_iterable) else sum(t_iterable, t_start)


def _entries(t, value) -> list:
    """The tangent or adjoint ``t`` of the list or tuple ``value`` as a list of its entries'."""
    return [0.0] * len(value) if _zero(t) else list(t)


def sum_start_back(g, start, iterable):
    """Adjoint of builtin ``sum(iterable, start)`` w.r.t. ``start``: a concatenation's first
    entries for a list or tuple ``start``."""
    if isinstance(start, (list, tuple)):
        return g if _zero(g) else list(g[:len(start)])
    return unbroadcast(g, start)


def sum_start_transpose(g, cot, start, iterable):
    """Adjoint of ``sum_start_back(cot, start, iterable)`` w.r.t. ``cot``."""
    if _zero(g):
        return g
    if isinstance(start, (list, tuple)):
        return _entries(g, start) + [0.0] * sum(len(e) for e in iterable)
    return unbroadcast_back(g, cot)


def dselect(g, ans, args):
    """Adjoints of builtin ``max``/``min`` over ``args`` (or over ``args[0]`` if it is the only
    one): the selected element gets ``g``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if len(args) == 1 and isinstance(args[0], dict):  # (max(d): one of its keys)
        _number_keys(args[0])
        return (0.0,)
    items = args[0] if len(args) == 1 else args
    # (np.all: an array of several entries is an item when there is one item, which Python's
    # max returns without comparing)
    if _is_plain_object(ans):
        # (an object: the one max returned, whatever its __eq__ says; its adjoint is a dict)
        hit = [next(i for i, v in enumerate(items) if v is ans)]
    else:
        hit = [i for i, v in enumerate(items) if np.all(v == ans)]
    if isinstance(ans, (tuple, list)):  # (max(d.items()): the first pair selected, whole)
        hit = hit[:1]
    parts = [0.0] * len(items)
    for i in hit:
        parts[i] = g if len(hit) == 1 else g / len(hit)
    if len(args) == 1 and isinstance(items, np.ndarray):  # max(x) over the entries of an array
        out = np.zeros(np.shape(items))  # (its rows, for a 2-D one: max returns a row)
        for i in hit:
            out[i] += g / len(hit)
        return (out,)
    return (parts,) if len(args) == 1 else tuple(parts)


def sum_back(g, iterable, start=0):
    """Adjoint of builtin ``sum(iterable, start)``: ``g`` for every entry, summed back to the
    entry's shape where the entries broadcast (an array for an array); with a list or tuple
    ``start`` (a concatenation), each entry's part of ``g``; none for a dict's keys."""
    _added_in_python(iterable, start)
    if isinstance(iterable, dict):
        _number_keys(iterable)
        return 0.0
    if isinstance(start, (list, tuple)):
        if _zero(g):
            return g
        parts, at = [], len(start)
        for e in iterable:
            parts.append(list(g[at:at + len(e)]))
            at += len(e)
        return parts
    if isinstance(iterable, np.ndarray):
        return (
            np.broadcast_to(g, np.shape(iterable))
            if np.ndim(g) < np.ndim(iterable)
            else np.stack([unbroadcast(g, e) for e in iterable])
            if len(iterable)
            else np.zeros(np.shape(iterable))
        )
    parts = [unbroadcast(g, e) for e in iterable]
    return own(parts, iterable) if hasattr(iterable, "_fields") else parts  # (fields named)


def entries_sum(g, iterable=(), start=0):
    """Adjoint of ``sum_back(v, iterable, start)`` w.r.t. ``v``: the entries' adjoints added up
    (one after the other, after zeros for ``start``'s entries, for a concatenation)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if isinstance(start, (list, tuple)):
        return sum((_entries(p, e) for p, e in zip(g, iterable)), [0.0] * len(start))
    return np.sum(g, axis=0) if isinstance(g, np.ndarray) else sum(g)


_DICT_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))


def _sorted_order(iterable, reverse):
    if isinstance(iterable, _DICT_VIEWS):  # (sorted(params.items()): its pairs, as a list)
        iterable = list(iterable)
    if not isinstance(iterable, (list, tuple, np.ndarray)):
        # (a dict sorts its keys, which carry no derivative: its rule's callers return zero)
        raise _unsupported("the derivative of sorted() of a %s is not supported"
                           % type(iterable).__name__, "sort a list: sorted(list(...))")
    return sorted(range(len(iterable)), key=lambda i: iterable[i], reverse=reverse)


def sorted_back(g, iterable, reverse=False):
    """Adjoint of ``sorted(iterable)``: each entry's adjoint goes back to where it came from (a
    dict's sorted keys: none)."""
    if _zero(g) or isinstance(iterable, dict):
        return 0.0
    out = [0.0] * len(iterable)
    for position, i in enumerate(_sorted_order(iterable, reverse)):
        out[i] = g[position]
    return (
        np.reshape(np.array(out, dtype=float), np.shape(iterable))
        if isinstance(iterable, np.ndarray)
        else out
    )


def sorted_jvp(iterable, t, reverse=False):
    """Tangent of ``sorted(iterable)``: the tangents in the sorted order (a dict's sorted keys:
    none)."""
    if isinstance(iterable, dict):
        return [0.0] * len(iterable)  # (an entry per key: the list's tangent is read by index)
    if isinstance(t, _DICT_VIEWS):  # (the tangent of params.items(): pairs in the same order)
        t = list(t)
    return t if _zero(t) else [t[i] for i in _sorted_order(iterable, reverse)]


def concat_jvp(x, y, t_x, t_y):
    """Tangent of ``x + y`` for lists or tuples (a zero tangent stands for a list of zeros)."""
    return dense(t_x, x) + dense(t_y, y)


def sequence_repeat_back(g, x):
    """Adjoint of a list or tuple repeated (``x * n``): the sum of the copies' adjoints."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    n = len(x)
    return type(x)(sum(g[i::n]) for i in range(n)) if n else x


def merged_dict(*parts):
    """``{**a, 'k': v, **b}`` and ``dict(a, k=v)`` in the normal form: the dicts (or iterables of
    key-value pairs) merged in order, a later value of a key replacing an earlier one."""
    out = {}
    for part in parts:
        out.update(part)
    return out


def _keys_kept(parts) -> dict:
    """For each key of ``merged_dict(*parts)``: (part, position in it) of the value kept."""
    kept = {}
    for i, part in enumerate(parts):
        for j, key in enumerate(part.keys() if isinstance(part, dict) else (p[0] for p in part)):
            kept[key] = (i, j)
    return kept


def merged_dict_back(g, parts):
    """Adjoints of ``merged_dict(*parts)``: a key's adjoint goes to the value the merged dict kept
    (a replaced value's is 0.0); a part given as pairs gets pairs (0.0 for the key)."""
    if _zero(g):
        return [0.0] * len(parts)
    kept, out = _keys_kept(parts), []
    for i, part in enumerate(parts):
        if isinstance(part, dict):
            out.append({k: g[k] if kept[k] == (i, j) else 0.0 for j, k in enumerate(part)})
        else:
            out.append([type(p)((0.0, g[p[0]] if kept[p[0]] == (i, j) else 0.0))
                        for j, p in enumerate(part)])
    return out


def merged_dict_jvp(parts, tangents):
    """Tangent of ``merged_dict(*parts)`` along the parts' tangents (0.0: a zero part)."""
    out = {}
    for part, t in zip(parts, tangents):
        pairs = part.items() if isinstance(part, dict) else part
        for j, p in enumerate(pairs):
            key = p[0]
            out[key] = 0.0 if _zero(t) else t[key] if isinstance(part, dict) else element(t[j], 1)
    return out
