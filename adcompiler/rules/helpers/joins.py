"""Adjoints of functions that join arrays or split one: concatenate (``split_like``), stack
(``unstack``), vstack, hstack, dstack, column_stack, block, append, insert, delete, split, and
``np.r_`` / ``np.c_``;
with the adjoints of those adjoints (``join_pieces``, ``stack_pieces``, ``dense_items``). The
adjoint of a sequence argument is one adjoint per entry, a list, or an array when the sequence
was one."""
from __future__ import annotations

import numpy as np

from ._base import _float, _zero
from .shapes import scatter_back


def vstack_back(g, tup):
    """Adjoint of ``np.vstack(tup)``."""
    return _lifted_pieces(g, tup, np.atleast_2d, 0)


def dstack_back(g, tup):
    """Adjoint of ``np.dstack(tup)``: pieces along the third axis of ``np.atleast_3d`` of each."""
    return _lifted_pieces(g, tup, np.atleast_3d, 2)


def hstack_back(g, tup):
    """Adjoint of ``np.hstack(tup)``."""
    # (numbers, as the entries of a 1-D array are, become vectors: joined along axis 0 too)
    return _lifted_pieces(g, tup, np.atleast_1d, 0 if np.ndim(tup[0]) <= 1 else 1)


def _lifted_pieces(g, tup, lift, axis):
    """The adjoint of the entries of ``tup``, joined along ``axis`` after ``lift`` (atleast_Nd):
    ``g`` split at their sizes there, each piece in its entry's own shape."""
    if _zero(g):
        return _pieces_like(g, tup)
    sizes = np.cumsum([np.shape(lift(t))[axis] for t in tup])[:-1]
    return _pieces_like([np.reshape(p, np.shape(t))
                         for p, t in zip(np.split(g, sizes, axis=axis), tup)], tup)


def block_back(g, arrays):
    """Adjoint of ``np.block(arrays)``: nested lists of arrays joined along the last axis
    innermost and one axis further out per level of nesting, after each array got leading axes
    up to the result's rank: the same nesting of pieces of ``g``, each in its array's shape."""
    if _zero(g):
        return g
    depth, ndim = _list_depth(arrays), np.ndim(g)

    def back(g, item, level):
        if not isinstance(item, list):
            return np.reshape(g, np.shape(item))
        axis = ndim - depth + level
        sizes = np.cumsum([_extent(e, axis, ndim) for e in item])[:-1]
        return [back(p, e, level + 1) for p, e in zip(np.split(g, sizes, axis=axis), item)]
    return back(g, arrays, 0)


def _list_depth(item) -> int:
    return 1 + _list_depth(item[0]) if isinstance(item, list) else 0


def _extent(item, axis, ndim) -> int:
    """The size along ``axis`` of a block of ``np.block`` (a nested list's: its first array's)."""
    while isinstance(item, list):
        item = item[0]
    shape = np.shape(item)
    return ((1,) * (ndim - len(shape)) + shape)[axis]


def block_pieces(g, arrays):
    """Adjoint of ``block_back(v, arrays)`` w.r.t. ``v``: the pieces joined again."""
    def dense(p, item):
        return [dense(q, e) for q, e in zip(p if not _zero(p) else [p] * len(item), item)] \
            if isinstance(item, list) else _piece(p, item)
    return np.block(dense(g, arrays))


def r_items_back(g, items):
    """Adjoints of the items of ``np.r_[items]``: pieces along the first axis (a number or a 0-d
    array took one row)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return _concatenated_back(g, items, 0, [np.shape(i)[0] if np.ndim(i) else 1 for i in items])


def c_items_back(g, items):
    """Adjoints of the items of ``np.c_[items]``: pieces along the last axis (a number or a vector
    took one column)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return _concatenated_back(g, items, -1,
                              [np.shape(i)[-1] if np.ndim(i) >= 2 else 1 for i in items])


def dense_items(g, items):
    """The adjoints ``g`` of ``items`` as arrays of their shapes (0.0, a zero adjoint, as zeros)."""
    if _zero(g):
        return [np.zeros(np.shape(i)) for i in items]
    return [np.zeros(np.shape(i)) if _zero(p) else p for p, i in zip(g, items)]


def _concatenated_back(g, items, axis, sizes):
    if _zero(g):
        return [g] * len(items)
    bounds = np.cumsum(sizes)[:-1]
    return [np.reshape(p, np.shape(i)) for p, i in zip(np.split(g, bounds, axis=axis), items)]


def split_back(g, ary, indices_or_sections, axis=0):
    """Adjoint of ``np.split`` / ``np.array_split``: the pieces' adjoints joined (zeros where a
    piece got none)."""
    if _zero(g):
        return g
    pieces = np.array_split(np.zeros(np.shape(ary)), indices_or_sections, axis=axis)
    parts = [z if _zero(q) else np.broadcast_to(q, z.shape) for q, z in zip(g, pieces)]
    return np.concatenate(parts, axis=axis)


def append_back(g, arr, values, axis, which):
    """Adjoint of ``np.append(arr, values, axis)`` w.r.t. ``arr`` (which=0) or ``values``."""
    if _zero(g):
        return g
    if axis is None:
        part = g[:np.size(arr)] if which == 0 else g[np.size(arr):]
    else:
        k = np.shape(arr)[axis]
        part = np.take(g, range(k) if which == 0 else range(k, np.shape(g)[axis]), axis=axis)
    return np.reshape(part, np.shape(arr if which == 0 else values))


