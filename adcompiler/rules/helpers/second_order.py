"""The adjoints of runtime helpers that gradient code calls (``own``, ``unbroadcast``, ``unreduce``,
``element``, ``cotangent``), read when generated gradient code is differentiated again in reverse
mode (reverse over reverse), and ``unless_zero``, with which the rules of such adjoints apply the
transposed map only to a non-zero adjoint. The adjoints of the helpers of one topic stay with
it (``dpow_base_x_back`` in ``elementwise``, ``join_pieces`` in ``joins``)."""
from __future__ import annotations

import numpy as np

from ...runtime import container_adjoint, expand_like, unbroadcast
from ._base import _zero


def own_back(g, v, x):
    """Adjoint of ``own(v, x)`` w.r.t. ``v``: a list adjoint (``own`` made a list for a list ``x``)
    goes back to the array ``v`` row by row (``v`` may be the 0.0 standing for a zero array shaped
    like ``np.asarray(x)``: the adjoint then has that shape)."""
    if isinstance(g, list) and (v.__class__ is np.ndarray or _zero(v)) \
            and not any(isinstance(e, (list, tuple, dict)) for e in g):
        if not g:
            return np.zeros(np.shape(v)) if v.__class__ is np.ndarray else 0.0
        rows = np.shape(v)[1:] if v.__class__ is np.ndarray else np.shape(x[0])
        return np.stack([np.broadcast_to(np.asarray(e, dtype=np.result_type(e, float)), rows)
                         for e in g])
    if isinstance(g, (list, tuple, dict)):
        return g  # (a container's entries are copied as they are)
    return unbroadcast(g, v)


def unless_zero(fn, g, *args, **kwargs):
    """``fn(g, *args)``, or ``g`` itself when it is the scalar 0.0 standing for a zero adjoint."""
    return g if _zero(g) else fn(g, *args, **kwargs)


def unbroadcast_back(g, v):
    """Adjoint of ``v`` in ``unbroadcast(v, x)``: ``g`` broadcast back to ``v``'s shape, or summed
    when ``v`` is smaller than ``x`` (a number standing for an array, gradient code's 0.0 for a zero
    adjoint, or a ``keepdims`` result such as shape (1, 1), which unbroadcast spreads over
    ``x``)."""
    if _zero(g) or (isinstance(v, (list, tuple, dict)) and isinstance(g, (list, tuple, dict))):
        return g  # (a list's adjoint passes whole: see unbroadcast)
    if np.ndim(v) >= np.ndim(g) and np.size(v) >= np.size(g):
        full = np.broadcast_shapes(np.shape(v), np.shape(g))
        if full == np.shape(v):
            return expand_like(g, v)
        # (v of another shape than the broadcast, (4, 1) for x of shape (4,): a zero adjoint
        # times an operand, which unbroadcast spread to (4, 4) before summing: seed 333125)
        return unbroadcast(np.broadcast_to(g, full), v)
    return unbroadcast(g, v)


def unreduce_back(g, v, x, axis=None, keepdims=False):
    """Adjoint of ``v`` in ``unreduce(v, x, axis, keepdims)``: ``g`` (which may be a scalar standing
    for a uniform array shaped like ``x``) summed back over ``axis``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if isinstance(g, (list, tuple)):  # (the adjoint of a list x was: np.sum(parts) of arrays)
        g = np.stack([np.broadcast_to(e, np.shape(x)[1:]) for e in g]) if len(g) \
            else np.zeros(np.shape(x))
    if np.shape(g) != np.shape(x):  # (a float or NumPy scalar standing for it)
        g = np.broadcast_to(g, np.shape(x))
    if not np.ndim(v):  # (a number, maybe standing for a uniform array: it reached every entry)
        return np.sum(g)
    return np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(v))


def element_back(g, v, i):
    """Adjoint of ``element(v, i)`` w.r.t. ``v`` (an adjoint, or 0.0 standing for a zero one)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return 0.0 if v.__class__ is float else container_adjoint(v, i, g)


def cotangent_back(g, parts, i):
    """Adjoint of ``cotangent(parts, i)`` w.r.t. what a vjp rule returned (a bare value for a
    one-argument function)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return container_adjoint(parts, i, g) if isinstance(parts, (tuple, list)) else g
