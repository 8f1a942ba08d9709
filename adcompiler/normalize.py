"""Pass 3: normalise a parsed function to three-address code (the IR of every later pass).

After this pass
- every statement performs one operation on names and constants (``t1 = x + y``,
  ``t2 = np.sin(t1)``, ``y[i] = t3``), calls keep their (resolved) callee expression;
- control flow is structured: ``if``/``for``/``while`` only; ``break``, ``continue`` and early
  ``return`` are lowered to flags, the only ``break`` left is ``if <flag>: break`` as the last
  statement of a loop body, and the function ends with its single ``return <name>``;
- ``for`` loops run over ``range(...)``; other iterables become index loops;
- augmented assignment is spelled out (``x += y`` -> ``x = x + y``).
"""
from __future__ import annotations

import types

import gast
import numpy as np

from . import runtime
from .custom import insert_grad_of
from .errors import AdError, Location
from .ir import assign, const, copy_tree, if_, is_atom, located, name, not_, walk
from .naming import Namer
from .parse import parse_function
from .resolve import MISSING, Resolver, local_names

# ---------------------------------------------------------------------------------------------
# Jump lowering: break / continue / early return become flags.

class _Loop:
    """Flags of one loop, named on first use so unused flags take no names."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self._brk = self._skip = None

    @property
    def brk(self) -> str:
        if self._brk is None:
            self._brk = self.namer.fresh("broke")
        return self._brk

    @property
    def skip(self) -> str:
        if self._skip is None:
            self._skip = self.namer.fresh("skip")
        return self._skip

    used_brk = property(lambda self: self._brk is not None)
    used_skip = property(lambda self: self._skip is not None)


class JumpLowering:
    """Rewrites a function body so its only jumps are a trailing ``if flag: break`` per loop and
    one final ``return``."""

    def __init__(self, namer: Namer):
        self.namer = namer
        self.loops: list[_Loop] = []
        self.retval = None
        self.returned = None
        self.used_returned = False
        self.all_flags: set[str] = set()

    def run(self, fdef: gast.FunctionDef) -> list:
        body = fdef.body
        simple = not any(self._jumps(s) for s in body[:-1]) and not (
            body and not isinstance(body[-1], gast.Return) and self._jumps(body[-1]))
        if simple:
            if not body or not isinstance(body[-1], gast.Return):
                body = body + [located(gast.Return(value=None), body[-1] if body else fdef)]
            return [self._stmt(s) for s in body[:-1]] + [body[-1]]
        self.retval = self.namer.fresh("retval")
        self.returned = self.namer.fresh("returned")
        lowered = self._block(body)
        pre = [assign(self.retval, const(None), fdef.body[0])]
        if self.used_returned:
            pre.append(assign(self.returned, const(False), fdef.body[0]))
        return pre + lowered + [located(gast.Return(value=name(self.retval)), fdef.body[-1])]

    def flags(self) -> set[str]:
        """Names of every flag this lowering introduced."""
        names = {self.returned} if self.returned else set()
        return names | self.all_flags

    def _jumps(self, node, depth=0) -> bool:
        """Can control leave ``node`` by a jump that is not caught inside it?"""
        if isinstance(node, gast.Return):
            return True
        if isinstance(node, (gast.Break, gast.Continue)):
            return depth == 0
        if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            return False
        inner = depth + 1 if isinstance(node, (gast.For, gast.While)) else depth
        for field in ("body", "orelse", "handlers", "finalbody"):
            for s in getattr(node, field, None) or []:
                if self._jumps(s, inner if field == "body" else depth):
                    return True
        return False

    def _block(self, stmts) -> list:
        out = []
        for k, s in enumerate(stmts):
            rest = stmts[k + 1:]
            if isinstance(s, (gast.Return, gast.Break, gast.Continue)):
                out.extend(self._jump(s))
                return out
            if not self._jumps(s):
                out.append(self._stmt(s))
                continue
            if isinstance(s, gast.If) and rest:
                ends_body = _ends_with_jump(s.body)
                ends_else = _ends_with_jump(s.orelse)
                if ends_body and not any(self._jumps(x) for x in s.orelse):
                    out.append(if_(s.test, self._block(s.body), self._block(s.orelse + rest), s))
                    return out
                if ends_else and not any(self._jumps(x) for x in s.body):
                    out.append(if_(s.test, self._block(s.body + rest), self._block(s.orelse), s))
                    return out
            out.append(self._stmt(s))
            if rest:
                out.append(if_(not_(self._guard_flag()), self._block(rest), like=rest[0]))
            return out
        return out

    def _guard_flag(self) -> str:
        if self.loops:
            return self.loops[-1].skip
        self.used_returned = True
        return self.returned

    def _jump(self, s) -> list:
        out = []
        if isinstance(s, gast.Return):
            value = s.value if s.value is not None else const(None)
            out.append(assign(self.retval, value, s))
            out.append(assign(self.returned, const(True), s))
            for loop in self.loops:
                out.append(assign(loop.brk, const(True), s))
            if self.loops:
                out.append(assign(self.loops[-1].skip, const(True), s))
            return out
        loop = self.loops[-1]
        if isinstance(s, gast.Break):
            out.append(assign(loop.brk, const(True), s))
        out.append(assign(loop.skip, const(True), s))
        return out

    def _stmt(self, s):
        if isinstance(s, gast.If):
            return if_(s.test, self._block(s.body), self._block(s.orelse), s)
        if isinstance(s, (gast.For, gast.While)):
            # ``else``: runs after the loop unless it was left by break (or return)
            orelse, s.orelse = (self._block(s.orelse) if s.orelse else []), []
            loop = _Loop(self.namer)
            self.loops.append(loop)
            body = self._block(s.body)
            self.loops.pop()
            self.all_flags |= {f for f in (loop._brk, loop._skip) if f}
            if loop.used_skip:
                body.insert(0, assign(loop.skip, const(False), s.body[0]))
            if loop.used_brk:
                body.append(if_(name(loop.brk), [located(gast.Break(), s)], like=s))
            s.body = body
            if loop.used_brk:
                s.ad_break_flag = loop.brk
                return [assign(loop.brk, const(False), s), s] + (
                    [if_(not_(loop.brk), orelse, like=orelse[0])] if orelse else [])
            return [s] + orelse if orelse else s
        if isinstance(s, (gast.With, gast.Try)):
            s.body = self._block(s.body)
        return s


def _ends_with_jump(stmts) -> bool:
    return bool(stmts) and isinstance(stmts[-1], (gast.Return, gast.Break, gast.Continue))


def _flatten_lists(stmts):
    out = []
    for s in stmts:
        if isinstance(s, list):
            out.extend(_flatten_lists(s))
        else:
            for field in ("body", "orelse"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, _flatten_lists(getattr(s, field)))
            out.append(s)
    return out


# ---------------------------------------------------------------------------------------------
# Flattening to three-address code.

class Normalizer:
    """Flattens expressions of a jump-lowered body into one operation per statement."""

    def __init__(self, resolver: Resolver, namer: Namer, loc: Location):
        self.bind_object = None  # (set by normalize_function)
        self.resolver = resolver
        self.namer = namer
        self.loc = loc
        self.out: list = []
        self.temps: set[str] = set()
        self.local_fns: dict = {}      # nested defs and lambdas bound to a name: inlined at calls
        self.dict_params: set = set()  # parameters known to be dicts
        self.bound_twice: set = set()  # names bound by more than one statement (or parameters)
        self.caller_objects: set = set()  # parameters that may hold an object of the caller's (not a number)
        self.loop_stores: set = set()  # names the body of the loop being rewritten binds
        self.generated = False  # normalising adcompiler's own generated code (differentiated again)
        self.growing: set = set()  # names of lists the function may add entries to
        self.inlining: list = []

    # -- helpers ---------------------------------------------------------------------------
    def temp(self) -> str:
        t = self.namer.numbered("t")
        self.temps.add(t)
        return t

    def emit(self, stmt, like):
        self.out.append(located(stmt, like))

    def unsupported(self, node, what, hint):
        raise self.loc.error("%s is not supported" % what, node, hint)

    def is_global(self, node) -> bool:
        return self.resolver.resolve(node) is not MISSING

    def block(self, stmts) -> list:
        saved, self.out = self.out, []
        for s in stmts:
            self.stmt(s)
        body, self.out = self.out, saved
        return body

    # -- statements ------------------------------------------------------------------------
    def stmt(self, s):
        kind = type(s).__name__
        method = getattr(self, "stmt_" + kind, None)
        if method is None:
            self.unsupported(s, "the statement '%s'" % kind.lower(),
                             "move it out of the differentiated function")
        method(s)

    def stmt_Pass(self, s):
        pass

    def stmt_Import(self, s):
        """Imports in the body were done at generation time (the resolver knows their objects)."""
        if any((a.asname or a.name.split(".")[0]) not in self.resolver.imported for a in s.names):
            self.unsupported(s, "this import", "move it out of the differentiated function")

    stmt_ImportFrom = stmt_Import

    def stmt_Global(self, s):
        """A declaration for names the function only reads changes nothing here."""
        assigned = [n for n in s.names if n in self.resolver.locals]
        if assigned:
            self.unsupported(s, "assigning to the %s variable %r" % (type(s).__name__.lower(), assigned[0]),
                             "return the new value instead, and assign it outside the differentiated function")

    stmt_Nonlocal = stmt_Global

    def stmt_Expr(self, s):
        if isinstance(s.value, gast.Constant):
            return  # docstring or bare constant
        if self.scatter(s):
            return
        value = self.expr(s.value, s)
        if not is_atom(value):
            self.emit(gast.Expr(value=value), s)

    def scatter(self, s) -> bool:
        """``np.add.at(a, i, v)`` / ``np.subtract.at(a, i, v)`` on a local array: ``a`` changed in
        place (``runtime.scatter_add``), differentiated; False for any other statement."""
        call = s.value
        if self.bind_object is None or not isinstance(call, gast.Call) or len(call.args) != 3 or call.keywords:
            return False
        fn = self.resolver.resolve(call.func)
        if not any(fn == op.at for op in (np.add, np.subtract)) or not isinstance(call.args[0], gast.Name) \
                or call.args[0].id not in self.resolver.locals:
            return False
        target = call.args[0].id
        index = self.atom(call.args[1], s)
        value = call.args[2] if fn == np.add.at else gast.UnaryOp(op=gast.USub(), operand=call.args[2])
        helper = self.helper("scatter_add", runtime.scatter_add)
        changed = self.temp()  # (the same array, changed: a statement never reads its own target)
        self.emit(assign(changed, gast.Call(func=name(helper), args=[name(target), index, self.atom(value, s)],
                                            keywords=[])), s)
        self.out[-1].ad_mutates = target
        self.emit(assign(target, name(changed)), s)
        self.out[-1].ad_augmented = True  # (an array sharing its memory changes too: see check_in_place_updates)
        return True

    def stmt_Assert(self, s):
        test = self.atom(s.test, s)
        self.emit(gast.Assert(test=test, msg=s.msg), s)

    def stmt_Return(self, s):
        value = s.value if s.value is not None else const(None)
        if isinstance(value, gast.Name) and value.id in self.resolver.locals:
            self.emit(gast.Return(value=value), s)
            return
        ret = self.namer.fresh("ret")
        self.assign_to(ret, value, s)
        self.emit(gast.Return(value=name(ret)), s)

    def stmt_FunctionDef(self, s):
        if s.decorator_list:
            self.unsupported(s, "a decorated nested function", "define it at module level")
        self.local_fns[s.name] = s

    def stmt_Assign(self, s):
        targets = s.targets
        if len(targets) == 1 and isinstance(targets[0], gast.Name) and isinstance(s.value, gast.Lambda):
            lam = s.value
            fdef = gast.FunctionDef(name=targets[0].id, args=lam.args, body=[gast.copy_location(
                gast.Return(value=lam.body), lam.body)], decorator_list=[], returns=None, type_comment=None,
                type_params=[])
            self.local_fns[targets[0].id] = gast.copy_location(fdef, s)
            return
        if len(targets) == 1 and isinstance(targets[0], gast.Name):
            self.assign_to(targets[0].id, s.value, s)
            return
        value = self.atom(s.value, s)
        for target in targets:
            self.store(target, value, s)

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.stmt_Assign(gast.copy_location(gast.Assign(targets=[s.target], value=s.value,
                                                            type_comment=None), s))

    def stmt_AugAssign(self, s):
        target = s.target
        if isinstance(target, gast.Name):
            load = name(target.id)
            self.assign_to(target.id, gast.BinOp(left=load, op=s.op, right=s.value), s)
            last = self.out[-1]
            last.ad_augmented = True  # in place for an array: see Planner.check_in_place_updates
            if self.bind_object is None or self.generated:  # (generated code: owned adjoints of one dtype)
                return
            if target.id in self.caller_objects:
                # the argument may be the caller's array (or list): Python writes the result into
                # it, and so does generated code (``x = in_place(x, t1)``: the caller sees it)
                helper = self.helper("in_place", runtime.in_place)
                last.value = gast.Call(func=name(helper), args=[name(target.id), last.value], keywords=[])
                last.ad_mutates = target.id
            else:
                # an array keeps its dtype (a float32 x += float64 stays float32); a number is
                # rebound (planning drops the helper where the kind says a number)
                helper = self.helper("keep_dtype", runtime.keep_dtype)
                last.value = gast.Call(func=name(helper), args=[name(target.id), last.value], keywords=[])
            return
        if isinstance(target, gast.Subscript):
            base = self.store_base(target.value, s)
            index = self.index(target.slice, s)
            old = self.temp()
            self.emit(assign(old, gast.Subscript(value=name(base), slice=index, ctx=gast.Load())), s)
            new = self.atom(gast.BinOp(left=name(old), op=s.op, right=s.value), s)
            if self.bind_object is not None:
                # d[k] += v on a list or dict: Python changes the array d[k] itself (everything
                # holding it sees the change); on an array it is x[k] = x[k] + v
                written = self.temp()
                call = gast.Call(func=name(self.helper("element_in_place", runtime.element_in_place)),
                                 args=[name(base), name(old), new], keywords=[])
                self.emit(assign(written, call), s)
                self.out[-1].ad_mutates, self.out[-1].ad_element_of = old, base
                new = name(written)
            self.emit(assign(gast.Subscript(value=name(base), slice=_copy(index), ctx=gast.Store()), new), s)
            return
        if isinstance(target, gast.Attribute):
            # obj.n += v: the attribute's value updated as a name's would be (an array in place,
            # ``in_place``: anything holding it sees the change), then stored back
            obj = self.attribute_owner(target.value, s)
            old = self.temp()
            self.emit(assign(old, gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Load())), s)
            self.caller_objects.add(old)
            self.stmt_AugAssign(gast.copy_location(gast.AugAssign(target=name(old, True), op=s.op, value=s.value), s))
            self.out[-1].ad_attribute_update = True
            self.store(gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Store()), name(old), s)
            return
        self.unsupported(target, "augmented assignment to %s" % type(target).__name__.lower(),
                         "assign to a local name or an element of a local array")

    def store(self, target, value, s):
        """Store an atom into any assignment target (names, subscripts, tuples)."""
        if isinstance(target, gast.Name):
            if not (isinstance(value, gast.Name) and value.id == target.id):  # (m = c = m: m = m is nothing)
                self.emit(assign(target.id, value), s)
        elif isinstance(target, gast.Subscript):
            base = self.store_base(target.value, s)
            index = self.index(target.slice, s)
            self.emit(assign(gast.Subscript(value=name(base), slice=index, ctx=gast.Store()), value), s)
        elif isinstance(target, gast.Attribute):
            obj = self.attribute_owner(target.value, s)
            self.emit(gast.Assign(targets=[gast.Attribute(value=name(obj), attr=target.attr, ctx=gast.Store())],
                                  value=value, type_comment=None), s)
        elif isinstance(target, (gast.Tuple, gast.List)):
            starred = [i for i, e in enumerate(target.elts) if isinstance(e, gast.Starred)]
            if len(starred) > 1 or (starred and not isinstance(target.elts[starred[0]].value, gast.Name)):
                self.unsupported(target, "this starred unpacking", "index the sequence explicitly")
            n = len(target.elts)
            for i, elt in enumerate(target.elts):
                if starred and i == starred[0]:  # a, *rest, b = seq: rest = list(seq[1:-1])
                    after = n - 1 - i
                    part = gast.Subscript(value=value, slice=gast.Slice(
                        lower=const(i), upper=const(-after) if after else None, step=None), ctx=gast.Load())
                    self.assign_to(elt.value.id, gast.Call(func=name(self._builtin("list")), args=[part],
                                                           keywords=[]), s)
                    continue
                index = i if not starred or i < starred[0] else i - n  # after the star: from the end
                item = gast.Subscript(value=value, slice=const(index), ctx=gast.Load())
                if isinstance(elt, gast.Name):
                    self.emit(assign(elt.id, item), s)
                else:
                    self.store(elt, self.atom(item, s), s)
        else:
            self.unsupported(target, "assignment to %s" % type(target).__name__.lower(),
                             "assign to a local name, tuple of names or an element of a local array")

    def assign_to(self, target: str, value, s):
        """``target = value`` with value flattened; a statement never reads its own target."""
        if isinstance(value, gast.Name) and value.id == target:
            return  # ``x = x`` changes nothing
        if isinstance(value, (gast.Tuple, gast.List)) and any(
                isinstance(n, gast.Name) and n.id == target for n in walk(value)):
            self.emit(assign(target, self.atom(value, s)), s)
            return
        if isinstance(value, gast.BoolOp) and not any(
                isinstance(n, gast.Name) and n.id == target for n in walk(value)):
            self.boolop(value, s, target)
            return
        reads_target = any(isinstance(n, gast.Name) and n.id == target and isinstance(n.ctx, gast.Load)
                           for n in walk(value))
        if reads_target and not is_atom(value):
            flat = self.expr(value, s)
            if not is_atom(flat):
                t = self.temp()
                self.emit(assign(t, flat), s)
                flat = name(t)
            self.emit(assign(target, flat), s)
            return
        self.emit(assign(target, self.expr(value, s)), s)

    def stmt_If(self, s):
        test = self.test(s.test, s)
        self.emit(if_(test, self.block(s.body), self.block(s.orelse)), s)

    def test(self, node, s):
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not) and isinstance(node.operand, gast.Name):
            return node
        return self.atom(node, s)

    def stmt_While(self, s):
        mark = len(self.out)
        test = self.test(s.test, s)
        needs_code = len(self.out) > mark
        body = self.block(s.body)
        if needs_code:
            # The condition went into a temporary: recompute it at the end of each iteration
            # (before the trailing 'if broke: break', which must stay last).
            redo = self._reeval(s.test, test.id, s)
            flag = getattr(s, "ad_break_flag", None)
            body = body[:-1] + redo + body[-1:] if flag else body + redo
        loop = gast.While(test=test, body=body or [gast.Pass()], orelse=[])
        loop.ad_break_flag = getattr(s, "ad_break_flag", None)
        self.emit(loop, s)

    def _reeval(self, expr, flag, s):
        saved, self.out = self.out, []
        self.assign_to(flag, expr, s)
        code, self.out = self.out, saved
        return code

    def stmt_With(self, s):
        item = s.items[0] if len(s.items) == 1 else None
        call = item.context_expr if item is not None else None
        if not (isinstance(call, gast.Call) and self.resolver.resolve(call.func) is insert_grad_of):
            # any other context manager (np.errstate, a timer): its block runs inside it in the
            # forward pass; the block's backward statements run in place, outside it
            for it in s.items:
                if it.optional_vars is not None and not isinstance(it.optional_vars, gast.Name):
                    self.unsupported(s, "unpacking in a 'with' target", "bind the context to one name")
            block = gast.With(items=s.items, body=self.block(s.body) or [gast.Pass()], type_comment=None)
            self.emit(block, s)
            return
        if not (len(call.args) == 1 and isinstance(call.args[0], gast.Name) and isinstance(item.optional_vars, gast.Name)):
            self.unsupported(s, "this insert_grad_of block", "write 'with ad.insert_grad_of(x) as dx:' for a name x")
        hook = gast.With(items=[gast.withitem(context_expr=call, optional_vars=item.optional_vars)],
                         body=self.block(s.body) or [gast.Pass()], type_comment=None)
        hook.ad_hook = True
        self.emit(hook, s)

    def stmt_Raise(self, s):
        self.emit(s, s)  # runs in the forward pass as written; it has no derivative

    def stmt_Delete(self, s):
        if not all(isinstance(t, gast.Name) for t in s.targets):
            self.unsupported(s, "'del' of an element or attribute", "build a new array or dict instead")
        # deleting a local name changes no value the gradient needs: nothing to do

    def stmt_Break(self, s):
        self.emit(gast.Break(), s)

    def stmt_For(self, s):
        it = s.iter
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else MISSING
        if callee is range and isinstance(s.target, gast.Name) and not it.keywords:
            args = [self.atom(a, s) for a in it.args]
            rng = gast.Call(func=it.func, args=args, keywords=[])
            counter, head = s.target.id, []
            if counter in self.bound_twice:
                # the name holds other values too (``q = x; for q in range(3)``): the loop binds it
                # by a statement of its own, so every pass sees that binding like any other
                counter = self.namer.fresh(counter + "_")
                self.resolver.locals.add(counter)
                head = [located(assign(s.target.id, name(counter)), s)]
            loop = gast.For(target=name(counter, True), iter=rng, body=head + self.block(s.body),
                            orelse=[], type_comment=None)
        else:
            index = self.namer.fresh("k")
            self.loop_stores = {n.id for st in s.body for n in walk(st)
                                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            length, items = self.iteration(it, s)
            n = self.atom(length, s)
            saved, self.out = self.out, []
            self.bind_items(s.target, items(name(index)), s)
            head = self.out
            self.out = saved
            rng = gast.Call(func=name(self.range_name()), args=[n], keywords=[])
            loop = gast.For(target=name(index, True), iter=rng, body=head + self.block(s.body),
                            orelse=[], type_comment=None)
        loop.ad_break_flag = getattr(s, "ad_break_flag", None)
        self.emit(loop, s)

    def range_name(self) -> str:
        if self.resolver.lookup("range") is range and "range" not in self.resolver.locals:
            return "range"
        raise self.loc.error("the name 'range' is shadowed, so loops over sequences cannot be rewritten")

    def iteration(self, it, s):
        """(length expression, k -> element expression) for iterating over ``it``."""
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else MISSING
        if callee is enumerate and 1 <= len(it.args) <= 2 and all(k.arg == "start" for k in it.keywords):
            length, items = self.iteration(it.args[0], s)
            start = it.args[1] if len(it.args) == 2 else (it.keywords[0].value if it.keywords else None)
            if start is None:
                return length, lambda k: gast.Tuple(elts=[k, items(k)], ctx=gast.Load())
            first = self.atom(start, s)
            return length, lambda k: gast.Tuple(elts=[gast.BinOp(left=k, op=gast.Add(), right=_copy(first)),
                                                      items(k)], ctx=gast.Load())
        if callee is reversed and len(it.args) == 1 and not it.keywords:
            length, items = self.iteration(it.args[0], s)
            n = self.atom(length, s)
            last = self.atom(gast.BinOp(left=n, op=gast.Sub(), right=const(1)), s)
            return n, lambda k: items(gast.BinOp(left=_copy(last), op=gast.Sub(), right=k))
        if callee is zip and it.args and not it.keywords:
            parts = [self.iteration(a, s) for a in it.args]
            lengths = [self.atom(p[0], s) for p in parts]
            length = lengths[0] if len(lengths) == 1 else gast.Call(
                func=name(self._builtin("min")), args=lengths, keywords=[])
            return length, lambda k: gast.Tuple(elts=[p[1](k) for p in parts], ctx=gast.Load())
        if (isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) and not it.args
                and it.func.attr in ("items", "values", "keys") and not self.is_global(it.func)) \
                or (isinstance(it, gast.Name) and it.id in self.dict_params):
            # a dict view: iterate over a list of it
            it = gast.Call(func=name(self._builtin("list")), args=[it], keywords=[])
        seq = self.atom(it, s)
        if isinstance(seq, gast.Constant):
            self.unsupported(it, "iterating over a constant", "iterate over a list, tuple or array")
        if seq.id in self.loop_stores:
            # ``for row in total: total = ...``: Python iterates over the sequence it had first
            first = self.namer.fresh(seq.id + "_items")
            self.resolver.locals.add(first)
            self.emit(assign(first, seq), s)
            seq = name(first)
        length = gast.Call(func=name(self._builtin("len")), args=[seq], keywords=[])
        return length, lambda k: gast.Subscript(value=_copy(seq), slice=k, ctx=gast.Load())

    def _builtin(self, id_):
        import builtins
        if id_ in self.resolver.locals or self.resolver.lookup(id_) is not getattr(builtins, id_):
            raise self.loc.error("the builtin '%s' is shadowed, so this loop cannot be rewritten" % id_)
        return id_

    def bind_items(self, target, value, s):
        if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, gast.Tuple) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self.bind_items(t, v, s)
        elif isinstance(target, gast.Name):
            if isinstance(value, gast.Name):
                self.emit(assign(target.id, _copy(value)), s)
            else:
                self.assign_to(target.id, value, s)
        else:
            self.store(target, self.atom(value, s), s)

    # -- expressions -----------------------------------------------------------------------
    def atom(self, node, s):
        """Flatten ``node`` and return a Name or Constant holding its value."""
        flat = self.expr(node, s)
        if is_atom(flat):
            return flat
        t = self.temp()
        self.emit(assign(t, flat), s)
        return name(t)

    def attribute_owner(self, node, s) -> str:
        """The name of the object ``obj.attr = v`` stores into: a local one, or an object of a user's
        class the function reaches by name (a method's ``self``, a module-level model); never a
        module or a class."""
        value = self.atom(node, s)
        if isinstance(value, gast.Name) and value.id not in self.resolver.locals | self.temps:
            obj = self.resolver.resolve(value)
            if obj is MISSING or isinstance(obj, (type, types.ModuleType, types.FunctionType)) \
                    or not hasattr(obj, "__dict__"):
                self.unsupported(node, "assigning an attribute of %r (%s)" % (value.id, type(obj).__name__),
                                 "keep the value in a local variable or an object of your own class")
            return value.id
        return self.local_name(node, s)

    def store_base(self, node, s) -> str:
        """The name of the container or array ``x[k] = v`` writes into: a local one, or a module-level
        list, dict or array (a call counter, a cache; planning refuses a value that depends on wrt)."""
        value = self.atom(node, s)
        if isinstance(value, gast.Name) and value.id not in self.resolver.locals | self.temps \
                and isinstance(self.resolver.resolve(value), (list, dict, np.ndarray)):
            return value.id
        return self.local_name(node, s)

    def local_name(self, node, s) -> str:
        value = self.atom(node, s)
        if not isinstance(value, gast.Name) or value.id not in self.resolver.locals | self.temps:
            self.unsupported(node, "assigning into a non-local object",
                             "copy it into a local variable first")
        return value.id

    def expr(self, node, s):
        """Flatten ``node`` to a single operation on atoms (or an atom)."""
        if isinstance(node, gast.Constant):
            return node
        if isinstance(node, gast.Name):
            if node.id in self.local_fns:  # (calls of it are inlined; the function itself does not exist)
                self.unsupported(s, "a nested function or lambda used as a value (%r)" % node.id,
                                 "call it directly, or define it at module level to store or pass it around")
            return name(node.id)
        if isinstance(node, gast.Attribute):
            if self.is_global(node):
                obj = self.resolver.resolve(node)
                if isinstance(obj, (int, float, complex, bool, str)) or obj is None:
                    return node  # module constant such as np.pi: an atom in all but form
                return node
            return gast.Attribute(value=self.atom(node.value, s), attr=node.attr, ctx=gast.Load())
        if isinstance(node, gast.BinOp):
            return gast.BinOp(left=self.atom(node.left, s), op=node.op, right=self.atom(node.right, s))
        if isinstance(node, gast.UnaryOp):
            if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.Constant) \
                    and isinstance(node.operand.value, (int, float)):
                return const(-node.operand.value)
            return gast.UnaryOp(op=node.op, operand=self.atom(node.operand, s))
        if isinstance(node, gast.Compare):
            if len(node.ops) == 1:
                return gast.Compare(left=self.atom(node.left, s), ops=node.ops,
                                    comparators=[self.atom(node.comparators[0], s)])
            left, parts = node.left, []
            for op, right in zip(node.ops, node.comparators):
                parts.append(gast.Compare(left=left, ops=[op], comparators=[right]))
                left = right
            return self.expr(gast.BoolOp(op=gast.And(), values=parts), s)
        if isinstance(node, gast.BoolOp):
            return name(self.boolop(node, s))
        if isinstance(node, gast.IfExp):
            t = self.temp()
            test = self.test(node.test, s)
            body = self.block([assign(t, node.body, s)])
            orelse = self.block([assign(t, node.orelse, s)])
            self.emit(if_(test, body, orelse), s)
            return name(t)
        if isinstance(node, gast.Call):
            return self.call(node, s)
        if isinstance(node, gast.Subscript):
            joined = self.concatenation(node)
            if joined is not None:
                return self.expr(joined, s)
            base, index = self.atom(node.value, s), self.index(node.slice, s)
            if isinstance(base, gast.Name) and base.id in self.growing and isinstance(index, gast.Constant) \
                    and type(index.value) is int and index.value < 0:
                # xs[-1] of a list the function adds entries to: the entry it names now (the list's
                # adjoint has the entries added later too)
                size = self.temp()
                self.emit(assign(size, gast.Call(func=name(self._builtin("len")), args=[base], keywords=[])), s)
                index = self.atom(gast.BinOp(left=name(size), op=gast.Add(), right=index), s)
            return gast.Subscript(value=base, slice=index, ctx=gast.Load())
        if isinstance(node, (gast.Tuple, gast.List)):
            if any(isinstance(e, gast.Starred) for e in node.elts):
                self.unsupported(node, "starred elements in a display", "build the sequence explicitly")
            return type(node)(elts=[self.atom(e, s) for e in node.elts], ctx=gast.Load())
        if isinstance(node, gast.Dict):
            if any(k is None for k in node.keys):
                self.unsupported(node, "'**' in a dict display", "build the dict explicitly")
            return gast.Dict(keys=[self.atom(k, s) for k in node.keys],
                             values=[self.atom(v, s) for v in node.values])
        if isinstance(node, gast.JoinedStr):
            return node
        if isinstance(node, (gast.ListComp, gast.GeneratorExp, gast.DictComp)):
            return name(self.comprehension(node, s))
        if isinstance(node, gast.NamedExpr) and isinstance(node.target, gast.Name):  # (s := value)
            self.assign_to(node.target.id, node.value, s)
            return name(node.target.id)
        if isinstance(node, gast.Lambda):
            return self.lambda_value(node, s)
        what = {"Lambda": "a lambda", "ListComp": "a list comprehension",
                "GeneratorExp": "a generator expression", "DictComp": "a dict comprehension",
                "SetComp": "a set comprehension", "NamedExpr": "an assignment expression (:=)",
                "Await": "await", "Yield": "yield", "YieldFrom": "yield from", "Set": "a set display",
                "Starred": "a starred expression"}.get(type(node).__name__, type(node).__name__)
        self.unsupported(node, what, "rewrite it with plain statements and loops")

    def lambda_value(self, node, s):
        """A lambda used as a value (``[lambda u, k=k: u * k for k in ks]``): the function object
        made from the user's own lambda code, with its default values, so calling it later is
        differentiated through its source (``runtime.make_function``). One reading the function's
        variables would see the normal form's, not the user's: an error."""
        a = node.args
        params = {p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}
        free = sorted({n.id for n in walk(node.body) if isinstance(n, gast.Name) and n.id not in params
                       and n.id in self.resolver.locals | self.temps})
        code = self.lambda_code(node)
        if free or a.kwonlyargs or code is None:
            self.unsupported(node, "a lambda that reads the function's variables (%s), used as a value" % ", ".join(free)
                             if free else "this lambda", "give it the values as default arguments "
                             "(lambda u, k=k: u * k), or define the function with def")
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
        if len(found) != len(columns) or len(set(columns)) != len(columns) or node.col_offset not in columns \
                or any(isinstance(n, gast.Lambda) for n in walk(node.body)):
            return None
        code = found[columns.index(node.col_offset)]
        return None if code.co_freevars else code

    def inline(self, call, s):
        """Inline a call to a nested def or lambda: its locals get fresh names, its free names
        read the enclosing function's variables at call time (closure semantics)."""
        fdef = self.local_fns[call.func.id]
        if fdef.name in self.inlining:
            raise self.loc.error("recursion through the nested function %r is not supported" % fdef.name, call,
                                 hint="define the recursive function at module level")
        args = fdef.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            self.unsupported(call, "calling a nested function with *args, **kwargs or keyword-only "
                                   "parameters", "define it at module level")
        params = [a.id for a in args.args]
        renames = {n: self.namer.fresh("%s_%s" % (fdef.name.strip("<>"), n)) for n in sorted(local_names(fdef))}
        self.resolver.locals |= set(renames.values())
        bound = {}
        if len(call.args) > len(params):
            raise self.loc.error("too many arguments for %s()" % fdef.name, call)
        for p, a in zip(params, call.args):
            bound[p] = a
        for k in call.keywords:
            if k.arg not in params or k.arg in bound:
                raise self.loc.error("unexpected keyword argument %r for %s()" % (k.arg, fdef.name), call)
            bound[k.arg] = k.value
        defaults = dict(zip(params[len(params) - len(args.defaults):], args.defaults))
        for p in params:
            value = bound.get(p, defaults.get(p))
            if value is None:
                raise self.loc.error("missing argument %r for %s()" % (p, fdef.name), call)
            self.assign_to(renames[p], value, s)

        class Rename(gast.NodeTransformer):
            def visit_Name(self, node):
                if node.id in renames:
                    node.id = renames[node.id]
                return node

            def visit_FunctionDef(self, node):  # (a def inside the inlined function is one of its locals)
                node.name = renames.get(node.name, node.name)
                return self.generic_visit(node)
        body = [Rename().visit(_copy(st)) for st in fdef.body]
        inner = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[], returns=None,
                                 type_comment=None, type_params=[])
        gast.copy_location(inner, fdef)
        lowering = JumpLowering(self.namer)
        lowered = _drop_unread_flags(_flatten_lists(lowering.run(inner)), lowering.flags())
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

    def comprehension(self, node, s) -> str:
        """``[elt for x in xs if c]`` (or a generator expression) as a loop appending to a list,
        ``{k: v for ...}`` as a loop storing into a dict; the comprehension's variables get fresh
        names (they do not leak)."""
        if any(g.is_async for g in node.generators):
            self.unsupported(node, "an async comprehension", "use a loop")
        targets = sorted({n.id for g in node.generators for n in walk(g.target) if isinstance(n, gast.Name)})
        renames = {t: self.namer.fresh(t + "_") for t in targets}
        self.resolver.locals |= set(renames.values())

        class Rename(gast.NodeTransformer):
            def visit_Name(self, n):
                if n.id in renames:
                    n.id = renames[n.id]
                return n
        acc = self.namer.fresh("items")
        self.resolver.locals.add(acc)
        self.temps.add(acc)
        if isinstance(node, gast.DictComp):
            self.emit(assign(acc, gast.Dict(keys=[], values=[])), s)
            key = gast.Subscript(value=name(acc), slice=Rename().visit(_copy(node.key)), ctx=gast.Store())
            inner = [gast.copy_location(gast.Assign(targets=[key], value=Rename().visit(_copy(node.value)),
                                                    type_comment=None), s)]
        else:
            self.emit(assign(acc, gast.List(elts=[], ctx=gast.Load())), s)
            append = gast.Call(func=gast.Attribute(value=name(acc), attr="append", ctx=gast.Load()),
                               args=[Rename().visit(_copy(node.elt))], keywords=[])
            inner = [gast.copy_location(gast.Expr(value=append), s)]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                inner = [if_(Rename().visit(_copy(cond)), inner, like=s)]
            loop = gast.For(target=Rename().visit(_copy(gen.target)), iter=Rename().visit(_copy(gen.iter))
                            if gen is not node.generators[0] else _copy(gen.iter), body=inner, orelse=[],
                            type_comment=None)
            inner = [gast.copy_location(loop, s)]
        for st in inner:
            self.stmt(st)
        return acc

    def boolop(self, node, s, t=None) -> str:
        """Short-circuit ``a and b`` / ``a or b`` into ifs on ``t`` (a new temporary by default)."""
        t = t or self.temp()
        self.emit(assign(t, self.expr(node.values[0], s)), s)
        for value in node.values[1:]:
            test = name(t) if isinstance(node.op, gast.And) else gast.UnaryOp(op=gast.Not(), operand=name(t))
            body = self.block([assign(t, value, s)])
            self.emit(if_(test, body), s)
        return t

    def call(self, node, s):
        if isinstance(node.func, gast.Name) and node.func.id in self.local_fns:
            return self.inline(node, s)
        rewritten = self.higher_order(node, s)
        if rewritten is not None:
            return rewritten
        if not node.args and node.keywords and all(k.arg for k in node.keywords) \
                and self.resolver.resolve(node.func) is dict:  # dict(a=x, b=y) is {'a': x, 'b': y}
            return gast.Dict(keys=[const(k.arg) for k in node.keywords],
                             values=[self.atom(k.value, s) for k in node.keywords])
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

    def higher_order(self, node, s):
        """``map(f, xs, ...)`` as ``[f(x, ...) for x, ... in zip(xs, ...)]`` and
        ``functools.reduce(f, xs[, start])`` as a loop, so ``f`` (a lambda too) is called, and
        differentiated, like any call; None for other calls."""
        import functools
        target = self.resolver.resolve(node.func) if self.is_global(node.func) else MISSING
        if target in (sorted, max, min) and any(k.arg == "key" for k in node.keywords):
            return self.keyed(target, node, s)
        if target not in (map, functools.reduce) or node.keywords or len(node.args) < 2 \
                or any(isinstance(a, gast.Starred) for a in node.args):
            return None
        fn = self.callable_of(node.args[0], s)
        if target is map:
            variables = [self.namer.fresh("item") for _ in node.args[1:]]
            source = node.args[1] if len(variables) == 1 else gast.Call(
                func=name(self._builtin("zip")), args=list(node.args[1:]), keywords=[])
            target_node = (name(variables[0], True) if len(variables) == 1 else
                           gast.Tuple(elts=[name(v, True) for v in variables], ctx=gast.Store()))
            comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(v) for v in variables], keywords=[]),
                                 generators=[gast.comprehension(target=target_node, iter=source, ifs=[], is_async=0)])
            return name(self.comprehension(comp, s))
        if len(node.args) > 3:
            return None
        acc, item, items = self.namer.fresh("acc"), self.namer.fresh("item"), self.namer.fresh("items")
        self.resolver.locals |= {acc, item, items}
        self.assign_to(items, gast.Call(func=name(self._builtin("list")), args=[node.args[1]], keywords=[]), s)
        if len(node.args) == 3:
            self.assign_to(acc, node.args[2], s)
            rest = name(items)
        else:
            self.assign_to(acc, gast.Subscript(value=name(items), slice=const(0), ctx=gast.Load()), s)
            rest = gast.Subscript(value=name(items), slice=gast.Slice(lower=const(1), upper=None, step=None),
                                  ctx=gast.Load())
        loop = gast.For(target=name(item, True), iter=rest, body=[gast.copy_location(gast.Assign(
            targets=[name(acc, True)], value=gast.Call(func=fn, args=[name(acc), name(item)], keywords=[]),
            type_comment=None), s)], orelse=[], type_comment=None)
        self.stmt(gast.copy_location(loop, s))
        return name(acc)

    def helper(self, preferred, obj) -> str:
        """The name of a runtime helper the normal form calls (bound for the generated code)."""
        bound = self.bind_object(preferred, obj)
        self.resolver.imported[bound] = obj
        return bound

    def callable_of(self, fn, s):
        """A lambda becomes a local function (called, and differentiated, like a nested def)."""
        if not isinstance(fn, gast.Lambda):
            return fn
        label = self.namer.fresh("lambda_")
        self.local_fns[label] = gast.copy_location(gast.FunctionDef(
            name=label, args=fn.args, body=[gast.copy_location(gast.Return(value=fn.body), fn.body)],
            decorator_list=[], returns=None, type_comment=None, type_params=[]), s)
        return name(label)

    def keyed(self, target, node, s):
        """``sorted(xs, key=f)``, ``max(xs, key=f)``, ``min(a, b, key=f)``: the keys are computed
        by calling ``f`` on each item; the order they give picks items (no gradient flows
        through a key); None for forms this does not cover."""
        keywords = {k.arg: k.value for k in node.keywords}
        allowed = {"key", "reverse"} if target is sorted else {"key"}
        if set(keywords) - allowed or not node.args or any(isinstance(a, gast.Starred) for a in node.args) \
                or (target is sorted and len(node.args) != 1) or self.bind_object is None:
            return None
        fn = self.callable_of(keywords["key"], s)
        items, item, keys = self.namer.fresh("items"), self.namer.fresh("item"), self.namer.fresh("keys")
        self.resolver.locals |= {items, item, keys}
        if len(node.args) == 1:  # (a comprehension takes any iterable: zip, enumerate, a dict view)
            source = gast.ListComp(elt=name(item), generators=[gast.comprehension(
                target=name(item, True), iter=node.args[0], ifs=[], is_async=0)])
            self.assign_to(items, name(self.comprehension(source, s)), s)
        else:
            self.assign_to(items, gast.List(elts=list(node.args), ctx=gast.Load()), s)
        comp = gast.ListComp(elt=gast.Call(func=fn, args=[name(item)], keywords=[]),
                             generators=[gast.comprehension(target=name(item, True), iter=name(items), ifs=[],
                                                            is_async=0)])
        self.assign_to(keys, comp, s)
        if target is sorted:
            order = gast.Call(func=name(self.helper("key_order", runtime.key_order)),
                              args=[name(keys), keywords.get("reverse", const(False))], keywords=[])
            picked = gast.ListComp(elt=gast.Subscript(value=name(items), slice=name(item), ctx=gast.Load()),
                                   generators=[gast.comprehension(target=name(item, True), iter=order, ifs=[],
                                                                  is_async=0)])
            return name(self.comprehension(picked, s))
        pick = gast.Call(func=name(self.helper("key_pick", runtime.key_pick)), args=[name(keys), const(target is max)],
                         keywords=[])
        return self.expr(gast.Subscript(value=name(items), slice=pick, ctx=gast.Load()), s)

    def concatenation(self, node):
        """``np.r_[a, b, ...]`` as ``r_items([a, b, ...])`` and ``np.c_[...]`` as ``c_items([...])``: the
        same values from runtime helpers with rules, so the items get gradients (their "index" is
        data); None for other subscripts, and for ``r_``/``c_`` with a slice or a string directive
        (refused if a float index depending on wrt reaches them: runtime.subscript_check)."""
        import numpy as np

        if self.bind_object is None or not self.is_global(node.value):
            return None
        obj = self.resolver.resolve(node.value)
        helper = "r_items" if obj is np.r_ else "c_items" if obj is np.c_ else None
        if helper is None:
            return None
        items = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
        if any(isinstance(i, (gast.Slice, gast.Starred)) or (isinstance(i, gast.Constant) and isinstance(i.value, str))
               for i in items):
            return None
        return gast.Call(func=name(self.helper(helper, getattr(runtime, helper))),
                         args=[gast.List(elts=list(items), ctx=gast.Load())], keywords=[])

    def index(self, node, s):
        """Flatten a subscript index: atoms, slices of atoms, tuples of those."""
        if isinstance(node, gast.Slice):
            return gast.Slice(*[None if p is None else self.atom(p, s) for p in (node.lower, node.upper, node.step)])
        if isinstance(node, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, s) for e in node.elts], ctx=gast.Load())
        return self.atom(node, s)


