"""Binding a call to its derivative rule: which operands the rule differentiates, which it
ignores (refused when a value depending on ``wrt`` reaches them), arguments the rule does not
handle and casts to other dtypes; and ``static_value``, an operand known when generating code."""
from __future__ import annotations

import gast
import numpy as np

from .. import rules
from ..errors import COMPLEX_HINT, COMPLEX_UNSUPPORTED
from ..ir import loads
from ..parse import LIBRARY_ROOTS
from ..resolve import MISSING
from ..rules import complex_rules
from .plan import Plan, _call_text, method_text

# parameters that take integers (or tuples of them, or flags) by NumPy's contract: piecewise
# constant, so their zero derivative is exact whatever they are computed from
# (dtype too: its effect on the derivative is handled by bind_rule; a dtype carries no gradient)
_INTEGER_PARAMS = frozenset(("axis", "axes", "axis1", "axis2", "keepdims", "ddof", "dtype", "shape",
                             "newshape", "repeats", "reps", "n", "k", "compute_uv",
                             "full_matrices"))


def _same(value, default) -> bool:
    """Whether an argument known when generating code is the parameter's default (MISSING: not
    known, never the default)."""
    if value is MISSING or isinstance(value, np.ndarray):
        return False
    try:
        return value is default or (type(value) is type(default) and bool(value == default))
    except (TypeError, ValueError):
        return False


def _dtype_kind(dtype) -> str:
    """NumPy's kind letter of a dtype argument ('f' float, 'i'/'u' int, 'b' bool, 'c' complex);
    '' for a value that is not a dtype."""
    try:
        return np.dtype(dtype).kind
    except (TypeError, ValueError):
        return ""


def _dtype_text(dtype, node) -> str:
    """A dtype argument as messages show it."""
    try:
        return "dtype %s" % np.dtype(dtype).name
    except (TypeError, ValueError):
        return "dtype=%s" % _call_text(node)


