"""Adjoints and tangents of the spectral decompositions of ``np.linalg``: eigh / eigvalsh (real
symmetric or complex Hermitian), eig (any square matrix) and svd, stacked matrices too, real or
complex, in docs/complex.md's convention (the pullback is the transpose of the tangent map, with
no conjugate).

Where the factors are not unique, the derivative is that of one smooth choice: an eigenvector
or singular vector of a complex matrix is known up to a phase, and the derivative given is the
one whose phase does not turn (``V^H dV`` has a real diagonal for eigh's and eig's vectors;
svd's gives all of the phase to u, as HIPS autograd does); a function of the vectors that does
not depend on their phases (``abs(v)``, ``v v^H``, ``u s vh``) has its true derivative. Real
symmetric matrices' vectors are unique up to sign, and their derivative is exact. eig's vectors
have unit norm, as NumPy's. Eigenvalues (singular values) must be distinct (and nonzero) for the
vectors' derivative."""
from __future__ import annotations

import numpy as np

from ._base import _unsupported, _zero
from .linalg import _H, _T, _lower, _sym_lower


def _reciprocal_gaps(w):
    """``1 / (w_j - w_i)`` for stacked eigenvalues (or squared singular values) ``w``, 0 on the
    diagonal."""
    eye = np.eye(np.shape(w)[-1])
    return (1.0 - eye) / (w[..., None, :] - w[..., :, None] + eye)


def eigh_back(g, ans, uplo="L"):
    """Adjoint of ``w, v = np.linalg.eigh(a, uplo)``."""
    w, v = ans
    gw, gv = (g if isinstance(g, (tuple, list)) else (0.0, 0.0))
    inner = np.real(np.zeros(np.shape(w)) + gw)[..., None, :] * np.eye(np.shape(w)[-1])
    if not _zero(gv):
        inner = inner + _reciprocal_gaps(w) * (_T(v) @ gv)
    return _lower(np.conj(v) @ inner @ _T(v), uplo)


def eigh_jvp(ans, t, uplo="L"):
    """Tangents ``(dw, dv)`` of ``w, v = np.linalg.eigh(a, uplo)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    w, v = ans
    m = _H(v) @ _sym_lower(t, uplo) @ v
    return np.real(np.diagonal(m, axis1=-2, axis2=-1)).copy(), v @ (_reciprocal_gaps(w) * m)


def eigvalsh_back(g, a, uplo="L"):
    """Adjoint of ``np.linalg.eigvalsh(a, uplo)``."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    _, v = np.linalg.eigh(a, uplo)
    return _lower((np.conj(v) * np.real(g)[..., None, :]) @ _T(v), uplo)


def eigvalsh_jvp(a, t, uplo="L"):
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    _, v = np.linalg.eigh(a, uplo)
    return np.real(np.diagonal(_H(v) @ _sym_lower(t, uplo) @ v, axis1=-2, axis2=-1)).copy()


