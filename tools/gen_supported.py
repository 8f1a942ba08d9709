"""Regenerate docs/supported.md from the rule tables:

    python tools/gen_supported.py
"""
import os
import sys

import gast
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from adcompiler import rules  # noqa: E402
from adcompiler.rules import complex_rules  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "supported.md")


def _name(rule, namespace):
    if namespace == "methods":
        return "x.%s" % rule.fn if rule.fn != "T" else "x.T"
    fn = rule.fn
    mod = getattr(fn, "__module__", "") or ""
    name = getattr(fn, "__name__", str(fn))
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):  # (a ufunc's method: np.add.reduce, np.multiply.outer)
        return "np.%s.%s" % (owner.__name__, name)
    if namespace in ("numpy", "numpy.linalg"):
        prefix = "np.linalg." if "linalg" in mod else ("np.random." if "random" in mod else
                                                       "np.fft." if "fft" in mod else "np.")
        return prefix + name
    if namespace == "builtins":
        return ("operator.%s" % name) if mod in ("_operator", "operator") else name
    if namespace == "scipy.stats":
        return rule.name  # (a distribution's method: scipy.stats.norm.logpdf)
    return "%s.%s" % (namespace, name)


def _params(rule):
    """The parameters, with those accepted only at some values marked."""
    out = []
    for p in rule.signature.params:
        if p in rule.unhandled:
            p = "%s=%r only" % (p, rule.signature.defaults[p])
        elif p in rule.only:
            p = "%s=%s only" % (p, "/".join(map(repr, rule.only[p])))
        out.append(p)
    return ", ".join(out + (["*" + rule.signature.varargs] if rule.signature.varargs else []))


def _mode(rule):
    forward = "derived" if rule.elementwise else ("linear" if rule.linear else ("rule" if rule.jvp is not None else "-"))
    return forward


def render() -> str:
    lines = ["# Supported functions", "",
             "Generated from the rule tables by `python tools/gen_supported.py` (with Python %d.%d; a few"
             % sys.version_info[:2],
             "entries, such as `math.cbrt`, exist only on newer Pythons); a test fails when this",
             "file is stale. Reverse: the adjoint template(s). Forward: `derived` (elementwise, from the",
             "reverse templates), `linear` (the function applied to the tangent), `rule` (its own tangent",
             "rule) or `-` (no forward rule: forward mode raises an AdError). Parameters marked `only` are",
             "accepted with the values shown and no others (an AdError names the argument); a `dtype`",
             "parameter keeps the rule for a float dtype, gives a zero gradient for an int or bool one and",
             "refuses a complex one (decided at run time when the dtype is known only then) but in code that",
             "computes with complex values. Complex (docs/complex.md): `same` (holomorphic, or linear with",
             "real coefficients: the rule holds for complex values as written), `own` (a rule of its own for",
             "complex values), `real only` (an AdError at run time when a value it differentiates is",
             "complex), `refused` (varies with complex values only).",
             "The `scipy.special`, `scipy.stats`, `scipy.linalg` and `scipy.signal` sections apply when SciPy",
             "is installed (it is optional).",
             "",
             "Edge values (tested in tests/test_reference_values.py and tests/test_trust_rules.py): powers",
             "follow JAX at zero (d/dy 0 ** y = 0 for y > 0, d/dx x ** 0 = 0, d/dx x ** y at 0 is",
             "y * 0 ** (y - 1)); where a derivative is infinite but the value finite (`sqrt`, `cbrt`,",
             "`x ** 0.5` at 0, `arcsin`/`arccos` at +-1, `arctan2` at (0, 0)) it is taken as 0, the",
             "subgradient; `np.std`/`np.var`-based norms and `np.linalg.norm` at a constant (or zero) input",
             "have gradient 0, the subgradient PyTorch gives for `norm` at 0 (JAX and autograd give NaN).",
             ""]
    tables = [("numpy", rules.numpy_rules.table), ("numpy.linalg", rules.linalg_rules.table),
              ("math", rules.math_rules.table),
              ("builtins", rules.builtin_rules.table), ("methods", rules.methods.table)]
    import scipy.linalg  # noqa: F401  (the optional tables load once SciPy is imported)
    import scipy.signal  # noqa: F401
    import scipy.stats  # noqa: F401
    rules.load_scipy_rules()
    tables += [(module, getattr(rules, name).table) for module, name in rules.OPTIONAL]
    for namespace, table in tables:
        diff = sorted((r for r in table.rules.values() if not r.nondiff and not r.refusal),
                      key=lambda r: _name(r, namespace))
        nondiff = sorted(_name(r, namespace) for r in table.rules.values() if r.nondiff)
        refused = sorted(_name(r, namespace) for r in table.rules.values() if r.refusal)
        lines += ["## %s: %d differentiable, %d with zero gradient" % (namespace, len(diff), len(nondiff)), "",
                  "| function | parameters | reverse (adjoint of each argument) | forward | complex |",
                  "|---|---|---|---|---|"]
        for r in diff:
            adjoints = "; ".join("%s: `%s`" % (p, gast.unparse(t).strip().replace("|", "\\|"))
                                 for p, t in r.vjps.items())
            lines.append("| `%s` | %s | %s | %s | %s |" % (_name(r, namespace), _params(r), adjoints or "-",
                                                          _mode(r), complex_rules.treatment(r)))
        lines += ["", "Zero gradient (explicitly non-differentiable): " + ", ".join("`%s`" % n for n in nondiff), ""]
        if refused:
            lines += ["Refused (an AdError when a value depending on `wrt` reaches them): "
                      + ", ".join("`%s`" % n for n in refused), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(OUT, "w") as fh:
        fh.write(render())
    print("wrote", os.path.normpath(OUT))
