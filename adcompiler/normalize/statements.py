"""The ``Normalizer``'s statements: one method ``stmt_<Kind>`` per kind of simple statement
(assignments, ``if``, ``while``, ``with``, ``return``, ...); the stores they end in, and augmented
assignments, are ``stores``'.
"""
from __future__ import annotations

import gast
import numpy as np

from .. import runtime
from ..ir import assign, const, copy_tree, if_, is_atom, located, name, walk_statements
from .local_functions import lambda_def


class Statements:
    """Statement methods of the ``Normalizer`` (a mixin)."""

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
            kind = type(s).__name__.lower()
            self.unsupported(s, "assigning to the %s variable %r" % (kind, assigned[0]),
                             "return the new value instead, and assign it outside the "
                             "differentiated function")

    stmt_Nonlocal = stmt_Global

    def stmt_Expr(self, s):
        if isinstance(s.value, gast.Constant):
            return  # docstring or bare constant
        if self.scatter(s):
            return
        store = self.as_store(s.value)
        if store is not None:  # (np.put(a, i, v), setattr(obj, "w", v), np.fill_diagonal(a, v))
            self.stmt(gast.copy_location(store, s))
            return
        if self.extension(s) or self.dict_update(s) or self.attribute_list_append(s):
            return
        value = self.expr(s.value, s)
        if not is_atom(value):
            self.emit(gast.Expr(value=value), s)

    def scatter(self, s) -> bool:
        """``np.add.at(a, i, v)`` / ``np.subtract.at(a, i, v)`` on a local array: ``a`` changed in
        place (``runtime.scatter_add``), differentiated; False for any other statement."""
        call = s.value
        if self.bind_object is None or not isinstance(call, gast.Call) or len(call.args) != 3 \
                or call.keywords:
            return False
        fn = self.resolver.resolve(call.func)
        if not any(fn == op.at for op in (np.add, np.subtract)) \
                or not isinstance(call.args[0], gast.Name) \
                or call.args[0].id not in self.resolver.locals:
            return False
        target = call.args[0].id
        index = self.atom(call.args[1], s)
        value = call.args[2] if fn == np.add.at else gast.UnaryOp(op=gast.USub(),
                                                                   operand=call.args[2])
        helper = self.helper("scatter_add", runtime.scatter_add)
        changed = self.temp()  # (the same array, changed: a statement never reads its own target)
        self.emit(assign(changed, gast.Call(func=name(helper),
                                            args=[name(target), index, self.atom(value, s)],
                                            keywords=[])), s)
        self.out[-1].ad_mutates = target
        self.emit(assign(target, name(changed)), s)
        # (an array sharing its memory changes too: see check_in_place_updates)
        self.out[-1].ad_augmented = True
        return True

    def as_store(self, call):
        """The assignment a call made for its effect spells: ``np.put(a, i, v)`` is
        ``a.flat[i] = v``, ``setattr(obj, "w", v)`` is ``obj.w = v``, ``np.fill_diagonal(a, v)``
        is ``a[diagonal_index(a, v)] = v``; None for any other call."""
        if self.bind_object is None or not isinstance(call, gast.Call) or call.keywords \
                or any(isinstance(a, gast.Starred) for a in call.args) \
                or not self.is_global(call.func):
            return None
        fn = self.resolver.resolve(call.func)
        args = call.args
        if fn is setattr and len(args) == 3 and isinstance(args[1], gast.Constant) \
                and isinstance(args[1].value, str) and args[1].value.isidentifier():
            target = gast.Attribute(value=args[0], attr=args[1].value, ctx=gast.Store())
        elif fn is np.put and len(args) == 3 and isinstance(args[0], gast.Name):
            flat = gast.Attribute(value=args[0], attr="flat", ctx=gast.Load())
            target = gast.Subscript(value=flat, slice=args[1], ctx=gast.Store())
        elif fn is np.fill_diagonal and len(args) == 2 and isinstance(args[0], gast.Name):
            where = gast.Call(func=name(self.helper("diagonal_index", runtime.diagonal_index)),
                              args=[args[0], args[1]], keywords=[])
            target = gast.Subscript(value=args[0], slice=where, ctx=gast.Store())
        else:
            return None
        return gast.Assign(targets=[target], value=args[2 if fn is not np.fill_diagonal else 1],
                           type_comment=None)

    def stmt_Assert(self, s):
        test = self.atom(s.test, s)
        self.emit(gast.Assert(test=test, msg=s.msg), s)

    def stmt_Return(self, s):
        value = s.value if s.value is not None else const(None)
        if isinstance(value, gast.Name) and value.id in self.local_fns:
            value = self.closure_value(value.id, s)
        if isinstance(value, gast.Name) and value.id in self.resolver.locals:
            self.emit(gast.Return(value=value), s)
            return
        ret = self.namer.fresh("ret")
        self.resolver.locals.add(ret)  # (a local: Model(...) made into it stores its fields)
        self.assign_to(ret, value, s)
        self.emit(gast.Return(value=name(ret)), s)

    def stmt_FunctionDef(self, s):
        if s.decorator_list:
            self.unsupported(s, "a decorated nested function", "define it at module level")
        self.local_fns[s.name] = self.defaults_now(s, s)

    def stmt_Assign(self, s):
        targets = s.targets
        if len(targets) == 1 and isinstance(targets[0], gast.Name):
            s.value = self.method_lambda(s.value) or s.value  # (f = model.rhs)
        if len(targets) == 1 and isinstance(targets[0], gast.Name) \
                and isinstance(s.value, gast.Lambda) and targets[0].id not in self.temps:
            self.local_fns[targets[0].id] = self.defaults_now(
                lambda_def(targets[0].id, s.value, s), s)
            return
        if len(targets) == 1 and isinstance(targets[0], gast.Name) and self.partial(
                targets[0].id, s.value, s):
            return
        if len(targets) == 1 and isinstance(targets[0], gast.Name):
            self.assign_to(targets[0].id, s.value, s)
            return
        if len(targets) == 1 and self.unpack_display(targets[0], s.value, s):
            return
        if len(targets) == 1 and isinstance(targets[0], (gast.Tuple, gast.List)):
            value = self.by_position(self.unpacked(targets[0], s.value), s, iterating=False)
        elif any(isinstance(t, (gast.Tuple, gast.List)) for t in targets):
            value = self.by_position(s.value, s, iterating=False)
        else:
            value = self.atom(s.value, s)
        for target in targets:
            self.store(target, value, s)

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.stmt_Assign(gast.copy_location(gast.Assign(targets=[s.target], value=s.value,
                                                            type_comment=None), s))

    def stmt_If(self, s):
        self.branches(self.test(s.test, s), s.body, s.orelse, s)

    def branches(self, test, body, orelse, s):
        """``if test: body else: orelse`` flattened, local functions its arms bind differently
        chosen by the arm that ran (``choose_local_functions``)."""
        before = dict(self.local_fns)
        body = self.block(body)
        after_body = dict(self.local_fns)
        self.local_fns.clear()
        self.local_fns.update(before)
        orelse = self.block(orelse)
        self.choose_local_functions(after_body, body, orelse, s)
        self.emit(if_(test, body, orelse), s)

    def choose_local_functions(self, after_body, body, orelse, s):
        """A local function the two arms of an ``if`` bind differently (``act = lambda z: ...``
        in one, another lambda or ``act = np.tanh`` in the other): each arm records which it
        ran in a fresh name, and calls of the function after the ``if`` choose by it (see
        ``inline_def``)."""
        for fn_name in sorted(set(after_body) | set(self.local_fns)):
            first, second = after_body.get(fn_name), self.local_fns.get(fn_name)
            if first is second:
                continue
            chosen = self.namer.fresh(fn_name + "_chosen")
            self.resolver.locals.add(chosen)
            for arm, which in ((body, 0), (orelse, 1)):
                jumps = 0  # (before the arm's last break or continue)
                while len(arm) > jumps and isinstance(arm[-1 - jumps], (gast.Break, gast.Continue)):
                    jumps += 1
                arm.insert(len(arm) - jumps, located(assign(chosen, const(which)), s))
            choice = gast.FunctionDef(name=fn_name, args=None, body=[], decorator_list=[],
                                      returns=None, type_comment=None, type_params=[])
            choice.ad_choice = (chosen, first, second, fn_name)
            self.local_fns[fn_name] = gast.copy_location(choice, s)

    def test(self, node, s):
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.Not) \
                and isinstance(node.operand, gast.Name):
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

    def stmt_Try(self, s):
        """``try: body except ...: handler [else: ...] [finally: ...]``: the body is
        differentiated as straight-line code (the path on which no exception is raised), then
        ``else`` and ``finally``; each statement of the body is marked ``ad_try`` with the
        handlers generated code wraps it in (``codegen``): a handler that ends by raising runs as
        written; one that would continue the function raises the AdError that its path is not
        differentiated, where it runs; on an exception, the ``finally`` block runs as written
        before it goes on (after the handler, and for any other exception too)."""
        attempt = getattr(s, "ad_attempt", None)
        if attempt:  # (see ``attempts``: its handlers run as written)
            start = len(self.out)
            self.region(s.body, s.handlers)
            calls = [st.value for st in self.out[start:] if isinstance(st, (gast.Assign, gast.Expr))
                     and isinstance(st.value, gast.Call)]  # (after closures it is given, if any)
            if attempt is not True and not any(isinstance(c.func, gast.Name)
                                               and c.func.id == attempt for c in calls):
                # (inlined, its statements would be undone in part where one raises)
                self.unsupported(s, "this 'try' (its body writes into objects given to it or "
                                    "calls a local function)",
                                 "compute the value in a function called in the 'try'")
            return
        jumps = (gast.Return, gast.Break, gast.Continue)
        if any(isinstance(n, jumps) for st in s.finalbody for n in gast.walk(st)):
            self.unsupported(s, "'return', 'break' or 'continue' in a 'finally' block",
                             "leave the block after the try instead")
        final = copy_tree(s.finalbody)
        handlers = [self.handler(h, final) for h in s.handlers]
        if final:  # (any other exception: the clean-up, then on)
            handlers.append(gast.ExceptHandler(
                type=name("BaseException"), name=None,
                body=copy_tree(final) + [gast.Raise(exc=None, cause=None)]))
        self.region(s.body, handlers)
        for st in s.orelse + s.finalbody:
            self.stmt(st)

    def region(self, body, handlers):
        """Flatten ``body``, its statements marked as in the ``try`` with ``handlers``."""
        for st in self.block(body):
            for node in walk_statements(st):
                node.ad_try = handlers
            self.out.append(st)

    def handler(self, h, final):
        """The ``except`` clause as generated code runs it (see ``stmt_Try``), followed by the
        ``final`` block when there is one."""
        jumps = (gast.Return, gast.Break, gast.Continue)
        if h.body and isinstance(h.body[-1], gast.Raise) \
                and not any(isinstance(n, jumps) for st in h.body for n in gast.walk(st)):
            body = h.body
        else:
            error = self.loc.error(
                "cannot differentiate the path through this 'except' (the code it guards raised, "
                "and the function went on without its result)", h,
                hint="check the condition before the computation instead of catching its "
                     "exception, or let the exception propagate")
            body = [self.refusal_call(error)]
        if final:
            body = [gast.Try(body=body, handlers=[], orelse=[], finalbody=copy_tree(final))]
        return gast.copy_location(gast.ExceptHandler(type=h.type, name=h.name, body=body), h)

    def stmt_Raise(self, s):
        self.emit(s, s)  # runs in the forward pass as written; it has no derivative

    def stmt_Delete(self, s):
        for target in s.targets:
            # (deleting a local name changes no value the gradient needs: nothing to do)
            if not isinstance(target, gast.Name):
                self.deletion(target, s)

    def stmt_Break(self, s):
        self.emit(gast.Break(), s)
