"""The normal form's temporaries folded back: a temporary used once fused into its use, the
lowering of ``a and b`` / ``a or b`` made one expression again, and a loop test evaluated in
a temporary inlined into the ``while``."""
from __future__ import annotations

import re

import gast

from ..ir import loads, walk
from .deadcode import _is_comment
from .propagate import _name_stats

_TEMPORARY = re.compile(r"t\d+(_\d+)?$")  # the normal form's temporaries (named adjoints stay)


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
        if not (isinstance(st, gast.While) and isinstance(st.test, gast.Name) and st.body
                and not st.orelse):
            continue
        var, last = st.test.id, st.body[-1]
        if loads_total.get(var) != 1 or not (
            isinstance(last, gast.Assign)
            and isinstance(last.targets[0], gast.Name)
            and last.targets[0].id == var
        ):
            continue
        j = k - 1  # the first evaluation, past stores of constants the test does not read
        reads = set(loads(last.value))
        while (
            j >= 0
            and isinstance(stmts[j], gast.Assign)
            and isinstance(stmts[j].value, gast.Constant)
            and isinstance(stmts[j].targets[0], gast.Name)
            and stmts[j].targets[0].id not in reads | {var}
        ):
            j -= 1
        first = stmts[j] if j >= 0 else None
        if (
            isinstance(first, gast.Assign)
            and isinstance(first.targets[0], gast.Name)
            and first.targets[0].id == var
            and gast.dump(first.value) == gast.dump(last.value)
        ):
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
            if (
                isinstance(tested, gast.Name)
                and tested.id == var
                and isinstance(inner.targets[0], gast.Name)
                and inner.targets[0].id == var
                and var not in loads(inner.value)
            ):
                first.value = gast.BoolOp(op=gast.Or() if negated else gast.And(),
                                          values=[first.value, inner.value])
                del block[k + 1]


def fuse_single_use(fdef, keep) -> None:
    """A temporary ``t = expr`` whose only read is in the value (or ``if`` test) of the next
    statement (comments aside) goes into that read: ``t2 = y * y; t1 = t2 - x`` becomes
    ``t1 = y * y - x``, as a user would write it and with one store and load less. Only when moving
    ``expr`` cannot reorder calls."""
    counts, loads_total = _name_stats(fdef)
    for stmts in _blocks(fdef.body):
        for k in range(len(stmts) - 2, -1, -1):  # backwards, so chains fuse into one expression
            st = stmts[k]
            after = k + 1  # the next statement, past comments
            while (
                after < len(stmts) - 1
                and isinstance(stmts[after], gast.Expr)
                and _is_comment(stmts[after])
            ):
                after += 1
            if (isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name)
                and st.targets[0].id not in keep
                    and _TEMPORARY.match(st.targets[0].id) and counts.get(st.targets[0].id) == 1
                and loads_total.get(st.targets[0].id) == 1
                    and _fuse_into(stmts[after], st.targets[0].id, st.value)):
                del stmts[k]


def _fuse_into(st, var, expr) -> bool:
    """Put ``expr`` in place of the one read of ``var`` in the value part of ``st``; True if
    done."""
    if isinstance(st, (gast.Assign, gast.AugAssign, gast.Return)) or (
        isinstance(st, gast.Expr) and not _is_comment(st)
    ):
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
    if any(isinstance(n,
                      (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp))
           for n in path):
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
