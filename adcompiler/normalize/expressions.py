"""The ``Normalizer``'s expressions: each flattened to one operation on atoms, its operands
computed into temporaries first; short-circuit ``and``/``or`` and conditional expressions as
``if`` statements, comprehensions as loops, ``np.r_``/``np.c_`` as helper calls, a lambda used as
a value as the function object made from its own code.
"""
from __future__ import annotations

import functools
import inspect
import types

import gast

from .. import runtime
from ..ir import assign, const, copy_tree, if_, is_atom, name, walk
from ..rules.helpers import containers

# what an expression the normal form has no place for is called in the error
UNSUPPORTED = {"Lambda": "a lambda", "ListComp": "a list comprehension",
               "GeneratorExp": "a generator expression", "DictComp": "a dict comprehension",
               "SetComp": "a set comprehension", "NamedExpr": "an assignment expression (:=)",
               "Await": "await", "Yield": "yield", "YieldFrom": "yield from",
               "Starred": "a starred expression", "Slice": "a slice (a:b) given as a value"}


class Renamer(gast.NodeTransformer):
    """Renames, in place, the names in ``renames`` (loads and stores, and nested defs)."""

    def __init__(self, renames: dict):
        self.renames = renames

    def visit_Name(self, node):
        if node.id in self.renames:
            node.id = self.renames[node.id]
        return node

    def visit_FunctionDef(self, node):  # (a def inside the inlined function is one of its locals)
        node.name = self.renames.get(node.name, node.name)
        return self.generic_visit(node)


