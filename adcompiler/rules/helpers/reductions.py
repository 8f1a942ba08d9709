"""Adjoints and tangents of reductions and of cumulative operations along an axis: prod's
product of the other entries (right where entries are 0), average, median, nanmean, cumsum,
cumprod, diff and the running maximum / minimum (``np.maximum.accumulate``)."""
from __future__ import annotations

import numpy as np

from ...runtime import unreduce_extreme
from ._base import _zero


def cumsum_back(g, a, axis=None):
    """Adjoint of ``np.cumsum(a, axis)``: a reversed cumulative sum."""
    if _zero(g):
        return g
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(np.ravel(g)))), np.shape(a))
    out = np.flip(np.cumsum(np.flip(g, axis), axis), axis)
    # (np.cumsum(a number, axis=0) has shape (1,))
    return out if np.ndim(a) else np.reshape(out, ())


def cumprod_back(g, ans, a, axis=None):
    """Adjoint of ``np.cumprod(a, axis)``: for each entry, the products of the entries before it
    times the adjoints of the products it is in, divided by nothing (right where entries are 0)."""
    if _zero(g):
        return g
    if np.all(a):  # (the short form)
        if axis is None:
            return np.reshape(cumsum_back(np.ravel(g * ans), np.ravel(a), 0) / np.ravel(a),
                              np.shape(a))
        return cumsum_back(g * ans, a, axis) / a
    moved = _first_axis(np.asarray(a, dtype=np.result_type(a, float)), axis)
    gm = (np.broadcast_to(g, moved.shape) if axis is None
          else _first_axis(np.broadcast_to(g, np.shape(a)), axis))
    before = _exclusive_cumprod(moved)
    later = np.empty_like(moved)  # later[j] = g[j] + a[j+1] * later[j+1]
    later[-1] = gm[-1]
    for j in range(len(moved) - 2, -1, -1):
        later[j] = gm[j] + moved[j + 1] * later[j + 1]
    return _axis_back(before * later, a, axis)


def _first_axis(x, axis):
    """``x`` with ``axis`` first, or raveled for None."""
    return np.ravel(x) if axis is None else np.moveaxis(x, axis, 0)


def _axis_back(y, x, axis):
    """``y``, laid out as ``_first_axis(x, axis)``, put back in ``x``'s layout. (Not a closure
    returned by ``_first_axis``: these helpers are differentiated from their source again.)"""
    return np.reshape(y, np.shape(x)) if axis is None else np.moveaxis(y, 0, axis)


def _exclusive_cumprod(x):
    """Products of the entries before each one along the first axis (1 for the first)."""
    return np.cumprod(np.concatenate([np.ones_like(x[:1]), x[:-1]]), axis=0)


def _dual_cumprod(x, t):
    """Cumulative products along the first axis of ``x + e t`` (e * e = 0): values and tangents,
    computed without dividing by entries (which may be 0)."""
    p, dp = np.empty_like(x), np.empty_like(x)
    p[0], dp[0] = x[0], t[0]
    for j in range(1, len(x)):
        p[j] = p[j - 1] * x[j]
        dp[j] = dp[j - 1] * x[j] + p[j - 1] * t[j]
    return p, dp


def others_product(a, axis=None):
    """For each entry of ``a``, the product of the other entries it is reduced with along
    ``axis`` (all of them for None): the derivative of ``np.prod``, also where entries are 0
    (``ans / a`` is 0 / 0 there), from products of the entries before and after each one."""
    a = np.asarray(a)
    if a.size == 0:
        return np.ones_like(a)  # (no entries: nothing to differentiate)
    axes = (tuple(range(a.ndim)) if axis is None
            else ((axis,) if np.ndim(axis) == 0 else tuple(axis)))
    axes = tuple(ax % a.ndim for ax in axes) if a.ndim else ()
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    moved = np.transpose(a, rest + list(axes))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose((before * after).reshape(moved.shape), np.argsort(rest + list(axes)))


def others_product_jvp(a, t, axis=None):
    """Tangent of ``others_product(a, axis)`` along ``t`` (and, the Jacobian being symmetric, its
    adjoint for the adjoint ``t``): from the tangents of the products before and after each
    entry."""
    if _zero(t):
        return t
    a = np.asarray(a, dtype=np.result_type(a, float))
    t = np.broadcast_to(t, a.shape)
    if a.size == 0:
        return np.zeros_like(a)
    axes = (tuple(range(a.ndim)) if axis is None
            else ((axis,) if np.ndim(axis) == 0 else tuple(axis)))
    axes = tuple(ax % a.ndim for ax in axes) if a.ndim else ()
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    order = rest + list(axes)

    def flat(x):
        moved = np.transpose(x, order)
        return np.moveaxis(moved.reshape(moved.shape[:len(rest)] + (-1,)), -1, 0), moved.shape
    fa, shape = flat(a)
    ft, _ = flat(t)
    ones, zeros = np.ones_like(fa[:1]), np.zeros_like(fa[:1])
    before, dbefore = _dual_cumprod(np.concatenate([ones, fa[:-1]]),
                                    np.concatenate([zeros, ft[:-1]]))
    after, dafter = _dual_cumprod(np.concatenate([ones, fa[:0:-1]]),
                                  np.concatenate([zeros, ft[:0:-1]]))
    out = dbefore * after[::-1] + before * dafter[::-1]
    return np.transpose(np.moveaxis(out, 0, -1).reshape(shape), np.argsort(order))


