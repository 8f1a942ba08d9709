"""Adjoints and tangents of statistics: logsumexp with weights, the deviations from the mean
that std's adjoint reads (exactly 0 on a slice constant up to rounding), the covariance and
correlation matrices, quantiles (linear interpolation between order statistics) and
``np.gradient``'s differences."""
from __future__ import annotations

import numpy as np

from ...runtime import unbroadcast, unreduce
from ._base import _unsupported, _zero


def logsumexp_back(g, a, b, ans, axis=None, keepdims=False, wrt=0):
    """Adjoint of ``a`` (``wrt`` 0) or of the weights ``b`` (1) in
    ``scipy.special.logsumexp(a, axis, b, keepdims)``: ``g * b * exp(a - ans)`` and
    ``g * exp(a - ans)``, over the shape ``a`` and ``b`` broadcast to (``b`` None: weights 1)."""
    if _zero(g):
        return g
    full = a if b is None else np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(b)))
    share = unreduce(g, full, axis, keepdims) * np.exp(full - unreduce(ans, full, axis, keepdims))
    if wrt == 1:
        return unbroadcast(share, b)
    return unbroadcast(share if b is None else share * b, a)


def logsumexp_jvp(a, b, ans, t_a, t_b, axis=None, keepdims=False):
    """Tangent of ``scipy.special.logsumexp(a, axis, b, keepdims)``: the sum along ``axis`` of
    ``exp(a - ans) * (b * t_a + t_b)``."""
    full = a if b is None else np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(b)))
    weighted = t_a if b is None else b * t_a
    return np.sum(np.exp(full - unreduce(ans, full, axis, keepdims)) * (weighted + t_b), axis=axis,
                  keepdims=keepdims)


def deviations(a, axis=None):
    """``a - mean(a)`` along ``axis``, with the deviations of a slice whose entries are all equal
    up to rounding made exactly 0: std's derivative ``deviation / std`` is then the subgradient 0
    at a constant slice, not rounding error divided by a rounding-sized std."""
    if _zero(a):  # (the zero adjoint, when differentiated again)
        return a
    a = np.asarray(a)
    out = a - np.mean(a, axis=axis, keepdims=True)
    size = a.size if axis is None else np.prod([a.shape[k] for k in np.atleast_1d(axis)])
    rounding = 4.0 * size * np.finfo(a.dtype if a.dtype.kind == "f" else float).eps \
        * np.max(np.abs(a), axis=axis, keepdims=True)
    constant = np.max(np.abs(out), axis=axis, keepdims=True) <= rounding
    return np.where(constant, 0.0, out).astype(out.dtype, copy=False) if constant.any() else out


def _cov_rows(m, rowvar, bias, ddof):
    """(the variables as centred rows of observations, the divisor) of ``np.cov(m, ...)``."""
    x = np.atleast_2d(np.asarray(m, dtype=float))
    if not rowvar and np.ndim(m) > 1:
        x = x.T
    if ddof is None:
        ddof = 0 if bias else 1
    return x - np.mean(x, axis=1, keepdims=True), x.shape[1] - ddof


def cov_back(g, m, rowvar=True, bias=False, ddof=None):
    """Adjoint of ``np.cov(m, rowvar=, bias=, ddof=)``: ``(g + g.T) @ xc / divisor`` (the rows of
    ``xc`` sum to 0, so centring needs no adjoint of its own)."""
    if _zero(g):
        return g
    xc, divisor = _cov_rows(m, rowvar, bias, ddof)
    g = np.reshape(g, (xc.shape[0], xc.shape[0]))
    back = (g + g.T) @ xc / divisor
    return np.reshape(back if rowvar or np.ndim(m) < 2 else back.T, np.shape(m))


def cov_jvp(m, t, rowvar=True, bias=False, ddof=None):
    """Tangent of ``np.cov(m, ...)`` along ``t``."""
    if _zero(t):
        return t
    xc, divisor = _cov_rows(m, rowvar, bias, ddof)
    tc = _cov_rows(np.broadcast_to(t, np.shape(m)), rowvar, bias, ddof)[0]
    return np.squeeze((tc @ xc.T + xc @ tc.T) / divisor)  # (as np.cov squeezes its result)