class RuleBinding:
    """Plans of calls to functions with a derivative rule: the base of ``calls.StatementPlanner``,
    whose data it reads (``kinds``, ``ctx``, ``loc``, ``params``, ``bound_once``)."""

    def rule_plan(self, s, fn, args, keywords) -> Plan:
        return self.bind_rule(s, rules.lookup(fn), args, keywords, fn.__name__)

    def numeric_operands(self, s, rule, args, keywords, operands, callee):
        """For a function of numbers and arrays (NumPy's, math's, ``float``): the refusal of one
        given an object of the user's class (``np.sqrt(q)``), else None, after asking generated
        code to check operands of no known kind where it runs (``float(k)`` of a list's entry)."""
        if not _numeric(rule.fn):
            return None
        objects = [a.id for a in list(args) + [k.value for k in keywords]
                   if _users_class(self.known_class(a))]
        if objects:
            return _object_operand_plan(objects[0], operands, callee)
        if (getattr(rule.fn, "__module__", None) or "builtins") in ("builtins", "math", "cmath"):
            self.check_numeric_operands(s, list(args), callee)  # (float(k) of a list's entry)
        return None

    def bind_rule(self, s, rule, args, keywords, callee) -> Plan:
        """The plan of a call to a function with a rule. Arguments the rule does not handle
        (a keyword it does not know, a parameter its templates ignore given another value than
        its default, a complex dtype) make the call refused when a value depending on ``wrt``
        reaches it, never silently ignored; a cast to an int or bool dtype has no derivative."""
        if self.ctx.complex_mode:  # (values may be complex: the rules for them)
            rule = complex_rules.for_complex(rule)
        if rule.nondiff:
            return Plan("none")
        operands = [n for a in list(args) + [k.value for k in keywords] for n in loads(a)]
        if rule.refusal is not None:
            return Plan("opaque", operands, callee=callee, why=rule.refusal[0],
                        hint=rule.refusal[1])
        if any(isinstance(a, gast.Starred) for a in args):
            return Plan("opaque", [n for a in args for n in loads(a)],
                        callee=callee + " with *args")
        refused = self.numeric_operands(s, rule, args, keywords, operands, callee)
        if refused is not None:
            return refused
        sig = rule.signature
        for k in keywords:  # (np.clip(x, min=lo): a_min, as NumPy 2.0 spells it)
            if k.arg is None or (sig.aliases.get(k.arg, k.arg) not in sig.params
                                 and not sig.accepts_keywords):
                return self.unhandled_plan(callee, operands, k.arg, k.value)
        bound = sig.bind(args, keywords)
        if bound is None:
            raise self.loc.error("cannot match the arguments of %s to its rule's signature (%s)"
                                 % (callee, ", ".join(sig.params)), s,
                                 hint="pass the arguments as documented by NumPy")
        for p in rule.unhandled:
            if not _same(self.static_value(bound[p]), sig.defaults.get(p, MISSING)):
                return self.unhandled_plan(callee, operands, p, bound[p])
        for p, accepted in rule.only.items():
            value = self.static_value(bound[p])
            if not any(_same(value, a) for a in accepted):
                return self.unhandled_plan(callee, operands, p, bound[p], accepted)
        gate = None
        if rule.casts:
            dtype = self.static_value(bound["dtype"])
            if dtype is MISSING:
                gate = bound["dtype"]  # known at run time only: decided there
            elif dtype is not None:
                kind = _dtype_kind(dtype)
                if kind in ("i", "u", "b"):
                    return Plan("none")  # a cast to integers or booleans is piecewise constant
                if kind == "f" and self.ctx.complex_mode:  # (of a complex value: the real part)
                    rule = complex_rules.real_cast(rule)
                if kind != "f" and not (kind == "c" and self.ctx.complex_mode):
                    return Plan("opaque", operands, callee=callee, why=(
                        "the cast to %s: %s" % (
                            _dtype_text(dtype, bound["dtype"]), COMPLEX_UNSUPPORTED if kind == "c"
                            else "only float, int and bool dtypes are differentiated")),
                        hint=COMPLEX_HINT if kind == "c" else "compute in a float dtype")
        reads = [n for p in rule.diff for n in loads(bound[p])]
        ignored = {p: loads(bound[p]) for p in bound
                   if p not in rule.diff and p not in rule.zero and p not in _INTEGER_PARAMS
                   and loads(bound[p])}
        return Plan("rule", reads, rule=rule, bound=bound, callee=callee, ignored=ignored,
                    gate=gate)

    def unhandled_plan(self, callee, operands, param, node, accepted=None) -> Plan:
        """A call refused (when a value depending on ``wrt`` reaches it) because its derivative
        rule would ignore the argument ``param`` (None: ``**kwargs``)."""
        if param is None:
            what = "**%s" % _call_text(node)
        else:
            value = self.static_value(node)
            if isinstance(node, gast.Name) and node.id in self.ctx.temps:
                # (a normal-form temporary: not the user's)
                text = "..." if value is MISSING else repr(value)
            else:
                text = _call_text(node) if value is MISSING or isinstance(node, gast.Constant) \
                    else "%s (%r)" % (_call_text(node), value)
            what = "%s=%s" % (param, text)
        hint = ("pass %s only with one of the values %s" % (param, ", ".join(map(repr, accepted)))
                if accepted
                else "leave it out, or compute the same value another way (out=: assign the "
                     "result; other arguments: see docs/supported.md for what the rule handles)")
        return Plan("opaque", operands, callee=callee, hint=hint,
                    why="the argument %s is not handled by its derivative rule" % what)

    def method_plan(self, s, rule, receiver, args, keywords, attribute) -> Plan:
        """``x.sum(...)`` / ``x.T`` (``attribute``): the array method's rule, ``x`` its first
        argument. When the kind of ``x`` is not known here, generated code checks at run time that
        it is an array or a number (a module or another object with a method of that name would get
        a wrong gradient)."""
        plan = self.bind_rule(s, rule, [receiver] + list(args), keywords,
                              method_text(attribute, self.ctx.temps))
        if isinstance(receiver, gast.Name) and self.kinds.get(receiver.id) is None \
                and not self.ctx.generated:
            plan.receiver = receiver.id
        return plan

    def static_value(self, node):
        """The value of an operand known when generating code: a constant, a module-level object
        (``np.float32``, a global), or a local assigned only once, from one of those (the normal
        form's ``t1 = np.int64``); else MISSING."""
        for _ in range(8):  # (a chain of copies)
            if isinstance(node, gast.Constant):
                return node.value
            obj = self.ctx.resolver.resolve(node)
            if obj is not MISSING or not isinstance(node, gast.Name) or node.id in self.params \
                    or node.id not in self.bound_once:
                return obj
            node = self.bound_once[node.id].value
        return MISSING


def _numeric(fn) -> bool:
    """Whether ``fn`` is a function of numbers and arrays (NumPy's, SciPy's, math's, or a
    builtin conversion): an object given to it is converted by code of its class."""
    root = (getattr(fn, "__module__", None) or "").split(".")[0]
    return root in ("numpy", "scipy", "math", "cmath") \
        or any(fn is f for f in (float, int, complex, round, abs, pow, divmod))


def _object_operand_plan(obj, operands, callee) -> Plan:
    """A NumPy or math function given an object of the user's class (``np.sqrt(q)`` calls
    ``q.sqrt()``, ``float(q)`` ``q.__float__()`` when the normal form did not): refused when a
    value depending on wrt reaches it."""
    return Plan("opaque", operands, callee=callee,
                why="%r is an object of a class of yours, which its rule does not take for a "
                    "number or an array" % obj, hint="pass the number or array the object holds")


def _users_class(cls) -> bool:
    """Whether ``cls`` (``known_class``'s) is a class of the user's, not a library's (None)."""
    return cls is not None and (getattr(cls, "__module__", None) or "").split(".")[0] \
        not in LIBRARY_ROOTS
