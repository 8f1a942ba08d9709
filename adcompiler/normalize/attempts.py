"""A ``try`` whose ``except`` goes on with the function (a fallback value, a default, ``continue``,
``return``), rewritten before flattening: its body becomes a function of its own, called as a
user function is (a subroutine: its forward half binds all it computes or raises before anything
of it is recorded), and the handlers become the other branch of an ``if``:

    try_ok = attempt_started()            # True; the handler of the try below sets it False
    if try_ok:
        try:                              # (kept as written by the normal form: ``ad_attempt``)
            results = f_try_12(K, y)
            L = results[0]
        except LinAlgError as caught:
            try_ok = False
            error = caught
    if try_ok:
        <the else block>
    else:
        e = error
        <the handler: several are chosen by isinstance(error, ...)>
    <the finally block>

The backward pass takes the branch the forward pass took: the body's derivative when it ran to its
end, the handler's when it raised. A handler that ends by raising needs none of this (see
``Statements.stmt_Try``).

Python keeps what the body bound before the statement that raised; here, such a name keeps its
value from before the ``try``. Both agree when the handler binds the name again, or when the
name is read only inside the body after binding it, or after the ``try`` in code the handler
skips (``continue``, ``return``): any other read is refused with the name.
"""
from __future__ import annotations

import types

import gast

from .. import runtime
from ..effects import written_parameters
from ..errors import AdError
from ..ir import assign, const, copy_tree, map_inner_blocks, name, walk
from ..parse import define

_JUMPS = (gast.Return, gast.Break, gast.Continue, gast.Yield, gast.YieldFrom, gast.Global,
          gast.Nonlocal)


def extract_attempts(fdef, body, resolver, namer, loc, helper, generated=False) -> list:
    """``body`` (``fdef``'s, jump-lowered) with each ``try`` whose handler goes on rewritten as
    the module's docstring shows. In ``generated`` code (differentiated again) such a ``try`` is
    one this rewrite made: it is kept, its handlers as written. (No ``helper``: the code is only
    read, nothing is rewritten.)"""
    if helper is None or not any(isinstance(n, gast.Try) for st in body for n in walk(st)):
        return body
    return _Attempts(fdef, body, resolver, namer, loc, helper, generated).block(body)


def _goes_on(handler) -> bool:
    return not (handler.body and isinstance(handler.body[-1], gast.Raise))