def average_back(g, a, axis=None, weights=None):
    """Adjoint of ``np.average(a, axis, weights)`` w.r.t. ``a``."""
    if _zero(g):
        return g
    if axis is not None:
        g = np.expand_dims(g, axis)
    if weights is None:
        size = np.size(a) if axis is None else np.shape(a)[axis]
        return np.broadcast_to(g / size, np.shape(a))
    w = np.asarray(weights)
    if axis is not None and w.ndim == 1:
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = w.reshape(shape)
    return g * w / np.sum(w, axis=axis, keepdims=axis is not None)


def average_weights_back(g, ans, a, axis=None, weights=None, forward=False):
    """Adjoint of ``np.average(a, axis, weights)`` w.r.t. ``weights`` (``forward``: its tangent
    term, ``g`` being the tangent of the weights)."""
    if _zero(g) or weights is None:
        return 0.0 if forward else g
    w = np.asarray(weights)
    if axis is None:
        share = (np.asarray(a) - ans) / np.sum(w)
        return np.sum(g * share) if forward else g * share
    axis = axis % np.ndim(a)
    along = w.ndim == 1 and np.ndim(a) > 1  # 1-D weights along ``axis``
    if along:
        shape = [1] * np.ndim(a)
        shape[axis] = -1
        w = w.reshape(shape)
    share = (a - np.expand_dims(ans, axis)) / np.sum(w, axis=axis, keepdims=True)
    if forward:
        return np.sum((g.reshape(w.shape) if along else g) * share, axis=axis)
    full = np.expand_dims(g, axis) * share
    if along:
        return np.sum(full, axis=tuple(i for i in range(np.ndim(a)) if i != axis))
    return full


def median_back(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.median``: to the middle element, or split between the two middle ones."""
    if _zero(g):
        return g
    a = np.asarray(a)
    moved = np.moveaxis(a, axis, -1) if axis is not None else a.reshape(-1)
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1)
    weights = np.zeros(moved.shape)
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    for k in middle:
        np.put_along_axis(weights, order[..., k:k + 1], 1.0 / len(middle), axis=-1)
    if axis is None:
        return np.reshape(weights, a.shape) * g
    g = np.asarray(g)
    if not keepdims:
        g = np.expand_dims(g, axis)
    return np.moveaxis(weights, -1, axis) * g


def nanmean_back(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanmean``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    mask = ~np.isnan(a)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g * mask / np.sum(mask, axis=axis, keepdims=True)


def extreme_tangent(t, ans, a, axis=None, keepdims=False):
    """Tangent of max/min along ``t``: the mean of the tangents of the entries that attain the
    extreme (the others' are not read: they may be NaN, as at a NaN that nanmax skips)."""
    share = unreduce_extreme(1.0, ans, a, axis, keepdims)
    return np.sum(np.where(share != 0, share * t, 0.0), axis=axis, keepdims=keepdims)


def cumsum_back_free(t, ans, a, axis=None):
    """Tangent of ``np.cumprod(a, axis)`` along ``t`` (right where entries of ``a`` are 0)."""
    if _zero(t):
        return t
    if np.all(a):  # (the short form)
        if axis is None:
            return ans * np.cumsum(np.ravel(t) / np.ravel(a))
        return ans * np.cumsum(t / a, axis)
    moved = _first_axis(np.asarray(a, dtype=np.result_type(a, float)), axis)
    if axis is None:
        return _dual_cumprod(moved, np.ravel(np.broadcast_to(t, np.shape(a))))[1]
    return _axis_back(_dual_cumprod(moved, _first_axis(np.broadcast_to(t, np.shape(a)), axis))[1],
                      a, axis)


def _running_extreme_index(a, top, axis):
    """Where each entry of ``np.maximum.accumulate(a, axis)`` (or minimum) came from, as indices
    along ``axis`` (the latest position holding the running extreme)."""
    positions = np.arange(np.shape(a)[axis]).reshape((-1,) + (1,) * (np.ndim(a) - 1
                                                                     - (axis % np.ndim(a))))
    return np.maximum.accumulate(np.where(np.asarray(a) == top, positions, 0), axis=axis)


def accumulate_extreme_back(g, a, top, axis=0):
    """Adjoint of ``np.maximum.accumulate`` / ``np.minimum.accumulate``: each result's adjoint goes
    to the entry that holds the running extreme there."""
    if _zero(g):
        return g
    out = np.zeros(np.shape(a))
    moved = np.moveaxis(out, axis, 0)
    index = np.moveaxis(_running_extreme_index(a, top, axis), axis, 0)
    rest = np.indices(index.shape)[1:]
    np.add.at(moved, (index,) + tuple(rest), np.moveaxis(np.broadcast_to(g, np.shape(a)), axis, 0))
    return out


def accumulate_extreme_jvp(t, a, top, axis=0):
    """Tangent of ``np.maximum.accumulate`` / ``np.minimum.accumulate`` (``top``: its result)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    return np.take_along_axis(np.broadcast_to(t, np.shape(a)), _running_extreme_index(a, top, axis),
                              axis=axis)
