"""The derivative of ``np.linalg.det``, the cofactor matrix, at invertible and singular matrices
alike (the determinant is a polynomial of the entries), with its own derivatives (second
derivatives of det, at invertible matrices)."""
from __future__ import annotations

import numpy as np

from ._base import _unsupported


def _T(a):
    return np.swapaxes(a, -1, -2)


def det_cofactor(a, d):
    """The derivative of ``d = np.linalg.det(a)``: the cofactor matrix, ``d * inv(a).T``
    where ``a`` is invertible, and from the SVD ``a = u s vh`` where it is singular (the
    determinant is a polynomial, with a derivative everywhere): ``det(u) det(vh) u diag(p) vh``,
    ``p_i`` the product of the singular values other than ``s_i``."""
    a = np.asarray(a)
    if np.all(d != 0):
        with np.errstate(all="ignore"):
            try:
                inverse = np.linalg.inv(a)
            except np.linalg.LinAlgError:
                inverse = None
        if inverse is not None and np.all(np.isfinite(inverse)):
            return np.asarray(d)[..., None, None] * _T(inverse)
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.prod(np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]), axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * (u * others[..., None, :]) @ vh


def det_cofactor_back(g, a, d):
    """Adjoint of ``a`` in ``det_cofactor(a, d)`` for a fixed ``d`` (second derivatives of
    det): ``-d inv(a).T g.T inv(a).T``; refused at a singular ``a``."""
    inverse_t = _T(_inverse(a, "second derivatives of np.linalg.det"))
    return -np.asarray(d)[..., None, None] * (inverse_t @ _T(g) @ inverse_t)


def det_cofactor_d_back(g, a):
    """Adjoint of ``d`` in ``det_cofactor(a, d)``: ``sum(g * inv(a).T)``."""
    return np.sum(g * _T(_inverse(a, "second derivatives of np.linalg.det")), axis=(-2, -1))


def det_cofactor_jvp(a, d, t_a, t_d):
    """Tangent of ``det_cofactor(a, d)``."""
    inverse_t = _T(_inverse(a, "second derivatives of np.linalg.det"))
    return (np.asarray(t_d)[..., None, None] * inverse_t
            - np.asarray(d)[..., None, None] * (inverse_t @ _T(t_a) @ inverse_t))


def _inverse(a, what):
    """``inv(a)``, or the AdError naming ``what`` needs it where ``a`` is singular."""
    try:
        with np.errstate(all="ignore"):
            inverse = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        inverse = None
    if inverse is None or not np.all(np.isfinite(inverse)):
        raise _unsupported("%s at a singular matrix are not supported" % what,
                           "differentiate at an invertible matrix, or write the determinant "
                           "of the matrix's size out (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0])")
    return inverse