def _copy(node):
    return copy_tree(node)


def _drop_unread_flags(body, flags):
    """Remove stores of constants into jump flags that nothing reads."""
    read = {n.id for stmt in body for n in walk(stmt)
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    dead = flags - read

    def keep(stmts):
        out = []
        for st in stmts:
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) \
                    and st.targets[0].id in dead:
                continue
            for field in ("body", "orelse"):
                if isinstance(getattr(st, field, None), list):
                    setattr(st, field, keep(getattr(st, field)) or ([gast.Pass()] if field == "body" else []))
            out.append(st)
        return out
    return keep(body)


def _namespace_of(value, resolver):
    """The module ``value`` (the right side of ``xp = ...``) denotes whenever it runs: a module
    reached by name (``np``, ``np.linalg``), or the result of a user function every return of which
    is the same module (``def array_namespace(x): return np``); else None."""
    import types
    obj = resolver.resolve(value) if isinstance(value, (gast.Name, gast.Attribute)) else MISSING
    if isinstance(obj, types.ModuleType):
        return obj
    if isinstance(value, gast.Call) and isinstance(value.func, (gast.Name, gast.Attribute)):
        return _returned_module(resolver.resolve(value.func))
    return None


def _returned_module(fn):
    """The module every ``return`` of user function ``fn`` gives, or None."""
    import types
    if not isinstance(fn, types.FunctionType):
        return None
    try:
        parsed = parse_function(fn)
    except AdError:
        return None
    returns = [n.value for n in walk(parsed.tree) if isinstance(n, gast.Return)]
    found = {id(m): m for m in (Resolver(parsed).resolve(r) if r is not None else None for r in returns)}
    module = next(iter(found.values())) if len(found) == 1 else None
    return module if isinstance(module, types.ModuleType) else None


