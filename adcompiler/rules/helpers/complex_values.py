"""Helpers of the rules for complex values (``rules/complex_rules.py``, docs/complex.md): the
conjugate phase ``abs`` and ``norm`` need, the factor of ``angle``, and the guard of the rules
written for real values only."""
from __future__ import annotations

import numpy as np

from ...errors import error_at
from ._base import _unsupported, _zero
from .norms import dnorm


def conj_sign(x):
    """``conj(x) / |x|``, 0 where ``x`` is 0 (the subgradient there, as for real ``abs``): the
    derivative of ``|x|`` in JAX's convention; ``np.sign(x)`` for real ``x``."""
    if not np.iscomplexobj(x):
        return np.sign(x)
    size = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(size == 0, 0.0, np.conj(x) / np.where(size == 0, 1.0, size))


def conj_sign_back(g, x):
    """Adjoint of ``x`` in ``conj_sign(x)`` (JAX's convention): ``conj(g) / |x| -
    Re(g conj(x)) conj(x) / |x|^3``, 0 at 0; 0 for real ``x`` (the sign is locally constant).
    The same formula is the tangent along ``g`` (the map is its own transpose)."""
    if _zero(g) or not np.iscomplexobj(x):
        return 0.0 * g
    size = np.abs(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(size == 0, 1.0, size)
        return np.where(size == 0, 0.0, np.conj(g) / safe
                        - np.real(g * np.conj(x)) * np.conj(x) / safe ** 3)


def angle_factor(z, deg=False):
    """The derivative of ``np.angle`` in JAX's convention, ``-1j / z`` (0 at 0; in degrees when
    ``deg``): the angle's tangent is the imaginary part of ``t / z``."""
    scale = 180.0 / np.pi if deg else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(z == 0, 0.0, -1j * scale / np.where(z == 0, 1.0, z))


def dnorm_complex(g, ans, x, ord=None, axis=None, keepdims=False, site=None):
    """Adjoint of ``np.linalg.norm`` for complex ``x`` (real ``x``: ``dnorm``): the vector norms
    and the Frobenius, 1 and inf matrix norms are functions of ``|x|``, so their adjoint is the
    real one at ``|x|`` times ``conj_sign(x)``. The spectral norms of complex matrices ("nuc",
    2, -2) are refused."""
    if _zero(g) or not np.iscomplexobj(x):
        return dnorm(g, ans, x, ord, axis, keepdims)
    x = np.asarray(x)
    vector = x.ndim == 1 or isinstance(axis, int) or (isinstance(axis, tuple) and len(axis) == 1)
    if not vector and ord in ("nuc", 2, -2):
        raise _unsupported("the derivative of np.linalg.norm(x, ord=%r) of a complex matrix is not "
                           "supported" % (ord,), "use the Frobenius norm, or np.linalg.svd")
    return dnorm(np.real(g), ans, np.abs(x), ord, axis, keepdims) * conj_sign(x)


def real_operands(g, operands, where):
    """``g``, the adjoint or tangent a rule written for real values maps, after checking that
    none of the rule's ``operands`` is complex (an AdError at the call ``where``, a rule's
    ``site``: that rule's derivative for complex values is not written)."""
    for x in operands:
        if np.iscomplexobj(x) if not isinstance(x, (list, tuple)) else \
                any(np.iscomplexobj(e) for e in x):
            raise error_at(where, "its derivative is written for real values, and this one is "
                           "complex (its rule for complex values is not written yet)",
                           hint="differentiate the real and imaginary parts as two real values")
    return g