class Expressions:
    """Expression methods of the ``Normalizer`` (a mixin)."""

    def atom(self, node, s):
        """Flatten ``node`` and return a Name or Constant holding its value."""
        flat = self.expr(node, s)
        if is_atom(flat):
            return flat
        t = self.temp()
        self.emit(assign(t, flat), s)
        self.note_result_class(t, flat)
        return name(t)

    def expr(self, node, s):
        """Flatten ``node`` to a single operation on atoms (or an atom)."""
        node = self.picked_arm(node)  # (o.a if isinstance(o, V) else o, o a V: o.a)
        if isinstance(node, gast.Constant):
            return node
        if isinstance(node, gast.Name):
            return self.name_value(node, s)
        if isinstance(node, gast.Attribute):
            if self.is_global(node):
                return node  # (np.pi, np.sin: kept as written)
            return self.attribute_value(self.atom(node.value, s), node.attr, s)
        if isinstance(node, gast.BinOp):
            left, right = self.atom(node.left, s), self.atom(node.right, s)
            method = self.operator_method(node.op, left, right, s)
            if method is not None:  # (v * w of objects of the user's class: Vec.__mul__)
                return self.call(method, s)
            return self.dict_union(node, left, right) \
                or gast.BinOp(left=left, op=node.op, right=right)
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant) \
                    and isinstance(node.operand.value, (int, float)):
                return const(-node.operand.value)
            operand = self.atom(node.operand, s)
            method = self.operator_method(node.op, operand, None, s)
            if method is not None:  # (-v of an object of the user's class: Vec.__neg__)
                return self.call(method, s)
            return gast.UnaryOp(op=node.op, operand=operand)
        if isinstance(node, gast.Compare):
            return self.compare(node, s)
        if isinstance(node, gast.BoolOp):
            return name(self.boolop(node, s))
        if isinstance(node, gast.IfExp):  # (a partial or lambda in an arm: chosen as by an if)
            t = self.temp()
            self.branches(self.test(node.test, s), [assign(t, node.body, s)],
                          [assign(t, node.orelse, s)], s)
            return name(t)
        if isinstance(node, gast.Call):
            return self.call(node, s)
        if isinstance(node, gast.Subscript):
            return self.subscript(node, s)
        if isinstance(node, (gast.Tuple, gast.List, gast.Dict)):
            return self.display(node, s)
        if isinstance(node, gast.JoinedStr):
            return node
        if isinstance(node, (gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp)):
            return name(self.comprehension(node, s))
        if isinstance(node, gast.Set):  # {a, b} as set([a, b]), as a set comprehension is
            items = self.atom(gast.List(elts=node.elts, ctx=gast.Load()), s)
            return gast.Call(func=name(self.helper("set", set)), args=[items], keywords=[])
        if isinstance(node, gast.NamedExpr) and isinstance(node.target, gast.Name):  # (s := value)
            self.assign_to(node.target.id, node.value, s)
            return name(node.target.id)
        if isinstance(node, gast.Lambda):
            return self.lambda_value(node, s)
        what = UNSUPPORTED.get(type(node).__name__, type(node).__name__)
        if isinstance(node, gast.Slice):
            self.unsupported(node, what, "pass slice(a, b) for a slice object, or index a local "
                                         "list or array with it")
        self.unsupported(node, what, "rewrite it with plain statements and loops")

    def name_value(self, node, s):
        """The value of the name ``node``. A local function has none (its calls are inlined; the
        function itself does not exist), so reading one is an error, but for a partial: its
        value is made here (``functools.partial``) of the values it was given."""
        made = getattr(self.local_fns.get(node.id), "ad_partial", None)
        if made is not None:
            func, args, keywords = made
            return gast.Call(func=name(self.helper("partial", functools.partial)),
                             args=[self.atom(copy_tree(func), s)] + copy_tree(args),
                             keywords=copy_tree(keywords))
        if node.id in self.local_fns:
            return self.closure_value(node.id, s)
        return name(node.id)

    def display(self, node, s):
        """A tuple, list or dict display of atoms."""
        if isinstance(node, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in node.elts):
                kind = list if isinstance(node, gast.List) else tuple
                return self.atom(_unstarred(node, name(self.helper(kind.__name__, kind))), s)
            return type(node)(elts=[self.atom(e, s) for e in node.elts], ctx=gast.Load())
        if any(k is None for k in node.keys):
            return self.merged(node, s)
        return gast.Dict(keys=[self.atom(k, s) for k in node.keys],
                         values=[self.atom(v, s) for v in node.values])

    def merged(self, node, s):
        """``{**a, 'k': v, **b}`` as ``merged_dict(a, {'k': v}, b)`` (a helper with a rule)."""
        parts = []
        for k, v in zip(node.keys, node.values):
            if k is None:
                parts.append(self.atom(v, s))
            elif parts and isinstance(parts[-1], gast.Dict):
                parts[-1].keys.append(self.atom(k, s))
                parts[-1].values.append(self.atom(v, s))
            else:
                parts.append(gast.Dict(keys=[self.atom(k, s)], values=[self.atom(v, s)]))
        parts = [self.atom(p, s) if isinstance(p, gast.Dict) else p for p in parts]
        helper = self.helper("merged_dict", containers.merged_dict)
        return gast.Call(func=name(helper), args=parts, keywords=[])

    def compare(self, node, s):
        """A comparison of atoms; a chain ``a < b < c`` as ``a < b and b < c``."""
        if len(node.ops) == 1:
            return gast.Compare(left=self.atom(node.left, s), ops=node.ops,
                                comparators=[self.atom(node.comparators[0], s)])
        left, parts = node.left, []
        for op, right in zip(node.ops, node.comparators):
            parts.append(gast.Compare(left=left, ops=[op], comparators=[right]))
            left = right
        return self.expr(gast.BoolOp(op=gast.And(), values=parts), s)

    def subscript(self, node, s):
        """``x[i]`` on atoms (``np.r_[...]`` and ``np.c_[...]``: see ``concatenation``)."""
        joined = self.concatenation(node)
        if joined is not None:
            return self.expr(joined, s)
        if isinstance(node.value, gast.Name) and node.value.id in self.object_classes \
                and isinstance(inspect.getattr_static(self.object_classes[node.value.id],
                                                      "__getitem__", None), types.FunctionType):
            # p[i] of an object argument of a class of the user's: its __getitem__, a method call
            method = gast.Attribute(value=node.value, attr="__getitem__", ctx=gast.Load())
            key = index_value(node.slice, name(self._builtin("slice")))
            getitem = inspect.getattr_static(self.object_classes[node.value.id], "__getitem__")
            call = gast.Call(func=method, args=[node.value, key], keywords=[])
            # (inlined, as a writing method would be: its reads of the object are this
            # function's, which may store into it between them: b[0] = b[0] * b[1])
            parsed = self.inlinable(getitem, call, call.args, always=True)
            if parsed is not None:
                return self.inline_function(parsed, call, s)
            return self.expr(gast.Call(func=method, args=[key], keywords=[]), s)
        base, index = self.atom(node.value, s), self.index(node.slice, s)
        if isinstance(base, gast.Name) and base.id in self.growing \
                and isinstance(index, gast.Constant) and type(index.value) is int \
                and index.value < 0:
            # xs[-1] of a list the function adds entries to: the entry it names now (the list's
            # adjoint has the entries added later too)
            size = self.temp()
            self.emit(assign(size, gast.Call(func=name(self._builtin("len")), args=[base],
                                             keywords=[])), s)
            index = self.atom(gast.BinOp(left=name(size), op=gast.Add(), right=index), s)
        return gast.Subscript(value=base, slice=index, ctx=gast.Load())

    def lambda_value(self, node, s):
        """A lambda used as a value (``[lambda u, k=k: u * k for k in ks]``): the function object
        made from the user's own lambda code, with its default values, so calling it later is
        differentiated through its source (``runtime.make_function``). One reading the function's
        variables would see the normal form's, not the user's: an error."""
        a = node.args
        params = {p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                  if p is not None}
        free = sorted({n.id for n in walk(node.body) if isinstance(n, gast.Name)
                       and n.id not in params and n.id in self.resolver.locals | self.temps})
        code = self.lambda_code(node)
        if free or a.kwonlyargs or code is None:  # (an object holding what it reads)
            return self.closure_value(self.callable_of(node, s).id, s)
        defaults = gast.Tuple(elts=[self.atom(d, s) for d in a.defaults], ctx=gast.Load())
        made = (code, getattr(self.resolver.parsed.fn, "__globals__", {}))
        return gast.Call(func=name(self.helper("make_function", runtime.make_function)),
                         args=[name(self.bind_object("lambda_code", made)), defaults], keywords=[])

    def lambda_code(self, node):
        """The code object of the user's lambda ``node``: the lambdas of its line in source order
        are those code objects in the order the compiler made them (None when that is unclear)."""
        fn = self.resolver.parsed.fn
        fn = getattr(fn, "__func__", fn)
        line = node.lineno + self.loc.line_offset
        found, todo = [], [getattr(fn, "__code__", None)]
        while todo:
            code = todo.pop(0)
            for c in getattr(code, "co_consts", ()):
                if isinstance(c, types.CodeType):
                    todo.append(c)
                    if c.co_name == "<lambda>" and c.co_firstlineno == line:
                        found.append(c)
        columns = sorted(n.col_offset for n in walk(self.resolver.parsed.tree)
                         if isinstance(n, gast.Lambda) and n.lineno == node.lineno)
        if len(found) != len(columns) or len(set(columns)) != len(columns) \
                or node.col_offset not in columns \
                or any(isinstance(n, gast.Lambda) for n in walk(node.body)):
            return None
        code = found[columns.index(node.col_offset)]
        return None if code.co_freevars else code

    def comprehension(self, node, s) -> str:
        """``[elt for x in xs if c]`` (or a generator expression) as a loop appending to a list,
        ``{k: v for ...}`` as a loop storing into a dict, ``{elt for ...}`` as ``set`` of such a
        list; the comprehension's variables get fresh names (they do not leak)."""
        if any(g.is_async for g in node.generators):
            self.unsupported(node, "an async comprehension", "use a loop")
        targets = sorted({n.id for g in node.generators for n in walk(g.target)
                          if isinstance(n, gast.Name)})
        renames = {t: self.namer.fresh(t + "_") for t in targets}
        self.resolver.locals |= set(renames.values())
        rename = Renamer(renames).visit
        acc = self.namer.fresh("items")
        self.resolver.locals.add(acc)
        self.temps.add(acc)
        if isinstance(node, gast.DictComp):
            self.emit(assign(acc, gast.Dict(keys=[], values=[])), s)
            key = gast.Subscript(value=name(acc), slice=rename(copy_tree(node.key)),
                                 ctx=gast.Store())
            inner = [gast.copy_location(gast.Assign(targets=[key],
                                                    value=rename(copy_tree(node.value)),
                                                    type_comment=None), s)]
        else:
            self.emit(assign(acc, gast.List(elts=[], ctx=gast.Load())), s)
            self.sure_lists.add(acc)
            self.filled_classes[acc] = self.inline_all and self.constructed_class(node.elt)
            append = gast.Call(func=gast.Attribute(value=name(acc), attr="append", ctx=gast.Load()),
                               args=[rename(copy_tree(node.elt))], keywords=[])
            inner = [gast.copy_location(gast.Expr(value=append), s)]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                inner = [if_(rename(copy_tree(cond)), inner, like=s)]
            loop = gast.For(target=rename(copy_tree(gen.target)), iter=rename(copy_tree(gen.iter))
                            if gen is not node.generators[0] else copy_tree(gen.iter), body=inner,
                            orelse=[], type_comment=None)
            inner = [gast.copy_location(loop, s)]
        for st in inner:
            self.stmt(st)
        if isinstance(node, gast.SetComp):
            items = acc
            acc = self.temp()
            self.emit(assign(acc, gast.Call(func=name(self.helper("set", set)), args=[name(items)],
                                            keywords=[])), s)
        return acc

    def boolop(self, node, s, t=None) -> str:
        """Short-circuit ``a and b`` / ``a or b`` into ifs on ``t`` (a new temporary by default)."""
        t = t or self.temp()
        self.emit(assign(t, self.expr(node.values[0], s)), s)
        for value in node.values[1:]:
            test = name(t) if isinstance(node.op, gast.And) else gast.UnaryOp(op=gast.Not(),
                                                                              operand=name(t))
            body = self.block([assign(t, value, s)])
            self.emit(if_(test, body), s)
        return t

    def concatenation(self, node):
        """``np.r_[a, b, ...]`` as ``r_items([a, b, ...])`` and ``np.c_[...]`` as
        ``c_items([...])``: the same values from runtime helpers with rules, so the items get
        gradients (their "index" is data); None for other subscripts, and for ``r_``/``c_`` with a
        slice or a string directive (refused if a float index depending on wrt reaches them:
        runtime.subscript_check)."""
        import numpy as np

        if self.bind_object is None or not self.is_global(node.value):
            return None
        obj = self.resolver.resolve(node.value)
        helper = "r_items" if obj is np.r_ else "c_items" if obj is np.c_ else None
        if helper is None:
            return None
        items = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if any(isinstance(i, gast.Starred)
               or (isinstance(i, gast.Constant) and isinstance(i.value, str)) for i in items):
            return None
        items = [self.slice_range(i) if isinstance(i, gast.Slice) else i for i in items]
        if any(i is None for i in items):
            return None
        return gast.Call(func=name(self.helper(helper, getattr(runtime, helper))),
                         args=[gast.List(elts=list(items), ctx=gast.Load())], keywords=[])

    def slice_range(self, piece):
        """What a slice item of ``np.r_`` / ``np.c_`` stands for: ``np.arange(start, stop,
        step)``, or with an imaginary step ``n * 1j`` ``np.linspace(start, stop, n)``; None when
        the step's kind is not known here."""
        import numpy as np

        start = piece.lower if piece.lower is not None else const(0)
        step = piece.step
        if isinstance(step, gast.Constant) and isinstance(step.value, complex):
            return gast.Call(func=name(self.helper("linspace", np.linspace)),
                             args=[start, piece.upper, const(int(abs(step.value)))], keywords=[])
        if step is not None and not isinstance(step, gast.Constant):
            return None  # (a variable might hold an imaginary step)
        return gast.Call(func=name(self.helper("arange", np.arange)),
                         args=[start, piece.upper, step or const(1)], keywords=[])

    def index(self, node, s):
        """Flatten a subscript index: atoms, slices of atoms, tuples of those."""
        if isinstance(node, gast.Slice):
            return gast.Slice(*[None if p is None else self.atom(p, s)
                                for p in (node.lower, node.upper, node.step)])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, s) for e in node.elts], ctx=gast.Load())
        return self.atom(node, s)


