"""Adjoints and tangents of ``np.linalg``: solve, norm, slogdet, cholesky, eigh / eigvalsh, pinv,
svd and matrix_power. NumPy's eigh, eigvalsh and cholesky read only the
lower triangle of their input, and their adjoints say so (``_lower``)."""
from __future__ import annotations

import numpy as np

from ...errors import AdError
from ._base import _unsupported, _zero


def _T(a):
    return np.swapaxes(a, -1, -2)


def _lower(grad, uplo="L"):
    """A gradient w.r.t. (stacked) matrices of which NumPy reads only the lower (``uplo="L"``) or
    upper triangle (eigh, eigvalsh, cholesky)."""
    both = grad + _T(grad)
    strict = np.tril(both, -1) if uplo == "L" else np.triu(both, 1)
    return strict + grad * np.eye(np.shape(grad)[-1])


def _sym_lower(t, uplo="L"):
    """The symmetric matrices NumPy's eigh/cholesky actually see for the input (tangent) ``t``."""
    if uplo == "L":
        return np.tril(t) + _T(np.tril(t, -1))
    return np.triu(t) + _T(np.triu(t, 1))


def _eigenvalue_gaps(w):
    """``w_j - w_i`` for stacked eigenvalues, infinite on the diagonal (no division there)."""
    return w[..., None, :] - w[..., :, None] + np.diag(np.full(np.shape(w)[-1], np.inf))


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
    phi = _T(L) @ g
    phi = np.tril(phi) - 0.5 * phi * np.eye(np.shape(L)[-1])
    inv = np.linalg.inv(L)
    s = _T(inv) @ phi @ inv
    return _lower(0.5 * (s + _T(s)))


def eigh_back(g, ans, uplo="L"):
    """Adjoint of ``w, v = np.linalg.eigh(a, uplo)``, stacked matrices too (distinct
    eigenvalues for the eigenvector part)."""
    w, v = ans
    gw, gv = (g if isinstance(g, (tuple, list)) else (0.0, 0.0))
    inner = (np.zeros(np.shape(w)) + gw)[..., None, :] * np.eye(np.shape(w)[-1])
    if not _zero(gv):
        inner = inner + (_T(v) @ gv) / _eigenvalue_gaps(w)
    out = v @ inner @ _T(v)
    return _lower(0.5 * (out + _T(out)), uplo)


def pinv_back(g, a, ans):
    """Adjoint of ``P = np.linalg.pinv(A)`` (A of full rank, so P is differentiable there)."""
    if _zero(g):
        return g
    p, gt, pt = ans, _T(g), _T(ans)
    m, n = np.shape(a)[-2:]
    return -pt @ g @ pt + (np.eye(m) - a @ p) @ gt @ p @ pt + pt @ p @ gt @ (np.eye(n) - p @ a)


def pinv_jvp(a, ans, t):
    """Tangent of ``np.linalg.pinv(A)`` along ``t`` (A of full rank)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    p, tt, pt = ans, _T(t), _T(ans)
    m, n = np.shape(a)[-2:]
    return -p @ t @ p + p @ pt @ tt @ (np.eye(m) - a @ p) + (np.eye(n) - p @ a) @ tt @ pt @ p


def eigvalsh_back(g, a, uplo="L"):
    """Adjoint of ``np.linalg.eigvalsh(a, uplo)``, stacked matrices too."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    _, v = np.linalg.eigh(a, uplo)
    return _lower((v * g[..., None, :]) @ _T(v), uplo)


def cholesky_jvp(ans, t):
    """Tangent of ``L = np.linalg.cholesky(A)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    L = ans
    inv = np.linalg.inv(L)
    x = inv @ _sym_lower(t) @ _T(inv)
    return L @ (np.tril(x) - 0.5 * x * np.eye(np.shape(L)[-1]))


def eigh_jvp(ans, t, uplo="L"):
    """Tangents ``(dw, dv)`` of ``w, v = np.linalg.eigh(A, uplo)`` along ``t``, stacked matrices
    too (distinct eigenvalues)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    w, v = ans
    m = _T(v) @ _sym_lower(t, uplo) @ v
    return np.diagonal(m, axis1=-2, axis2=-1).copy(), v @ (m / _eigenvalue_gaps(w))


def eigvalsh_jvp(a, t, uplo="L"):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    _, v = np.linalg.eigh(a, uplo)
    return np.diagonal(_T(v) @ _sym_lower(t, uplo) @ v, axis1=-2, axis2=-1).copy()


