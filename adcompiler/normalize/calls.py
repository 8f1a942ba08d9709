"""The ``Normalizer``'s calls: arguments flattened to atoms, the callee kept as written when it
is global; a nested def or lambda inlined (its locals renamed, its jumps lowered); ``map`` as a
comprehension and ``functools.reduce`` as a loop, so the function they call is differentiated like
any call; ``sorted``/``max``/``min`` with ``key=`` as the keys computed, then items picked.
"""
from __future__ import annotations

import functools
import inspect
import types

import gast
import numpy as np

from .. import effects, runtime
from ..errors import AdError
from ..ir import assign, const, copy_tree, if_, name, walk
from ..parse import parse_function
from ..resolve import MISSING, local_names
from .expressions import Renamer
from .jumps import lower_jumps


class Calls:
    """Call methods of the ``Normalizer`` (a mixin)."""

    def call(self, node, s):
        if isinstance(node.func, gast.Name) and node.func.id in self.local_fns:
            return self.inline(node, s)
        if isinstance(node.func, gast.Name) and self.constructed_class(node) is not None:
            made = self.namer.fresh(node.func.id.lower())  # ([Dense(W1), Dense(W2)])
            self.temps.add(made)
            self.construct(made, node, s)
            return name(made)
        writer = self.writing_callee(node)
        if writer is not None:
            return self.inline_function(writer, node, s)
        method = self.writing_method(node)
        if method is not None:  # (obj.step(dt) of an object argument: self is obj; obj(x) too)
            receiver = node.func.value if isinstance(node.func, gast.Attribute) else node.func
            call = gast.Call(func=node.func, args=[receiver] + list(node.args),
                             keywords=node.keywords)
            return self.inline_function(method, call, s)
        rewritten = self.higher_order(node, s)
        if rewritten is not None:
            return rewritten
        written = self.written_out(node, s)
        if written is not None:
            return written
        if len(node.args) <= 1 and all(k.arg for k in node.keywords) \
                and not any(isinstance(a, gast.Starred) for a in node.args) \
                and self.resolver.resolve(node.func) is dict:  # dict(a=x, b=y) is {'a': x, 'b': y}
            display = gast.Dict(keys=[const(k.arg) for k in node.keywords],
                                values=[k.value for k in node.keywords])
            if node.args:  # dict(d, b=y): d's items, then b's
                display = gast.Dict(keys=[None] + display.keys, values=node.args + display.values)
            return self.expr(display, s)
        args = []
        for a in node.args:
            if isinstance(a, gast.Starred):
                args.append(gast.Starred(value=self.atom(a.value, s), ctx=gast.Load()))
            else:
                args.append(self.atom(a, s))
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, s)) for k in node.keywords]
        func = node.func
        if self.is_global(func):
            pass  # keep the callee as written: np.sin, helper, math.exp
        elif isinstance(func, gast.Attribute):
            func = gast.Attribute(value=self.atom(func.value, s), attr=func.attr, ctx=gast.Load())
        elif isinstance(func, gast.Name):
            pass  # a local callable (nested def, lambda variable, argument)
        else:
            func = self.atom(func, s)
        return gast.Call(func=func, args=args, keywords=keywords)

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
        if not (isinstance(out, gast.Name) and out.id in self.resolver.locals):
            return None
        if fn is np.copyto:
            value = self.atom(node.args[1], s)
        else:
            value = self.atom(gast.Call(func=node.func, args=node.args,
                                        keywords=[k for k in node.keywords if k.arg != "out"]), s)
        checked = self.atom(gast.Call(func=name(self.helper("out_value", runtime.out_value)),
                                      args=[name(out.id), value], keywords=[]), s)
        self.store(gast.Subscript(value=name(out.id), slice=const(Ellipsis), ctx=gast.Store()),
                   checked, s)
        return const(None) if fn is np.copyto else name(out.id)

    def writing_callee(self, call):
        """The parsed module-level function of the user's ``call`` calls when that function writes
        into an argument it is given (``u -= u.mean()``), or is given a lambda or nested def of
        this function (``passes_a_local_function``), and can be inlined: defined in this
        function's file and module, with none of its free names a local name here, no default
        that is not a constant, and no nested function, import, ``try`` or ``with`` (a write
        inlined is one the derivative follows, as any write here); else None."""
        fn = self.resolver.resolve(call.func) if self.is_global(call.func) else MISSING
        return self.inlinable(fn, call, call.args)

    def writing_method(self, call):
        """``writing_callee`` for a method of an object argument or an object made here
        (``osc.step(dt)``, whose ``self.x += ...`` writes into the object; ``cell(x)``, its
        ``__call__``): the plain function, defined in this function's file, with the object as
        its first argument; else None."""
        func = call.func
        if isinstance(func, gast.Name) and func.id in self.object_classes:
            receiver, attr = func, "__call__"
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.object_classes:
            receiver, attr = func.value, func.attr
        else:
            return None
        fn = inspect.getattr_static(self.object_classes[receiver.id], attr, None)
        return self.inlinable(fn, call, [receiver] + list(call.args))

    def construct(self, target, value, s) -> bool:
        """``target = Cls(args)`` for a class of the user's defined in this function's file, whose
        ``__init__`` can be inlined (see ``writing_callee``), ``target`` bound once: the object is
        made (``new_object(Cls)``) and its ``__init__`` inlined with ``self`` renamed
        ``target``, so what it stores is this function's attribute stores, and the object's
        writing methods are inlined too. False (nothing emitted) for anything else."""
        if target in self.bound_twice:
            return False
        cls = self.constructed_class(value)
        if cls is None:
            return False
        call = gast.Call(func=value.func, args=[name(target)] + list(value.args),
                         keywords=value.keywords)
        made = gast.Call(func=name(self.helper("new_object", runtime.new_object)),
                         args=[value.func], keywords=[])
        self.emit(assign(target, made), s)
        self.object_classes[target] = cls
        self.inline_function(self.inlinable(cls.__init__, call, call.args), call, s)
        return True

    def constructed_class(self, value):
        """The class ``value`` (a call) makes an object of, when ``construct`` can inline its
        ``__init__`` (a plain class of the user's, in this function's file); else None."""
        if not isinstance(value, gast.Call) or not self.is_global(value.func) \
                or self.bind_object is None:
            return None
        cls = self.resolver.resolve(value.func)
        init = inspect.getattr_static(cls, "__init__", None) if isinstance(cls, type) else None
        if not isinstance(init, types.FunctionType) or type(cls) is not type \
                or cls.__new__ is not object.__new__ or "__slots__" in vars(cls):
            return None
        call = gast.Call(func=value.func, args=[value.func] + list(value.args),
                         keywords=value.keywords)
        return cls if self.inlinable(init, call, call.args) is not None else None

    def inlinable(self, fn, call, args):
        """The parsed ``fn`` called with ``args`` when the call can be inlined (see
        ``writing_callee``), else None."""
        if not isinstance(fn, types.FunctionType) or self.generated \
                or fn.__globals__ is not self.resolver.parsed.globals or fn.__closure__ \
                or fn.__code__.co_filename != self.loc.filename \
                or any(isinstance(a, gast.Starred) for a in args) \
                or any(k.arg is None for k in call.keywords) \
                or not (effects.written_parameters(fn) or self.passes_a_local_function(call)) \
                or fn.__name__ in self.inlining:
            return None
        try:
            parsed = parse_function(fn)
        except AdError:
            return None
        tree = parsed.tree
        args = tree.args
        if args.vararg or args.kwarg or any(
                isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef, gast.Import,
                               gast.ImportFrom, gast.Try, gast.With, gast.Global, gast.Nonlocal,
                               gast.Yield, gast.YieldFrom))
                for st in tree.body for n in walk(st)) \
                or not all(isinstance(getattr(d, "operand", d), gast.Constant)  # (-0.5 too)
                           for d in args.defaults + [d for d in args.kw_defaults if d is not None]):
            return None
        own = local_names(tree) | {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
        free = {n.id for st in tree.body for n in walk(st) if isinstance(n, gast.Name)} - own
        if free & (self.resolver.locals | self.temps):
            return None
        return parsed

    def passes_a_local_function(self, call) -> bool:
        """Whether ``call`` gives a lambda or a nested def of this function as an argument
        (``rk4(lambda t, y: -k * y, y0)``): inlined, the callee calls it as this function
        does, its free names this function's variables."""
        return any(isinstance(a, gast.Lambda)
                   or (isinstance(a, gast.Name) and a.id in self.local_fns)
                   for a in list(call.args) + [k.value for k in call.keywords])

    def inline_function(self, parsed, call, s):
        """Inline a call to the module-level function ``parsed`` (see ``writing_callee``), its
        statements moved to where they sit in the file as this function's are."""
        tree = copy_tree(parsed.tree)
        lines = parsed.loc.line_offset - self.loc.line_offset
        cols = parsed.loc.col_offset - self.loc.col_offset
        for n in walk(tree):
            for attr, shift in (("lineno", lines), ("end_lineno", lines), ("col_offset", cols),
                                ("end_col_offset", cols)):
                if getattr(n, attr, None) is not None:
                    setattr(n, attr, getattr(n, attr) + shift)
        return self.inline_def(tree, call, s)

    def inline(self, call, s):
        """Inline a call to a nested def or lambda: its locals get fresh names, its free names
        read the enclosing function's variables at call time (closure semantics)."""
        return self.inline_def(self.local_fns[call.func.id], call, s)

    def partial(self, target, value, s) -> bool:
        """``k = functools.partial(f, a, b=v)``: a local function (passed on, and inlined where
        it is called, like a nested def) calling ``f`` with the values ``a`` and ``v`` had here
        (kept in temporaries), then the call's own arguments and keywords (see ``inline_def``).
        False for other values."""
        if not (isinstance(value, gast.Call) and value.args
                and self.resolver.resolve(value.func) is functools.partial
                and not any(isinstance(a, gast.Starred) for a in value.args)
                and all(k.arg for k in value.keywords)):
            return False
        func, *args = value.args

        def kept(node):  # (the value it has now, whatever the name holds when it is called)
            flat = self.atom(node, s)
            if isinstance(flat, gast.Name) and flat.id in self.resolver.locals:
                held = self.temp()
                self.emit(assign(held, flat), s)
                return name(held)
            return flat
        if isinstance(func, gast.Name) and func.id in self.local_fns:
            # (the local function bound now, whatever the name is bound to later: a def of the
            # same name after the partial is another function)
            held = self.namer.fresh(func.id)
            self.local_fns[held] = self.local_fns[func.id]
            func = name(held)
        elif not (isinstance(func, gast.Name) and self.is_global(func)):
            func = kept(func)  # (the function, chosen when the partial is made)
        args = [kept(a) for a in args]
        keywords = [gast.keyword(arg=k.arg, value=kept(k.value)) for k in value.keywords]
        fdef = gast.FunctionDef(name=target, args=gast.arguments(
            args=[], posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=[]), body=[], decorator_list=[], returns=None, type_comment=None,
            type_params=[])
        fdef.ad_partial = (func, args, keywords)
        self.local_fns[target] = gast.copy_location(fdef, s)
        return True

    def inline_def(self, fdef, call, s):
        """Inline ``fdef``, called by ``call``: its locals get fresh names. (A partial's is the
        call of its function with the partial's arguments first, its keywords overridden by the
        call's.)"""
        choice = getattr(fdef, "ad_choice", None)
        if choice is not None:
            return self.call_chosen(choice, call, s)
        made = getattr(fdef, "ad_partial", None)
        if made is not None:
            func, args, keywords = made
            if any(k.arg is None for k in call.keywords):
                self.unsupported(call, "calling a partial with **kwargs unpacked",
                                 "pass the keywords by name")
            given = {k.arg for k in call.keywords}
            flat = gast.Call(func=copy_tree(func), args=[copy_tree(a) for a in args] + list(
                call.args), keywords=[gast.keyword(arg=k.arg, value=copy_tree(k.value))
                                      for k in keywords if k.arg not in given] + list(
                call.keywords))
            return self.atom(gast.copy_location(flat, call), s)
        if fdef.name in self.inlining:
            raise self.loc.error("recursion through the nested function %r is not supported"
                                 % fdef.name, call,
                                 hint="define the recursive function at module level")
        label = fdef.name.strip("<>").strip("_") or "fn"  # (__init__'s locals: init_w)
        renames = {n: self.namer.fresh("%s_%s" % (label, n))
                   for n in sorted(local_names(fdef))}
        bound = self.bind_nested(fdef, call)
        stored = {n.id for st in fdef.body for n in walk(st)
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        for p, value in bound.items():
            if isinstance(value, gast.Name) and p not in stored \
                    and value.id not in self.local_fns \
                    and (value.id in self.resolver.locals or value.id in self.object_classes):
                # (a parameter never rebound is the caller's object itself: self of
                # obj.step(dt), params of sgd_step(params, grads), whose writes are the caller's)
                renames[p] = value.id
        self.resolver.locals |= set(renames.values())
        for p, value in bound.items():
            if renames[p] == getattr(value, "id", None):
                continue
            if isinstance(value, gast.Name) and value.id in self.local_fns:
                self.local_fns[renames[p]] = self.local_fns[value.id]  # (a function passed on)
            elif isinstance(value, gast.Lambda):
                self.local_fns[renames[p]] = gast.copy_location(gast.FunctionDef(
                    name=renames[p], args=value.args, body=[gast.copy_location(
                        gast.Return(value=value.body), value.body)], decorator_list=[],
                    returns=None, type_comment=None, type_params=[]), value)
            else:
                self.assign_to(renames[p], value, s)
        body = [Renamer(renames).visit(copy_tree(st)) for st in fdef.body]
        inner = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                                 returns=None, type_comment=None, type_params=[])
        gast.copy_location(inner, fdef)
        lowered = lower_jumps(inner, self.namer)
        self.resolver.locals |= {n.id for st in lowered for n in walk(st)
                                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        result = lowered[-1].value
        self.inlining.append(fdef.name)
        try:
            for st in lowered[:-1]:
                self.stmt(st)
            return self.atom(result if result is not None else const(None), s)
        finally:
            self.inlining.pop()

    def call_chosen(self, choice, call, s):
        """``call`` of a local function that an ``if`` before bound differently in its arms (see
        ``choose_local_functions``): an ``if`` on the arm that ran, calling the one it bound (or
        the name as a variable, when that arm bound no local function)."""
        chosen, first, second, variable = choice
        called = call.func.id
        # (the arguments once, before the choice: f(f(x)) chooses for the inner call on its own)
        args = [gast.Starred(value=self.atom(a.value, s), ctx=gast.Load())
                if isinstance(a, gast.Starred) else self.atom(a, s) for a in call.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(k.value, s)) for k in call.keywords]
        call = gast.copy_location(gast.Call(func=call.func, args=args, keywords=keywords), call)
        result = self.temp()
        arms = []
        for fn in (first, second):
            saved = self.local_fns.pop(called, None)
            one = copy_tree(call)
            if fn is not None:
                self.local_fns[called] = fn
            else:  # (the variable the if bound, by the name it has where it was bound)
                one.func = name(variable)
            try:
                arms.append(self.block([gast.copy_location(gast.Assign(
                    targets=[name(result, True)], value=one, type_comment=None), call)]))
            finally:
                self.local_fns.pop(called, None)
                if saved is not None:
                    self.local_fns[called] = saved
        test = self.atom(gast.Compare(left=name(chosen), ops=[gast.Eq()],
                                      comparators=[const(0)]), s)
        self.emit(if_(test, *arms), s)
        return name(result)

    def bind_nested(self, fdef, call) -> dict:
        """Parameter -> argument expression of ``call`` to the nested def ``fdef``: positional,
        keyword, keyword-only and default values, the extra positional arguments as the tuple
        ``*args`` binds and the extra keywords as the dict ``**kwargs`` binds (a call that
        unpacks ``*`` or ``**`` itself is refused: what it binds is known only when it runs)."""
        args = fdef.args
        if any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            self.unsupported(call, "calling a nested function with *args or **kwargs unpacked",
                             "define it at module level")
        positional = [a.id for a in args.posonlyargs + args.args]
        if len(call.args) > len(positional) and not args.vararg:
            raise self.loc.error("too many arguments for %s()" % fdef.name, call)
        bound = dict(zip(positional, call.args))
        if args.vararg:
            bound[args.vararg.id] = gast.Tuple(elts=list(call.args[len(positional):]),
                                               ctx=gast.Load())
        named = [a.id for a in args.args + args.kwonlyargs]
        extra = {}
        for k in call.keywords:
            if k.arg in named and k.arg not in bound:
                bound[k.arg] = k.value
            elif args.kwarg and k.arg not in bound:
                extra[k.arg] = k.value
            else:
                raise self.loc.error("unexpected keyword argument %r for %s()"
                                     % (k.arg, fdef.name), call)
        if args.kwarg:
            bound[args.kwarg.id] = gast.Dict(keys=[const(k) for k in extra],
                                             values=list(extra.values()))
        defaults = dict(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        defaults.update({a.id: d for a, d in zip(args.kwonlyargs, args.kw_defaults)
                         if d is not None})
        for p in positional + [a.id for a in args.kwonlyargs]:
            if p not in bound:
                if p not in defaults:
                    raise self.loc.error("missing argument %r for %s()" % (p, fdef.name), call)
                bound[p] = defaults[p]
        return bound

    def higher_order(self, node, s):
        """``map(f, xs, ...)`` as ``[f(x, ...) for x, ... in zip(xs, ...)]``, ``filter(f, xs)`` as
        ``[x for x in xs if f(x)]`` and ``functools.reduce(f, xs[, start])`` as a loop, so ``f``
        (a lambda too) is called, and differentiated, like any call; None for other calls."""
        target = self.resolver.resolve(node.func) if self.is_global(node.func) else MISSING
        if target in (sorted, max, min) and any(k.arg == "key" for k in node.keywords):
            return self.keyed(target, node, s)
        if target not in (map, filter, functools.reduce) or node.keywords or len(node.args) < 2 \
                or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        if target is filter:
            if len(node.args) != 2:
                return None
            item = self.namer.fresh("item")
            test = name(item) if isinstance(node.args[0], gast.Constant) \
                and node.args[0].value is None else gast.Call(
                    func=self.callable_of(node.args[0], s), args=[name(item)], keywords=[])
            comp = gast.ListComp(elt=name(item), generators=[gast.comprehension(
                target=name(item, True), iter=node.args[1], ifs=[test], is_async=0)])
            return name(self.comprehension(comp, s))
        fn = self.callable_of(node.args[0], s)
        if target is map:
            variables = [self.namer.fresh("item") for _ in node.args[1:]]
            source = node.args[1] if len(variables) == 1 else gast.Call(
                func=name(self._builtin("zip")), args=list(node.args[1:]), keywords=[])
            target_node = (name(variables[0], True) if len(variables) == 1 else
                           gast.Tuple(elts=[name(v, True) for v in variables], ctx=gast.Store()))
            comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(v) for v in variables],
                                               keywords=[]),
                                 generators=[gast.comprehension(target=target_node, iter=source,
                                                                ifs=[], is_async=0)])
            return name(self.comprehension(comp, s))
        if len(node.args) > 3:
            return None
        acc, item, items = (self.namer.fresh(n) for n in ("acc", "item", "items"))
        self.resolver.locals |= {acc, item, items}
        self.assign_to(items, gast.Call(func=name(self._builtin("list")), args=[node.args[1]],
                                        keywords=[]), s)
        if len(node.args) == 3:
            self.assign_to(acc, node.args[2], s)
            rest = name(items)
        else:
            self.assign_to(acc, gast.Subscript(value=name(items), slice=const(0),
                                               ctx=gast.Load()), s)
            rest = gast.Subscript(value=name(items),
                                  slice=gast.Slice(lower=const(1), upper=None, step=None),
                                  ctx=gast.Load())
        loop = gast.For(target=name(item, True), iter=rest, body=[gast.copy_location(gast.Assign(
            targets=[name(acc, True)],
            value=gast.Call(func=fn, args=[name(acc), name(item)], keywords=[]),
            type_comment=None), s)], orelse=[], type_comment=None)
        self.stmt(gast.copy_location(loop, s))
        return name(acc)

    def callable_of(self, fn, s):
        """A lambda becomes a local function (called, and differentiated, like a nested def)."""
        if not isinstance(fn, gast.Lambda):
            return fn
        label = self.namer.fresh("lambda_")
        self.local_fns[label] = gast.copy_location(gast.FunctionDef(
            name=label, args=fn.args,
            body=[gast.copy_location(gast.Return(value=fn.body), fn.body)],
            decorator_list=[], returns=None, type_comment=None, type_params=[]), s)
        return name(label)

    def keyed(self, target, node, s):
        """``sorted(xs, key=f)``, ``max(xs, key=f)``, ``min(a, b, key=f)``: the keys are computed
        by calling ``f`` on each item; the order they give picks items (no gradient flows
        through a key); None for forms this does not cover."""
        keywords = {k.arg: k.value for k in node.keywords}
        allowed = {"key", "reverse"} if target is sorted else {"key"}
        if set(keywords) - allowed or not node.args \
                or any(isinstance(a, gast.Starred) for a in node.args) \
                or (target is sorted and len(node.args) != 1) or self.bind_object is None:
            return None
        fn = self.callable_of(keywords["key"], s)
        items, item, keys = (self.namer.fresh(n) for n in ("items", "item", "keys"))
        self.resolver.locals |= {items, item, keys}
        if len(node.args) == 1:  # (a comprehension takes any iterable: zip, enumerate, a dict view)
            source = gast.ListComp(elt=name(item), generators=[gast.comprehension(
                target=name(item, True), iter=node.args[0], ifs=[], is_async=0)])
            self.assign_to(items, name(self.comprehension(source, s)), s)
        else:
            self.assign_to(items, gast.List(elts=list(node.args), ctx=gast.Load()), s)
        comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(item)], keywords=[]),
                             generators=[gast.comprehension(target=name(item, True),
                                                            iter=name(items), ifs=[], is_async=0)])
        self.assign_to(keys, comp, s)
        if target is sorted:
            order = gast.Call(func=name(self.helper("key_order", runtime.key_order)),
                              args=[name(keys), keywords.get("reverse", const(False))], keywords=[])
            picked = gast.ListComp(elt=gast.Subscript(value=name(items), slice=name(item),
                                                      ctx=gast.Load()),
                                   generators=[gast.comprehension(target=name(item, True),
                                                                  iter=order, ifs=[], is_async=0)])
            return name(self.comprehension(picked, s))
        pick = gast.Call(func=name(self.helper("key_pick", runtime.key_pick)),
                         args=[name(keys), const(target is max)], keywords=[])
        return self.expr(gast.Subscript(value=name(items), slice=pick, ctx=gast.Load()), s)
