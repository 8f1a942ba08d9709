"""The ``Normalizer``'s ``with`` statements (the ``ManagedBlocks`` mixin): a context manager's
block runs inside it in the forward pass, its backward statements in place, outside it; what
``as v`` binds and whether the block ran to its end are checked (``runtime.context_value``,
``runtime.check_block_done``); ``with ad.insert_grad_of(x) as dx:`` is a hook on x's adjoint.
"""
from __future__ import annotations

import contextlib
import warnings

import gast
import numpy as np

from .. import runtime
from ..custom import insert_grad_of
from ..ir import assign, const, located, name

# (context managers that never suppress an exception of their block)
_NEVER_SUPPRESS = (np.errstate, warnings.catch_warnings, contextlib.nullcontext, open)


class ManagedBlocks:
    """``with`` statement methods of the ``Normalizer`` (a mixin)."""

    def stmt_With(self, s):
        item = s.items[0] if len(s.items) == 1 else None
        call = item.context_expr if item is not None else None
        if not (isinstance(call, gast.Call) and self.resolver.resolve(call.func) is insert_grad_of):
            self.managed_block(s)
            return
        if not (len(call.args) == 1 and isinstance(call.args[0], gast.Name)
                and isinstance(item.optional_vars, gast.Name)):
            self.unsupported(s, "this insert_grad_of block",
                             "write 'with ad.insert_grad_of(x) as dx:' for a name x")
        hook = gast.With(items=[gast.withitem(context_expr=call, optional_vars=item.optional_vars)],
                         body=self.block(s.body) or [gast.Pass()], type_comment=None)
        hook.ad_hook = True
        self.emit(hook, s)

    def managed_block(self, s):
        """``with cm as v:`` of any context manager (np.errstate, a timer): its block runs inside
        it in the forward pass; the block's backward statements run in place, outside it. ``v``
        is what ``cm`` gives (``context_value``: refused when ``cm`` depends on ``wrt``); unless
        ``cm`` never suppresses an exception, the block's end is checked to have been reached
        (the statements after an exception it suppressed did not run)."""
        if len(s.items) > 1:  # (with a as x, b as y: b is made once a is entered)
            inner = gast.copy_location(gast.With(items=s.items[1:], body=s.body,
                                                 type_comment=None), s)
            return self.managed_block(gast.copy_location(gast.With(
                items=s.items[:1], body=[inner], type_comment=None), s))
        items, entered = [], []
        for it in s.items:
            if it.optional_vars is None:
                items.append(it)
                continue
            if not isinstance(it.optional_vars, gast.Name):
                self.unsupported(s, "unpacking in a 'with' target", "bind the context to one name")
            manager = self.atom(it.context_expr, s)
            # (the with statement binds a name of its own, bound once: the analyses see the
            # user's name bound by the assignment that follows)
            given = self.namer.fresh("entered")
            self.temps.add(given)
            items.append(gast.withitem(context_expr=manager, optional_vars=name(given, True)))
            helper = name(self.helper("context_value", runtime.context_value))
            entered.append(located(assign(it.optional_vars.id, gast.Call(
                func=helper, args=[name(given), manager], keywords=[])), s))
        done = None
        if not all(isinstance(it.context_expr, gast.Call)
                   and self.resolver.resolve(it.context_expr.func) in _NEVER_SUPPRESS
                   for it in s.items):
            done = self.namer.fresh("block_done")
            self.emit(assign(done, const(False)), s)
        body = entered + self.block(s.body) + ([located(assign(done, const(True)), s)] if done
                                               else [])
        self.emit(gast.With(items=items, body=body or [gast.Pass()], type_comment=None), s)
        if done:
            refusal = self.loc.error(
                "the context manager of this 'with' suppressed an exception raised in its block: "
                "the statements after it did not run, which is not differentiated", s,
                hint="catch the exception with try/except around the statement that raises")
            check = gast.Call(func=name(self.helper("check_block_done", runtime.check_block_done)),
                              args=[name(done), name(self.helper("refusal",
                                                                 runtime.Refusal(refusal)))],
                              keywords=[])
            self.emit(gast.Expr(value=check), s)
