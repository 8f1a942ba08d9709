"""The ``Normalizer``'s calls: each call taken by the step that covers it, else flattened to a call
of atoms, the callee kept as written when it is global. The steps: a nested def, lambda or partial
inlined (``inlining``, ``local_functions``); a function, method or class of the user's file that
writes into what it is given inlined (``callees``); ``map``, ``filter``, ``functools.reduce`` and
keyed ``sorted``/``max``/``min`` spelled out (``higher_order``); here, ``out=`` as a store and
``dict(a=x)`` as a display.
"""
from __future__ import annotations

import inspect
import types

import gast
import numpy as np

from .. import runtime
from ..ir import const, copy_tree, name


class Calls:
    """Call methods of the ``Normalizer`` (a mixin): which step a call takes, and the plain call
    of atoms."""

    def call(self, node, s):
        """Flatten the call ``node``: inlined, rewritten by the step that covers it, or a call of
        atoms."""
        self.methods_as_lambdas(node)  # (euler(model.rhs, y0))
        if isinstance(node.func, gast.Name) and node.func.id in self.local_fns:
            return self.inline(node, s)
        effect = self.known_isinstance(node) or self.check_generator_arguments(node, s) \
            or self.as_statement(node, s)
        if effect is not None:  # (out.append(a) if c else ..., _ = a.sort(): its value None;
            return effect       # isinstance(o, V) of an object of a known class: True)
        as_dict = self.namedtuple_as_dict(node, s) or self.fields_made(node, s)
        if as_dict is not None:  # (b._asdict(), dataclasses.asdict(p): a display of its fields)
            return as_dict
        node = self.receiver_class_call(node) or self.replaced(node) \
            or self.namedtuple_replaced(node) or self.listed_transpose(node, s) \
            or self.spread_into_init(node, s) or self.lifted_gradient(node, s) or node
        factory = None if self.constructed_class(node) is not None else self.factory(node)
        if isinstance(node.func, gast.Name) and (self.constructed_class(node) is not None
                                                 or factory is not None):
            made = self.namer.fresh(node.func.id.lower())  # ([Dense(W1), make_dense(W2)])
            self.temps.add(made)
            if factory is not None:
                self.inline_function(factory, node, s, target=made)
            else:
                self.construct(made, node, s)
            return name(made)
        made = self.namedtuple_made(node, s)
        if made is not None:  # (Belief(mean=m, cov=c): as_namedtuple(Belief, (m, c)))
            return made
        called = self.super_call(node, s)
        if called is not None:  # (super().__init__(w): Base.__init__(self, w))
            return called if isinstance(called, gast.Constant) else self.call(called, s)
        node = self.receiver_first(node, s)  # (Cls(a).run(x), self.cell.reset())
        defaulted = self.set_default(node, s)
        if defaulted is not None:  # (d.setdefault(k, v): stored if missing, then d[k] read)
            return self.expr(defaulted, s)
        node = self.returned_object_method(node) or node  # (v.norm() of v = a + b, a Vec)
        converted = self.conversion_method(node, s)
        if converted is not None:  # (float(q): q.__float__(), of the user's class)
            return converted
        writer = self.writing_callee(node)
        if writer is not None:
            return self.inline_function(writer, node, s)
        method = self.writing_method(node)
        if method is not None:  # (obj.step(dt) of an object argument: self is obj; obj(x) too)
            receiver = node.func.value if isinstance(node.func, gast.Attribute) else node.func
            call = gast.Call(func=node.func, args=[receiver] + list(node.args),
                             keywords=node.keywords)
            return self.inline_function(method, call, s)
        rewritten = self.higher_order(node, s) or self.written_out(node, s)
        if rewritten is not None:
            return rewritten
        display = self.dict_display(node)
        if display is not None:
            return self.expr(display, s)
        args, keywords = self.flat_arguments(node, s)
        call = gast.Call(func=self.flat_callee(node.func, s), args=args, keywords=keywords)
        self.check_list_receiver(node, call.func, s)
        self.note_held_append(call)
        return call

    def flat_arguments(self, call, s) -> tuple:
        """The arguments (``*xs`` as ``*atom``) and keywords of ``call``, flattened to atoms in
        the order Python evaluates them."""
        args = [gast.Starred(value=self.atom(a.value, s), ctx=gast.Load())
                if isinstance(a, gast.Starred) else self.atom(a, s) for a in call.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, s)) for k in call.keywords]
        return args, keywords

    def flat_callee(self, func, s):
        """The callee of a plain call, flattened after its arguments: kept as written when it is
        global (``np.sin``, ``helper``, ``math.exp``) or a name (a nested def, a lambda variable,
        an argument); the object of a method read into an atom; any other callee an atom."""
        if self.is_global(func) or isinstance(func, gast.Name):
            return func
        if isinstance(func, gast.Attribute):
            return gast.Attribute(value=self.atom(func.value, s), attr=func.attr, ctx=gast.Load())
        return self.atom(func, s)

    def dict_display(self, node):
        """``dict(a=x, b=y)`` as the display ``{'a': x, 'b': y}`` and ``dict(d, b=y)`` as
        ``{**d, 'b': y}`` (``d``'s items, then ``b``'s); None for any other call."""
        if len(node.args) > 1 or not all(k.arg for k in node.keywords) \
                or any(isinstance(a, gast.Starred) for a in node.args) \
                or self.resolver.resolve(node.func) is not dict:
            return None
        display = gast.Dict(keys=[const(k.arg) for k in node.keywords],
                            values=[k.value for k in node.keywords])
        if node.args:
            display = gast.Dict(keys=[None] + display.keys, values=node.args + display.values)
        return display

    def spread_into_init(self, node, s):
        """``Cls(a, *rest)`` of a class of the user's whose ``__init__`` takes a fixed number of
        positional parameters: ``rest`` unpacked into names first (``p1, p2 = rest``), so the
        object is made here with its arguments named; else None."""
        if not isinstance(node, gast.Call):
            return None
        starred = [a for a in node.args if isinstance(a, gast.Starred)]
        cls = self.resolver.resolve(node.func) if self.is_global(node.func) else None
        init = inspect.getattr_static(cls, "__init__", None) if isinstance(cls, type) else None
        if len(starred) != 1 or node.args[-1] is not starred[0] or node.keywords \
                or not isinstance(init, types.FunctionType) or init.__defaults__ \
                or init.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) \
                or init.__code__.co_kwonlyargcount or self.bind_object is None:
            return None
        count = init.__code__.co_argcount - len(node.args)  # (self, the others given)
        if count < 1:
            return None
        parts = [self.namer.fresh("arg") for _ in range(count)]
        spread = gast.Call(func=node.func, args=node.args[:-1] + [name(p) for p in parts],
                           keywords=[])
        if self.constructed_class(spread) is None:
            return None
        self.temps.update(parts)
        unpacking = gast.Assign(targets=[gast.Tuple(elts=[name(p, True) for p in parts],
                                                    ctx=gast.Store())],
                                value=starred[0].value, type_comment=None)
        self.stmt(gast.copy_location(unpacking, s))
        return spread

    def as_statement(self, node, s):
        """For ``node`` inside an expression (not the statement ``s`` itself), a call the
        statement form differentiates for what it changes and that returns None: that statement
        emitted, and its value None; else None."""
        if not self.made_for_its_effect(node, s):
            return None
        self.stmt(gast.copy_location(gast.Expr(value=node), s))
        return const(None)

    def made_for_its_effect(self, node, s) -> bool:
        """Whether ``node``, inside an expression (not the statement ``s`` itself), is a call the
        statement form differentiates for what it changes and that returns None: a list's
        ``append`` or an array's or list's ``sort`` (checked where they run), ``extend``,
        ``insert``, ``remove``, ``reverse``, ``clear`` of a name holding lists only, ``update``
        or ``clear`` of one holding dicts only, ``np.put``, ``np.fill_diagonal``, ``setattr``,
        ``np.add.at``."""
        if self.bind_object is None or self.generated or (isinstance(s, gast.Expr)
                                                          and s.value is node):
            return False
        func = node.func
        if isinstance(func, gast.Attribute) and func.attr in ("append", "sort") and (
                isinstance(func.value, (gast.Attribute, gast.Subscript))):
            return True  # (o.v.append(x), ls[0].sort(): checked where they run, stored back)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and not self.is_global(func.value):  # (a local name's method, not np.sort)
            receiver = func.value.id
            if func.attr in ("append", "sort") and receiver not in self.object_classes:
                return True
            if func.attr in ("extend", "insert", "remove", "reverse", "clear") \
                    and receiver in self.sure_lists:
                return True
            if func.attr in ("update", "clear") and receiver in self.sure_dicts:
                return True
        return self.as_store(node) is not None or (
            self.is_global(func) and self.resolver.resolve(func) in (np.add.at, np.subtract.at))

    def written_out(self, node, s):
        """``f(..., out=u)`` for a NumPy ufunc or ``np.clip``, and ``np.copyto(u, v)``, for a local
        array ``u``: the value ``f(...)`` computes (``v``), written into ``u`` as a store
        ``u[...] = v`` (after NumPy's same-kind cast check, ``out_value``), so the in-place
        machinery sees the write; the call's value is ``u`` (copyto's: None).
        None for any other call (``out=`` is then refused by the rule)."""
        if self.bind_object is None or not self.is_global(node.func):
            return None
        fn = self.resolver.resolve(node.func)
        if fn is np.copyto and len(node.args) == 2 and not node.keywords:
            out, value = node.args[0], None  # (np.copyto(u, v): u[...] = v)
        else:
            outs = [k for k in node.keywords if k.arg == "out"]
            if not outs or not ((isinstance(fn, np.ufunc) and fn.nout == 1) or fn is np.clip):
                return None
            out = outs[0].value
        if isinstance(out, gast.Tuple) and len(out.elts) == 1:
            out = out.elts[0]
        # (out=u, or out=u[1:], a part of a local array: that part written)
        part = out if isinstance(out, gast.Subscript) and isinstance(out.value, gast.Name) \
            else None
        array = part.value if part is not None else out
        if not (isinstance(array, gast.Name) and array.id in self.resolver.locals):
            return None
        if part is not None:  # (out=lst[0] writes into the array a list holds: not followed)
            error = self.loc.error(
                "out=%s writes into an entry of %r, which is not an array here: the array it "
                "holds may be held elsewhere too, which is not supported"
                % (gast.unparse(part).strip(), array.id), node,
                hint="assign the result instead: %s = f(...)" % gast.unparse(part).strip())
            self.emit(gast.Expr(value=gast.Call(
                func=name(self.helper("check_array", runtime.check_array)),
                args=[name(array.id), name(self.helper("refusal", runtime.Refusal(error)))],
                keywords=[])), s)
        if fn is np.copyto:
            value = self.atom(node.args[1], s)
        else:
            value = self.atom(gast.Call(func=node.func, args=node.args,
                                        keywords=[k for k in node.keywords if k.arg != "out"]), s)
        where = self.index(part.slice, s) if part is not None else const(Ellipsis)
        current = self.atom(gast.Subscript(value=name(array.id), slice=where, ctx=gast.Load()), s) \
            if part is not None else name(array.id)
        checked = self.atom(gast.Call(func=name(self.helper("out_value", runtime.out_value)),
                                      args=[current, value], keywords=[]), s)
        self.store(gast.Subscript(value=name(array.id), slice=copy_tree(where), ctx=gast.Store()),
                   checked, s)
        if fn is np.copyto:
            return const(None)
        return self.atom(gast.Subscript(value=name(array.id), slice=copy_tree(where),
                                        ctx=gast.Load()), s) if part is not None else name(out.id)
