"""The ``Normalizer``'s inlining of a call: of a nested def or lambda (``inline``) or of a
module-level function of the user's file (``inline_function``, chosen by ``callees``), its
parameters bound to the call's arguments (``bind_nested``), its locals renamed, its jumps lowered,
its statements flattened where the call is (``inline_def``).
"""
from __future__ import annotations

import inspect
import types

import gast

from ..ir import const, copy_tree, walk
from ..resolve import local_names
from .callees import literal_defaults
from .closures import free_reads, late_names
from .dicts import dict_names
from .expressions import Renamer
from .jumps import lower_jumps
from .later_values import read_again
from .list_classes import element_classes
from .local_functions import lambda_def
from .matches import lower_matches
from .sequences import iteration_kind, local_kinds


class Inlining:
    """Calls inlined (a mixin of the ``Normalizer``)."""

    def inline_function(self, parsed, call, s, target=None):
        """Inline a call to the module-level function ``parsed`` (see ``writing_callee``), its
        statements moved to where they sit in the file as this function's are; with ``target``,
        what it returns is bound to that name (nothing returned)."""
        self.note_inlined_global(call.func, parsed.fn)
        tree = copy_tree(parsed.tree)
        owner = parsed.cells.get("__class__")
        if owner is not None:  # (super(__class__, self) of a method: its class, by name here)
            label = self.helper(owner.cell_contents.__name__, owner.cell_contents)
            tree = copy_tree(tree, {"__class__": label})
        tree.ad_qualname = parsed.fn.__qualname__
        # (the values bound when the function was defined: a module-level name may hold another)
        tree.args.defaults, tree.args.kw_defaults = literal_defaults(parsed.fn, tree.args)
        lines = parsed.loc.line_offset - self.loc.line_offset
        cols = parsed.loc.col_offset - self.loc.col_offset
        for n in walk(tree):
            for attr, shift in (("lineno", lines), ("end_lineno", lines), ("col_offset", cols),
                                ("end_col_offset", cols)):
                if getattr(n, attr, None) is not None:
                    setattr(n, attr, getattr(n, attr) + shift)
        return self.inline_def(tree, call, s, target)

    def note_inlined_global(self, func, fn) -> None:
        """Remember the global name ``func`` (a call's callee) when it denotes ``fn`` or the
        class whose ``__init__`` is ``fn`` (see ``inlined_globals``)."""
        if not isinstance(func, gast.Name) or func.id in self.resolver.locals | self.temps:
            return
        value = self.resolver.parsed.globals.get(func.id)
        if value is fn or (isinstance(value, type)
                           and inspect.getattr_static(value, "__init__", None) is fn):
            self.inlined_globals[func.id] = value

    def inline(self, call, s):
        """Inline a call to a nested def or lambda: its locals get fresh names, its free names
        read the enclosing function's variables at call time (closure semantics)."""
        return self.inline_def(self.local_fns[call.func.id], call, s)

    def inline_def(self, fdef, call, s, target=None):
        """Inline ``fdef``, called by ``call``: its locals get fresh names, its parameters are
        bound to the call's arguments, its body is flattened here, and the call's value is what
        it returns. (A local function an ``if`` chose and a partial are calls of another
        function: see ``call_chosen`` and ``call_partial``.)"""
        choice = getattr(fdef, "ad_choice", None)
        if choice is not None:
            return self.call_chosen(choice, call, s)
        made = getattr(fdef, "ad_partial", None)
        if made is not None:
            return self.call_partial(made, call, s)
        key = getattr(fdef, "ad_qualname", fdef.name)  # (Child.__init__ may call Base.__init__)
        if key in self.inlining:
            raise self.loc.error("recursion through the nested function %r is not supported"
                                 % fdef.name, call,
                                 hint="define the recursive function at module level")
        label = fdef.name.strip("<>").strip("_") or "fn"  # (__init__'s locals: init_w)
        renames = {n: self.namer.fresh("%s_%s" % (label, n))
                   for n in sorted(local_names(fdef))}
        self.spelled_as.update({new: old for old, new in renames.items()})
        bound = self.bind_nested(fdef, call)
        # (a parameter a nested def reads is its own name: the closure holds the call's value)
        enclosed = set().union(*(free_reads(n) for st in fdef.body for n in walk(st)
                                 if isinstance(n, (gast.FunctionDef, gast.Lambda))))
        renames.update({p: kept for p, kept in self.parameters_kept(fdef, bound).items()
                        if p not in enclosed})
        self.resolver.locals |= set(renames.values())
        # (before the parameters are bound: a generator given to one it reads twice, refused)
        self.read_again |= read_again([Renamer(renames).visit(copy_tree(st)) for st in fdef.body])
        self.bind_parameters(bound, renames, s)
        lowered = self.lowered_body(fdef, renames)
        if self.inline_all:  # (ps = [P(x) for x in xs] in a builder: ps[i] is a P)
            for lst, cls in element_classes(lowered[:-1], self.resolver.resolve,
                                            self.object_classes).items():
                self.list_classes.setdefault(lst, cls)
        self.note_uses(lowered)
        self.learn_dicts(lowered, bound, renames)
        late = late_names(lowered)
        self.read_late |= late
        self.check_kept_generators(lowered)
        # (bound once per call, as Python's cell of each call: a closure made in it holds the
        # value, even when the call runs in a loop)
        self.bound_per_call |= {renames[n] for n in enclosed & set(renames)} - late
        self.learn_iterables(lowered, {renames[p]: value for p, value in bound.items()})
        self.read_attributes_through_aliases(lowered)
        result = lowered[-1].value
        self.inlining.append(key)
        try:
            for st in lowered[:-1]:
                self.stmt(st)
            if target is not None:  # (flt = make_lowpass(k): the object made is flt)
                return self.assign_to(target, result, s)
            return self.atom(result if result is not None else const(None), s)
        finally:
            self.inlining.pop()

    def parameters_kept(self, fdef, bound) -> dict:
        """Parameter -> the caller's name it is given, for each parameter ``fdef`` never rebinds
        that is given a variable or an object of the caller's (not a local function): the
        parameter is the caller's object itself (self of ``obj.step(dt)``, params of
        ``sgd_step(params, grads)``), so its writes are the caller's; or a module-level Python
        function (``integrate(rhs, y0)``: ``f(t, y)`` in it is a call of ``rhs``)."""
        stored = {n.id for st in fdef.body for n in walk(st)
                  if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        return {p: value.id for p, value in bound.items()
                if isinstance(value, gast.Name) and p not in stored
                and value.id not in self.local_fns
                and (value.id in self.resolver.locals or value.id in self.object_classes
                     or isinstance(self.resolver.resolve(value), types.FunctionType))}

    def bind_parameters(self, bound, renames, s):
        """Bind each parameter's new name (``renames``) to its argument (``bound``): a local
        function passed on, or a lambda, as a local function of that name; any other value
        assigned (a parameter kept as the caller's name needs nothing)."""
        for p, value in bound.items():
            if renames[p] == getattr(value, "id", None):
                continue
            if isinstance(value, gast.Name) and value.id in self.local_fns:
                self.local_fns[renames[p]] = self.local_fns[value.id]  # (a function passed on)
            elif isinstance(value, gast.Lambda):
                self.local_fns[renames[p]] = lambda_def(renames[p], value, value)
            else:
                self.assign_to(renames[p], value, s)

    def lowered_body(self, fdef, renames) -> list:
        """``fdef``'s body, its names renamed and its jumps lowered, ending in its one
        ``return``; the names it binds become locals of this function."""
        body = lower_matches([Renamer(renames).visit(copy_tree(st)) for st in fdef.body],
                             self.namer, self.resolver, self.helper, self.loc)
        inner = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                                 returns=None, type_comment=None, type_params=[])
        gast.copy_location(inner, fdef)
        lowered = lower_jumps(inner, self.namer)
        self.resolver.locals |= {n.id for st in lowered for n in walk(st)
                                 if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        return lowered

    def learn_dicts(self, body, bound, renames):
        """The names of ``body`` (a function's, inlined here) bound to dicts (``for k in params``
        over a dict's keys): its parameters given a dict here count as dicts (a dict's name, a
        display: the extra keywords ``**kwargs`` binds)."""
        given = {renames[p] for p, value in bound.items()
                 if (isinstance(value, gast.Name) and value.id in self.sure_dicts)
                 or isinstance(value, (gast.Dict, gast.DictComp))}
        maybe, sure = dict_names(body, self.resolver, given, set(renames.values()))
        self.maybe_dicts |= maybe
        self.sure_dicts |= sure

    def learn_iterables(self, body, arguments):
        """What is known of the names of ``body``, a function's body inlined here, its
        parameters bound to ``arguments`` (new name -> the caller's expression; see
        ``sequences``): a parameter kept as the caller's name is known as that name."""
        params = {p: iteration_kind(value, self.resolver, self.iterables)
                  for p, value in arguments.items() if p != getattr(value, "id", None)}
        self.iterables.update(local_kinds(body, self.resolver, params))

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
