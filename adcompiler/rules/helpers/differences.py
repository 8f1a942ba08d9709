"""Adjoints and tangents of ``np.diff``: of ``a`` and of the ``prepend`` / ``append`` ends
NumPy joins to it along ``axis`` before differencing (a number broadcast to one entry's shape
there); the transposes reverse mode over gradient code applies."""
from __future__ import annotations

import numpy as np

from ...runtime import unbroadcast
from ._base import _zero


def diff_back(g, a, n=1, axis=-1):
    """Adjoint of ``np.diff(a, n, axis)``."""
    if _zero(g):
        return g
    for _ in range(n):
        shape = list(np.shape(g))
        shape[axis] = 1
        pad = np.zeros(shape)
        g = np.concatenate([pad, g], axis) - np.concatenate([g, pad], axis)
    return g


def _diff_end(a, end, axis):
    """``prepend``/``append`` of ``np.diff`` as NumPy takes it: a number is broadcast to the shape
    of ``a`` with one entry along ``axis``."""
    if np.ndim(end):
        return np.asarray(end)
    shape = list(np.shape(a))
    shape[axis] = 1
    return np.broadcast_to(end, shape)


def diff_extended(a, prepend, append, axis):
    """What ``np.diff(a, n, axis, prepend, append)`` differences: the ends joined to ``a``."""
    parts = ([_diff_end(a, prepend, axis)] if prepend is not None else []) + [a] + (
        [_diff_end(a, append, axis)] if append is not None else [])
    return np.concatenate(parts, axis) if len(parts) > 1 else a


def diff_part_back(g, a, n, axis, prepend, append, part):
    """Adjoint of ``np.diff(a, n, axis, prepend, append)`` w.r.t. ``a`` (``part`` 0), ``prepend``
    (1) or ``append`` (2): the adjoint of the joined array, split."""
    if _zero(g):
        return g
    whole = diff_back(g, None, n, axis)
    start = np.shape(_diff_end(a, prepend, axis))[axis] if prepend is not None else 0
    bounds = [(start, start + np.shape(a)[axis]), (0, start),
              (start + np.shape(a)[axis], np.shape(whole)[axis])][part]
    piece = np.take(whole, np.arange(*bounds), axis=axis)
    end = (a, prepend, append)[part]
    return piece if part == 0 else unbroadcast(piece, end)


def diff_jvp(t_a, t_prepend, t_append, a, prepend, append, n, axis):
    """Tangent of ``np.diff(a, n, axis, prepend, append)`` (zero tangents where none is given)."""
    def tangent(t, value):
        return np.zeros(np.shape(_diff_end(a, value, axis))) if _zero(t) or t is None else \
            _diff_end(a, t, axis)
    ends = [tangent(t, v) if v is not None else None
            for t, v in ((t_prepend, prepend), (t_append, append))]
    return np.diff(diff_extended(np.zeros(np.shape(a)) if _zero(t_a) else t_a, ends[0], ends[1],
                                 axis), n=n, axis=axis)


def diff_part_transpose(h, a, n, axis, prepend, append, part):
    """The transpose of ``diff_part_back`` (linear in its adjoint): ``h`` (a number standing for
    a uniform array too) placed where the part sits in the joined array (zeros elsewhere),
    differenced."""
    if _zero(h):
        return h
    shapes = [np.shape(_diff_end(a, e, axis)) if e is not None else None
              for e in (prepend, append)]
    pieces = [np.zeros(shapes[0])] if prepend is not None else []
    pieces.append(np.broadcast_to(h, np.shape(a)) if part == 0 else np.zeros(np.shape(a)))
    if append is not None:
        pieces.append(np.zeros(shapes[1]))
    if part:
        pieces[0 if part == 1 else -1] = np.broadcast_to(h, shapes[part - 1])
    return np.diff(np.concatenate(pieces, axis), n=n, axis=axis)
