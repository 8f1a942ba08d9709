"""Rules in code that computes with complex values (docs/complex.md: JAX's convention, where
the adjoint of a linear map is its transpose, not its conjugate transpose).

In that convention the rule of a holomorphic function (``exp``, ``*``, ``@``, ``np.sum``, the
FFTs...) is its real rule as written: ``g * f'(z)``. A function that is not holomorphic (abs,
the real and imaginary parts, the conjugate, the angle, var, std, norm, vdot) has templates of
its own here, used in place of the real ones. Every other entry is guarded: its templates check
at run time that no operand is complex (``real_operands``), so a rule written for real values is
never applied to a complex one. A function that gives no gradient for real values but varies
with a complex one (``np.sign``: ``z / |z|``) is refused. Code generated for real values only
never sees these variants: the compiler uses them only where complex values may occur
(``for_complex``)."""
from __future__ import annotations

import builtins
import operator
from dataclasses import replace

import gast
import numpy as np

from .. import runtime
from . import runtime_rules
from .core import Rule, _key, _parse
from .helpers import complex_values, containers, elementwise, polynomials, shapes

# entries whose real rule holds for complex values: holomorphic functions, and the linear ones
# whose coefficients are real (``linear`` entries are, but for those listed in NOT_LINEAR)
HOLOMORPHIC = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg,
    operator.pos, operator.matmul, builtins.pow, builtins.sum, builtins.complex, builtins.float,
    np.add, np.subtract, np.multiply, np.divide, np.power, np.float_power, np.negative,
    np.positive, np.square, np.reciprocal, np.sqrt, np.exp, np.exp2, np.expm1, np.log, np.log2,
    np.log10, np.log1p, np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan, np.sinh,
    np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh, np.where, np.sum, np.mean, np.prod,
    np.add.reduce, np.multiply.reduce, np.cumprod, np.dot, np.matmul, np.inner, np.tensordot,
    np.kron, np.einsum, np.outer, np.cross, np.add.outer, np.subtract.outer,
    np.multiply.outer, np.divide.outer, np.polyval, np.linalg.det, np.linalg.inv,
    np.linalg.solve, np.linalg.matrix_power, np.linalg.multi_dot,
    np.complex64, np.complex128, np.clongdouble, complex_values.angle_factor, list.__add__,
    builtins.list, builtins.tuple, "items", np.diff,
    # selections (what they pick and the ties are NumPy's order of complex values; the adjoint
    # goes to the entries picked, never conjugated)
    np.max, np.amax, np.min, np.amin, np.maximum.reduce, np.minimum.reduce, "max", "min",
    # array methods with a NumPy function's rule
    "sum", "mean", "prod", "dot", "cumprod",
]
# entries whose helpers compute the derivative for complex values themselves (the spectral
# decompositions: rules/helpers/spectral.py), and SciPy's holomorphic functions (added by
# their tables: ``holds_for_complex``)
OWN_COMPLEX = [np.linalg.eig, np.linalg.eigvals, np.linalg.eigh, np.linalg.eigvalsh,
               np.linalg.svd, *([np.linalg.svdvals] if hasattr(np.linalg, "svdvals") else [])]
NOT_LINEAR = ["tolist"]  # (linear entries that are not over the complex field)
# the rules of adcompiler's own helpers (gradient code differentiated again) are linear in the
# adjoint they receive, with real coefficients, or holomorphic, but for these: comparisons,
# selections and the real conventions of powers
RUNTIME_REAL_ONLY = [elementwise.dpow_exponent, elementwise.real_adjoint,
                     containers.sorted_back, containers.dselect, shapes.sort_back,
                     shapes.partition_back, polynomials.interp_fp_back,
                     polynomials.interp_xp_back, runtime.log_softmax, runtime.logistic]
VARIES = [np.sign]  # (no gradient for real values: z / |z| for complex ones)

