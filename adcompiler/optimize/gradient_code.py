"""Rewrites of gradient code that need ``Facts``: elementwise results read only for their shape
are not computed, reductions called as ndarray methods, and tapes filled by one loop read in
reverse instead of popped."""
from __future__ import annotations

import gast

from ..ir import walk
from .facts import Facts
from .propagate import _NUMBER, _const, _name_stats

_ELEMENTWISE_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.FloorDiv, gast.Mod)


def skip_shape_only(fdef, shapes: Facts) -> bool:
    """A value computed only for its shape (``np.sum(x * y)`` needs ``x * y`` for the shape of its
    adjoint) is replaced by an operand of that shape: ``t1 = x * y`` becomes
    ``t1 = shape_of(x, y)``, ``t2 = np.log(p)`` becomes ``t2 = p``. Its operands may then be read
    for their shape only: a worklist of the names a rewrite touched (one rewrite never makes a
    name read for more than its shape, so the order does not change the result). Only
    elementwise expressions of numbers and arrays qualify. True if anything changed."""
    stores, loads_total = _name_stats(fdef)
    reads = _ShapeReads(shapes, loads_total)
    defining = {}  # name bound once, by an assignment -> that assignment
    for node in walk(fdef):
        reads.count(node, 1)
        if isinstance(node, gast.Assign) and isinstance(node.targets[0], gast.Name) \
                and stores.get(node.targets[0].id) == 1:
            defining[node.targets[0].id] = node
    todo = [v for v in defining if reads.only(v)]
    changed = False
    while todo:
        st = defining.pop(todo.pop(), None)
        if st is None or isinstance(st.value, gast.Name):
            continue
        leaves = _elementwise_leaves(st.value, shapes)
        if not leaves:
            continue
        # Python numbers change neither the shape nor
        # the dtype (NumPy scalars can change the dtype)
        arrays = [v for v in leaves if not shapes.python_number(v)] or leaves[:1]
        old = st.value
        if len(arrays) == 1:
            st.value = gast.Name(id=arrays[0], ctx=gast.Load(), annotation=None,
                                 type_comment=None)
            st.ad_primal = False  # a stand-in now, which copy propagation may remove
        else:
            st.value = gast.Call(func=gast.Name(id=shapes.stand_in(), ctx=gast.Load(),
                                                annotation=None,
                                                type_comment=None),
                                 args=[gast.Name(id=v, ctx=gast.Load(), annotation=None,
                                                 type_comment=None)
                                       for v in arrays], keywords=[])
        changed = True
        touched = reads.replaced(old, st.value)
        todo.extend(v for v in touched if v in defining and reads.only(v))
    return changed


class _ShapeReads:
    """How often each name is read, and how often for its shape only (an argument at a
    position ``Facts.positions`` names), kept through rewrites."""

    def __init__(self, shapes: Facts, loads_total: dict):
        self.shapes, self.loads = shapes, loads_total
        self.positions = shapes.positions()
        self.shape = {}

    def only(self, v) -> bool:
        return self.shape.get(v, 0) > 0 and self.shape[v] == self.loads.get(v)

    def count(self, node, sign) -> None:
        """Count (``sign`` 1) or discount (-1) the shape reads of the call ``node``, if it is."""
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name):
            at = self.positions.get(node.func.id, ())
            for i, arg in enumerate(node.args):
                if i in at and isinstance(arg, gast.Name):
                    self.shape[arg.id] = self.shape.get(arg.id, 0) + sign

    def replaced(self, old, new) -> set:
        """Account for the expression ``old`` replaced by ``new``; the names they read."""
        touched = set()
        if isinstance(new, gast.Call) and new.func.id not in self.positions:
            self.positions = self.shapes.positions()  # (the stand-in, bound when first used)
        for expr, sign in ((old, -1), (new, 1)):
            for node in walk(expr):
                self.count(node, sign)
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                    self.loads[node.id] = self.loads.get(node.id, 0) + sign
                    touched.add(node.id)
        return touched


def call_reductions_as_methods(fdef, facts: Facts) -> None:
    """``np.sum(x, axis=1)`` becomes ``x.sum(axis=1)`` when ``x`` is known to be an ndarray: the
    same computation without the function's dispatch."""
    for node in walk(fdef):
        if isinstance(node, gast.Call) and node.args and isinstance(node.args[0], gast.Name) \
                and (facts.rank(node.args[0].id) or 0) >= 1:
            method = facts.reduction_method(node)
            if method is not None:
                node.func = gast.Attribute(value=node.args[0], attr=method, ctx=gast.Load())
                node.args = node.args[1:]


