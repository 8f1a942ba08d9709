"""Helpers of elementwise functions whose derivative is too long for a one-line template:
``x ** y`` with a variable exponent (with the tangents and adjoints of those helpers, for
gradient code differentiated again), the divisors that make an infinite derivative at a point
its subgradient 0 (``nonzero_or_inf``), the masks of clip and of the nan-skipping reductions,
mod and fmod, sinc, digamma, and the checks a rule makes of its operand (real values only, the
result's dtype)."""
from __future__ import annotations

import math

import numpy as np

from ...errors import COMPLEX_HINT, COMPLEX_UNSUPPORTED, error_at
from ...runtime import unbroadcast
from ._base import _float, _zero

_INF = float("inf")


def dpow_base(g, x, y):
    """Adjoint of ``x`` in ``x ** y`` for a variable exponent: zero where ``y`` is 0 (``x ** -1``
    would be inf, or an error for floats, at x = 0: polynomials written ``c[i] * x ** i``), where
    ``g`` is 0 (a zero tangent contributes nothing) and at x = 0 for y < 1, where the derivative
    is infinite and taken as 0 (see ``nonzero_or_inf``)."""
    if np.ndim(y) == 0 and np.ndim(g) == 0:
        if y == 0 or not g:
            return 0.0 * g
        if np.ndim(x) == 0:
            return g * y * x ** (y - 1) if x != 0 or np.real(y) >= 1 else 0.0 * g * x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((y == 0) | (g == 0), 0.0, g * y * _power_or_zero(x, y - 1.0))


