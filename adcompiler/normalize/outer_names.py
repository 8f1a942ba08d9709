"""``global`` and ``nonlocal`` names the function assigns (a call counter, a cache, the best value
seen so far): each read becomes ``outer_value(ref)`` and each assignment ``set_outer(ref, v)``,
``ref`` naming the user's module namespace entry or closure cell, so generated code reads and
writes the variable the plain call does, in order (both helpers are ``effectful``). Its values
carry no derivative: a value that depends on ``wrt`` stored there is refused by the rule of
``set_outer``."""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import name, walk


def rewrite_outer_names(body: list, resolver, bind, loc) -> None:
    """Rewrite, in place, the reads and assignments of the ``global``/``nonlocal`` names that
    ``body`` assigns (see the module's doc); other binding forms of them are refused."""
    declared = {n: node for node in _own_statements(body)
                if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names}
    assigned = {n.id for st in body for n in walk(st)
                if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}
    refs = {}
    for n in sorted(set(declared) & assigned):
        outer = _outer_name(n, declared[n], resolver, loc)
        refs[n] = bind(n + "_ref", outer)
    if refs:
        _Rewriter(refs, bind, loc).visit_body(body)


def _own_statements(body):
    """The statements of ``body`` and its blocks, not those of functions defined in it."""
    for st in body:
        yield st
        if not isinstance(st, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from _own_statements(getattr(st, field, None) or [])


def _outer_name(n, declaration, resolver, loc):
    if isinstance(declaration, gast.Global):
        return runtime.OuterName(n, namespace=resolver.parsed.globals)
    cell = resolver.parsed.cells.get(n)
    if cell is None:
        raise loc.error("the nonlocal variable %r is not a variable of an enclosing function" % n,
                        declaration, hint="define it in the function that encloses this one")
    return runtime.OuterName(n, cell=cell)


class _Rewriter(gast.NodeTransformer):
    def __init__(self, refs, bind, loc):
        self.refs, self.loc = refs, loc
        self.read = bind("outer_value", runtime.outer_value)
        self.write = bind("set_outer", runtime.set_outer)

    def visit_body(self, body):
        body[:] = [self.visit(st) for st in body]

    def _store(self, n, value, like):
        call = gast.Call(func=name(self.write), args=[name(self.refs[n]), value], keywords=[])
        return gast.copy_location(gast.Expr(value=call), like)

    def visit_Global(self, node):
        node.names = [n for n in node.names if n not in self.refs]
        return node if node.names else gast.copy_location(gast.Pass(), node)

    visit_Nonlocal = visit_Global

    def visit_Assign(self, node):
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, gast.Name) and target.id in self.refs:
            return self._store(target.id, self.visit(node.value), node)
        return self.generic_visit(node)

    def visit_AugAssign(self, node):
        target = node.target
        if isinstance(target, gast.Name) and target.id in self.refs:
            value = gast.BinOp(left=self.visit_Name(name(target.id)), op=node.op,
                               right=self.visit(node.value))
            return self._store(target.id, value, node)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id not in self.refs:
            return node
        if isinstance(node.ctx, gast.Load):
            read = gast.Call(func=name(self.read), args=[name(self.refs[node.id])], keywords=[])
            return gast.copy_location(read, node)
        raise self.loc.error("this binding of the global or nonlocal variable %r is not "
                             "supported" % node.id, node,
                             hint="assign it alone: '%s = value' or '%s += value'"
                                  % (node.id, node.id))
