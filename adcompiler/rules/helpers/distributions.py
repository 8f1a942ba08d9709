"""Checks that the rules of ``scipy.stats.multivariate_normal`` and ``scipy.stats.dirichlet``
make of their arguments' layout: each returns its first argument once the layout is one its
rule's templates are written for, and is otherwise an AdError at the call (SciPy accepts more
layouts, such as a scalar or diagonal covariance, which the templates would get wrong)."""
from __future__ import annotations

import numpy as np

from ...errors import error_at


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
