"""Where the compiler finds a derivative rule: user rules (defvjp/defjvp), then one table per
namespace (numpy, math, builtins), and array methods by name."""
from __future__ import annotations

import importlib
import sys

from .. import custom, hooks
from . import (  # noqa: F401  (fft_rules: entries of the numpy table)
    builtin_rules,
    complex_rules,
    fft_rules,
    linalg_rules,
    math_rules,
    methods,
    numpy_rules,
    runtime_rules,
)
from .core import (
    HELPER_NAMES,
    Rule,
    Signature,
    helper_object,
    helpers_used,
    needs_array_adjoint,
    template_names,
    template_reads,
)

TABLES = (numpy_rules.table, linalg_rules.table, math_rules.table, builtin_rules.table,
          runtime_rules.table)
# SciPy's tables (SciPy is not a dependency), each loaded once the user's code has imported its
# module: (module, table module in this package)
OPTIONAL = (("scipy.special", "scipy_rules"), ("scipy.stats", "stats_rules"),
            ("scipy.linalg", "scipy_linalg_rules"), ("scipy.signal", "scipy_signal_rules"),
            ("scipy.spatial", "scipy_spatial_rules"))
scipy_rules = stats_rules = scipy_linalg_rules = scipy_signal_rules = None
scipy_spatial_rules = None
USER_RULES: dict = {}
builtin_rules.table.nondiff(custom.stop_gradient)


def lookup(fn) -> Rule | None:
    """The rule for a callable, or None."""
    try:
        user = USER_RULES.get(fn)
    except TypeError:
        return None
    if user is not None:
        return user
    for table in TABLES:
        try:
            rule = table.rules.get(fn)
        except TypeError:
            return None
        if rule is not None:
            return rule
    if any(globals()[table] is None and module in sys.modules for module, table in OPTIONAL):
        load_scipy_rules()
        return lookup(fn)
    return None


def load_scipy_rules():
    """Add the table of each SciPy module the user's code has imported (scipy.special always:
    tests load it explicitly)."""
    global TABLES
    for module, name in OPTIONAL:
        if globals()[name] is None and (module in sys.modules or name == "scipy_rules"):
            loaded = importlib.import_module("%s.%s" % (__name__, name))
            globals()[name] = loaded
            TABLES += (loaded.table,)


def lookup_method(name: str) -> Rule | None:
    """The rule for an array method or attribute such as ``sum`` or ``T``."""
    return methods.table.rules.get(name)


__all__ = ["needs_array_adjoint", "load_scipy_rules", "HELPER_NAMES", "helper_object",
           "helpers_used", "Rule", "Signature", "template_names", "template_reads", "lookup",
           "lookup_method",
           "USER_RULES", "TABLES"]


hooks.install(lookup_rule=lookup)
