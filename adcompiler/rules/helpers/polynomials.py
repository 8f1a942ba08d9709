"""Adjoints and tangents of polynomials and of functions sampled on a grid: polyval, polyder,
vander, the series of ``numpy.polynomial``, convolve, interp, trapezoid and linspace."""
from __future__ import annotations

import numpy as np

from ...runtime import unbroadcast
from ._base import _unsupported, _zero


def _linspace_weights(num, endpoint, end, ndim):
    t = np.arange(num) / (num - 1 if endpoint else num) if num > 1 else np.zeros(num)
    return (t if end else 1.0 - t).reshape((num,) + (1,) * ndim)


def linspace_back(g, bound, num, endpoint, end):
    """Adjoint of ``np.linspace(start, stop, num)`` w.r.t. start (``end`` 0) or stop (``end`` 1)."""
    if _zero(g):  # (the zero of any structure: nothing to map)
        return g
    return np.sum(g * _linspace_weights(num, endpoint, end, np.ndim(bound)), axis=0)


def linspace_jvp(t_start, t_stop, start, num, endpoint):
    """Tangent of ``np.linspace(start, stop, num)``."""
    t = 0.0
    for tangent, end in ((t_start, 0), (t_stop, 1)):
        if not _zero(tangent):
            t = t + tangent * _linspace_weights(num, endpoint, end, np.ndim(tangent))
    return t if not _zero(t) else np.zeros((num,) + np.shape(start))


def polyval_coeff_back(g, p, x, t_x=None):
    """Adjoint of ``np.polyval(p, x)`` w.r.t. the coefficients ``p``: the powers of ``x`` (with
    ``t_x``: the tangent of that adjoint along ``t_x``, from the powers' derivatives)."""
    if _zero(g) or (t_x is not None and _zero(t_x)):
        return 0.0
    exponents = np.arange(len(p) - 1, -1, -1)
    x = np.asarray(x)[..., None]
    if t_x is None:
        powers = x ** exponents
    else:
        powers = exponents * x ** np.maximum(exponents - 1, 0) * np.asarray(t_x)[..., None]
    return np.sum(np.reshape(g * np.ones(np.shape(x)[:-1]), np.shape(x)) * powers,
                  axis=tuple(range(np.ndim(x) - 1)))


def convolve_back(g, a, v, mode, which):
    """Adjoint of ``np.convolve(a, v, mode)`` w.r.t. ``a`` (which=0) or ``v``: the full-mode
    adjoint (a valid correlation with the other operand) of ``g`` placed in the full output."""
    if _zero(g):
        return g
    a, v = np.asarray(a), np.asarray(v)  # (lists, as np.convolve takes them)
    n, m = len(a), len(v)
    full = np.zeros(n + m - 1, dtype=np.result_type(g, a, v))
    # g's place in full
    start = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]
    full[start:start + len(g)] = g
    return np.correlate(full, v if which == 0 else a, "valid")


def interp_slope(x, xp, fp):
    """d np.interp(x, xp, fp) / dx: the slope of the segment holding x (0 outside xp)."""
    xp, fp = np.asarray(xp), np.asarray(fp)  # (lists, as np.interp takes them)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    slope = (fp[i + 1] - fp[i]) / (xp[i + 1] - xp[i])
    return np.where((x < xp[0]) | (x > xp[-1]), 0.0, slope)


def interp_fp_back(g, x, xp, fp):
    """Adjoint of ``fp`` in ``np.interp(x, xp, fp)``: each x splits its adjoint between the two
    ends of its segment."""
    if _zero(g):
        return g
    x, g = np.ravel(x), np.ravel(g * np.ones(np.shape(x)))
    xp = np.asarray(xp)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    t = np.clip((x - xp[i]) / (xp[i + 1] - xp[i]), 0.0, 1.0)
    out = np.zeros(np.shape(fp))
    np.add.at(out, i, g * (1.0 - t))
    np.add.at(out, i + 1, g * t)
    return out


def _knot_weights(x, xp, fp):
    """(segment of each x, d y / d xp at its left knot, at its right knot) of ``np.interp(x, xp,
    fp)``: moving a knot moves the line of the segment it ends; 0 outside ``xp``."""
    xp, fp = np.asarray(xp, dtype=float), np.asarray(fp)
    i = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, len(xp) - 2)
    width = xp[i + 1] - xp[i]
    t = (x - xp[i]) / width
    slope = np.where((x < xp[0]) | (x > xp[-1]), 0.0, (fp[i + 1] - fp[i]) / width)
    return i, slope * (t - 1.0), -slope * t


def interp_xp_back(g, x, xp, fp):
    """Adjoint of ``xp`` in ``np.interp(x, xp, fp)``: each x gives its adjoint to the two knots
    of its segment."""
    if _zero(g):
        return g
    x, g = np.ravel(x), np.ravel(g * np.ones(np.shape(x)))
    i, left, right = _knot_weights(x, xp, fp)
    out = np.zeros(np.shape(xp))
    np.add.at(out, i, g * left)
    np.add.at(out, i + 1, g * right)
    return out


