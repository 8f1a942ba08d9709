"""Adjoints and tangents of statistics: logsumexp with weights, the deviations from the mean
that std's adjoint reads (exactly 0 on a slice constant up to rounding), the covariance matrix,
and ``np.gradient``'s differences."""
from __future__ import annotations

import numpy as np

from ...runtime import unbroadcast, unreduce
from ._base import _zero


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