def _power_or_zero(x, p):
    """``x ** p``, and 0 where x is 0 and p < 0 (its real part, for a complex one): a derivative
    of a power that is infinite there."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & (np.real(p) < 0), 0.0, np.power(x, p))


def _where_nonzero(factor, value):
    """``value`` where ``factor`` is non-zero, else 0 (``value`` may be nan or inf there)."""
    if np.ndim(factor) == 0:
        return value() if factor != 0 else 0.0 * factor
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(factor == 0, 0.0, value())


def where_nonzero(d, value):
    """``value`` where the adjoint ``d`` is non-zero, else 0: the vjp of an adjoint that is 0
    where ``np.where`` did not pick the value (``value`` may be NaN or inf there: the derivative
    of ``np.sqrt`` at the negative entries ``np.where(x > 0, np.sqrt(x), 0.0)`` leaves out)."""
    if d.__class__ is float or (np.ndim(d) == 0 and np.ndim(value) == 0):
        return value if d != 0 else 0.0 * d
    with np.errstate(invalid="ignore"):
        return np.where(np.equal(d, 0), 0.0, value)


def where_picked(d, t_d, t_value):
    """Tangent of ``where_nonzero(d, value)`` (forward mode over gradient code): ``t_value`` where
    the adjoint ``d`` or its tangent ``t_d`` is non-zero, else 0. An entry the selecting function
    did not pick has an adjoint that is 0 whatever the input (both are 0 there); one it picked
    may have an adjoint that is 0 at this input only, whose tangent still counts."""
    if t_d.__class__ is float and not t_d:
        return where_nonzero(d, t_value)
    if np.ndim(d) == 0 and np.ndim(t_d) == 0 and np.ndim(t_value) == 0:
        return t_value if d != 0 or t_d != 0 else 0.0 * t_value
    with np.errstate(invalid="ignore"):
        return np.where(np.equal(d, 0) & np.equal(t_d, 0), 0.0, t_value)


def dpow_base_jvp(v, x, y, t_v, t_x, t_y):
    """Tangent of ``dpow_base(v, x, y)`` (forward mode over gradient code)."""
    out = dpow_base(t_v, x, y)
    if not _zero(t_x):
        out = out + _where_nonzero(y * (y - 1),
                                   lambda: v * t_x * y * (y - 1) * _power_or_zero(x, y - 2.0))
    if not _zero(t_y):
        varies, base = _exponent_base(x, y)
        out = out + _where_nonzero(
            t_y * varies, lambda: t_y * v * np.power(x, y - 1.0) * (1.0 + y * np.log(base)))
    return out


def dpow_base_x_back(g, v, x, y):
    """Adjoint of ``x`` in ``dpow_base(v, x, y)`` (reverse over gradient code)."""
    return _where_nonzero(y * (y - 1), lambda: g * v * y * (y - 1) * _power_or_zero(x, y - 2.0))


def dpow_base_y_back(g, v, x, y):
    """Adjoint of ``y`` in ``dpow_base(v, x, y)`` (reverse over gradient code)."""
    varies, base = _exponent_base(x, y)
    return _where_nonzero(g * v * varies,
                          lambda: g * v * np.power(x, y - 1.0) * (1.0 + y * np.log(base)))


def _exponent_base(x, y):
    """(where ``x ** y`` varies with ``y``, the base to take the log of there): for a complex base
    or exponent, every non-zero base, as a complex number (a negative one too); else as
    ``log_base``."""
    if np.iscomplexobj(x) or np.iscomplexobj(y):
        varies = np.not_equal(x, 0)
        return varies, np.where(varies, x, 1.0) + 0j
    return _varies_with_exponent(x), x


def dpow_exponent_x_back(g, v, out, x):
    """Adjoint of ``x`` in ``dpow_exponent(v, out, x)`` (reverse over gradient code)."""
    return _where_nonzero(v, lambda: g * v * out * _inverse_base(x))


def dpow_exponent_jvp(v, ans, x, t_v, t_ans, t_x):
    """Tangent of ``dpow_exponent(v, ans, x)``."""
    out = dpow_exponent(t_v, ans, x)
    if not _zero(t_ans):
        out = out + dpow_exponent(v * t_ans, 1.0, x)
    if not _zero(t_x):
        out = out + _where_nonzero(v, lambda: v * ans * t_x * _inverse_base(x))
    return out


def log_base(x):
    """``log(x)`` of a power's base where ``x ** y`` varies with ``y``, else 0 (TensorFlow's
    convention): at a zero base ``x ** y`` is 0 or 1 near y >= 0, and at a negative one only
    integer ``y`` give real values, so no derivative in ``y`` exists; 0 there keeps a chain
    rule that cancels it (``t - t``) from turning into NaN."""
    if x.__class__ is _float:
        return math.log(x) if x > 0 else 0.0
    varies = _varies_with_exponent(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(varies, np.log(np.where(varies, x, 1.0)), 0.0)


def _varies_with_exponent(x):
    """Where ``x ** y`` has a derivative in ``y`` (see ``log_base``): a positive base, a non-zero
    complex one."""
    x = np.asarray(x)
    return x != 0 if np.iscomplexobj(x) else x > 0


def _inverse_base(x):
    """The derivative of ``log_base(x)``: ``1 / x`` where it is ``log(x)``, else 0."""
    varies = _varies_with_exponent(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(varies, 1.0 / np.where(varies, x, 1.0), 0.0)


def dpow_exponent(g, ans, x):
    """Adjoint of ``y`` in ``x ** y``, ``g * ans * log(x)``, 0 at a zero or negative base (see
    ``log_base``); and zero where ``g`` is zero, so an exponent with a zero tangent (a loop
    counter in forward-over-reverse) never meets an infinite ``ans``."""
    if g.__class__ is _float and not g:
        return g
    if np.iscomplexobj(ans):  # (a complex power: the complex log, of a negative base too)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.equal(x, 0) | np.equal(g, 0), 0.0,
                            g * ans * np.log(np.where(np.equal(x, 0), 1.0, x) + 0j))
    if np.ndim(g) == 0 and np.ndim(x) == 0:
        return g * ans * log_base(x) if g else 0.0 * g
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(g == 0, 0.0, g * ans * log_base(x))


def result_dtype(a, dtype):
    """The dtype of ``np.full_like(a, ..., dtype)``: ``dtype``, or ``a``'s when it is None."""
    if dtype is not None:
        return dtype
    return a.dtype if isinstance(a, np.ndarray) else np.asarray(a).dtype


def real_adjoint(g, x, site):
    """``g``, for a function whose rule is written for real ``x`` (abs, real, imag, conj, angle:
    not holomorphic). A complex ``x`` is an AdError at the call ``site`` (complex values inside
    differentiated code are not supported yet), never a silently wrong derivative."""
    if (
        (x.dtype.kind == "c")
        if x.__class__ is np.ndarray
        else isinstance(x, (complex, np.complexfloating))
    ):
        raise error_at(site, "its derivative is written for real values, and this one is complex: "
                       + COMPLEX_UNSUPPORTED, hint=COMPLEX_HINT)
    return g