class _Attempts:
    def __init__(self, fdef, body, resolver, namer, loc, helper, generated):
        self.fdef, self.all, self.resolver, self.generated = fdef, body, resolver, generated
        self.namer, self.loc, self.helper = namer, loc, helper
        self.local_defs = {n.name for st in body for n in walk(st)
                           if isinstance(n, gast.FunctionDef)}
        args = fdef.args
        params = {p.id for p in args.posonlyargs + args.args + args.kwonlyargs
                  + [args.vararg, args.kwarg] if p is not None}
        self.local = resolver.locals | params | {n for st in body for n in _stored(st)}
        self.declared = {n for st in body for node in walk(st)
                         if isinstance(node, (gast.Global, gast.Nonlocal)) for n in node.names}

    def block(self, stmts) -> list:
        out = []
        for k, s in enumerate(stmts):
            if isinstance(s, gast.Try) and any(_goes_on(h) for h in s.handlers):
                if not self.generated:
                    out.extend(self.rewrite(s, stmts[k + 1:]))
                    continue
                s.ad_attempt = True
                for h in s.handlers:
                    flags = _flags_set(h.body, False)
                    if flags:
                        h.ad_attempt_flag = flags.pop()
            map_inner_blocks(s, self.block)
            out.append(s)
        return out

    def refuse(self, node, what, hint):
        raise self.loc.error(
            "%s, in a 'try' whose 'except' goes on with the function, is not supported" % what,
            node, hint=hint)

    # -- the rewrite -------------------------------------------------------------------------
    def rewrite(self, s, after) -> list:
        body = s.body
        for st in body:
            for n in walk(st):
                if isinstance(n, _JUMPS):
                    self.refuse(n, "'%s'" % type(n).__name__.lower(),
                                "bind the value in the 'try' and act on it after it")
        appended = self.appended_last(s)
        reads, outputs = self.interface(s)
        self.check_partial(s, after, outputs)
        fn = self.body_function(s, reads, outputs)
        ok, error, results, caught = (self.namer.fresh(n) for n in ("try_ok", "error", "results",
                                                                    "caught"))
        named = any(h.name is not None or any(isinstance(n, gast.Raise) and n.exc is None
                                               for st in h.body for n in walk(st))
                    for h in s.handlers)
        started = gast.Call(func=name(self.helper("attempt_started", runtime.attempt_started)),
                            args=[], keywords=[])
        label = self.helper(fn.__name__, fn)
        call = gast.Call(func=name(label), args=[name(r) for r in reads], keywords=[])
        attempt = [assign(results, call, s)] if outputs else [gast.Expr(value=call)]
        attempt += [assign(o, gast.Subscript(value=name(results), slice=const(k), ctx=gast.Load()),
                           s) for k, o in enumerate(outputs)]
        handler_body = [assign(ok, const(False), s)]
        if named:
            handler_body.append(assign(error, name(caught), s))
        catching = gast.ExceptHandler(type=self.caught_types(s.handlers),
                                      name=name(caught, True) if named else None,
                                      body=handler_body)
        catching.ad_attempt_flag = ok  # (forward mode: see ``ControlFlow.transform_if``)
        tried = gast.Try(body=[gast.copy_location(st, s) for st in attempt],
                         handlers=self.passed_through(s) + [catching] + self.cleanup(s),
                         orelse=[], finalbody=[])
        tried.ad_attempt = label  # (the call it makes: see ``Statements.stmt_Try``)
        gast.copy_location(tried, s)
        nothing = gast.Call(func=name(self.helper("no_exception", runtime.no_exception)),
                            args=[], keywords=[])
        first = [assign(ok, started, s)] + ([assign(error, nothing, s)] if named else []) + [
                 gast.copy_location(gast.If(test=name(ok), body=[tried], orelse=[]), s)]
        chosen = gast.copy_location(gast.If(test=name(ok), body=appended + self.block(s.orelse)
                                            or [gast.Pass()],
                                            orelse=self.dispatch(s.handlers, error)), s)
        final = self.block(s.finalbody)
        if final:  # (on an exception from the else block or a handler: the clean-up, then on)
            chosen = gast.copy_location(gast.Try(body=[chosen], handlers=[
                gast.ExceptHandler(type=name("BaseException"), name=None,
                                   body=copy_tree(final) + [gast.Raise(exc=None, cause=None)])],
                orelse=[], finalbody=[]), s)
        return first + [chosen] + final

    def appended_last(self, s) -> list:
        """For a body whose last statement that may raise is ``lst.append(value)`` of a list the
        function had before (``vals.append(float(row["v"]))``): the body binds the value, and the
        append, which cannot raise, is made after it ran to its end; the statements that make
        it, else []."""
        last = max((k for k, st in enumerate(s.body) if not _constant_binding(st)), default=-1)
        st = s.body[last] if last >= 0 else None
        call = st.value if isinstance(st, gast.Expr) else None
        if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
                and call.func.attr == "append" and isinstance(call.func.value, gast.Name)
                and len(call.args) == 1 and not call.keywords
                and not isinstance(call.args[0], gast.Starred)
                and call.func.value.id not in {n for b in s.body for n in _stored(b)}):
            return []
        held = self.namer.fresh("appended")
        s.body = s.body[:last] + [gast.copy_location(assign(held, call.args[0]), st)] \
            + s.body[last + 1:]
        made = gast.Call(func=copy_tree(call.func), args=[name(held)], keywords=[])
        return [gast.copy_location(gast.Expr(value=made), st)]

    def caught_types(self, handlers):
        """What the handlers catch, as one ``except`` clause's type: a flat tuple (a name holding
        a tuple of exceptions unpacked into it)."""
        if any(h.type is None for h in handlers):
            return name("BaseException")
        types_ = []
        for h in handlers:
            for t in h.type.elts if isinstance(h.type, gast.Tuple) else [h.type]:
                held = isinstance(self.resolver.resolve(t), tuple)
                types_.append(gast.Starred(value=t, ctx=gast.Load()) if held else t)
        return types_[0] if len(types_) == 1 and not isinstance(types_[0], gast.Starred) \
            else gast.Tuple(elts=types_, ctx=gast.Load())

    def passed_through(self, s) -> list:
        """``except AdError: raise`` first when a handler would catch adcompiler's own errors
        (``except Exception``): a refusal is not the user's exception."""
        for h in s.handlers:
            types_ = [] if h.type is None else h.type.elts if isinstance(h.type, gast.Tuple) \
                else [h.type]
            kinds = [self.resolver.resolve(t) for t in types_]
            if h.type is None or any(isinstance(k, type) and issubclass(AdError, k)
                                     for k in kinds):
                return [gast.ExceptHandler(type=name(self.helper("AdError", AdError)), name=None,
                                           body=[gast.Raise(exc=None, cause=None)])]
        return []

    def cleanup(self, s) -> list:
        if not s.finalbody:
            return []
        return [gast.ExceptHandler(type=name("BaseException"), name=None,
                                   body=copy_tree(self.block(copy_tree(s.finalbody)))
                                   + [gast.Raise(exc=None, cause=None)])]

    def dispatch(self, handlers, error) -> list:
        """The handlers' code after the body raised ``error``: the first whose type matches."""
        out = None
        for h in reversed(handlers):
            code = ([assign(h.name.id, name(error), h)] if h.name is not None else []) \
                + self.block(h.body)
            for n in (n for st in code for n in walk(st)):
                if isinstance(n, gast.Raise) and n.exc is None:  # (re-raise what was caught)
                    n.exc = name(error)
            if out is None or h.type is None:
                out = code
            else:
                test = gast.Call(func=name("isinstance"), args=[name(error), h.type],
                                 keywords=[])
                out = [gast.copy_location(gast.If(test=test, body=code, orelse=out), h)]
        return out

    # -- what the body reads and binds -------------------------------------------------------
    def interface(self, s):
        """(names the body reads that it is given, names it binds that the function has): in
        the order they first appear."""
        local = self.local
        reads, stored, outputs = [], set(), []
        for n in _in_order(s.body):
            if isinstance(n, (gast.FunctionDef, gast.ClassDef)):
                self.refuse(n, "a definition inside the body", "define it before the 'try'")
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                if n.id in self.local_defs:
                    self.refuse(n, "a call of the nested function %r" % n.id,
                                "define the function at module level")
                outer = n.id in local or n.id in self.resolver.parsed.cells \
                    or n.id in self.resolver.imported
                if outer and n.id not in stored and n.id not in reads:
                    reads.append(n.id)
            elif isinstance(n, gast.Name):
                if n.id in self.declared:
                    self.refuse(n, "binding the global or nonlocal variable %r" % n.id,
                                "bind a local name in the 'try' and assign it after")
                stored.add(n.id)
                if n.id not in outputs:
                    outputs.append(n.id)
        surely = _stored_all(s.body)
        surely = set(outputs) if surely is None else surely
        for n in outputs:  # (a name bound on some paths only would be unbound at the end)
            if n not in surely and self.read_outside(n, s.body):
                self.refuse(s, "%r, bound on some paths of the body only" % n,
                            "bind it before the 'try' too")
        return reads, [o for o in outputs if o in surely]

    def check_partial(self, s, after, outputs):
        """Refuse a name the body binds before a statement that may raise, read where Python
        would see the value it had then (see the module's docstring)."""
        last = max((k for k, st in enumerate(s.body) if not _constant_binding(st)), default=-1)
        if last < 0:
            return
        early = set().union(*(_stored(st) for st in s.body[:last]), set()) | (
            _stored(s.body[last]) if not isinstance(s.body[last], (gast.Assign, gast.Expr,
                                                                   gast.AugAssign)) else set())
        going_on = [h for h in s.handlers if _goes_on(h)]
        skipped = set.intersection(*(_flags_set(h.body) for h in going_on))
        hidden = {id(n) for st in after if _guarded_by(st, skipped) for n in walk(st)}
        for n in sorted(early & set(outputs)):
            # (a handler binding it before any read: r = r + 1 there reads the body's value)
            if all(_stored_all(h.body) is None or _bound_before_read(n, h.body)
                   for h in going_on):
                continue
            if self.read_outside(n, s.body, hidden, s):
                self.refuse(s, "reading %r in the 'except' or after the 'try', which the body "
                            "binds before a statement that may raise (Python keeps the value it "
                            "had then)" % n,
                            "bind %r in the 'except' from other values before reading it, or "
                            "compute it after the 'try'" % n)

    def read_outside(self, n, body, hidden=frozenset(), s=None) -> bool:
        """Whether ``n`` is read outside ``body`` (but in the function; not in ``hidden``), or in
        ``body`` before it binds it."""
        inside = {id(x) for st in body for x in walk(st)}
        for st in self.all:
            for x in walk(st):
                if isinstance(x, gast.Name) and x.id == n and isinstance(x.ctx, gast.Load) \
                        and id(x) not in inside and id(x) not in hidden:
                    return True
        for x in _in_order(body):
            if isinstance(x, gast.Name) and x.id == n:
                return isinstance(x.ctx, gast.Load)
        return False

    def body_function(self, s, reads, outputs):
        """The body as a function of the user's module, given ``reads`` and returning
        ``outputs``."""
        label = "%s_try_%d" % (self.fdef.name.strip("<>") or "fn",
                               getattr(s, "lineno", 0) + self.loc.line_offset)
        ret = gast.Return(value=gast.Tuple(elts=[name(o) for o in outputs], ctx=gast.Load()))
        args = gast.arguments(args=[gast.Name(id=r, ctx=gast.Param(), annotation=None,
                                              type_comment=None) for r in reads],
                              posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                              kwarg=None, defaults=[])
        fdef = gast.FunctionDef(name=label, args=args, body=copy_tree(s.body) + [ret],
                                decorator_list=[], returns=None, type_comment=None,
                                type_params=[])
        source = gast.unparse(gast.fix_missing_locations(gast.Module(body=[fdef],
                                                                     type_ignores=[])))
        where = "<the try at %s:%d>" % (self.loc.filename,
                                       getattr(s, "lineno", 0) + self.loc.line_offset)
        module = self.resolver.parsed.globals
        made = define(source, label, {"__name__": module.get("__name__")}, where)
        fn = types.FunctionType(made.__code__, module, label)  # (reading the user's module)
        written = sorted(written_parameters(fn))
        if written:
            self.refuse(s, "changing %r (an object the function had before the 'try')"
                        % written[0], "compute the new value in the 'try' and store it after")
        return fn