def iterate_tapes_in_reverse(fdef, builtin) -> None:
    """A tape that one top-level ``while`` loop fills, one entry per iteration, and one backward
    loop pops: ``for _ in range(n_iter): ...; a, b = tape.pop()`` becomes ``for a, b in
    reversed(tape):`` (as a hand-written backward pass reads its list), without the counter."""
    stores, loads_ = _name_stats(fdef)
    body = fdef.body
    for loop in body:
        if not (isinstance(loop, gast.For) and isinstance(loop.iter, gast.Call)
                and isinstance(loop.iter.func, gast.Name)
                and loop.iter.func.id == builtin("range") and len(loop.iter.args) == 1
                and isinstance(loop.iter.args[0], gast.Name)
                and isinstance(loop.target, gast.Name)):
            continue
        counter = loop.iter.args[0].id
        fills = [w for w in body if isinstance(w, gast.While) and w.body
                 and _increments(w.body[0], counter)]
        pops = [k for k, st in enumerate(loop.body) if _tape_call(st, "pop")]
        if (
            len(fills) != 1
            or len(pops) != 1
            or stores.get(counter) != 2
            or loads_.get(counter) != 2
        ):
            continue
        pushes = [st for st in fills[0].body if _tape_call(st, "append")]
        pop = loop.body[pops[0]]
        tape = pop.value.func.value.id
        if (
            len(pushes) != 1
            or pushes[0].value.func.value.id != tape
            or loads_.get(tape) != 2
            or stores.get(tape) != 1
        ):
            continue
        popped = {n.id for n in walk(pop.targets[0]) if isinstance(n, gast.Name)}
        if any(isinstance(n, gast.Name) and n.id in popped for st in loop.body[:pops[0]]
               for n in walk(st)):
            continue  # read or bound before the pop in the same iteration
        loop.target = pop.targets[0]
        loop.iter = gast.Call(func=gast.Name(id=builtin("reversed"), ctx=gast.Load(),
                                             annotation=None, type_comment=None),
                              args=[gast.Name(id=tape, ctx=gast.Load(), annotation=None,
                                              type_comment=None)],
                              keywords=[])
        del loop.body[pops[0]]
        loop.body = loop.body or [gast.Pass()]
        del fills[0].body[0]
        body[:] = [st for st in body
                   if not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                           and st.targets[0].id == counter)]
        return iterate_tapes_in_reverse(fdef, builtin)


def _increments(st, var) -> bool:
    """Is ``st`` ``var = var + 1``?"""
    return (
        isinstance(st, gast.Assign)
        and isinstance(st.targets[0], gast.Name)
        and st.targets[0].id == var
        and isinstance(st.value, gast.BinOp)
        and isinstance(st.value.op, gast.Add)
        and isinstance(st.value.left, gast.Name)
        and st.value.left.id == var
        and _const(st.value.right, 1)
    )


def _tape_call(st, method) -> bool:
    """Is ``st`` ``tape.append(x)`` (method "append") or ``x = tape.pop()`` (method "pop")?"""
    call = st.value if isinstance(st, gast.Expr if method == "append" else gast.Assign) else None
    return (
        isinstance(call, gast.Call)
        and isinstance(call.func, gast.Attribute)
        and call.func.attr == method
        and isinstance(call.func.value, gast.Name)
        and len(call.args) == (1 if method == "append" else 0)
        and not call.keywords
    )


def _elementwise_leaves(expr, shapes):
    """The names an elementwise expression of numbers and arrays combines (in order, once each),
    or None when it is anything else."""
    if isinstance(expr, gast.Name):
        return [expr.id] if shapes.rank(expr.id) is not None else None
    if isinstance(expr, gast.Constant):
        return [] if isinstance(expr.value, _NUMBER) and not isinstance(expr.value, bool) else None
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, _ELEMENTWISE_OPS):
        parts = [expr.left, expr.right]
    elif isinstance(expr, gast.UnaryOp) and isinstance(expr.op, (gast.USub, gast.UAdd)):
        parts = [expr.operand]
    elif isinstance(expr, gast.Call) and shapes.shape_operands(expr) is not None:
        parts = shapes.shape_operands(expr)
    else:
        return None
    leaves = []
    for part in parts:
        found = _elementwise_leaves(part, shapes)
        if found is None:
            return None
        leaves += [v for v in found if v not in leaves]
    if isinstance(expr, gast.Call) and all(shapes.python_number(v) for v in leaves):
        # (a NumPy function of Python numbers: a NumPy scalar, which can change the dtype)
        return None
    return leaves
