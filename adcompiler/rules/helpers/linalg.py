"""Adjoints and tangents of ``np.linalg``: solve, norm, slogdet, cholesky, eigh / eigvalsh, pinv,
svd (singular values only) and matrix_power. NumPy's eigh, eigvalsh and cholesky read only the
lower triangle of their input, and their adjoints say so (``_lower``)."""
from __future__ import annotations

import numpy as np

from ...errors import AdError
from ._base import _float, _unsupported, _zero
from .elementwise import nonzero_or_inf


def _lower(grad):
    """A gradient w.r.t. a matrix of which NumPy reads only the lower triangle (eigh, cholesky)."""
    return np.tril(grad + np.swapaxes(grad, -1, -2), -1) + np.diag(np.diagonal(grad))


def _sym_lower(t):
    """The symmetric matrix NumPy's eigh/cholesky actually see for the input (tangent) ``t``."""
    return np.tril(t) + np.swapaxes(np.tril(t, -1), -1, -2)


def slogdet_back(g, a):
    """Adjoint of ``np.linalg.slogdet(a)`` w.r.t. ``a`` (only the log-determinant carries one)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    glog = g[1] if isinstance(g, (tuple, list)) else 0.0
    return np.asarray(glog)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)


def cholesky_back(g, ans):
    """Adjoint of ``L = np.linalg.cholesky(A)`` (symmetric result, the usual Murray formula)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    L = ans
    phi = L.T @ g
    phi = np.tril(phi) - 0.5 * np.diag(np.diag(phi))
    inv = np.linalg.inv(L)
    s = inv.T @ phi @ inv
    return _lower(0.5 * (s + s.T))


def eigh_back(g, ans):
    """Adjoint of ``w, v = np.linalg.eigh(a)`` (distinct eigenvalues for the eigenvector part)."""
    w, v = ans
    gw, gv = (g if isinstance(g, (tuple, list)) else (0.0, 0.0))
    inner = np.diag(np.zeros(len(w)) + gw)
    if not _zero(gv):
        # no division on the diagonal
        diff = w[None, :] - w[:, None] + np.diag(np.full(len(w), np.inf))
        inner = inner + (v.T @ gv) / diff
    out = v @ inner @ v.T
    return _lower(0.5 * (out + out.T))


def pinv_back(g, a, ans):
    """Adjoint of ``P = np.linalg.pinv(A)`` (A of full rank, so P is differentiable there)."""
    if _zero(g):
        return g
    p, gt = ans, np.swapaxes(g, -1, -2)
    m, n = np.shape(a)[-2:]
    return -p.T @ g @ p.T + (np.eye(m) - a @ p) @ gt @ p @ p.T + p.T @ p @ gt @ (np.eye(n) - p @ a)


def pinv_jvp(a, ans, t):
    """Tangent of ``np.linalg.pinv(A)`` along ``t`` (A of full rank)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    p, tt = ans, np.swapaxes(t, -1, -2)
    m, n = np.shape(a)[-2:]
    return -p @ t @ p + p @ p.T @ tt @ (np.eye(m) - a @ p) + (np.eye(n) - p @ a) @ tt @ p.T @ p


def eigvalsh_back(g, a):
    """Adjoint of ``np.linalg.eigvalsh(a)``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    _, v = np.linalg.eigh(a)
    return _lower(v @ np.diag(g) @ v.T)


def cholesky_jvp(ans, t):
    """Tangent of ``L = np.linalg.cholesky(A)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    L = ans
    inv = np.linalg.inv(L)
    x = inv @ _sym_lower(t) @ inv.T
    return L @ (np.tril(x) - 0.5 * np.diag(np.diag(x)))


def eigh_jvp(ans, t):
    """Tangents ``(dw, dv)`` of ``w, v = np.linalg.eigh(A)`` along ``t`` (distinct eigenvalues)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    w, v = ans
    m = v.T @ _sym_lower(t) @ v
    diff = w[None, :] - w[:, None] + np.diag(np.full(len(w), np.inf))
    return np.diag(m).copy(), v @ (m / diff)


def eigvalsh_jvp(a, t):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    _, v = np.linalg.eigh(a)
    return np.diag(v.T @ _sym_lower(t) @ v).copy()


def svdvals_jvp(a, t):
    """Tangent of the singular values of ``a`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ij,...ik,...kj->...j", u, t, np.swapaxes(vt, -1, -2))


def svd_jvp(a, t, compute_uv=True):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    if compute_uv:
        raise _unsupported("forward mode through np.linalg.svd with compute_uv=True is not "
                           "supported",
                           "use compute_uv=False for the singular values")
    return svdvals_jvp(a, t)


def matrix_power_jvp(a, t, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` for n >= 0."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    powers = [np.eye(np.shape(a)[0])]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum((powers[k] @ t @ powers[n - 1 - k] for k in range(n)), np.zeros(np.shape(a)))


def svdvals_back(g, a):
    """Adjoint of the singular values of ``a``: ``u diag(g) v^T``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return u @ (np.asarray(g)[..., :, None] * vt)


def svd_back(g, a, compute_uv=True):
    """Adjoint of ``np.linalg.svd``: singular values only (the adjoints of u and vh must be
    zero)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if not compute_uv:
        return svdvals_back(g, a)
    gu, gs, gvt = g if isinstance(g, (tuple, list)) else (0.0, 0.0, 0.0)
    if np.any(gu) or np.any(gvt):  # (zeros, as container_adjoint fills unused entries, are fine)
        raise _unsupported("the gradient of np.linalg.svd through u or vh is not supported",
                           "use the singular values (compute_uv=False)")
    return svdvals_back(gs, a)


def matrix_power_back(g, a, n):
    """Adjoint of ``np.linalg.matrix_power(a, n)`` for n >= 0."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if n < 0:
        raise _unsupported("the gradient of matrix_power is supported for n >= 0",
                           "use np.linalg.inv and a non-negative power")
    powers = [np.eye(np.shape(a)[0])]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    out = np.zeros(np.shape(a))
    for k in range(n):
        out = out + powers[k].T @ g @ powers[n - 1 - k].T  # (not +=: differentiated again)
    return out


def dsolve_a(g, a, ans):
    """Adjoint of ``a`` in ``ans = np.linalg.solve(a, b)``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    gb = np.linalg.solve(np.swapaxes(a, -1, -2), g)
    if np.ndim(ans) == np.ndim(a) - 1:
        return -gb[..., :, None] * ans[..., None, :]
    return -gb @ np.swapaxes(ans, -1, -2)


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
    if not vector and axis is None and x.ndim == 2:
        if ord == "nuc":
            u, _, vt = np.linalg.svd(x, full_matrices=False)
            return g * (u @ vt)
        if ord in (2, -2):
            u, s, vt = np.linalg.svd(x, full_matrices=False)
            k = 0 if ord == 2 else len(s) - 1
            return g * np.outer(u[:, k], vt[k])
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
