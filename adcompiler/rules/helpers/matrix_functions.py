"""Adjoints and tangents of ``scipy.linalg``'s matrix functions: the square root (a Sylvester
equation), the exponential (its Frechet derivative), and the Cholesky pair cho_factor /
cho_solve (whose factor holds the input's entries in its other triangle). SciPy is imported
when they run: it is not a dependency."""
from __future__ import annotations

import numpy as np

from ._base import _unsupported, _zero
from .linalg import cholesky_back, cholesky_jvp


def sqrtm_off_cut(x, a):
    """Whether the derivative of ``x = scipy.linalg.sqrtm(a)`` is the Sylvester equation's:
    ``x`` is invertible, and where it is complex, no eigenvalue of ``a`` lies on the negative
    real axis (the principal root's branch cut) unless ``a`` is real and that eigenvalue simple
    (real perturbations keep it there, and its root on one side of the cut)."""
    mu = np.linalg.eigvals(x)
    scale = np.max(np.abs(mu), initial=0.0)
    if np.min(np.abs(mu), initial=np.inf) <= 1e-12 * scale:
        return False
    if not np.iscomplexobj(x):
        return True
    on_cut = np.abs(np.real(mu)) <= 1e-8 * scale
    if np.iscomplexobj(a):
        return not np.any(on_cut)
    gaps = np.abs(mu[:, None] - mu[None, :]) + np.eye(len(mu)) * scale
    return not np.any(on_cut & (np.min(gaps, axis=1) <= 1e-6 * scale))


def _root(ans, a):
    """``ans``, once ``sqrtm_off_cut`` (an AdError otherwise)."""
    if not sqrtm_off_cut(ans, a):
        raise _unsupported("the derivative of scipy.linalg.sqrtm is not supported at a singular "
                           "matrix, nor where a negative eigenvalue of a complex matrix (or a "
                           "repeated one of a real matrix) lies on the square root's branch cut: "
                           "the principal root is not differentiable there",
                           "differentiate away from those matrices")
    return ans


def sqrtm_back(g, ans, a):
    """Adjoint of ``X = scipy.linalg.sqrtm(A)``: ``X dX + dX X = dA``, transposed (a Sylvester
    equation in ``X^T``); its real part for a real ``A`` whose root is complex."""
    import scipy.linalg as sla
    x = _root(ans, a)
    if _zero(g):
        return g
    out = sla.solve_sylvester(np.transpose(x), np.transpose(x), g)
    return out if np.iscomplexobj(a) or not np.iscomplexobj(out) else np.real(out)


def sqrtm_jvp(ans, a, t):
    """Tangent of ``scipy.linalg.sqrtm(A)`` along ``t``: ``X dX + dX X = t``."""
    import scipy.linalg as sla
    x = _root(ans, a)
    if _zero(t):
        return t
    return sla.solve_sylvester(x, x, t)


def expm_frechet(a, e):
    """The derivative of ``scipy.linalg.expm`` at (stacked) ``a`` along ``e``: the upper-right
    block of the exponential of ``[[a, e], [0, a]]``. The adjoint is the same at ``a^T``."""
    import scipy.linalg as sla
    if _zero(e):
        return e
    n = np.shape(a)[-1]
    big = np.zeros(np.shape(a)[:-2] + (2 * n, 2 * n), dtype=np.result_type(a, e, float))
    big[..., :n, :n] = a
    big[..., n:, n:] = a
    big[..., :n, n:] = e
    return sla.expm(big)[..., :n, n:]



def _factor(c, lower):
    """The triangular factor scipy's cho_factor result ``c`` holds (the other triangle is the
    input's)."""
    return np.tril(c) if lower else np.triu(c)


def cho_factor_back(g, ans):
    """Adjoint of ``(c, lower) = scipy.linalg.cho_factor(a, lower)``: the factor's triangle
    through Cholesky's adjoint (on the triangle it reads), the other triangle, a's own entries,
    as it is."""
    gc = g[0] if isinstance(g, (tuple, list)) else g
    if _zero(gc):
        return 0.0
    c, lower = ans
    if lower:
        return cholesky_back(np.tril(gc), np.tril(c)) + np.triu(gc, 1)
    return cholesky_back(np.tril(gc.T), np.tril(c.T)).T + np.tril(gc, -1)


def cho_factor_jvp(ans, t):
    """Tangent ``(dc, 0.0)`` of ``scipy.linalg.cho_factor(a, lower)`` along ``t``."""
    if _zero(t):
        return t
    c, lower = ans
    if lower:
        return cholesky_jvp(np.tril(c), t) + np.triu(t, 1), 0.0
    return cholesky_jvp(np.tril(c.T), t.T).T + np.tril(t, -1), 0.0


def _system(c, lower, dc):
    """The change of ``A = L L^T`` (``U^T U`` for upper) when the factor moves along ``dc``."""
    f, df = _factor(c, lower), _factor(dc, lower)
    return df @ f.T + f @ df.T if lower else df.T @ f + f.T @ df


def cho_solve_back(g, c_and_lower, ans):
    """Adjoint of the factor pair in ``x = scipy.linalg.cho_solve((c, lower), b)``: ``(gc, 0.0)``
    with ``gA = -(A^-1 g) x^T`` taken through ``A = L L^T`` (or ``U^T U``) onto the triangle
    read."""
    import scipy.linalg as sla
    if _zero(g):
        return g
    c, lower = c_and_lower
    gb = sla.cho_solve(c_and_lower, g)
    ga = -(np.atleast_2d(gb.T).T @ np.atleast_2d(ans.T))
    both = ga + ga.T
    f = _factor(c, lower)
    return (np.tril(both @ f) if lower else np.triu(f @ both)), 0.0


