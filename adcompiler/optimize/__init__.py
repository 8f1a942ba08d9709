"""Pass 6: optimise generated code. Constant propagation (the seed ``dret = 1.0``), algebraic
simplification of instantiated rules (``g * 1.0``, ``x ** 1``, ``-(-g)``, constant folding) and
dead-code elimination by liveness over structured control flow (no adjoint nobody reads, no
primal value nobody uses). ``optimize`` runs the rewrite families in order, each in its module:
``propagate`` (propagation and folding), ``deadcode``, ``folding`` (temporaries folded back),
``gradient_code`` (the rewrites that need ``Facts``, defined in ``facts``)."""
from __future__ import annotations

import gast

from ..inplace import ReuseBuffers
from ..shapes import ResolveShapes
from ..tape_entries import drop_unread
from .block_copies import propagate_block_copies
from .deadcode import DeadCode
from .facts import Facts
from .folding import fold_short_circuits, fuse_single_use, inline_loop_tests
from .gradient_code import call_reductions_as_methods, iterate_tapes_in_reverse, skip_shape_only
from .propagate import propagate_constants

__all__ = ["optimize", "Facts"]


def optimize(fdef: gast.FunctionDef, is_pure_call, keep=frozenset(), facts=None,
             floats=frozenset()) -> gast.FunctionDef:
    """Optimise ``fdef`` in place. ``is_pure_call(call)`` says whether a call may be dropped when
    its result is unused; names in ``keep`` (the user's variables and their adjoints) are never
    replaced by a temporary; names in ``floats`` hold floats or float arrays (``1.0 * x`` is ``x``
    only for those: for a bool or int ``x`` it changes the dtype). With ``facts`` (``Facts`` on the
    names of gradient code), elementwise results read only for their shape are not computed and
    tapes filled by one loop are read in reverse instead of popped."""
    first = True
    for _ in range(6):
        changed = propagate_constants(fdef, keep, simplify_all=first, floats=floats)
        changed = propagate_block_copies(fdef, keep) or changed
        first = False
        if not changed:
            break
    fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    if facts is not None and skip_shape_only(fdef, facts):
        propagate_block_copies(fdef, keep)  # (t3 = p: a value that stood in for its shape)
        fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    if facts is not None:
        iterate_tapes_in_reverse(fdef, facts.builtin)
        call_reductions_as_methods(fdef, facts)
        resolved = ResolveShapes(facts.arg_shape, facts.callee, facts.bind, tape=facts.tape)
        resolved.run(fdef)
        propagate_block_copies(fdef, keep)
        dead = DeadCode(is_pure_call, facts.tape)
        fdef.body, _ = dead.block(fdef.body, set())
        if drop_unread(fdef, facts.tape, dead.unread):  # (values taped for their shape only)
            fdef.body, _ = DeadCode(is_pure_call).block(fdef.body, set())
    fuse_single_use(fdef, keep)
    fold_short_circuits(fdef.body)
    fuse_single_use(fdef, keep)
    inline_loop_tests(fdef)
    if facts is not None:
        ReuseBuffers(facts.arg_shape, facts.callee, facts.bind, resolved.constants,
                     facts.tape).run(fdef)
    return fdef
