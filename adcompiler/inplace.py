"""Pass 6c: an elementwise result built in one buffer. ``y = np.cos(w * 3 + b)`` allocates three
arrays; when shapes.py knows that each step has the shape and float dtype of the step it consumes,
the first array is the only one:

    y = w * f64_3
    y += b
    np.cos(y, out=y)

The same ufuncs on the same values (the same bits), without a new array per operation (for small
arrays a third of an operation's cost, for large ones a pass over fresh memory). Only the
assigned name holds the buffer, and the expression does not read that name, so no other value
sees the writes. Generated code read back to be differentiated again gets its assignments back
(``read_back``).
"""
from __future__ import annotations

import gast
import numpy as np

from .analysis import walk
from .shapes import _FLOATS, ResolveShapes, _name

_UFUNC_OF = {gast.Add: np.add, gast.Sub: np.subtract, gast.Mult: np.multiply, gast.Div: np.true_divide,
             gast.Pow: np.power}
_COMMUTATIVE = (gast.Add, gast.Mult)


class ReuseBuffers(ResolveShapes):
    """Runs over the final gradient code (shapes are known as in ResolveShapes, which has
    already simplified it) and splits assignments of elementwise chains into in-place steps."""

    def assigned(self, st):
        target = st.targets[0].id
        if any(isinstance(n, gast.Name) and n.id == target for n in walk(st.value)):
            return None  # (the buffer would change under a read of the old value)
        steps, node = [], st.value
        while (k := self.spine(node)) is not None:
            steps.append((node, k))
            node = self.operands(node)[k]
        if not steps:
            return None
        first = gast.Assign(targets=[_name(target, gast.Store())], value=node, type_comment=None)
        out = [first] + [self.in_place(outer, k, target) for outer, k in reversed(steps)]
        for new in out:
            gast.copy_location(new, st)
        return out

    def operands(self, node):
        """The operands of an elementwise operation that can write its result into one of them."""
        if isinstance(node, gast.BinOp) and type(node.op) in _UFUNC_OF:
            return [node.left, node.right]
        if isinstance(node, gast.Call) and not node.keywords:
            obj = self.callee(node)
            if isinstance(obj, np.ufunc) and obj.nout == 1 and obj.nin == len(node.args):
                return node.args
        return None

    def spine(self, node):
        """The position of the operand of ``node`` whose buffer can take ``node``'s result: an
        array computed by an operation right there (no name holds it), of the result's shape and
        float dtype; None if there is none."""
        operands = self.operands(node)
        if operands is None:
            return None
        result = self.value_of(node)
        for k, operand in enumerate(operands):
            value = self.value_of(operand)
            if isinstance(operand, (gast.BinOp, gast.UnaryOp, gast.Call)) and value.ident is not None \
                    and isinstance(value.shape, tuple) and value.shape == result.shape \
                    and value.dtype == result.dtype and value.dtype in _FLOATS:
                return k
        return None

    def in_place(self, node, k, target):
        """``node`` computed into ``target``, which holds its operand ``k``."""
        if isinstance(node, gast.BinOp) and (k == 0 or isinstance(node.op, _COMMUTATIVE)):
            other = node.right if k == 0 else node.left
            return gast.AugAssign(target=_name(target, gast.Store()), op=node.op, value=other)
        if isinstance(node, gast.BinOp):  # (a - y: np.subtract(a, y, out=y))
            func = gast.Attribute(value=_name(self.bind("np", np)), attr=_UFUNC_OF[type(node.op)].__name__,
                                  ctx=gast.Load())
            args = [node.left, _name(target)]
        else:
            func, args = node.func, list(node.args)
            args[k] = _name(target)
        out = gast.keyword(arg="out", value=_name(target))
        return gast.Expr(value=gast.Call(func=func, args=args, keywords=[out]))


def read_back(tree) -> None:
    """``f(..., out=y)`` as a statement in generated code becomes ``y = f(...)`` (the buffer is the
    code's own), so code built in place is differentiated like any other."""
    for node in walk(tree):
        for field in ("body", "orelse"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for i, st in enumerate(stmts):
                call = st.value if isinstance(st, gast.Expr) else None
                if isinstance(call, gast.Call) and len(call.keywords) == 1 and call.keywords[0].arg == "out" \
                        and isinstance(call.keywords[0].value, gast.Name):
                    target = call.keywords[0].value.id
                    call.keywords = []
                    stmts[i] = gast.copy_location(
                        gast.Assign(targets=[_name(target, gast.Store())], value=call, type_comment=None), st)