def interp_xp_back_jvp(v, x, xp, fp, t_v, t_x, t_xp, t_fp):
    """Tangent of ``interp_xp_back(v, x, xp, fp)`` (forward over reverse): each of its terms
    ``v * slope * (t - 1)`` and ``-v * slope * t`` moved by every tangent."""
    x = np.ravel(x)
    v, t_v, t_x = (np.ravel(a * np.ones(np.shape(x))) for a in (v, t_v, t_x))
    xp, fp = np.asarray(xp, dtype=float), np.asarray(fp)
    t_xp, t_fp = np.zeros(np.shape(xp)) + t_xp, np.zeros(np.shape(fp)) + t_fp
    i, left, right = _knot_weights(x, xp, fp)
    inside = (x >= xp[0]) & (x <= xp[-1])
    width = xp[i + 1] - xp[i]
    t = (x - xp[i]) / width
    slope = np.where(inside, (fp[i + 1] - fp[i]) / width, 0.0)
    d_width = t_xp[i + 1] - t_xp[i]
    d_t = (t_x - t_xp[i] - t * d_width) / width
    d_slope = np.where(inside, (t_fp[i + 1] - t_fp[i] - slope * d_width) / width, 0.0)
    out = np.zeros(np.shape(xp))
    np.add.at(out, i, t_v * left + v * (d_slope * (t - 1.0) + slope * d_t))
    np.add.at(out, i + 1, t_v * right - v * (d_slope * t + slope * d_t))
    return out


def interp_xp_tangent(x, xp, fp, t_xp):
    """Tangent of ``np.interp(x, xp, fp)`` for the tangent ``t_xp`` of the knots."""
    i, left, right = _knot_weights(x, xp, fp)
    t_xp = np.asarray(t_xp)
    return left * t_xp[i] + right * t_xp[i + 1]


def trapezoid_back(g, y, x=None, dx=1.0, axis=-1):
    """Adjoint of ``y`` in ``np.trapezoid(y, x, dx, axis)``: half the neighbouring widths."""
    if _zero(g):
        return g
    y = np.asarray(y)
    n = y.shape[axis]
    widths = (
        np.diff(x, axis=-1 if np.ndim(x) == 1 else axis) if x is not None else np.full(n - 1, dx)
    )
    last = np.moveaxis(widths, axis, -1) if np.ndim(widths) > 1 else widths
    zero = np.zeros(np.shape(last)[:-1] + (1,))
    weights = 0.5 * (np.concatenate([last, zero], axis=-1) + np.concatenate([zero, last], axis=-1))
    if np.ndim(widths) == 1:
        shape = [1] * y.ndim
        shape[axis] = n
        return np.expand_dims(g, axis) * np.reshape(weights, shape)
    return np.expand_dims(g, axis) * np.moveaxis(weights, -1, axis)


def _trapezoid_point_weights(y, axis):
    """d area / d x_i for each sample point, with the sample axis last."""
    y = np.moveaxis(np.asarray(y), axis, -1)
    pairs = 0.5 * (y[..., 1:] + y[..., :-1])       # d area / d width of each interval
    weights = np.zeros(y.shape)
    weights[..., 1:] += pairs
    weights[..., :-1] -= pairs
    return weights


def trapezoid_x_back(g, y, x, axis=-1):
    """Adjoint of the sample points ``x`` in ``np.trapezoid(y, x, axis=axis)``."""
    if _zero(g) or x is None:
        return 0.0
    dx = np.expand_dims(g, -1) * _trapezoid_point_weights(y, axis)
    if np.ndim(x) == 1:
        return np.sum(dx.reshape(-1, dx.shape[-1]), axis=0)
    return unbroadcast(np.moveaxis(dx, -1, axis), x)


def trapezoid_x_jvp(y, x, t_x, axis=-1):
    """Tangent of ``np.trapezoid(y, x, axis=axis)`` along the sample points' tangent ``t_x``."""
    if _zero(t_x) or x is None:
        return 0.0
    t = t_x if np.ndim(t_x) == 1 else np.moveaxis(t_x, axis, -1)
    return np.sum(_trapezoid_point_weights(y, axis) * t, axis=-1)


def vander_slope(x, N=None, increasing=False):
    """d np.vander(x, N, increasing) / dx, column by column: p * x ** (p - 1)."""
    n = len(x) if N is None else N
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return powers * np.asarray(x)[:, None] ** np.maximum(powers - 1, 0)


def polyder_back(g, p, m=1):
    """Adjoint of ``np.polyder(p, m)``: each derivative scales coefficient k by its power."""
    if _zero(g):
        return g
    for size in range(len(p) - m + 1, len(p) + 1):
        g = np.append(np.asarray(g) * np.arange(size - 1, 0, -1), 0.0)
    return g


def series_coeff_back(g, x, c, val):
    """Adjoint of the coefficients ``c`` (one series) of a ``numpy.polynomial`` series evaluated
    at ``x`` (``val(x, c)``, linear in ``c``): each basis series at ``x``, weighted by ``g``
    (written with ``val``, whose rule differentiates this again)."""
    if _zero(g):
        return g
    if np.ndim(c) != 1:
        raise _several_series(c)
    return np.array([np.sum(g * val(x, e)) for e in np.eye(len(c))])


def series_der_back(g, c, m, scl, der):
    """Adjoint of a ``numpy.polynomial`` series' derivative ``der(c, m, scl)`` (linear in ``c``):
    the derivative of each basis series, weighted by ``g``."""
    if _zero(g):
        return g
    if np.ndim(c) != 1:
        raise _several_series(c)
    return np.array([np.sum(g * der(e, m, scl)) for e in np.eye(len(c))])


def _several_series(c):
    return _unsupported("the derivative w.r.t. the coefficients of several series at once (of "
                        "shape %s) is not supported" % (np.shape(c),),
                        "evaluate and differentiate one series (1-D coefficients) per call")
