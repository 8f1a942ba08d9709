"""Adjoints and tangents of ``scipy.linalg``'s matrix functions: the square root (a Sylvester
equation), the exponential (its Frechet derivative), and the Cholesky pair cho_factor /
cho_solve (whose factor holds the input's entries in its other triangle). SciPy is imported
when they run: it is not a dependency."""
from __future__ import annotations

import numpy as np

from ._base import _unsupported, _zero
from .linalg import cholesky_back, cholesky_jvp


def _real_result(ans, name):
    """``ans``, when it is real (an AdError for a complex result)."""
    if np.iscomplexobj(ans):
        raise _unsupported("the derivative of a complex %s (a matrix with negative eigenvalues) is "
                           "not supported" % name, "differentiate where the result is real")
    return ans


def sqrtm_back(g, ans):
    """Adjoint of ``X = scipy.linalg.sqrtm(A)``: ``X dX + dX X = dA``, transposed (a Sylvester
    equation in ``X^T``)."""
    import scipy.linalg as sla
    x = _real_result(ans, "sqrtm")
    if _zero(g):
        return g
    return sla.solve_sylvester(x.T, x.T, g)


def sqrtm_jvp(ans, t):
    """Tangent of ``scipy.linalg.sqrtm(A)`` along ``t``: ``X dX + dX X = t``."""
    import scipy.linalg as sla
    x = _real_result(ans, "sqrtm")
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
