"""Adjoints and tangents of ``scipy.linalg``'s matrix functions: the square root (a Sylvester
equation) and the exponential (its Frechet derivative). SciPy is imported when they run: it is
not a dependency."""
from __future__ import annotations

import numpy as np

from ._base import _unsupported, _zero


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
