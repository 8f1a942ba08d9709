"""Pass 6: optimise generated code. Constant propagation (the seed ``dret = 1.0``), algebraic
simplification of instantiated rules (``g * 1.0``, ``x ** 1``, ``-(-g)``, constant folding) and
dead-code elimination by liveness over structured control flow (no adjoint nobody reads, no
primal value nobody uses)."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Callable

import gast

from .inplace import ReuseBuffers
from .ir import COMMENT, loads, name_counts, substitute_loads, walk
from .shapes import ResolveShapes

_FOLD = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
         gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv}
_COMPARE = {gast.Is: operator.is_, gast.IsNot: operator.is_not, gast.Eq: operator.eq, gast.NotEq: operator.ne}
_ORDER = {gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge}  # (numbers only)
_NUMBER = (int, float)
_TEMPORARY = re.compile(r"t\d+(_\d+)?$")  # the normal form's temporaries (named adjoints stay)


def optimize(fdef: gast.FunctionDef, is_pure_call, keep=frozenset(), facts=None,
             floats=frozenset()) -> gast.FunctionDef:
    """Optimise ``fdef`` in place. ``is_pure_call(call)`` says whether a call may be dropped when
    its result is unused; names in ``keep`` (the user's variables and their adjoints) are never
    replaced by a temporary; names in ``floats`` hold floats or float arrays (``1.0 * x`` is ``x``
    only for those: for a bool or int ``x`` it changes the dtype). With ``facts`` (``Facts`` on the
    names of gradient code), elementwise results read only for their shape are not computed and
    tapes filled by one loop are read in reverse instead of popped."""
    first = True
    for _ in range(6):
        changed = propagate_constants(fdef, keep, simplify_all=first, floats=floats)
        changed = propagate_block_copies(fdef, keep) or changed
        first = False
        if not changed:
            break
    fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    if facts is not None and skip_shape_only(fdef, facts):
        propagate_block_copies(fdef, keep)  # (t3 = p: a value that stood in for its shape)
        fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    if facts is not None:
        iterate_tapes_in_reverse(fdef, facts.builtin)
        call_reductions_as_methods(fdef, facts)
        resolved = ResolveShapes(facts.arg_shape, facts.callee, facts.bind)
        resolved.run(fdef)
        propagate_block_copies(fdef, keep)
        fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    fuse_single_use(fdef, keep)
    fold_short_circuits(fdef.body)
    fuse_single_use(fdef, keep)
    inline_loop_tests(fdef)
    if facts is not None:
        ReuseBuffers(facts.arg_shape, facts.callee, facts.bind, resolved.constants).run(fdef)
    return fdef


def _blocks(stmts):
    """Every statement list in ``stmts`` (loop and branch bodies), inner ones first."""
    for st in stmts:
        for field in ("body", "orelse"):
            if isinstance(getattr(st, field, None), list):
                yield from _blocks(getattr(st, field))
    yield stmts


def inline_loop_tests(fdef) -> None:
    """``t = test; while t: ...; t = test`` (how the normal form evaluates a loop test) becomes
    ``while test: ...`` when nothing else reads ``t``."""
    _, loads_total = _name_stats(fdef)
    for stmts in _blocks(fdef.body):
        while _inline_loop_test(stmts, loads_total):
            pass  # positions moved: look again


def _inline_loop_test(stmts, loads_total) -> bool:
    """Inline the first loop test of ``stmts`` that qualifies; True if one did."""
    for k, st in enumerate(stmts):
        if not (isinstance(st, gast.While) and isinstance(st.test, gast.Name) and st.body and not st.orelse):
            continue
        var, last = st.test.id, st.body[-1]
        if loads_total.get(var) != 1 or not (isinstance(last, gast.Assign) and isinstance(last.targets[0], gast.Name)
                                             and last.targets[0].id == var):
            continue
        j = k - 1  # the first evaluation, past stores of constants the test does not read
        reads = set(loads(last.value))
        while j >= 0 and isinstance(stmts[j], gast.Assign) and isinstance(stmts[j].value, gast.Constant) \
                and isinstance(stmts[j].targets[0], gast.Name) and stmts[j].targets[0].id not in reads | {var}:
            j -= 1
        first = stmts[j] if j >= 0 else None
        if isinstance(first, gast.Assign) and isinstance(first.targets[0], gast.Name) and first.targets[0].id == var \
                and gast.dump(first.value) == gast.dump(last.value):
            st.test = last.value
            del st.body[-1]
            st.body = st.body or [gast.Pass()]
            del stmts[j]
            return True
    return False


def fold_short_circuits(stmts) -> None:
    """The normal form's lowering of ``a and b`` (``t = a`` then ``if t: t = b``) and of ``a or b``
    (``if not t: t = b``) back into one expression, where ``b`` is a plain computation."""
    for block in _blocks(stmts):
        for k in range(len(block) - 2, -1, -1):
            first, second = block[k], block[k + 1]
            if not (isinstance(first, gast.Assign) and isinstance(first.targets[0], gast.Name)
                    and isinstance(second, gast.If) and not second.orelse and len(second.body) == 1
                    and isinstance(second.body[0], gast.Assign)):
                continue
            var, test, inner = first.targets[0].id, second.test, second.body[0]
            negated = isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not)
            tested = test.operand if negated else test
            if isinstance(tested, gast.Name) and tested.id == var and isinstance(inner.targets[0], gast.Name) \
                    and inner.targets[0].id == var and var not in loads(inner.value):
                first.value = gast.BoolOp(op=gast.Or() if negated else gast.And(), values=[first.value, inner.value])
                del block[k + 1]


@dataclass
class Facts:
    """What the optimiser may know about the names in gradient code."""

    positions: Callable[[], dict]         # helper name -> positions of arguments read for their shape only
    shape_operands: Callable[[gast.Call], "list | None"]  # the operands whose broadcast shape is the
                                                          # call's (a ufunc's: all), else None
    reduction_method: Callable[[gast.Call], "str | None"]  # np.sum(x, ...) -> "sum" (x.sum(...))
    arg_shape: Callable[[str], "tuple | None"]  # parameter -> (shape class, dtype) (see shapes.py)
    callee: Callable[[gast.Call], object]       # the object a call calls
    rank: Callable[[str], "int | None"]   # rank of a name holding a number or an ndarray, else None
    python_number: Callable[[str], bool]  # whether a name holds a Python number
    stand_in: Callable[[], str]           # the name of ``runtime.shape_of``
    builtin: Callable[[str], str]         # the name of a builtin
    bind: Callable[[str, object], str]    # (preferred name, object) -> the name generated code uses


_ELEMENTWISE_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow, gast.FloorDiv, gast.Mod)


def skip_shape_only(fdef, shapes: Facts) -> bool:
    """A value computed only for its shape (``np.sum(x * y)`` needs ``x * y`` for the shape of its
    adjoint) is replaced by an operand of that shape: ``t1 = x * y`` becomes ``t1 = shape_of(x, y)``,
    ``t2 = np.log(p)`` becomes ``t2 = p``. Repeated, as operands may then be read for their shape
    only. Only elementwise expressions of numbers and arrays qualify. True if anything changed."""
    changed = False
    while True:
        stores, loads_total = _name_stats(fdef)
        shape_reads: dict = {}
        positions = shapes.positions()
        for node in walk(fdef):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name):
                at = positions.get(node.func.id, ())
                for i, arg in enumerate(node.args):
                    if i in at and isinstance(arg, gast.Name):
                        shape_reads[arg.id] = shape_reads.get(arg.id, 0) + 1
        only = {v for v, n in shape_reads.items() if n == loads_total.get(v) and stores.get(v) == 1}
        rewrote = False
        for st in walk(fdef):
            if not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and st.targets[0].id in only) \
                    or isinstance(st.value, gast.Name):
                continue
            leaves = _elementwise_leaves(st.value, shapes)
            if not leaves:
                continue
            # Python numbers change neither the shape nor the dtype (NumPy scalars can change the dtype)
            arrays = [v for v in leaves if not shapes.python_number(v)] or leaves[:1]
            if len(arrays) == 1:
                st.value = gast.Name(id=arrays[0], ctx=gast.Load(), annotation=None, type_comment=None)
                st.ad_primal = False  # a stand-in now, which copy propagation may remove
            else:
                st.value = gast.Call(func=gast.Name(id=shapes.stand_in(), ctx=gast.Load(), annotation=None,
                                                    type_comment=None),
                                     args=[gast.Name(id=v, ctx=gast.Load(), annotation=None, type_comment=None)
                                           for v in arrays], keywords=[])
            rewrote = True
        if not rewrote:
            return changed
        changed = True


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
        if not (isinstance(loop, gast.For) and isinstance(loop.iter, gast.Call) and isinstance(loop.iter.func, gast.Name)
                and loop.iter.func.id == builtin("range") and len(loop.iter.args) == 1
                and isinstance(loop.iter.args[0], gast.Name) and isinstance(loop.target, gast.Name)):
            continue
        counter = loop.iter.args[0].id
        fills = [w for w in body if isinstance(w, gast.While) and w.body and _increments(w.body[0], counter)]
        pops = [k for k, st in enumerate(loop.body) if _tape_call(st, "pop")]
        if len(fills) != 1 or len(pops) != 1 or stores.get(counter) != 2 or loads_.get(counter) != 2:
            continue
        pushes = [st for st in fills[0].body if _tape_call(st, "append")]
        pop = loop.body[pops[0]]
        tape = pop.value.func.value.id
        if len(pushes) != 1 or pushes[0].value.func.value.id != tape or loads_.get(tape) != 2 or stores.get(tape) != 1:
            continue
        popped = {n.id for n in walk(pop.targets[0]) if isinstance(n, gast.Name)}
        if any(isinstance(n, gast.Name) and n.id in popped for st in loop.body[:pops[0]] for n in walk(st)):
            continue  # read or bound before the pop in the same iteration
        loop.target = pop.targets[0]
        loop.iter = gast.Call(func=gast.Name(id=builtin("reversed"), ctx=gast.Load(), annotation=None, type_comment=None),
                              args=[gast.Name(id=tape, ctx=gast.Load(), annotation=None, type_comment=None)],
                              keywords=[])
        del loop.body[pops[0]]
        loop.body = loop.body or [gast.Pass()]
        del fills[0].body[0]
        body[:] = [st for st in body if not (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                                             and st.targets[0].id == counter)]
        return iterate_tapes_in_reverse(fdef, builtin)


def _increments(st, var) -> bool:
    """Is ``st`` ``var = var + 1``?"""
    return isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and st.targets[0].id == var \
        and isinstance(st.value, gast.BinOp) and isinstance(st.value.op, gast.Add) \
        and isinstance(st.value.left, gast.Name) and st.value.left.id == var and _const(st.value.right, 1)


def _tape_call(st, method) -> bool:
    """Is ``st`` ``tape.append(x)`` (method "append") or ``x = tape.pop()`` (method "pop")?"""
    call = st.value if isinstance(st, gast.Expr if method == "append" else gast.Assign) else None
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == method \
        and isinstance(call.func.value, gast.Name) and len(call.args) == (1 if method == "append" else 0) \
        and not call.keywords


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
        return None  # (a NumPy function of Python numbers: a NumPy scalar, which can change the dtype)
    return leaves


def fuse_single_use(fdef, keep) -> None:
    """A temporary ``t = expr`` whose only read is in the value (or ``if`` test) of the next statement
    (comments aside) goes into that read: ``t2 = y * y; t1 = t2 - x`` becomes ``t1 = y * y - x``, as a user would
    write it and with one store and load less. Only when moving ``expr`` cannot reorder calls."""
    counts, loads_total = _name_stats(fdef)
    for stmts in _blocks(fdef.body):
        for k in range(len(stmts) - 2, -1, -1):  # backwards, so chains fuse into one expression
            st = stmts[k]
            after = k + 1  # the next statement, past comments
            while after < len(stmts) - 1 and isinstance(stmts[after], gast.Expr) and _is_comment(stmts[after]):
                after += 1
            if (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and st.targets[0].id not in keep
                    and _TEMPORARY.match(st.targets[0].id) and counts.get(st.targets[0].id) == 1 and loads_total.get(st.targets[0].id) == 1
                    and _fuse_into(stmts[after], st.targets[0].id, st.value)):
                del stmts[k]


def _fuse_into(st, var, expr) -> bool:
    """Put ``expr`` in place of the one read of ``var`` in the value part of ``st``; True if done."""
    if isinstance(st, (gast.Assign, gast.AugAssign, gast.Return)) or (isinstance(st, gast.Expr) and not _is_comment(st)):
        part = st.value
    elif isinstance(st, gast.If):
        part = st.test
    else:
        return False
    if part is None:
        return False
    path = _path_to(part, var)
    if path is None:
        return False
    has_call = any(isinstance(n, gast.Call) for n in walk(expr))
    if has_call and any(isinstance(n, gast.Call) and n not in path for n in walk(part)):
        return False  # another call could run first, or later, than it did
    if any(isinstance(n, (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp)) for n in path):
        return False
    parent, leaf = (path[-2], path[-1]) if len(path) > 1 else (st, path[-1])
    for field, value in gast.iter_fields(parent):
        if value is leaf:
            setattr(parent, field, expr)
            return True
        if isinstance(value, list) and any(v is leaf for v in value):
            value[[i for i, v in enumerate(value) if v is leaf][0]] = expr
            return True
    return False


def _path_to(node, var):
    """Nodes from ``node`` down to the load of ``var`` in it, or None."""
    if isinstance(node, gast.Name):
        return [node] if node.id == var and isinstance(node.ctx, gast.Load) else None
    for _, value in gast.iter_fields(node):
        for child in (value if isinstance(value, list) else [value]):
            if isinstance(child, gast.AST):
                found = _path_to(child, var)
                if found is not None:
                    return [node] + found
    return None


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
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and not getattr(s, "ad_primal", False) \
                and counts.get(s.targets[0].id) == 1:
            value = s.value
            if isinstance(value, gast.Constant) and type(value.value) in _NUMBER:
                values[s.targets[0].id] = value
            elif isinstance(value, gast.Name) and counts.get(value.id) == 1 and s.targets[0].id not in keep:
                values[s.targets[0].id] = value
    fdef.body = body
    return changed or simplify.changed


def propagate_block_copies(fdef, keep):
    """Inside any block (loop bodies too): ``a = b`` where ``a`` is a temporary bound only here and
    read only later in the same block, and ``b`` keeps its value until then: read ``b`` instead
    (``b = a`` on the way is a no-op and goes)."""
    counts, loads_total = _name_stats(fdef)
    changed = False

    def block(stmts):
        nonlocal changed
        k = 0
        while k < len(stmts):
            st = stmts[k]
            for field in ("body", "orelse"):
                if isinstance(getattr(st, field, None), list):
                    block(getattr(st, field))
            if _is_copy(st) and not getattr(st, "ad_primal", False):
                a, b = st.targets[0].id, st.value.id
                if a not in keep and counts.get(a) == 1 and a != b and loads_total.get(a) \
                        and _substitute_copy(stmts, k, a, b, loads_total):
                    del stmts[k]
                    changed = True
                    continue
            k += 1
    block(fdef.body)
    return changed


def _is_copy(st):
    return isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and isinstance(st.value, gast.Name)


def _substitute_copy(stmts, k, a, b, loads_total) -> bool:
    """Replace the loads of ``a`` after ``stmts[k]`` (``a = b``) by ``b`` if ``b`` still holds the
    same value at each of them; True if done."""
    later = stmts[k + 1:]

    def loads_a(st):
        return sum(1 for n in walk(st) if n.__class__ is gast.Name and n.id == a and n.ctx.__class__ is gast.Load)
    counts, seen = [], 0
    for st in later:  # stop walking once every load of a has been found
        counts.append(loads_a(st) if seen < loads_total[a] else 0)
        seen += counts[-1]
    uses = [i for i, c in enumerate(counts) if c]
    if not uses or sum(counts) != loads_total.get(a, 0):
        return False  # unused, or read in another block: leave it
    for j, st in enumerate(later):
        if _is_copy(st) and st.targets[0].id == b and st.value.id == a:
            continue  # ``b = a`` leaves b as it was
        if any(n.__class__ is gast.Name and n.id == b and n.ctx.__class__ is gast.Store for n in walk(st)):
            # b changes here: every use must come earlier, or be the value of this plain assignment
            if uses[-1] > j or (uses[-1] == j and not isinstance(st, gast.Assign)):
                return False
            break
    for st in later[:uses[-1] + 1]:
        for n in walk(st):
            if isinstance(n, gast.Name) and n.id == a and isinstance(n.ctx, gast.Load):
                n.id = b
                st.ad_touched = True
    stmts[k + 1:] = [st for st in later if not (_is_copy(st) and st.targets[0].id == b and st.value.id == b)]
    return True


def _const(node, *values):
    return isinstance(node, gast.Constant) and type(node.value) in _NUMBER and (not values or node.value in values)


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
        if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div)):
            return isinstance(node.op, gast.Div) or self.floating(node.left) or self.floating(node.right)
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
            if _const(right) and isinstance(left, gast.BinOp) and isinstance(left.op, gast.Mult) and _const(left.left):
                return self.visit_BinOp(gast.BinOp(left=gast.Constant(value=left.left.value * right.value, kind=None),
                                                   op=gast.Mult(), right=left.right))
            if _const(left) and isinstance(right, gast.BinOp) and isinstance(right.op, gast.Mult) and _const(right.left):
                return self.visit_BinOp(gast.BinOp(left=gast.Constant(value=left.value * right.left.value, kind=None),
                                                   op=gast.Mult(), right=right.right))
            if _const(left, -1) and not isinstance(left.value, bool) and self.floating(right):
                return gast.UnaryOp(op=gast.USub(), operand=right)
        if op in (gast.Mult, gast.Div) and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
            # (-a) * b -> -(a * b): exact, and a sum around it subtracts instead of negating
            return gast.UnaryOp(op=gast.USub(), operand=self.visit_BinOp(gast.BinOp(left=left.operand, op=node.op,
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
        if len(node.ops) == 1 and isinstance(node.left, gast.Constant) and isinstance(node.comparators[0], gast.Constant):
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


class DeadCode:
    """Liveness-based removal of statements whose results nobody reads. Loops first iterate
    liveness to a fixpoint without changing anything (``apply`` off), then prune once."""

    def __init__(self, is_pure_call):
        self.is_pure_call = is_pure_call
        self.apply = True

    def pure(self, expr) -> bool:
        for node in walk(expr):
            if isinstance(node, gast.Call) and not self.is_pure_call(node):
                return False
            if isinstance(node, (gast.Yield, gast.YieldFrom, gast.Await, gast.NamedExpr)):
                return False
        return True

    def block(self, stmts, live_out: set):
        """(kept statements, names live before them)."""
        live = set(live_out)
        kept = []
        for s in reversed(stmts):
            s, live = self.stmt(s, live)
            if s is not None:
                kept.append(s)
        kept.reverse()
        return kept, live

    def stmt(self, s, live):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Name):
                if target.id not in live and self.pure(s.value):
                    return None, live
                return s, (live - {target.id}) | set(loads(s.value))
            return s, live | set(loads(target)) | set(loads(s.value))
        if isinstance(s, gast.AugAssign):  # (reads its target too)
            return s, live | {n.id for n in walk(s.target) if isinstance(n, gast.Name)} | set(loads(s.value))
        if isinstance(s, gast.Return):
            return s, set(loads(s.value)) if s.value is not None else set()
        if isinstance(s, gast.Expr):
            if self.pure(s.value) and not _is_comment(s):
                return None, live
            return s, live | set(loads(s.value))
        if isinstance(s, gast.If):
            body, live_body = self.block(s.body, live)
            orelse, live_else = self.block(s.orelse, live)
            if not _effective(body) and not _effective(orelse) and self.pure(s.test):
                return None, live
            if self.apply:
                s.body = body or [gast.Pass()]
                s.orelse = orelse
                if not _effective(body) and orelse:  # if t: pass else: ... -> if not t: ...
                    negated = isinstance(s.test, gast.UnaryOp) and isinstance(s.test.op, gast.Not)
                    s.test = s.test.operand if negated else gast.UnaryOp(op=gast.Not(), operand=s.test)
                    s.body, s.orelse = orelse, []
            return s, live_body | live_else | set(loads(s.test))
        if isinstance(s, (gast.For, gast.While)):
            target = {n.id for n in walk(s.target) if isinstance(n, gast.Name)} if isinstance(s, gast.For) else set()
            head = set(loads(s.iter if isinstance(s, gast.For) else s.test))
            out = set(live) | (head if isinstance(s, gast.While) else set())
            apply, self.apply = self.apply, False  # liveness only, until it is stable
            while True:
                _, live_body = self.block(s.body, out)
                new = out | (live_body - target)
                if new == out:
                    break
                out = new
            self.apply = apply
            body, live_body = self.block(s.body, out)
            if isinstance(s, gast.For) and not _effective(body) and self.pure(s.iter) and not target & live:
                return None, live  # (a loop that binds a name read afterwards stays, even if empty)
            if self.apply:
                s.body = body or [gast.Pass()]
            return s, live | (live_body - target) | head
        if isinstance(s, gast.Pass):
            return None, live
        return s, live | set(loads(s))


def _is_comment(s) -> bool:
    return isinstance(s.value, gast.Call) and isinstance(s.value.func, gast.Name) and s.value.func.id == COMMENT


def _effective(stmts) -> bool:
    return any(not isinstance(s, gast.Pass) and not (isinstance(s, gast.Expr) and _is_comment(s)) for s in stmts)
