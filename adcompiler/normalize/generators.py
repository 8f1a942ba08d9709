"""A generator function differentiated where it is called (``for p in self.parameters()``, a
model's ``def parameters(self): yield self.W; yield self.b``), made the function that returns the
list of what it yields: each ``yield v`` appends ``v``, ``yield from it`` appends each item, and a
bare ``return`` returns the list. The caller iterates over the list as it would over the
generator; what it cannot do with a list (``next``, ``send``, a ``yield`` used as a value) is
refused."""
from __future__ import annotations

import gast

from ..ir import name


def yielded_as_list(fdef: gast.FunctionDef, namer, loc) -> gast.FunctionDef:
    """``fdef`` itself when it does not yield, else its list-building form (see the module)."""
    own = list(_own_nodes(fdef.body))
    if not any(isinstance(n, (gast.Yield, gast.YieldFrom)) for n in own):
        return fdef
    out = namer.fresh("yielded")
    for n in own:
        if isinstance(n, (gast.Yield, gast.YieldFrom)) and not getattr(n, "ad_statement", False):
            raise loc.error("a yield used as a value is not supported", n,
                            hint="yield values only (yield v), and iterate over the generator")
        if isinstance(n, gast.Return) and n.value is not None:
            raise loc.error("a generator's return value is not supported", n,
                            hint="return nothing, or yield the value")
    appends = _Appends(out)
    start = gast.Assign(targets=[name(out, True)], value=gast.List(elts=[], ctx=gast.Load()),
                        type_comment=None)
    body = [start] + [appends.visit(st) for st in fdef.body] + [gast.Return(value=name(out))]
    for st in (body[0], body[-1]):
        gast.copy_location(st, fdef)
    rewritten = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body,
                                 decorator_list=fdef.decorator_list, returns=fdef.returns,
                                 type_comment=None, type_params=getattr(fdef, "type_params", []))
    return gast.copy_location(rewritten, fdef)


def _own_nodes(body):
    """The nodes of ``body``, not those of functions and classes defined in it; a yield that is a
    whole statement is marked ``ad_statement``."""
    for st in body:
        if isinstance(st, gast.Expr) and isinstance(st.value, (gast.Yield, gast.YieldFrom)):
            st.value.ad_statement = True
        if isinstance(st, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef, gast.Lambda)):
            continue
        stack = [st]
        while stack:
            node = stack.pop()
            yield node
            for child in gast.iter_child_nodes(node):
                if isinstance(child, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef,
                                      gast.Lambda)):
                    continue
                if isinstance(child, gast.Expr) and isinstance(child.value,
                                                              (gast.Yield, gast.YieldFrom)):
                    child.value.ad_statement = True
                stack.append(child)


class _Appends(gast.NodeTransformer):
    def __init__(self, out):
        self.out = out

    def _append(self, value):
        return gast.Expr(value=gast.Call(func=gast.Attribute(value=name(self.out), attr="append",
                                                             ctx=gast.Load()),
                                         args=[value], keywords=[]))

    def visit_Expr(self, node):
        value = node.value
        if isinstance(value, gast.Yield):
            return gast.copy_location(self._append(value.value or gast.Constant(value=None,
                                                                                  kind=None)), node)
        if isinstance(value, gast.YieldFrom):
            item = "item_" + self.out
            loop = gast.For(target=name(item, True), iter=value.value,
                            body=[self._append(name(item))], orelse=[], type_comment=None)
            return gast.copy_location(loop, node)
        return node

    def visit_Return(self, node):
        return gast.copy_location(gast.Return(value=name(self.out)), node)

    def visit_FunctionDef(self, node):  # (a nested function's yields and returns are its own)
        return node

    visit_Lambda = visit_ClassDef = visit_AsyncFunctionDef = visit_FunctionDef