_ABS = ({"x": "np.real(g) * conj_sign(x)"}, "np.real(conj_sign(x) * t_x)")
_CONJ = ({"x": "np.conj(g)"}, "np.conj(t_x)")
_VAR = ({"a": "unreduce(np.real(g), a, axis, keepdims) * 2.0 * np.conj(a - np.mean(a, axis=axis, "
              "keepdims=True)) / (reduced_size(a, axis) - ddof)"},
        "np.sum(2.0 * np.real(np.conj(a - np.mean(a, axis=axis, keepdims=True)) * t_a), "
        "axis=axis, keepdims=keepdims) / (reduced_size(a, axis) - ddof)")
_STD = ({"a": "unreduce(np.real(g) / nonzero_or_one(ans), a, axis, keepdims) * "
              "np.conj(deviations(a, axis)) / (reduced_size(a, axis) - ddof)"},
        "np.sum(np.real(np.conj(deviations(a, axis)) * t_a), axis=axis, keepdims=keepdims) / "
        "((reduced_size(a, axis) - ddof) * nonzero_or_one(ans))")
# the templates of the entries that are not holomorphic: (vjps by parameter, jvp)
TEMPLATES = {
    np.absolute: _ABS, builtins.abs: _ABS,
    np.conjugate: _CONJ, "conj": _CONJ, "conjugate": _CONJ,
    np.real: ({"val": "np.real(g)"}, "np.real(t_val)"),
    "real": ({"a": "np.real(g)"}, "np.real(t_a)"),
    np.imag: ({"val": "-1j * np.real(g)"}, "np.imag(t_val)"),
    "imag": ({"a": "-1j * np.real(g)"}, "np.imag(t_a)"),
    np.angle: ({"z": "np.real(g) * angle_factor(z, deg)"}, "np.real(angle_factor(z, deg) * t_z)"),
    # (its result is real where the imaginary parts are negligible: only the real part counts)
    np.real_if_close: ({"a": "np.real(g) if np.isrealobj(ans) else g"},
                       "np.real(t_a) if np.isrealobj(ans) else t_a"),
    np.var: _VAR, "var": _VAR, np.std: _STD, "std": _STD,
    np.linalg.norm: ({"x": "dnorm_complex(g, ans, x, ord, axis, keepdims, site)"},
                     "np.real(np.sum(dnorm_complex(1.0, ans, x, ord, axis, keepdims, site) * t_x, "
                     "axis=axis, keepdims=keepdims))"),
    # (the map is its own transpose: its adjoint and its tangent are one formula)
    complex_values.conj_sign: ({"x": "conj_sign_back(g, x)"}, "conj_sign_back(t_x, x)"),
    np.vdot: ({"a": "np.reshape(np.conj(g * np.ravel(b)), np.shape(a))",
               "b": "np.reshape(g * np.conj(np.ravel(a)), np.shape(b))"},
              "np.vdot(t_a, b) + np.vdot(a, t_b)"),
}


_HOLOMORPHIC = {_key(f) for f in HOLOMORPHIC}
_OWN_COMPLEX = {_key(f) for f in OWN_COMPLEX}
_NOT_LINEAR = {_key(f) for f in NOT_LINEAR}
_VARIES = {_key(f) for f in VARIES}
_TEMPLATES = {_key(f): t for f, t in TEMPLATES.items()}
_VARIANTS: dict = {}
_RUNTIME_REAL_ONLY = {_key(f) for f in RUNTIME_REAL_ONLY}


