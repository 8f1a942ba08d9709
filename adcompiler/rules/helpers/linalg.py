"""Adjoints and tangents of ``np.linalg``: solve, slogdet, cholesky, pinv, matrix_power, qr and
lstsq (eig, eigh and svd: ``spectral``). NumPy's eigh, eigvalsh and cholesky read only the lower
triangle of their input, and their adjoints say so (``_lower``)."""
from __future__ import annotations

import numpy as np

from ...errors import AdError
from ._base import _unsupported, _zero


def _T(a):
    return np.swapaxes(a, -1, -2)


def _H(a):
    """The conjugate transpose of (stacked) matrices (the transpose for real ones)."""
    return np.conj(np.swapaxes(a, -1, -2)) if np.iscomplexobj(a) else np.swapaxes(a, -1, -2)


def _lower(grad, uplo="L"):
    """A gradient w.r.t. (stacked) matrices of which NumPy reads only the lower (``uplo="L"``) or
    upper triangle, and of the diagonal only the real part (eigh, eigvalsh, cholesky): the
    adjoint of ``_sym_lower``."""
    both = grad + _H(grad)
    strict = np.tril(both, -1) if uplo == "L" else np.triu(both, 1)
    return strict + np.real(grad) * np.eye(np.shape(grad)[-1])


def _sym_lower(t, uplo="L"):
    """The (Hermitian) matrices NumPy's eigh/cholesky actually see for the input (tangent) ``t``:
    one triangle mirrored, conjugated, and the diagonal's real part."""
    strict = np.tril(t, -1) if uplo == "L" else np.triu(t, 1)
    return strict + _H(strict) + np.real(t) * np.eye(np.shape(t)[-1])


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



def cholesky_jvp(ans, t):
    """Tangent of ``L = np.linalg.cholesky(A)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    L = ans
    inv = np.linalg.inv(L)
    x = inv @ _sym_lower(t) @ _T(inv)
    return L @ (np.tril(x) - 0.5 * x * np.eye(np.shape(L)[-1]))







def matrix_power_jvp(a, t, n):
    """Tangent of ``np.linalg.matrix_power(a, n)`` for n >= 0."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    powers = [np.eye(np.shape(a)[0])]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum((powers[k] @ t @ powers[n - 1 - k] for k in range(n)), np.zeros(np.shape(a)))




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


_SYMMETRIC = ("sym", "symmetric", "pos", "positive definite")


def solve_read(a, assume_a, lower):
    """The matrix ``scipy.linalg.solve(a, b, assume_a=..., lower=...)`` solves with: ``a``, or for
    a symmetric or positive definite one, the triangle it reads mirrored."""
    return _sym_lower(a, "L" if lower else "U") if assume_a in _SYMMETRIC else a


def solve_a_back(g, a, ans, assume_a, lower):
    """Adjoint of ``a`` in ``scipy.linalg.solve(a, b, assume_a=..., lower=...)``: NumPy's on the
    matrix solved with, taken onto the triangle read for a symmetric one."""
    grad = dsolve_a(g, solve_read(a, assume_a, lower), ans)
    return _lower(grad, "L" if lower else "U") if assume_a in _SYMMETRIC and not _zero(grad) \
        else grad


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


def _lstsq_parts(a, b, ans):
    """``(x, r, pinv(a), singular vectors)`` of ``np.linalg.lstsq(a, b)`` (``x`` and ``r = b - a
    @ x`` as columns, ``_columns``), for ``a`` of full rank: its solution is ``pinv(a) @ b``
    there."""
    x, _, rank, _ = ans
    if rank < min(np.shape(a)):
        raise _unsupported("np.linalg.lstsq of a matrix of rank %d < %d: its solution is not "
                           "differentiable there" % (rank, min(np.shape(a))),
                           "regularise the problem (a ridge term), or pass a matrix of full rank")
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return _columns(np.asarray(x), b), _columns(b - a @ x, b), np.linalg.pinv(a), (u, vt)


def _columns(v, b):
    """``v`` as a matrix of columns: one column when the right-hand side ``b`` is a vector."""
    return v[:, None] if np.ndim(b) == 1 else v


def lstsq_back(g, a, b, ans, which):
    """Adjoint of ``np.linalg.lstsq(a, b)`` (solution, residuals, singular values) w.r.t. ``a``
    (``which`` 0) or ``b`` (1)."""
    if _zero(g):
        return g
    x, r, p, (u, vt) = _lstsq_parts(a, b, ans)
    gx, gres, _, gs = g
    gx = np.zeros_like(x) if _zero(gx) else _columns(np.asarray(gx), b)
    # (the residuals, |b - a x|^2 per column when there are more rows than columns: x is
    # optimal, so only their explicit dependence counts)
    gres = 0.0 if _zero(gres) or np.size(ans[1]) == 0 else np.asarray(gres)
    if which == 1:
        out = _T(p) @ gx + 2.0 * r * gres
        return out[:, 0] if np.ndim(b) == 1 else out
    out = pinv_back(gx @ _T(_columns(b, b)), a, p) - 2.0 * (r * gres) @ _T(x)
    return out if _zero(gs) else out + (u * np.asarray(gs)) @ vt


def lstsq_jvp(a, b, ans, t_a, t_b):
    """Tangents ``(dx, dresiduals, 0, ds)`` of ``np.linalg.lstsq(a, b)`` along ``t_a``, ``t_b``."""
    x, r, p, (u, vt) = _lstsq_parts(a, b, ans)
    t_a = np.zeros_like(a) if _zero(t_a) else t_a
    t_b = np.zeros_like(_columns(b, b)) if _zero(t_b) else _columns(t_b, b)
    t_x = pinv_jvp(a, p, t_a) @ _columns(b, b) + p @ t_b
    t_res = -2.0 * np.sum(r * (t_a @ x - t_b), axis=0) if np.size(ans[1]) else ans[1] * 0.0
    t_s = np.einsum("ji,jk,ik->i", u, t_a, vt)
    return (t_x[:, 0] if np.ndim(b) == 1 else t_x), t_res, 0, t_s


def _tensor_matrix(a, ind):
    """``a`` as the square matrix ``np.linalg.tensorinv`` inverts: its first ``ind`` axes make
    the rows."""
    rows = int(np.prod(np.shape(a)[:ind]))
    return np.reshape(a, (rows, -1))


def tensorinv_back(g, a, ans, ind):
    """Adjoint of ``np.linalg.tensorinv(a, ind)``: inv's, ``-X^T G X^T``, on the matrices."""
    if _zero(g):
        return g
    inv = _tensor_matrix(ans, np.ndim(a) - ind)
    grad = _tensor_matrix(g, np.ndim(a) - ind)
    return np.reshape(-inv.T @ grad @ inv.T, np.shape(a))


def tensorinv_jvp(a, ans, t, ind):
    """Tangent of ``np.linalg.tensorinv(a, ind)`` along ``t``: ``-X dA X`` on the matrices."""
    if _zero(t):
        return t
    inv = _tensor_matrix(ans, np.ndim(a) - ind)
    return np.reshape(-inv @ _tensor_matrix(t, ind) @ inv, np.shape(ans))


def tensorsolve_back(g, a, b):
    """Adjoint of ``b`` in ``x = np.linalg.tensorsolve(a, b)``: the transposed system solved for
    ``g`` (``a``'s adjoint is minus its outer product with ``x``)."""
    if _zero(g):
        return g
    matrix = _tensor_matrix(a, np.ndim(b))
    return np.reshape(np.linalg.solve(matrix.T, np.ravel(g)), np.shape(b))