def cho_solve_jvp(c_and_lower, t_c_and_lower, t_b, ans):
    """Tangent of ``scipy.linalg.cho_solve((c, lower), b)``: ``A^-1 (t_b - dA x)``."""
    import scipy.linalg as sla
    c, lower = c_and_lower
    tc = t_c_and_lower[0] if isinstance(t_c_and_lower, (tuple, list)) else t_c_and_lower
    rhs = t_b
    if not _zero(tc):
        rhs = rhs - _system(c, lower, tc) @ ans
    if _zero(rhs):
        return rhs
    return sla.cho_solve(c_and_lower, np.broadcast_to(rhs, np.shape(ans)))


def _lu_parts(lu_and_piv):
    """(L, U, P) of ``scipy.linalg.lu_factor``'s pair: ``P @ A = L @ U`` (P the permutation
    matrix of its row interchanges, applied in order). Square matrices only."""
    lu, piv = lu_and_piv[0], lu_and_piv[1]
    if np.ndim(lu) != 2 or np.shape(lu)[0] != np.shape(lu)[1]:
        raise _unsupported("the derivative of scipy.linalg.lu_factor / lu_solve is given for one "
                           "square matrix (here of shape %s)" % (np.shape(lu),),
                           "factor each square matrix on its own")
    n = np.shape(lu)[0]
    order = np.arange(n)
    for i, j in enumerate(piv):
        order[i], order[j] = order[j], order[i]
    return np.tril(lu, -1) + np.eye(n), np.triu(lu), np.eye(n)[order]


def _lu_inner(L, U, m):
    """``L^-1 m U^-1`` (the change of ``P A`` seen from the factors)."""
    import scipy.linalg as sla
    left = sla.solve_triangular(L, m, lower=True, unit_diagonal=True)
    return sla.solve_triangular(U, left.T, trans=1).T


def lu_factor_back(g, ans):
    """Adjoint of ``(lu, piv) = scipy.linalg.lu_factor(a)``: with ``P A = L U``, the factors'
    adjoints ``tril(L^T gL, -1) + triu(gU U^T)`` taken back through ``L^-T . U^-T`` and ``P``."""
    import scipy.linalg as sla
    glu = g[0] if isinstance(g, (tuple, list)) else g
    if _zero(glu):
        return 0.0
    L, U, P = _lu_parts(ans)
    m = np.tril(L.T @ np.tril(glu, -1), -1) + np.triu(np.triu(glu) @ U.T)
    left = sla.solve_triangular(L, m, lower=True, unit_diagonal=True, trans=1)
    return P.T @ sla.solve_triangular(U, left.T).T


def lu_factor_jvp(ans, t):
    """Tangent ``(dlu, 0.0)`` of ``scipy.linalg.lu_factor(a)`` along ``t``: with
    ``F = L^-1 P t U^-1``, ``dL = L tril(F, -1)`` and ``dU = triu(F) U``."""
    if _zero(t):
        return t
    L, U, P = _lu_parts(ans)
    f = _lu_inner(L, U, P @ t)
    return L @ np.tril(f, -1) + np.triu(f) @ U, 0.0


def lu_solve_back(g, lu_and_piv, ans, trans):
    """Adjoint of the factor pair in ``x = scipy.linalg.lu_solve((lu, piv), b, trans)``:
    ``gA = -(A^-T g) x^T`` (``-x (A^-1 g)^T`` for the transposed system) taken through
    ``P A = L U`` onto the factors' triangles."""
    import scipy.linalg as sla
    if _zero(g):
        return g
    # (trans a constant for each call: its derivative rule accepts constants)
    gb = sla.lu_solve(lu_and_piv, g, trans=1) if trans == 0 else sla.lu_solve(lu_and_piv, g)
    outer = (gb, ans) if trans == 0 else (ans, gb)
    ga = -(np.atleast_2d(outer[0].T).T @ np.atleast_2d(outer[1].T))
    L, U, P = _lu_parts(lu_and_piv)
    pa = P @ ga
    return np.tril(pa @ U.T, -1) + np.triu(L.T @ pa), 0.0


def lu_solve_jvp(lu_and_piv, t_lu_and_piv, t_b, ans, trans):
    """Tangent of ``scipy.linalg.lu_solve((lu, piv), b, trans)``: ``A^-1 (t_b - dA x)`` (with
    ``A^T`` for the transposed system), ``P dA = dL U + L dU``."""
    import scipy.linalg as sla
    tlu = t_lu_and_piv[0] if isinstance(t_lu_and_piv, (tuple, list)) else t_lu_and_piv
    rhs = t_b
    if not _zero(tlu):
        L, U, P = _lu_parts(lu_and_piv)
        da = P.T @ (np.tril(tlu, -1) @ U + L @ np.triu(tlu))
        rhs = rhs - (da if trans == 0 else da.T) @ ans
    if _zero(rhs):
        return rhs
    rhs = np.broadcast_to(rhs, np.shape(ans))
    return sla.lu_solve(lu_and_piv, rhs) if trans == 0 else sla.lu_solve(lu_and_piv, rhs, trans=1)