def gradient_back(g, f, varargs=(), axis=None, edge_order=1):
    """Adjoint of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` w.r.t. ``f``:
    along each axis, the transpose of the difference matrix (``np.gradient`` of the identity
    along that axis, with the same spacing), applied to that axis's adjoint (``g``, or its entry
    per axis when there are several)."""
    if _zero(g):
        return g
    f = np.asarray(f)
    axes = tuple(range(f.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 \
        else tuple(axis)
    parts = [g] if len(axes) == 1 else list(g)
    spacing = list(varargs) * len(axes) if len(varargs) == 1 else list(varargs) or [1.0] * len(axes)
    total = 0.0
    for ax, part, h in zip(axes, parts, spacing):
        if _zero(part):
            continue
        n = f.shape[ax]
        matrix = np.gradient(np.eye(n), h, axis=0, edge_order=edge_order)
        along = np.tensordot(matrix.T, np.moveaxis(np.asarray(part), ax, 0), axes=1)
        total = total + np.moveaxis(along, 0, ax)
    return total



def _correlated_rows(x, y):
    """(the variables of ``np.corrcoef(x, y)`` as centred rows scaled to unit length, their
    lengths): the result is ``u @ u.T`` (covariance's divisor cancels)."""
    m = np.atleast_2d(x) if y is None else np.concatenate([np.atleast_2d(x), np.atleast_2d(y)])
    centred = m - np.mean(m, axis=1, keepdims=True)
    length = np.sqrt(np.sum(centred * centred, axis=1, keepdims=True))
    return centred / length, length


def corrcoef_back(g, x, y=None, wrt=0):
    """Adjoint of ``x`` (``wrt`` 0) or ``y`` (1) in ``np.corrcoef(x, y)`` (rows are variables):
    ``(g + g.T) @ u`` through the scaling to unit length (its projection away from ``u``) and
    the centring (its own adjoint). Written with NumPy calls only, so that gradient code is
    differentiated again through its source."""
    if _zero(g):
        return g
    u, length = _correlated_rows(x, y)
    g = np.reshape(g, (u.shape[0], u.shape[0]))
    gu = (g + g.T) @ u
    back = (gu - u * np.sum(u * gu, axis=1, keepdims=True)) / length
    back = back - np.mean(back, axis=1, keepdims=True)
    rows = np.shape(np.atleast_2d(x))[0]
    if wrt == 0:
        return np.reshape(back[:rows], np.shape(x))
    return np.reshape(back[rows:], np.shape(y))


def corrcoef_jvp(x, y, t_x, t_y):
    """Tangent of ``np.corrcoef(x, y)`` (a zero tangent stands for zeros of its operand's
    shape)."""
    u, length = _correlated_rows(x, y)
    t_x = np.zeros(np.shape(x)) if _zero(t_x) else t_x
    t_y = None if y is None else np.zeros(np.shape(y)) if _zero(t_y) else t_y
    t = (np.atleast_2d(t_x) if t_y is None
         else np.concatenate([np.atleast_2d(t_x), np.atleast_2d(t_y)]))
    t = t - np.mean(t, axis=1, keepdims=True)
    du = (t - u * np.sum(u * t, axis=1, keepdims=True)) / length
    return np.squeeze(du @ u.T + u @ du.T)  # (as np.corrcoef of one variable gives a number)


def _order_statistics(a, q, axis):
    """For ``np.quantile(a, q, axis)`` with the linear method: (``a`` with the reduced axis last,
    flattened for None; its sorting order along it; for each of the flattened ``q``, the lower
    and upper order statistics it interpolates and the upper one's weight)."""
    if np.ndim(axis):
        raise _unsupported("the gradient of np.quantile / np.percentile is supported for axis=None "
                           "or one axis, not %r" % (axis,), "reshape the array so that the "
                           "reduced axes are one, or call it once per axis")
    x = np.asarray(a)
    x = np.reshape(x, (-1,)) if axis is None else np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    position = np.ravel(np.asarray(q, dtype=float)) * (n - 1)
    lower = np.clip(np.floor(position), 0, n - 1).astype(np.intp)
    upper = np.minimum(lower + 1, n - 1)
    return x, np.argsort(x, axis=-1), lower, upper, position - lower


def _quantile_shape(a, q, axis, keepdims):
    """The shape of ``np.quantile(a, q, axis, keepdims=keepdims)``: q's, then the reduced one."""
    shape = list(np.shape(a))
    if axis is None:
        shape = [1] * len(shape) if keepdims else []
    elif keepdims:
        shape[axis] = 1
    else:
        del shape[axis]
    return np.shape(q) + tuple(shape)


def quantile_back(g, a, q, axis=None, keepdims=False):
    """Adjoint of ``np.quantile(a, q, axis, keepdims=keepdims)`` (method 'linear'): each result's
    adjoint goes to the two order statistics it interpolates, weighted ``1 - frac`` and ``frac``."""
    if _zero(g):
        return g
    x, order, lower, upper, frac = _order_statistics(a, q, axis)
    rest = x.shape[:-1]
    g = np.reshape(np.broadcast_to(g, _quantile_shape(a, q, axis, keepdims)), (-1,) + rest)
    frac = np.reshape(frac, (-1,) + (1,) * len(rest))
    ranked = np.zeros((x.shape[-1],) + rest, dtype=np.result_type(g, float))
    np.add.at(ranked, lower, g * (1.0 - frac))
    np.add.at(ranked, upper, g * frac)
    out = np.zeros(x.shape, dtype=ranked.dtype)
    np.put_along_axis(out, order, np.moveaxis(ranked, 0, -1), axis=-1)
    return np.reshape(out, np.shape(a)) if axis is None else np.moveaxis(out, -1, axis)


def quantile_jvp(t, a, q, axis=None, keepdims=False):
    """Tangent of ``np.quantile(a, q, axis, keepdims=keepdims)`` (method 'linear') along ``t``."""
    if _zero(t):
        return t
    x, order, lower, upper, frac = _order_statistics(a, q, axis)
    t = np.broadcast_to(t, np.shape(a))
    t = np.reshape(t, (-1,)) if axis is None else np.moveaxis(t, axis, -1)
    ranked = np.moveaxis(np.take_along_axis(t, order, axis=-1), -1, 0)
    frac = np.reshape(frac, (-1,) + (1,) * (x.ndim - 1))
    value = ranked[lower] * (1.0 - frac) + ranked[upper] * frac
    return np.reshape(value, _quantile_shape(a, q, axis, keepdims))


def _nan_middle(a, axis):
    """For ``np.nanmedian(a, axis)``: (``a`` with the reduced axis last, its sorting order, NaNs
    last; the positions of the two middle entries that are not NaN, equal for an odd count)."""
    x = np.asarray(a)
    x = np.reshape(x, (-1,)) if axis is None else np.moveaxis(x, axis, -1)
    count = np.sum(~np.isnan(x), axis=-1, keepdims=True)
    return x, np.argsort(x, axis=-1), np.maximum((count - 1) // 2, 0), count // 2


def nanmedian_back(g, a, axis=None, keepdims=False):
    """Adjoint of ``np.nanmedian(a, axis, keepdims=keepdims)``: half of ``g`` to each of the two
    middle entries that are not NaN (both halves to the middle one for an odd count)."""
    if _zero(g):
        return g
    x, order, lower, upper = _nan_middle(a, axis)
    half = 0.5 * np.reshape(np.broadcast_to(g, _quantile_shape(a, 0.5, axis, keepdims)),
                            x.shape[:-1] + (1,))
    rank = np.arange(x.shape[-1])
    ranked = np.where(rank == lower, half, 0.0) + np.where(rank == upper, half, 0.0)
    out = np.zeros(x.shape, dtype=np.result_type(half, float))
    np.put_along_axis(out, order, ranked, axis=-1)
    return np.reshape(out, np.shape(a)) if axis is None else np.moveaxis(out, -1, axis)


def nanmedian_jvp(t, a, axis=None, keepdims=False):
    """Tangent of ``np.nanmedian(a, axis, keepdims=keepdims)`` along ``t``."""
    if _zero(t):
        return t
    x, order, lower, upper = _nan_middle(a, axis)
    t = np.broadcast_to(t, np.shape(a))
    t = np.reshape(t, (-1,)) if axis is None else np.moveaxis(t, axis, -1)
    ranked = np.take_along_axis(t, order, axis=-1)
    value = 0.5 * (np.take_along_axis(ranked, lower, axis=-1)
                   + np.take_along_axis(ranked, upper, axis=-1))
    return np.reshape(value, _quantile_shape(a, 0.5, axis, keepdims))
