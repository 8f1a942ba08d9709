"""The helpers generated code calls, by name: one registry, ``HELPERS``, of the public functions
of the runtime's modules (``runtime.MODULES``: the hot path of generated code, batching, checks,
calls and objects) and of the topic modules here, which hold the adjoints of rules too long for
a one-line template. Each such adjoint takes the result's adjoint ``g`` (possibly the scalar
zero 0.0) and returns the adjoint of one argument, in that argument's shape. A name defined in
two of these modules is an error at import: a template's name stands for one function."""
from __future__ import annotations

from ... import runtime
from . import (
    complex_values,
    containers,
    determinants,
    differences,
    distances,
    distributions,
    elementwise,
    fourier,
    joins,
    linalg,
    matrix_functions,
    norms,
    polynomials,
    products,
    records,
    reductions,
    second_order,
    sequences,
    shapes,
    signals,
    spectral,
    statistics,
)

TOPICS = (elementwise, reductions, differences, statistics, products, linalg, spectral, norms,
          determinants, matrix_functions, shapes, joins, polynomials, containers, sequences,
          records, second_order, distributions, signals, distances, fourier, complex_values)


def public_callables(module) -> dict:
    """The callables ``module`` defines whose names do not start with ``_``, by name."""
    return {n: v for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__}


def registry(modules) -> dict:
    """Every public callable of ``modules`` by name; a ValueError naming both modules if two
    define one name."""
    helpers, homes = {}, {}
    for module in modules:
        for name, fn in public_callables(module).items():
            if name in helpers:
                raise ValueError("the helper %r is defined in both %s and %s"
                                 % (name, homes[name], module.__name__))
            helpers[name], homes[name] = fn, module.__name__
    return helpers


HELPERS: dict[str, object] = registry((*runtime.MODULES, *TOPICS))