def _in_order(body):
    """The names of ``body`` in the order Python evaluates them (a value before its target)."""
    for st in body:
        yield from _node_order(st)


_SCOPES = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp, gast.Lambda)


def _node_order(node):
    if isinstance(node, (gast.FunctionDef, gast.ClassDef)):
        yield node
    elif isinstance(node, (gast.Import, gast.ImportFrom)):
        yield from (name(n, True) for n in _imported(node))
    elif isinstance(node, _SCOPES):  # (what it binds is its own: only the names it reads)
        own = _stored(node) | ({a.id for a in node.args.args} if isinstance(node, gast.Lambda)
                               else set())
        yield from (n for n in walk(node) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Load) and n.id not in own)
    elif isinstance(node, gast.Assign):
        yield from _node_order(node.value)
        for t in node.targets:
            yield from _node_order(t)
    elif isinstance(node, gast.AugAssign):
        if isinstance(node.target, gast.Name):
            yield gast.Name(id=node.target.id, ctx=gast.Load(), annotation=None, type_comment=None)
        yield from _node_order(node.value)
        yield from _node_order(node.target)
    elif isinstance(node, gast.Name):
        yield node
    else:
        for child in gast.iter_child_nodes(node):
            yield from _node_order(child)


def _stored(st) -> set:
    return {n.id for n in walk(st) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _bound(st):
    """Names a statement of the body binds on every path that goes on after it (None: no path
    does, it raises)."""
    if isinstance(st, gast.Raise):
        return None
    if isinstance(st, (gast.Import, gast.ImportFrom)):
        return set(_imported(st))
    if isinstance(st, (gast.Assign, gast.AugAssign, gast.AnnAssign)):
        targets = st.targets if isinstance(st, gast.Assign) else [st.target]
        return {n.id for t in targets for n in walk(t) if isinstance(n, gast.Name)}
    if isinstance(st, gast.If):
        return _meet(_stored_all(st.body), _stored_all(st.orelse))
    if isinstance(st, gast.With):
        return _stored_all(st.body)
    if isinstance(st, gast.Try):
        paths = [_stored_all(st.body + st.orelse)] + [_stored_all(h.body) for h in st.handlers]
        found = paths[0]
        for other in paths[1:]:
            found = _meet(found, other)
        final = _stored_all(st.finalbody)
        return None if found is None or final is None else found | final
    return set()


def _imported(st) -> list:
    """The names an ``import`` binds."""
    return [(a.asname or a.name).split(".")[0] for a in st.names]


def _meet(a, b):
    return b if a is None else a if b is None else a & b


def _stored_all(body):
    """Names ``body`` binds on every path that goes on after it (None: none does)."""
    found = set()
    for st in body:
        bound = _bound(st)
        if bound is None:
            return None
        found |= bound
    return found


def _bound_before_read(n, body) -> bool:
    """Whether the first statement of ``body`` naming ``n`` is an assignment binding it from a
    value that does not read it."""
    for st in body:
        if any(isinstance(x, gast.Name) and x.id == n for x in walk(st)):
            return isinstance(st, gast.Assign) and n in _bound(st) and not any(
                isinstance(x, gast.Name) and x.id == n for x in walk(st.value))
    return False


def _constant_binding(st) -> bool:
    """``flag = True`` (a lowered jump): it cannot raise."""
    return isinstance(st, gast.Assign) and isinstance(st.value, gast.Constant)


def _flags_set(body, value=True) -> set:
    return {st.targets[0].id for st in body if isinstance(st, gast.Assign)
            and isinstance(st.targets[0], gast.Name) and isinstance(st.value, gast.Constant)
            and st.value.value is value}


def _guarded_by(st, flags) -> bool:
    """``if not flag: ...`` for one of ``flags`` (code a lowered jump skips)."""
    test = getattr(st, "test", None)
    return isinstance(st, gast.If) and isinstance(test, gast.UnaryOp) \
        and isinstance(test.op, gast.Not) and isinstance(test.operand, gast.Name) \
        and test.operand.id in flags and not st.orelse