def nonzero_or_one(a):
    """``a`` with its zeros replaced by 1: the divisor of a derivative such as hypot's ``x / ans``,
    which is then 0 where ``ans`` (and ``x``) is 0, the subgradient there, not 0 / 0."""
    if a.__class__ is np.ndarray:
        return np.where(a == 0, 1.0, a).astype(a.dtype, copy=False)
    return a if a else a.__class__(1.0)


def nonzero_or_inf(a):
    """``a`` with its zeros replaced by inf: the divisor of a derivative that is infinite where the
    function's value is finite (sqrt and cbrt at 0, ``x ** 0.5`` at 0, arcsin at 1), which is then
    taken as 0 there, the subgradient, as for hypot and norm at 0. A locally constant input then
    gives gradient 0 (``np.sqrt(np.maximum(x, 0))`` for x < 0, ``np.arccos(np.clip(c, -1, 1))`` for
    c > 1), not the NaN of inf * 0. Without zeros, ``a`` itself: no copy on the hot path."""
    if a.__class__ is np.ndarray:
        # (the faster test at each size)
        if (np.count_nonzero(a) == a.size) if a.size < 4096 else a.all():
            return a
        return np.where(a == 0, np.inf, a).astype(a.dtype, copy=False)
    return a if a else _INF


def sinc_back(g, x):
    """Adjoint of ``np.sinc(x) = sin(pi x) / (pi x)``."""
    x = np.asarray(x, dtype=float)
    px = np.pi * np.where(x == 0, 1.0, x)
    d = np.where(x == 0, 0.0, (np.cos(px) * px - np.sin(px)) / (px * np.where(x == 0, 1.0, x)))
    return g * d


def mod_back(g, x1, x2):
    """Adjoint of ``x1 % x2`` w.r.t. ``x2``."""
    return -g * np.floor_divide(x1, x2)


def fmod_back(g, x1, x2):
    """Adjoint of ``np.fmod(x1, x2)`` w.r.t. ``x2``."""
    return -g * np.trunc(np.true_divide(x1, x2))


def digamma(x):
    """The digamma function (derivative of log Gamma) for real x > 0 and non-integer x <= 0."""
    result = 0.0
    if x <= 0:  # reflection
        return digamma(1.0 - x) - np.pi / np.tan(np.pi * x)
    while x < 6.0:  # (rebinding, not +=: code differentiating this again may not know x's kind)
        result = result - 1.0 / x
        x = x + 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    return (
        result
        + np.log(x)
        - 0.5 * inv
        - inv2
        * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))))
    )


def digamma_array(x):
    """``digamma`` elementwise (scipy.special.gammaln's derivative on arrays)."""
    if np.ndim(x) == 0:
        return digamma(float(x))
    return np.vectorize(digamma, otypes=[float])(x)


def inside(a, lo, hi):
    """1.0 where ``lo <= a <= hi`` (None: no bound), else 0.0: the derivative of clip."""
    mask = True
    if lo is not None:
        mask = np.greater_equal(a, lo)
    if hi is not None:
        mask = np.logical_and(mask, np.less_equal(a, hi))
    return np.asarray(mask, dtype=float)


def select_choices_back(g, condlist, choicelist):
    """Adjoints of ``np.select(condlist, choicelist, default)``'s choices: each gets ``g`` where
    its condition is the first one that holds."""
    if _zero(g):
        return [g] * len(choicelist)
    taken, out = np.zeros(np.shape(g), dtype=bool), []
    for cond, choice in zip(condlist, choicelist):
        out.append(unbroadcast(np.where(cond & ~taken, g, 0.0), choice))
        taken = taken | cond
    return out


def select_default_back(g, condlist, default):
    """Adjoint of ``np.select``'s ``default``: ``g`` where no condition holds."""
    if _zero(g):
        return g
    return unbroadcast(np.where(np.any([np.broadcast_to(c, np.shape(g)) for c in condlist], axis=0),
                                0.0, g), default)


def select_choices_jvp(condlist, t_choicelist, t_default):
    """Tangent of ``np.select`` along its choices' and default's tangents (0.0: zero)."""
    t_choices = [0.0] * len(condlist) if _zero(t_choicelist) else t_choicelist
    return np.select(condlist, [np.asarray(t, dtype=float) for t in t_choices], t_default)
