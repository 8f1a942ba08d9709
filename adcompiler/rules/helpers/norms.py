"""Adjoints of vector and matrix norms: ``np.linalg.norm`` (``dnorm``: the 2-norm / Frobenius
norm, p-norms and the max-norm of vectors, the nuclear, spectral and induced 1/inf norms of
matrices) and ``np.linalg.vector_norm`` (``dvector_norm``: a vector norm over any axes)."""
from __future__ import annotations

import numpy as np

from ...errors import AdError
from ._base import _float, _zero
from .elementwise import nonzero_or_inf, nonzero_or_one


def dnorm(g, ans, x, ord=None, axis=None, keepdims=False):
    """Adjoint of ``np.linalg.norm`` for the 2-norm / Frobenius norm, the 1-norm and the max-norm of
    vectors."""
    if g.__class__ is _float and not g:
        return g
    x = np.asarray(x)
    if axis is not None and not keepdims:
        if np.ndim(g):
            g = np.expand_dims(g, axis)
        ans = np.expand_dims(ans, axis)
    vector = x.ndim == 1 or isinstance(axis, int) or (isinstance(axis, tuple) and len(axis) == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector):
        return g * x / np.where(ans == 0, 1.0, ans)  # (at 0: the subgradient 0, not 0 / 0)
    if vector and ord == 1:
        return g * np.sign(x)
    if vector and ord == np.inf:
        hit = np.abs(x) == ans
        return g * np.sign(x) * hit / np.sum(hit, axis=axis, keepdims=True)
    if vector and ord not in (0, -np.inf) and ord is not None:
        return g * np.sign(x) * np.abs(x) ** (ord - 1) / nonzero_or_inf(ans ** (ord - 1))
    if not vector and ord in ("nuc", 2, -2):  # (of the matrices over axis, (0, 1) for None)
        axes = (0, 1) if axis is None else tuple(a % x.ndim for a in axis)
        u, s, vt = np.linalg.svd(np.moveaxis(x, axes, (-2, -1)), full_matrices=False)
        if ord == "nuc":
            out = u @ vt
        else:
            k = 0 if ord == 2 else np.shape(s)[-1] - 1
            out = u[..., :, k:k + 1] @ vt[..., k:k + 1, :]
        return np.moveaxis(np.moveaxis(g, axes, (-2, -1)) * out, (-2, -1), axes) \
            if np.ndim(g) else g * np.moveaxis(out, (-2, -1), axes)
    if not vector and axis is None and x.ndim == 2:
        if ord in (1, -1, np.inf, -np.inf):  # max / min absolute column (1) or row (inf) sum
            along = 0 if ord in (1, -1) else 1
            sums = np.sum(np.abs(x), axis=along)
            pick = np.argmax(sums) if ord > 0 else np.argmin(sums)
            out = np.zeros_like(x, dtype=float)
            if along == 0:
                out[:, pick] = np.sign(x[:, pick])
            else:
                out[pick, :] = np.sign(x[pick, :])
            return g * out
    raise AdError("the gradient of np.linalg.norm with ord=%r is not supported" % (ord,),
                  hint="use ord=None (2-norm / Frobenius), 1, inf, 'nuc' or 2 of a matrix")


def dvector_norm(g, ans, x, axis=None, keepdims=False, ord=2):
    """Adjoint of ``np.linalg.vector_norm``: the vector norm over ``axis`` (all of ``x`` for
    None, several axes flattened into one), as ``dnorm`` gives it for one axis."""
    if g.__class__ is _float and not g:
        return g
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else \
        tuple(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
    kept = [n for i, n in enumerate(x.shape) if i not in axes]
    flat = np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim)).reshape(kept + [-1])
    if np.ndim(g) and keepdims:
        g = np.squeeze(g, axis=axes)
    if keepdims:
        ans = np.squeeze(ans, axis=axes)
    out = dnorm(g, ans, flat, ord, -1, False)
    moved = np.reshape(out, kept + [x.shape[a] for a in axes])
    return np.moveaxis(moved, range(x.ndim - len(axes), x.ndim), axes)


def hypot_back(g, ans, coordinates):
    """Adjoints of ``math.hypot(*coordinates)``: each coordinate over the length (the
    subgradient 0 at the origin)."""
    if _zero(g):
        return [g] * len(coordinates)
    scale = g / nonzero_or_one(ans)
    return [scale * c for c in coordinates]


def hypot_jvp(ans, coordinates, t_coordinates):
    """Tangent of ``math.hypot(*coordinates)`` (a zero tangent: 0.0, for one or all of them)."""
    if _zero(t_coordinates):
        return t_coordinates
    total = 0.0
    for c, t in zip(coordinates, t_coordinates):
        if not _zero(t):
            total = total + c * t
    return total / nonzero_or_one(ans)
