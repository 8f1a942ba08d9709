"""Adjoints and tangents of ``scipy.spatial.distance``'s pairwise distances (``cdist``, and
``pdist`` through its square form) for the metrics "sqeuclidean", "euclidean" and "cityblock".
A Euclidean distance of 0 (a point and itself) gets the subgradient 0, as ``np.linalg.norm``
does."""
from __future__ import annotations

import numpy as np

from ._base import _float


def _per_squared(g, metric, ans):
    """The adjoint w.r.t. the squared distances: ``g / (2 d)`` for "euclidean"."""
    if metric == "euclidean":
        return np.where(ans > 0, g / (2.0 * np.where(ans > 0, ans, 1.0)), 0.0)
    return g


def cdist_back(g, XA, XB, metric, ans, side):
    """The adjoint of ``XA`` (``side`` 0) or ``XB`` (1) of ``cdist(XA, XB, metric)``."""
    if g.__class__ is _float and not g:
        return g
    XA, XB, g = np.asarray(XA), np.asarray(XB), np.asarray(g)
    if side:
        XA, XB, g = XB, XA, g.T
    if metric == "cityblock":
        return np.einsum("ij,ijk->ik", g, np.sign(XA[:, None, :] - XB[None, :, :]))
    w = _per_squared(g, metric, ans if not side else np.asarray(ans).T)
    return 2.0 * (np.sum(w, axis=1)[:, None] * XA - w @ XB)


def cdist_jvp(XA, XB, t_XA, t_XB, metric, ans):
    """The tangent of ``cdist(XA, XB, metric)`` along ``t_XA`` and ``t_XB`` (0.0: held)."""
    XA, XB = np.asarray(XA), np.asarray(XB)
    dA = np.zeros_like(XA) if t_XA.__class__ is _float else np.asarray(t_XA)
    dB = np.zeros_like(XB) if t_XB.__class__ is _float else np.asarray(t_XB)
    if metric == "cityblock":
        return np.einsum("ijk,ijk->ij", np.sign(XA[:, None, :] - XB[None, :, :]),
                         dA[:, None, :] - dB[None, :, :])
    squared = 2.0 * (np.sum(XA * dA, axis=1)[:, None] - XA @ dB.T - dA @ XB.T
                     + np.sum(XB * dB, axis=1)[None, :])
    if metric == "euclidean":
        return np.where(ans > 0, squared / (2.0 * np.where(ans > 0, ans, 1.0)), 0.0)
    return squared


def pdist_back(g, X, metric, ans):
    """The adjoint of ``X`` of ``pdist(X, metric)``: the first operand's of ``cdist(X, X)``
    given the square form of ``g`` (which holds each pair's adjoint both ways)."""
    if g.__class__ is _float and not g:
        return g
    import scipy.spatial.distance as ssd
    G, D = ssd.squareform(np.asarray(g), checks=False), ssd.squareform(ans, checks=False)
    return cdist_back(G, X, X, metric, D, 0)


def pdist_jvp(X, t_X, metric, ans):
    """The tangent of ``pdist(X, metric)`` along ``t_X``."""
    import scipy.spatial.distance as ssd
    full = cdist_jvp(X, X, t_X, t_X, metric, ssd.squareform(ans, checks=False))
    return full[np.triu_indices(len(full), 1)]


def squareform_back(g, X):
    """The adjoint of ``squareform(X)``: a condensed vector made a square matrix (each entry
    read twice), or a square matrix's upper triangle made a vector."""
    import scipy.spatial.distance as ssd
    g = np.asarray(g)
    if np.ndim(X) == 1:
        return (g + g.T)[np.triu_indices(len(g), 1)]
    return np.triu(ssd.squareform(g, checks=False), 1)
