"""Propagation and folding: constants and copies propagated into their uses (the seed
``dret = 1.0``, ``a = b`` at the top level; in any block: ``block_copies``) and algebraic
simplification of instantiated rules (``g * 1.0``, ``x ** 1``, ``-(-g)``, constant folding,
comparisons of constants)."""
from __future__ import annotations

import operator

import gast

from ..ir import name_counts, substitute_loads

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv}
_COMPARE = {gast.Is: operator.is_, gast.IsNot: operator.is_not, gast.Eq: operator.eq,
            gast.NotEq: operator.ne}
# (numbers only)
_ORDER = {gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge}
_NUMBER = (int, float)


def _name_stats(fdef):
    """(how often each name is bound -- parameters count once --, how often it is read)."""
    stores, loads_ = name_counts(fdef)
    for a in fdef.args.args + fdef.args.posonlyargs + fdef.args.kwonlyargs:
        stores[a.id] = stores.get(a.id, 0) + 1
    return stores, loads_


def _assignments(fdef):
    return _name_stats(fdef)[0]


def propagate_constants(fdef, keep=frozenset(), simplify_all=True, floats=frozenset()) -> bool:
    """One pass in program order over generated code: substitute what is known, simplify, and
    learn names bound once at the top level to a number (replaced by the number) or to another
    such name (a temporary copy: replaced by the original). True if anything changed. After the
    first pass only statements that changed (or that copy propagation touched) are simplified."""
    counts = _assignments(fdef)
    values = {}
    changed = False
    simplify = Simplify(floats)
    body = []
    for s in fdef.body:
        touched = getattr(s, "ad_touched", False)
        if values and substitute_loads(s, values):
            changed = touched = True
        if not getattr(s, "ad_primal", False) and (simplify_all or touched):
            s = simplify.visit(s)
        s.ad_touched = False
        body.append(s)
        if (
            isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name)
            and not getattr(s, "ad_primal", False)
            and counts.get(s.targets[0].id) == 1
        ):
            value = s.value
            if isinstance(value, gast.Constant) and type(value.value) in _NUMBER:
                values[s.targets[0].id] = value
            elif (
                isinstance(value, gast.Name)
                and counts.get(value.id) == 1
                and s.targets[0].id not in keep
            ):
                values[s.targets[0].id] = value
    fdef.body = body
    return changed or simplify.changed


def _const(node, *values):
    return (
        isinstance(node, gast.Constant)
        and type(node.value) in _NUMBER
        and (not values or node.value in values)
    )


class Simplify(gast.NodeTransformer):
    """Algebraic identities that hold for every shape and dtype the rules produce. Only applied
    to generated adjoint code: the user's own statements keep their exact semantics. A product
    with 1 (a quotient by 1, a power 1) is its other operand only when that is a float: ``1.0 * m``
    of a bool ``m`` is a float, and ``m + m`` of NumPy bools is ``m`` (a logical or)."""

    def __init__(self, floats=frozenset()):
        self.changed = False
        self.floats = floats  # names holding floats or float arrays

    def floating(self, node) -> bool:
        """Whether ``node`` surely computes a float or a float array."""
        if isinstance(node, gast.Name):
            return node.id in self.floats
        if isinstance(node, gast.Constant):
            return type(node.value) is float
        if isinstance(node, gast.UnaryOp):
            return isinstance(node.op, (gast.USub, gast.UAdd)) and self.floating(node.operand)
        if isinstance(node, gast.BinOp) and isinstance(
            node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div)
        ):
            return (
                isinstance(node.op, gast.Div)
                or self.floating(node.left)
                or self.floating(node.right)
            )
        return False

    def visit(self, node):
        new = super().visit(node)
        if new is not node:
            self.changed = True
        return new

    def generic_visit(self, node):
        if getattr(node, "ad_primal", False):
            return node
        return super().generic_visit(node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        if _const(left) and _const(right) and op in _FOLD:
            try:
                return gast.Constant(value=_FOLD[op](left.value, right.value), kind=None)
            except (ZeroDivisionError, OverflowError):
                return node
        if op is gast.Mult:
            if _const(right, 1) and not isinstance(right.value, bool) and self.floating(left):
                return left
            if _const(left, 1) and not isinstance(left.value, bool) and self.floating(right):
                return right
            # (c1 * x) * c2 -> (c1 * c2) * x, c1 * (c2 * x) -> (c1 * c2) * x: scalars commute
            if (
                _const(right)
                and isinstance(left, gast.BinOp)
                and isinstance(left.op, gast.Mult)
                and _const(left.left)
            ):
                return self.visit_BinOp(
                    gast.BinOp(
                        left=gast.Constant(value=left.left.value * right.value, kind=None),
                        op=gast.Mult(),
                        right=left.right,
                    )
                )
            if (
                _const(left)
                and isinstance(right, gast.BinOp)
                and isinstance(right.op, gast.Mult)
                and _const(right.left)
            ):
                return self.visit_BinOp(
                    gast.BinOp(
                        left=gast.Constant(value=left.value * right.left.value, kind=None),
                        op=gast.Mult(),
                        right=right.right,
                    )
                )
            if _const(left, -1) and not isinstance(left.value, bool) and self.floating(right):
                return gast.UnaryOp(op=gast.USub(), operand=right)
        if (
            op in (gast.Mult, gast.Div)
            and isinstance(left, gast.UnaryOp)
            and isinstance(left.op, gast.USub)
        ):
            # (-a) * b -> -(a * b): exact, and a sum around it subtracts instead of negating
            return gast.UnaryOp(op=gast.USub(),
                                operand=self.visit_BinOp(gast.BinOp(left=left.operand, op=node.op,
                                                                     right=right)))
        if op in (gast.Div, gast.Pow) and _const(right, 1) and self.floating(left):
            return left
        if op is gast.Sub and isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
            return gast.BinOp(left=left, op=gast.Add(), right=right.operand)
        if op is gast.Add and isinstance(right, gast.UnaryOp) and isinstance(right.op, gast.USub):
            return gast.BinOp(left=left, op=gast.Sub(), right=right.operand)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        inner = node.operand
        if isinstance(node.op, gast.USub):
            if isinstance(inner, gast.UnaryOp) and isinstance(inner.op, gast.USub):
                return inner.operand
            if _const(inner):
                return gast.Constant(value=-inner.value, kind=None)
        if isinstance(node.op, gast.UAdd):
            return inner
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        if (
            len(node.ops) == 1
            and isinstance(node.left, gast.Constant)
            and isinstance(node.comparators[0], gast.Constant)
        ):
            left, op, right = node.left.value, type(node.ops[0]), node.comparators[0].value
            if op in _COMPARE:
                return gast.Constant(value=bool(_COMPARE[op](left, right)), kind=None)
            if op in _ORDER and isinstance(left, _NUMBER) and isinstance(right, _NUMBER):
                return gast.Constant(value=_ORDER[op](left, right), kind=None)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, gast.Constant):
            return node.body if node.test.value else node.orelse
        return node