def eig_back(g, ans, a):
    """Adjoint of ``w, v = np.linalg.eig(a)`` (distinct eigenvalues; real for a real ``a``)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    w, v = ans
    gw, gv = g
    inner = (np.zeros(np.shape(w), dtype=w.dtype) + gw)[..., None, :] * np.eye(np.shape(w)[-1])
    if not _zero(gv):
        vtgv = _T(v) @ gv
        norms = np.real(np.diagonal(vtgv, axis1=-2, axis2=-1))  # (unit norm: held)
        inner = inner + _reciprocal_gaps(w) * (vtgv - (_T(v) @ np.conj(v)) * norms[..., None, :])
    out = np.linalg.solve(_T(v), inner @ _T(v))
    return out if np.iscomplexobj(a) else np.real(out)


def eig_jvp(ans, t):
    """Tangents ``(dw, dv)`` of ``w, v = np.linalg.eig(a)`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    w, v = ans
    k = np.linalg.solve(v, t @ v)
    x = v @ (_reciprocal_gaps(w) * k)
    norms = np.real(np.sum(np.conj(v) * x, axis=-2))  # (unit norm: held)
    return np.diagonal(k, axis1=-2, axis2=-1).copy(), x - v * norms[..., None, :]


def eigvals_back(g, a):
    """Adjoint of ``np.linalg.eigvals(a)``: eig's, of the eigenvalues alone."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return eig_back((g, 0.0), np.linalg.eig(a), a)


def eigvals_jvp(a, t):
    """Tangent of ``np.linalg.eigvals(a)`` along ``t``: the diagonal of ``V^-1 t V``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    _, v = np.linalg.eig(a)
    return np.diagonal(np.linalg.solve(v, t @ v), axis1=-2, axis2=-1).copy()


def svdvals_jvp(a, t):
    """Tangent of the singular values of ``a`` along ``t``."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return np.real(np.einsum("...ij,...ik,...jk->...j", np.conj(u), t, np.conj(vt)))


def svdvals_back(g, a):
    """Adjoint of the singular values of ``a``: ``u diag(g) v^H``, conjugated."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    out = u @ (np.real(g)[..., :, None] * vt)
    return np.conj(out) if np.iscomplexobj(out) else out


def _svd_parts(a, full_matrices):
    """(u, s, vt, F, eye_k) of the reduced SVD of (stacked) ``a``, with ``F_ij = 1/(s_j^2 - s_i^2)``
    off the diagonal and 0 on it; an AdError for u or vh of a full SVD of a non-square matrix,
    whose extra columns are not determined by ``a``."""
    m, n = np.shape(a)[-2:]
    if full_matrices and m != n:
        raise _unsupported("the derivative of u and vh of np.linalg.svd(a, full_matrices=True) "
                           "of a non-square matrix is not supported: their extra columns are any "
                           "orthonormal completion, not a function of a",
                           "pass full_matrices=False, or use only the first min(m, n) columns "
                           "of u and rows of vh (reverse mode)")
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return u, s, vt, _reciprocal_gaps(s ** 2), np.eye(np.shape(s)[-1])


def svd_jvp(a, t, compute_uv=True, full_matrices=True):
    """Tangent of ``np.linalg.svd(a)`` along ``t``: of the singular values, or ``(du, ds, dvh)``
    (distinct nonzero singular values)."""
    if _zero(t):  # (a zero tangent maps to zero)
        return t
    if not compute_uv:
        return svdvals_jvp(a, t)
    u, s, vt, F, eye = _svd_parts(a, full_matrices)
    v = _H(vt)
    dp = _H(u) @ t @ v
    ds = np.real(np.diagonal(dp, axis1=-2, axis2=-1)).copy()
    du = u @ (F * (dp * s[..., None, :] + s[..., :, None] * _H(dp)))
    dv = v @ (F * (s[..., :, None] * dp + _H(dp) * s[..., None, :]))
    if np.iscomplexobj(dp):  # (the phase: u's, as autograd's)
        du = du + u * (1j * np.imag(np.diagonal(dp, axis1=-2, axis2=-1)) / s)[..., None, :]
    m, n = np.shape(a)[-2:]
    if m > len(eye):
        du = du + (t @ v - u @ (_H(u) @ t @ v)) / s[..., None, :]
    if n > len(eye):
        dv = dv + (_H(t) @ u - v @ (_H(v) @ _H(t) @ u)) / s[..., None, :]
    return du, ds, _H(dv)


def svd_back(g, a, compute_uv=True, full_matrices=True):
    """Adjoint of ``np.linalg.svd(a)`` (u and vh: distinct nonzero singular values)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    if not compute_uv:
        return svdvals_back(g, a)
    gu, gs, gvt = g if isinstance(g, (tuple, list)) else (0.0, 0.0, 0.0)
    if not (np.any(gu) or np.any(gvt)):  # (zeros, as container_adjoint fills unused entries)
        return svdvals_back(gs, a)
    k = min(np.shape(a)[-2:])
    # (a full SVD of a non-square matrix whose extra columns of u or rows of vh get no adjoint:
    # the reduced SVD's, as PyTorch's; else the AdError of _svd_parts)
    extra = np.any(np.asarray(gu)[..., k:]) if np.ndim(gu) else False
    extra = extra or (np.any(np.asarray(gvt)[..., k:, :]) if np.ndim(gvt) else False)
    u, s, vt, F, eye = _svd_parts(a, full_matrices and bool(extra))
    # (the adjoints for the conjugate-transpose pairing: conjugated in, the result conjugated)
    gu = np.conj(np.zeros(np.shape(u)) + np.asarray(gu)[..., :k]) if np.ndim(gu) \
        else np.zeros(np.shape(u))
    gv = _T(np.zeros(np.shape(vt)) + np.asarray(gvt)[..., :k, :]) if np.ndim(gvt) \
        else _H(np.zeros_like(vt))
    v = _H(vt)
    utgu, vtgv = _H(u) @ gu, _H(v) @ gv
    gs = np.real(np.zeros(np.shape(s)) + gs)
    inner = ((F * (utgu - _H(utgu))) * s[..., None, :] + eye * gs[..., :, None]
             + s[..., :, None] * (F * (vtgv - _H(vtgv))))
    if np.iscomplexobj(utgu):  # (the phase: u's)
        inner = inner + eye * (1j * np.imag(utgu) / s[..., None, :])
    out = u @ inner @ vt
    m, n = np.shape(a)[-2:]
    if m > k:  # (the part of gu outside u's columns)
        out = out + ((gu - u @ utgu) / s[..., None, :]) @ vt
    if n > k:
        out = out + u @ (_H(gv - v @ vtgv) / s[..., :, None])
    return np.conj(out) if np.iscomplexobj(out) else out
