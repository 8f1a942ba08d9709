"""Adjoints and tangents of the views of sequences and dicts: ``list(x)`` / ``tuple(x)`` of an
array, a list, a namedtuple or a dict (whose list is its keys, which carry no derivative), and a
dict's ``items()``, ``values()`` and ``get``."""
from __future__ import annotations

import numpy as np

from ...runtime import container_adjoint, dense, element, own
from ._base import _unsupported, _zero


def _number_keys(d) -> dict:
    """``d``, once its keys are known to carry no derivative: integers, strings and other values
    that are not floating-point numbers (a float key may have been computed from the
    differentiated arguments, which this does not follow: an AdError)."""
    for k in d:
        if isinstance(k, (float, complex, np.inexact)):
            raise _unsupported("the keys of a dict holding floating-point keys (%r) are read: a "
                               "key computed from the differentiated arguments would have no "
                               "derivative" % (k,), "key the dict by integers or strings")
    return d


def list_back(g, iterable):
    """Adjoint of ``list(iterable)`` / ``tuple(iterable)``: the same structure as ``iterable``
    (a dict's list is its keys, which carry no derivative)."""
    if isinstance(iterable, dict):
        _number_keys(iterable)
        return 0.0
    if hasattr(iterable, "_fields") and not _zero(g):
        return own(g, iterable)  # (a namedtuple's adjoint knows its fields' names)
    if _zero(g) or isinstance(iterable, (list, tuple)) or not isinstance(iterable, np.ndarray):
        return g
    if not len(g):  # (list of an empty array)
        return np.zeros(np.shape(iterable))
    return np.stack([np.broadcast_to(p, np.shape(iterable)[1:]) for p in g])


def sequence_jvp(t, iterable, kind):
    """Tangent of ``list(iterable)`` / ``tuple(iterable)`` (``kind``): the entries' tangents; a
    dict's are its keys, which have none (zeros, one per key: the tangent is read by index)."""
    if isinstance(iterable, dict):
        return kind([0.0] * len(_number_keys(iterable)))
    return t if _zero(t) else kind(t)


def items_jvp(t, a):
    """Tangent of ``d.items()``: the pairs ``(0.0, tangent of the value)`` (a key has none)."""
    if not isinstance(a, dict):
        return t.items()
    return [(0.0, dense(t.get(k, 0.0) if isinstance(t, dict) else 0.0, v))
            for k, v in _number_keys(a).items()]


def items_back(g, a):
    """Adjoint of ``d.items()`` (seen through ``list``): each value's adjoint goes to its key."""
    if _zero(g):
        return g
    return {k: (0.0 if _zero(p) else p[1]) for k, p in zip(a.keys(), g)}


def get_back(g, a, key):
    """Adjoint of ``d.get(key, default)`` w.r.t. the dict: ``g`` at ``key`` if it is there."""
    return container_adjoint(a, key, g) if key in a else 0.0


def get_jvp(a, key, t_a, t_default):
    """Tangent of ``d.get(key, default)``."""
    return element(t_a, key) if key in a else t_default


def values_back(g, a):
    """Adjoint of ``d.values()`` (seen through ``list``)."""
    if _zero(g):
        return g
    return dict(zip(a.keys(), g))
