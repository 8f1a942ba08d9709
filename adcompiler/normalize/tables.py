"""Tables as lists of lists (``R = [[0.0] * m for _ in range(n)]``, the dynamic-programming
idiom), written an entry at a time: ``R[i][j] = v`` (or ``op=``) becomes a new row stored whole,
``R[i] = with_entry(R[i], j, v)``, which the derivative follows as it follows any store into a
list (a write into the row in place, which ``R`` holds, it does not). The plain call changes the
row object itself; the two agree when nothing else holds the row: so a table is rewritten only
when every use of its name is an entry of a row (``R[i][j]``), ``len(R)``, or a new row appended,
and generated code checks where each store runs that the row is a list no other row of the table
is (``check_row``: not ``[[0.0] * m] * n``)."""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import copy_tree, name, walk


def rewrite_table_stores(body: list, lists: set, helper, namer, loc, resolve) -> tuple:
    """Rewrite, in place, the entry stores of the tables among ``lists`` (names bound to new lists
    only) in ``body``; returns the names it binds and, of those, the new rows' (lists)."""
    tables = {n for n in lists if _uses_are_entries(body, n, resolve)}
    if not tables:
        return set(), set()
    rewriter = _TableStores(tables, helper, namer, loc)
    out = []
    for st in body:
        new = rewriter.visit(st)
        out.extend(new if isinstance(new, list) else [new])
    body[:] = out
    return rewriter.bound, rewriter.rows


def _uses_are_entries(body, table, resolve) -> bool:
    """Whether ``table`` is stored into as ``table[i][j] = v`` somewhere and every other use of
    it reads an entry of a row, asks its length, or appends a new row to it."""
    allowed, stored = set(), False
    for node in (n for st in body for n in walk(st)):
        if _entry_of(node, table):
            allowed.add(id(node.value.value))
            stored = stored or not isinstance(node.ctx, gast.Load)
        elif isinstance(node, gast.Call) and node.args and _is(node.args[0], table) \
                and resolve(node.func) is len and len(node.args) == 1:
            allowed.add(id(node.args[0]))
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and _is(node.func.value, table) and node.func.attr == "append" \
                and len(node.args) == 1 and isinstance(node.args[0], (gast.List, gast.ListComp)):
            allowed.add(id(node.func.value))
        elif isinstance(node, gast.Assign) and _is(node.targets[0], table):
            allowed.add(id(node.targets[0]))  # (its bindings: new lists, see sure_lists)
    uses = [n for st in body for n in walk(st) if _is(n, table)]
    return stored and all(id(n) in allowed for n in uses)


def _is(node, table) -> bool:
    return isinstance(node, gast.Name) and node.id == table


def _entry_of(node, table) -> bool:
    """Whether ``node`` is ``table[i][j]``."""
    return isinstance(node, gast.Subscript) and isinstance(node.value, gast.Subscript) \
        and _is(node.value.value, table) and not isinstance(node.value.slice, gast.Slice) \
        and not isinstance(node.slice, gast.Slice)


class _TableStores(gast.NodeTransformer):
    def __init__(self, tables, helper, namer, loc):
        self.tables, self.helper, self.namer, self.loc = tables, helper, namer, loc
        self.bound, self.rows = set(), set()

    def visit_Assign(self, node):
        target = node.targets[0]
        if len(node.targets) == 1 and any(_entry_of(target, t) for t in self.tables):
            return self.rewritten(target, node, node.value, None)
        return node

    def visit_FunctionDef(self, node):  # (a nested function's tables are its own)
        return node

    visit_Lambda = visit_FunctionDef

    def visit_AugAssign(self, node):
        if any(_entry_of(node.target, t) for t in self.tables):
            return self.rewritten(node.target, node, node.value, node.op)
        return node

    def rewritten(self, target, s, value, op):
        table = target.value.value.id
        at, column, row = (self.namer.fresh(n) for n in ("at", "column", "row"))
        self.bound |= {at, column, row}
        self.rows.add(row)
        error = self.loc.error("R[i][j] = v is differentiated for a table whose row R[i] is a "
                               "list of its own, but %s[...] is %%s here" % table, s,
                               hint="make each row a new list ([[0.0] * m for _ in range(n)], "
                                    "not [[0.0] * m] * n)")
        check = gast.Call(func=name(self.helper("check_row", runtime.check_row)),
                          args=[name(table), name(at),
                                name(self.helper("refusal", runtime.Refusal(error)))]
                          + ([name(column)] if op is not None else []), keywords=[])
        old_row = gast.Subscript(value=name(table), slice=name(at), ctx=gast.Load())
        if op is not None:  # (a number's op=: the entry op v; check_row saw no array)
            value = gast.BinOp(left=gast.Subscript(value=old_row, slice=name(column),
                                                   ctx=gast.Load()), op=op, right=value)
        new_row = gast.Call(func=name(self.helper("with_entry", runtime.with_entry)),
                            args=[copy_tree(old_row), name(column), value], keywords=[])
        steps = [
            gast.Assign(targets=[name(at, True)], value=target.value.slice, type_comment=None),
            gast.Assign(targets=[name(column, True)], value=target.slice, type_comment=None),
            gast.Expr(value=check),
            gast.Assign(targets=[name(row, True)], value=new_row, type_comment=None),
            gast.Assign(targets=[gast.Subscript(value=name(table), slice=name(at),
                                                ctx=gast.Store())],
                        value=name(row), type_comment=None)]
        return [gast.copy_location(st, s) for st in steps]