def append_jvp(arr, values, t_arr, t_values, axis):
    """Tangent of ``np.append(arr, values, axis)`` (a zero tangent stands for zeros of its
    shape)."""
    return np.append(np.zeros(np.shape(arr)) if _zero(t_arr) else t_arr,
                     np.zeros(np.shape(values)) if _zero(t_values) else t_values, axis)


def split_like(g, arrays, axis=0):
    """Adjoint of ``np.concatenate(arrays, axis)``: one piece of ``g`` per input."""
    if g.__class__ is _float:
        return _pieces_like(g, arrays)
    if axis is None:
        sizes = np.cumsum([np.size(a) for a in arrays])[:-1]
        return _pieces_like([np.reshape(p, np.shape(a))
                             for p, a in zip(np.split(g, sizes), arrays)], arrays)
    sizes = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
    return _pieces_like(np.split(g, sizes, axis=axis), arrays)


def column_stack_back(g, tup):
    """Adjoint of ``np.column_stack(tup)``: 1-D entries were columns."""
    if _zero(g):
        return _pieces_like(g, tup)
    columns = [np.reshape(t, (np.size(t), 1)) if np.ndim(t) < 2 else t for t in tup]
    return _pieces_like([np.reshape(p, np.shape(t))
                         for p, t in zip(split_like(g, columns, 1), tup)], tup)


def _pieces_like(pieces, arrays):
    """The adjoint of a sequence argument from one adjoint per entry: a list, or an array when the
    sequence was an array (``np.concatenate(x)`` of an array ``x`` joins its rows); a zero
    ``pieces`` (0.0) stands for every entry's."""
    if pieces.__class__ is _float:
        return pieces if isinstance(arrays, np.ndarray) else [pieces] * len(arrays)
    if isinstance(arrays, np.ndarray):
        return (
            np.stack([np.broadcast_to(p, np.shape(a)) for p, a in zip(pieces, arrays)])
            if len(pieces)
            else np.zeros(np.shape(arrays))
        )
    return pieces


def join_pieces(g, arrays, axis=0):
    """Adjoint of ``split_like(v, arrays, axis)`` w.r.t. ``v``: the pieces joined again (a zero
    piece, 0.0, as zeros of its array's shape)."""
    pieces = [_piece(p, a) for p, a in zip(g, arrays)]
    if axis is None:
        return np.concatenate([np.ravel(p) for p in pieces])
    return np.concatenate(pieces, axis=axis)


def stack_pieces(g, arrays, axis=0):
    """Adjoint of ``unstack(v, arrays, axis)`` w.r.t. ``v``: the pieces stacked again."""
    return np.stack([_piece(p, a) for p, a in zip(g, arrays)], axis=axis)


def _piece(p, a):
    """An entry's adjoint as an array of the entry's shape (a number stands for a uniform one)."""
    if _zero(p):
        return np.zeros(np.shape(a))
    return p if np.shape(p) == np.shape(a) else np.broadcast_to(p, np.shape(a))


def unstack(g, arrays, axis=0):
    """Adjoint of ``np.stack(arrays, axis)``."""
    if g.__class__ is _float:
        return _pieces_like(g, arrays)
    return _pieces_like([np.take(g, i, axis=axis) for i in range(len(arrays))], arrays)


def _flat_indices(x):
    return np.reshape(np.arange(np.size(x)), np.shape(x))


def delete_back(g, arr, obj, axis=None):
    """Adjoint of ``np.delete(arr, obj, axis)``: ``g`` back at the entries kept, zeros at the
    deleted ones (found by deleting ``arr``'s flat indices the same way)."""
    return scatter_back(g, np.delete(_flat_indices(arr), obj, axis), arr)


def insert_back(g, arr, obj, values, axis, which):
    """Adjoint of ``arr`` (``which`` 0) or ``values`` (1) in ``np.insert(arr, obj, values, axis)``:
    the entries of ``g`` each came from, found by inserting flat indices the same way (-1 for the
    other operand's entries; repeated values, broadcast, add up). An integer ``arr`` makes the
    result integer: no gradient for the values."""
    if which == 0:
        return scatter_back(g, np.insert(_flat_indices(arr), obj, -1, axis), arr)
    if _zero(g):
        return g
    if np.asarray(arr).dtype.kind not in "fc":
        return np.zeros(np.shape(values))
    index = np.insert(np.full(np.shape(arr), -1, dtype=np.intp), obj, _flat_indices(values), axis)
    return scatter_back(g, index, values)


def insert_jvp(arr, t_arr, obj, values, t_values, axis):
    """Tangent of ``np.insert(arr, obj, values, axis)`` (a zero tangent stands for zeros of its
    operand's shape)."""
    if np.asarray(arr).dtype.kind not in "fc":
        t_arr, t_values = 0.0, 0.0
    return np.insert(np.zeros(np.shape(arr)) if _zero(t_arr) else t_arr, obj,
                     np.zeros(np.shape(values)) if _zero(t_values) else t_values, axis)