def svdvals_jvp(a, t):
    """Tangent of the singular values of ``a`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.einsum("...ij,...ik,...kj->...j", u, t, np.swapaxes(vt, -1, -2))


def _svd_parts(a, full_matrices):
    """(u, s, vt, F, eye_k) of the reduced SVD of (stacked) ``a``, with ``F_ij = 1/(s_j^2 - s_i^2)``
    off the diagonal and 0 on it; an AdError for u or vh of a full SVD of a non-square matrix,
    whose extra columns are not determined by ``a``."""
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise _unsupported("the derivative of u and vh of np.linalg.svd(a, full_matrices=True) "
                           "of a non-square matrix is not supported: their extra columns are any "
                           "orthonormal completion, not a function of a",
                           "pass full_matrices=False")
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    eye = np.eye(np.shape(s)[-1])
    squares = s ** 2
    F = 1.0 / (squares[..., None, :] - squares[..., :, None] + eye) * (1.0 - eye)
    return u, s, vt, F, eye


def svd_jvp(a, t, compute_uv=True, full_matrices=True):
    """Tangent of ``np.linalg.svd(a)`` along ``t``: of the singular values, or ``(du, ds, dvh)``
    (distinct nonzero singular values)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    if not compute_uv:
        return svdvals_jvp(a, t)
    u, s, vt, F, eye = _svd_parts(a, full_matrices)
    v = _T(vt)
    dp = _T(u) @ t @ v
    ds = np.diagonal(dp, axis1=-2, axis2=-1).copy()
    du = u @ (F * (dp * s[..., None, :] + s[..., :, None] * _T(dp)))
    dv = v @ (F * (s[..., :, None] * dp + _T(dp) * s[..., None, :]))
    m, n = np.shape(a)[-2:]
    if m > len(eye):
        du = du + (t @ v - u @ (_T(u) @ t @ v)) / s[..., None, :]
    if n > len(eye):
        dv = dv + (_T(t) @ u - v @ (_T(v) @ _T(t) @ u)) / s[..., None, :]
    return du, ds, _T(dv)


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


def svd_back(g, a, compute_uv=True, full_matrices=True):
    """Adjoint of ``np.linalg.svd(a)`` (stacked matrices too; u and vh: distinct nonzero
    singular values)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if not compute_uv:
        return svdvals_back(g, a)
    gu, gs, gvt = g if isinstance(g, (tuple, list)) else (0.0, 0.0, 0.0)
    if not (np.any(gu) or np.any(gvt)):  # (zeros, as container_adjoint fills unused entries)
        return svdvals_back(gs, a)
    u, s, vt, F, eye = _svd_parts(a, full_matrices)
    k = len(eye)
    gu = (np.zeros(np.shape(u)) + gu)[..., :k] if np.ndim(gu) else np.zeros(np.shape(u))
    gvt = (np.zeros(np.shape(vt)) + gvt)[..., :k, :] if np.ndim(gvt) else np.zeros(np.shape(vt))
    v, gv = _T(vt), _T(gvt)
    utgu, vtgv = _T(u) @ gu, _T(v) @ gv
    gs = np.zeros(np.shape(s)) + gs
    inner = ((F * (utgu - _T(utgu))) * s[..., None, :] + eye * gs[..., :, None]
             + s[..., :, None] * (F * (vtgv - _T(vtgv))))
    out = u @ inner @ vt
    m, n = np.shape(a)[-2:]
    if m > k:  # (the part of gu outside u's columns)
        out = out + ((gu - u @ utgu) / s[..., None, :]) @ vt
    if n > k:
        out = out + u @ (_T(gv - v @ vtgv) / s[..., :, None])
    return out


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


def _qr_parts(a, ans, mode):
    """``(Q, R)`` of ``np.linalg.qr(a, mode)`` (``ans`` is R alone for mode "r"); an AdError
    for a wide matrix, whose R is not square (its factors are not unique functions of ``a``)."""
    q, r = np.linalg.qr(a) if mode == "r" else ans
    if np.shape(a)[-2] < np.shape(a)[-1]:
        raise AdError("the derivative of np.linalg.qr of a matrix with more columns than rows is "
                      "not supported", hint="factor its transpose, or a tall or square matrix")
    return q, r


def qr_back(g, a, ans, mode="reduced"):
    """Adjoint of ``np.linalg.qr(a, mode)`` (reduced, or "r"), stacked matrices too."""
    if _zero(g):
        return g
    q, r = _qr_parts(a, ans, mode)
    gq, gr = (0.0, g) if mode == "r" else g
    gq = np.zeros_like(q) if _zero(gq) else gq
    gr = np.zeros_like(r) if _zero(gr) else gr
    m = r @ _T(gr) - _T(gq) @ q
    copied = np.tril(m) + _T(np.tril(m, -1))  # (the lower triangle mirrored up)
    return _T(np.linalg.solve(r, _T(gq + q @ copied)))


def qr_jvp(a, ans, t, mode="reduced"):
    """Tangents ``(dQ, dR)`` (``dR`` for mode "r") of ``np.linalg.qr(a, mode)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    q, r = _qr_parts(a, ans, mode)
    t_r = _T(np.linalg.solve(_T(r), _T(t)))  # t R^-1
    x = _T(q) @ t_r
    lower = np.tril(x, -1)
    omega = lower - _T(lower)
    d_r = (x - omega) @ r
    return d_r if mode == "r" else (q @ omega + t_r - q @ x, d_r)