def index_value(node, slice_):
    """The value Python gives ``__getitem__`` for the index ``node``: ``a:b`` as ``slice(a, b,
    None)`` (``slice_``: the name of ``slice``), in a tuple too (``p[1:, 0]``)."""
    if isinstance(node, gast.Slice):
        return gast.copy_location(gast.Call(func=slice_, args=[
            const(None) if p is None else p for p in (node.lower, node.upper, node.step)],
            keywords=[]), node)
    if isinstance(node, gast.Tuple):
        return gast.Tuple(elts=[index_value(e, slice_) for e in node.elts], ctx=gast.Load())
    return node


def _unstarred(node, convert):
    """``[*a, x, *b]`` as the concatenation ``list(a) + [x] + list(b)`` (``convert``: the name
    of ``list``, or of ``tuple`` for a tuple display)."""
    parts, run = [], []
    for e in node.elts:
        if isinstance(e, gast.Starred):
            if run:
                parts.append(type(node)(elts=run, ctx=gast.Load()))
                run = []
            parts.append(gast.Call(func=copy_tree(convert), args=[e.value], keywords=[]))
        else:
            run.append(e)
    if run:
        parts.append(type(node)(elts=run, ctx=gast.Load()))
    out = parts[0]
    for part in parts[1:]:
        out = gast.BinOp(left=out, op=gast.Add(), right=part)
    return gast.copy_location(out, node)
