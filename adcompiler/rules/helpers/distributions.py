"""Checks that the rules of ``scipy.stats.multivariate_normal`` and ``scipy.stats.dirichlet``
make of their arguments' layout: each returns its first argument once the layout is one its
rule's templates are written for, and is otherwise an AdError at the call (SciPy accepts more
layouts, such as a scalar or diagonal covariance, which the templates would get wrong). Then
multivariate_normal's adjoints w.r.t. the covariance, of which SciPy reads the lower triangle,
and its solves, with a singular covariance where ``allow_singular``."""
from __future__ import annotations

import numpy as np

from ...errors import error_at
from ._base import _zero
from .linalg import _lower, _sym_lower


def mvn_checked(v, x, mean, cov, site):
    """``v``, once ``cov`` is a (d, d) matrix, ``mean`` a (d,) vector and ``x`` one point (d,) or
    a stack of points (n, d)."""
    d = np.shape(cov)[0] if np.ndim(cov) == 2 else -1
    if d < 1 or np.shape(cov) != (d, d) or np.shape(mean) != (d,) or np.ndim(x) not in (1, 2) \
            or np.shape(x)[-1] != d or (d == 1 and np.ndim(x) == 1):
        raise error_at(site, "its derivative is written for x of shape (d,) or (n, d), mean of "
                       "shape (d,) and cov of shape (d, d) with d > 1 for a single point; here "
                       "x, mean and cov have shapes %s, %s and %s"
                       % (np.shape(x), np.shape(mean), np.shape(cov)),
                       hint="pass mean as a vector and cov as a full matrix (np.diag(v) for a "
                            "diagonal one)")
    return v


def dirichlet_checked(v, x, alpha, site):
    """``v``, once ``x`` and ``alpha`` are vectors of one length (one point, every component)."""
    if np.ndim(x) != 1 or np.shape(alpha) != np.shape(x):
        raise error_at(site, "its derivative is written for one point x with every component, "
                       "of alpha's shape; here x and alpha have shapes %s and %s"
                       % (np.shape(x), np.shape(alpha)),
                       hint="call it once per point, with the last component included")
    return v


# multivariate_normal reads the lower triangle of cov (SciPy's _PSD: eigh(cov, lower=True)),
# and with allow_singular=True treats the eigenvalues under SciPy's cutoff as zeros
def _cutoff(s):
    """SciPy's magnitude under which an eigenvalue of a covariance counts as zero."""
    kind = np.asarray(s).dtype.char.lower()
    return {"f": 1e3, "d": 1e6}.get(kind, 1e6) * np.finfo(kind if kind in "fd" else "d").eps \
        * np.max(np.abs(s))


def singular_cov(cov):
    """Whether SciPy counts the covariance ``cov`` as singular (an eigenvalue under its cutoff)."""
    s = np.linalg.eigvalsh(cov)
    return bool(np.min(s) <= _cutoff(s))


def singular_pinv(cov):
    """The pseudo-inverse SciPy uses for a singular covariance ``cov`` (not differentiated: its
    rank changes with any perturbation that leaves its range)."""
    s, u = np.linalg.eigh(cov)
    kept = s > _cutoff(s)
    return (u * np.where(kept, 1.0 / np.where(kept, s, 1.0), 0.0)) @ u.T


def mvn_solve(cov, r, allow_singular):
    """``cov^-1 r`` for each point (last axis) of ``r = x - mean``, with the symmetric matrix
    SciPy reads; its pseudo-inverse for a singular ``cov`` when ``allow_singular``."""
    if allow_singular and singular_cov(cov):
        return r @ singular_pinv(cov)
    a = np.linalg.solve(_sym_lower(cov), np.transpose(np.atleast_2d(r)))
    return np.reshape(np.transpose(a), np.shape(r))


def _regular(cov, allow_singular, site):
    """``cov``, once it is regular where ``allow_singular`` (else an AdError at the call)."""
    if allow_singular and singular_cov(cov):
        raise error_at(site, "its derivative w.r.t. a singular covariance is not defined (its "
                       "rank, and so the density's support, changes with the covariance)",
                       hint="differentiate w.r.t. x and mean only, or make the covariance "
                            "regular")
    return cov


def mvn_cov_back(w, a, cov, allow_singular, site):
    """Adjoint of ``cov`` in multivariate_normal.logpdf for the points' adjoints ``w`` (times the
    pdf for pdf), ``a`` the points' ``cov^-1 (x - mean)``: onto the triangle SciPy reads."""
    if _zero(w):
        return w
    cov = _regular(cov, allow_singular, site)
    wa = np.atleast_2d(np.expand_dims(w, -1) * a)
    return _lower(0.5 * (wa.T @ np.atleast_2d(a) - np.sum(w) * np.linalg.inv(_sym_lower(cov))))


def mvn_cov_jvp(a, cov, t, allow_singular, site):
    """The part of multivariate_normal.logpdf's tangent from the tangent ``t`` of ``cov``."""
    if _zero(t):
        return t
    cov = _regular(cov, allow_singular, site)
    t = _sym_lower(t)
    return 0.5 * (np.einsum("...i,ij,...j->...", a, t, a)
                  - np.sum(np.linalg.inv(_sym_lower(cov)) * t))


def mvn_entropy_back(g, cov, site):
    """Adjoint of ``cov`` in multivariate_normal.entropy (half its log-determinant)."""
    if _zero(g):
        return g
    cov = _entropy_checked(cov, site)
    return _lower(0.5 * g * np.linalg.inv(_sym_lower(cov)))


def mvn_entropy_jvp(cov, t, site):
    if _zero(t):
        return t
    cov = _entropy_checked(cov, site)
    return 0.5 * np.sum(np.linalg.inv(_sym_lower(cov)) * _sym_lower(t))


def _entropy_checked(cov, site):
    if np.ndim(cov) != 2 or np.shape(cov)[0] != np.shape(cov)[1]:
        raise error_at(site, "its derivative is written for cov of shape (d, d); here it has "
                       "shape %s" % (np.shape(cov),),
                       hint="pass cov as a full matrix (np.diag(v) for a diagonal one)")
    return _regular(cov, True, site)