def for_complex(rule: Rule) -> Rule:
    """The rule to apply where values may be complex: ``rule`` itself when its templates hold
    for complex values, the templates of ``TEMPLATES`` for a function that is not holomorphic,
    a refusal for one that varies only with complex values, else ``rule`` with its templates
    guarded by ``real_operands``. (A user's rule, ``ad.defvjp``, is not an entry: it is applied
    as the user wrote it.)"""
    cached = _VARIANTS.get(id(rule))
    if cached is not None and cached[0] is rule:
        return cached[1]
    key = _key(rule.fn)
    if key in _TEMPLATES:
        vjps, jvp = _TEMPLATES[key]
        variant = replace(rule, vjps={p: _parse(t) for p, t in vjps.items()}, jvp=_parse(jvp),
                          scalar_vjps={}, constant_vjps={})
    elif key in _VARIES:
        variant = replace(rule, nondiff=False, refusal=(
            "it has no derivative for real values, but varies with a complex one (np.sign(z) is "
            "z / |z|), and complex values may reach it here", "write z / np.abs(z)"))
    elif rule.nondiff or rule.refusal is not None or key in _HOLOMORPHIC or key in _OWN_COMPLEX \
            or not rule.diff \
            or (rule.linear and key not in _NOT_LINEAR) or _runtime(rule, key):
        # (the forms for constant operands compare them with numbers: x ** 2 if y >= 1 ...)
        variant = replace(rule, constant_vjps={}) if rule.constant_vjps else rule
    else:
        variant = _guarded(rule)
    _VARIANTS[id(rule)] = (rule, variant)
    return variant


def holds_for_complex(*functions, holomorphic=True):
    """Mark the entries of ``functions`` (of a table loaded later: SciPy's) as holomorphic, their
    real rule holding for complex values, or (``holomorphic=False``) as entries whose helpers
    handle complex values themselves."""
    (_HOLOMORPHIC if holomorphic else _OWN_COMPLEX).update(_key(f) for f in functions)


def _runtime(rule, key) -> bool:
    """An entry of the helpers' table whose rule holds for complex values."""
    return runtime_rules.table.rules.get(key) is rule and key not in _RUNTIME_REAL_ONLY


def real_cast(rule: Rule) -> Rule:
    """``rule`` for a call casting to a real dtype (``x.astype(float)``, ``np.asarray(z,
    dtype=np.float32)``): its result is real, so the adjoint that reaches it counts by its real
    part only (an adjoint of a real value may be complex, docs/complex.md); that part is what
    reaches the operand."""
    real = {"g": _parse("np.real(g)")}
    return replace(rule, vjps={p: _Substitute(real).visit(_copy(t))
                               for p, t in rule.vjps.items()})


def _guarded(rule: Rule) -> Rule:
    """``rule`` with ``g`` in its vjp templates, and each tangent in its jvp template, passed
    through ``real_operands(..., (operands...), site)``: an AdError at run time where an operand
    is complex."""
    operands = [p for p in rule.signature.params + [rule.signature.varargs] if p in rule.diff]
    check = "real_operands(%%s, (%s,), site)" % ", ".join(operands)
    seeds = {"g": _parse(check % "g")}

    def guard(template, replacing):
        return None if template is None else _Substitute(replacing).visit(_copy(template))

    def each(templates):
        return {p: guard(t, seeds) for p, t in templates.items()}
    tangents = {"t_" + p: _parse(check % ("t_" + p)) for p in operands}
    return replace(rule, vjps=each(rule.vjps), scalar_vjps=each(rule.scalar_vjps),
                   constant_vjps=each(rule.constant_vjps), jvp=guard(rule.jvp, tangents))


def _copy(template):
    copied = gast.parse(gast.unparse(template), mode="eval").body
    return copied


class _Substitute(gast.NodeTransformer):
    """Replace the names in ``replacing`` by (copies of) their expressions."""

    def __init__(self, replacing):
        self.replacing = replacing

    def visit_Name(self, node):
        if node.id in self.replacing:
            return _copy(self.replacing[node.id])
        return node


def treatment(rule: Rule) -> str:
    """How ``for_complex`` treats ``rule`` (docs/supported.md's column): "same", "own", "real
    only" or "refused"."""
    variant = for_complex(rule)
    if variant.refusal is not None and rule.refusal is None:
        return "refused"
    if _key(rule.fn) in _TEMPLATES or _key(rule.fn) in _OWN_COMPLEX:
        return "own"
    return "same" if variant.vjps == rule.vjps and variant.jvp is rule.jvp else "real only"