def _resolve_namespace_aliases(body, resolver, bind) -> None:
    """``xp = np`` (or ``xp = array_namespace(x)`` returning a module) bound once: every read of
    ``xp`` becomes a read of the module itself, so ``xp.sum(x)`` is ``np.sum(x)`` with its rule
    (never the array method ``.sum`` of an object that is not an array)."""
    stores = {}
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del)):
            stores[n.id] = stores.get(n.id, 0) + 1
    aliases = {}
    for st in (n for top in body for n in walk(top)):
        if isinstance(st, gast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], gast.Name) \
                and stores.get(st.targets[0].id) == 1:
            module = _namespace_of(st.value, resolver)
            if module is not None:
                preferred = next((k for k, v in resolver.parsed.globals.items() if v is module),
                                 module.__name__.split(".")[-1])  # (np, as the user calls it)
                aliases[st.targets[0].id] = bind(preferred, module)
    if not aliases:
        return
    for n in (n for st in body for n in walk(st)):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in aliases:
            n.id = aliases[n.id]


def normalize_function(fdef: gast.FunctionDef, resolver: Resolver, namer: Namer, loc: Location,
                       dict_params=frozenset(), bind=None, number_params=frozenset(),
                       generated=False) -> tuple[gast.FunctionDef, set]:
    """Return the three-address form of ``fdef`` and the set of temporaries it introduced.
    ``dict_params``: parameters known to be dicts (``for k in d`` iterates over their keys);
    ``bind(preferred_name, obj)``: the generated code's name for a runtime helper it calls;
    ``number_params``: parameters known to hold numbers (``x += 1`` rebinds them)."""
    lowering = JumpLowering(namer)
    lowered = _flatten_lists(lowering.run(fdef))
    lowered = _drop_unread_flags(lowered, lowering.flags())
    resolver.locals |= {n.id for stmt in lowered for n in walk(stmt)
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    norm = Normalizer(resolver, namer, loc)
    norm.growing = {n.func.value.id for st in lowered for n in walk(st) if isinstance(n, gast.Call)
                    and isinstance(n.func, gast.Attribute) and n.func.attr in ("append", "extend", "insert")
                    and isinstance(n.func.value, gast.Name)} | \
        {n.target.id for st in lowered for n in walk(st) if isinstance(n, gast.AugAssign)
         and isinstance(n.target, gast.Name) and isinstance(n.op, gast.Add)}  # (lists that may grow)
    norm.bind_object = bind
    norm.generated = generated
    if bind is not None:
        _resolve_namespace_aliases(lowered, resolver, norm.helper)
    stores = [n.id for st in lowered for n in walk(st) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)]
    norm.dict_params = set(dict_params) - set(stores)
    # (a name only ever bound as the counter of loops over range is no other value's)
    counters = {id(loop.target) for st in lowered for loop in walk(st) if isinstance(loop, gast.For)
                and isinstance(loop.target, gast.Name) and isinstance(loop.iter, gast.Call)
                and resolver.resolve(loop.iter.func) is range}
    other_stores = [n.id for st in lowered for n in walk(st)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store) and id(n) not in counters]
    args = fdef.args
    params = {p.id for p in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg] if p is not None}
    norm.bound_twice = params | {n for n in stores if stores.count(n) > 1 and n in other_stores}
    norm.caller_objects = params - set(number_params)
    body = norm.block(lowered)
    out = gast.FunctionDef(name=fdef.name, args=fdef.args, body=body, decorator_list=[],
                           returns=None, type_comment=None, type_params=[])
    gast.copy_location(out, fdef)
    resolver.locals |= norm.temps
    return out, norm.temps
