"""Where the compiler finds a derivative rule: user rules (defvjp/defjvp), then one table per
namespace (numpy, math, builtins), and array methods by name."""
from __future__ import annotations

import importlib
import sys

from .. import custom, hooks
from . import builtin_rules, linalg_rules, math_rules, methods, numpy_rules, runtime_rules
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
scipy_rules = None  # loaded once the user's code has imported scipy.special (not a dependency)
stats_rules = None  # likewise, once it has imported scipy.stats
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
    if (scipy_rules is None and "scipy.special" in sys.modules) or (
            stats_rules is None and "scipy.stats" in sys.modules):
        load_scipy_rules()
        return lookup(fn)
    return None


def load_scipy_rules():
    """Add the scipy.special table, and the scipy.stats one when scipy.stats is imported (SciPy
    is imported only when the user's code did; scipy.stats takes a while to import)."""
    global scipy_rules, stats_rules, TABLES
    if scipy_rules is None:
        scipy_rules = importlib.import_module(__name__ + ".scipy_rules")
        TABLES += (scipy_rules.table,)
    if stats_rules is None and "scipy.stats" in sys.modules:
        stats_rules = importlib.import_module(__name__ + ".stats_rules")
        TABLES += (stats_rules.table,)


def lookup_method(name: str) -> Rule | None:
    """The rule for an array method or attribute such as ``sum`` or ``T``."""
    return methods.table.rules.get(name)


__all__ = ["needs_array_adjoint", "load_scipy_rules", "HELPER_NAMES", "helper_object",
           "helpers_used", "Rule", "Signature", "template_names", "template_reads", "lookup",
           "lookup_method",
           "USER_RULES", "TABLES"]


hooks.install(lookup_rule=lookup)
