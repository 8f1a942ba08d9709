"""Writes into an array that other names may share (``buf = A[:]; buf[::2] = v``, ``r = b;
r += v``): the write runs in place, as Python runs it, and each other name that may share the
array and is read afterwards is bound again right after it,

    A_shared = overlap(A, buf, refusal)   # which of A's elements are buf's (found at run time)
    t5 = synced(A, buf, A_shared)         # the same array; its shared elements come from buf
    A = t5

so the derivative follows the elements the write changed. ``Syncs`` collects these while the
aliasing checks run (``add``), then inserts them into the function's body (``insert``); the
planner then analyses the function again, with the writes marked ``ad_synced``.
"""
from __future__ import annotations

import gast

from .. import runtime
from ..analysis import is_container, rank
from ..ir import assign, copy_tree, loads, located, name, target_of


class Syncs:
    """The syncs one function needs, found by ``Aliasing`` (``fdef``, ``kinds``, ``ctx``)."""

    def __init__(self, aliasing):
        self.aliasing = aliasing
        self.pending: list = []  # (write statement, name written into, names to bind again)
        self.closed = False  # (set once the function is final: a write found later is refused)

    def add(self, s, var, sharing) -> bool:
        """Plan the syncs of ``sharing`` (names that may share ``var``'s array) after ``s``, a write
        into ``var``; False if one cannot be made (a list or dict holding the array read afterwards,
        a name that may not be bound yet, gradient code), and the caller refuses the write."""
        al = self.aliasing
        if al.ctx.generated:
            return False
        sharing = set(sharing) | al.reachable_memory(var)
        holder = getattr(s, "ad_written_back", None)
        if holder is not None:
            # (x = obj.attr; x[k] = v; obj.attr = x: the holder gets x back right after; the
            # backward pass keeps what it reads of the arrays x may be from before the write)
            sharing.discard(holder)
            at = al.layout.pos[id(s)]
            for other in sharing - {var}:
                al.layout.mutates.setdefault(other, []).append(at)
        if getattr(s, "ad_synced", False):
            # (planned in the first analysis: the syncs follow it) the write changes every array
            # sharing var's memory, siblings included: the backward pass keeps what it reads of
            # them from before it (``base = tmp = x.copy(); np.max(base); tmp[m] *= 2``)
            at = al.layout.pos[id(s)]
            for other in sharing - {var}:
                al.layout.mutates.setdefault(other, []).append(at)
            return True
        held = sorted(n for n in sharing if (is_container(al.kinds.get(n))
                                             or n in al.ctx.containers)
                      and (al.read_after(n, s) or al.in_closure(n))
                      and al.may_run_before(n, s))  # (not ret = (loss, dw) made after it)
        # (a list or dict holding the array, read afterwards: what is read from it then is the
        # written array, which the derivative would take from its old entry; unless the entry
        # the array was read from is stored again, x = d[k]; x *= 2; d[k] = x)
        restores = [self.restore(s, var, n) for n in held]
        if None in restores:
            return False
        sharing -= set(held)
        if any(al.selected_before(n, s) for n in sharing - {var}):
            # (max(items) before: its backward pass compares the entries with the result, and
            # this write changes the entry max returned in place; seed 576743)
            return False
        sharers = {n for n in sharing - {var} if al.may_run_before(n, s)}
        if not sharers:
            return self.planned(s, var, [], restores)  # (only views taken after the write)
        needed = sorted(n for n in sharers if (al.read_after(n, s) or al.in_closure(n))
                        and not dead_temporary(al, n, s) and not al.rebound_before_read(n, s))
        if not needed and sharers <= al.layout.same_memory(var):
            # (views of var or arrays it views, none read afterwards: the backward pass keeps
            # what it reads of them from before the write, as for any write into var)
            s.ad_synced = bool(al.layout.views.get(var))
            return self.planned(s, var, [], restores)
        if any(_flat_iterator(al, n) for n in needed + [var]):
            return False  # (x.flat[i] = v: the iterator is no array whose elements can be matched)
        bound = definitely_bound(al.fdef.body, s) | al.params
        if is_container(al.kinds.get(var)) or any(
                is_container(al.kinds.get(n)) or n in al.ctx.arg_classes or n not in bound
                or made_object(al, n) for n in needed):
            return False  # (an object's attribute or a container's entry is not followed)
        return self.planned(s, var, needed, restores, always=True)

    def planned(self, s, var, needed, restores, always=False) -> bool:
        """Record the syncs of ``needed`` and the stores ``restores`` to insert after ``s`` (with
        ``always``, none too: ``s`` is then marked synced for the next analysis)."""
        if needed or restores or always:
            if self.closed:
                return False
            self.pending.append((s, var, needed, restores))
        return True

    def restore(self, s, var, container):
        """``container[key] = var``, to insert after ``s`` (a write into ``var``), when ``var`` is
        bound once, to ``container[key]`` before ``s``, ``container`` a new list or dict bound
        once and ``key`` a constant or a name not bound again in between: the entry gets the
        written array back, which the derivative then follows; else None."""
        al = self.aliasing
        # (other writes into var in place get the entry back after them too:
        # v = d[k]; v *= m; v += g)
        bindings = [st for st in al.layout.bindings(var)
                    if st is not s and not getattr(st, "ad_augmented", False)]
        if len(bindings) != 1 or not isinstance(bindings[0], gast.Assign):
            return None
        st, value = bindings[0], bindings[0].value
        if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                and value.value.id == container and al.runs_before(st, s)
                and len(al.layout.binds.get(container, ())) == 1
                and al.fresh_container(container) and not al.in_closure(container)):
            return None
        key = value.slice
        if not (isinstance(key, gast.Constant) or (isinstance(key, gast.Name)
                                                   and not al.rebound_between(key.id, st, s))):
            return None
        return located(gast.Assign(targets=[gast.Subscript(value=name(container),
                                                          slice=copy_tree(key),
                                                          ctx=gast.Store())],
                                   value=name(var), type_comment=None), s)

    def insert(self) -> bool:
        """Insert the planned syncs after their writes; True if there were any."""
        al = self.aliasing
        for s, var, needed, restores in self.pending:
            s.ad_synced = True
            error = al.loc.error("writing into %r changes an array other names share (%s), "
                                 "whose elements the derivative could not match: %%s"
                                 % (var, ", ".join(repr(n) for n in needed) or "none read later"),
                                 s, hint="make %r a separate array before writing into it: "
                                         "%s = %s.copy()" % (var, var, var))
            refusal = al.ctx.bind("refusal", runtime.Refusal(error))
            stmts = []
            for other in needed:
                where = local(al.ctx, al.ctx.namer.fresh(other + "_shared"))
                synced = local(al.ctx, al.ctx.namer.numbered("t"))  # (y = f(y) is t = f(y); y = t)
                stmts += [located(assign(where, _call(al.ctx, "overlap", other, var, refusal)), s),
                          located(assign(synced, _call(al.ctx, "synced", other, var, where)), s),
                          located(assign(other, name(synced)), s)]
                stmts[-1].ad_same_array = True  # (other is bound again to the array it held)
            if restores and getattr(s, "ad_augmented", False) \
                    and not (rank(al.kinds.get(var)) or is_container(al.kinds.get(var))):
                # (a value of no known kind, or a shape-() one, may be a number or a NumPy
                # scalar, which x *= v binds again, its entry kept: seed 1393103)
                error = al.loc.error(
                    "%r, read from an entry of a list or dict, is changed in place here when it "
                    "is an array, and bound again when it is a number (the entry keeps its "
                    "value): differentiated only for an array" % var, s,
                    hint="write the entry itself (d[k] *= v), or a new name (y = %s * v)" % var)
                number = al.ctx.bind("refusal", runtime.Refusal(error))
                stmts.append(located(gast.Expr(value=_call(al.ctx, "check_array", var, number)),
                                     s))
            insert_beside(al.fdef.body, s, stmts + restores)
        inserted = bool(self.pending)
        self.pending = []
        return inserted


def dead_temporary(aliasing, var, s) -> bool:
    """Whether ``var`` is a temporary of the normal form (bound once, read after its binding in
    the same loop nest) whose value at ``s`` nobody reads: ``s`` is not between its binding and
    its reads (the temporary of the next ``term *= 2`` in a loop, bound again before it is
    read)."""
    lay = aliasing.layout
    if var not in aliasing.ctx.temps or len(lay.binds.get(var, ())) != 1:
        return False
    bound = lay.binds[var][0]
    binding = next((st for st in lay.simple if lay.pos[id(st)] == bound), None)
    reads = [st for st in lay.simple if var in loads(st)]
    at = lay.pos[id(s)]
    return binding is not None and bool(reads) and all(
        lay.pos[id(st)] > bound and lay.loops[id(st)] == lay.loops[id(binding)]
        and not bound < at < lay.pos[id(st)] for st in reads)


def _flat_iterator(aliasing, var) -> bool:
    """Is ``var`` bound to ``x.flat`` somewhere?"""
    return any(isinstance(s, gast.Assign) and target_of(s)[0] == var
               and isinstance(s.value, gast.Attribute) and s.value.attr == "flat"
               for s in aliasing.layout.simple)


def local(ctx, var: str) -> str:
    """``var``, a temporary the planner adds to the function."""
    ctx.temps.add(var)
    ctx.resolver.locals.add(var)
    return var


def _call(ctx, helper, *args):
    return gast.Call(func=name(ctx.planned_helper(helper)), args=[name(a) for a in args],
                     keywords=[])


def insert_beside(stmts, s, new, after=True) -> bool:
    """Insert the statements ``new`` after (or before) ``s``, wherever it is nested in ``stmts``."""
    found = block_of(stmts, s)
    if found is None:
        return False
    block, i = found
    at = i + 1 if after else i
    block[at:at] = new
    return True


def block_of(stmts, s):
    """``(the block holding s, its index there)``, wherever ``s`` is nested in ``stmts``; else
    None."""
    for i, st in enumerate(stmts):
        if st is s:
            return stmts, i
        for field_ in ("body", "orelse"):
            found = block_of(getattr(st, field_, None) or [], s)
            if found is not None:
                return found
    return None


def definitely_bound(body, target) -> set:
    """Names bound on every path to ``target`` (a statement in ``body``), parameters aside: by
    simple statements before it in its own block or in the blocks around it, and the targets of
    the loops around it."""

    def visit(stmts, bound):
        bound = set(bound)
        for st in stmts:
            if st is target:
                return bound
            if isinstance(st, gast.If):
                for branch in (st.body, st.orelse):
                    found = visit(branch, bound)
                    if found is not None:
                        return found
            elif isinstance(st, (gast.For, gast.While, gast.With)):
                inner = bound | ({st.target.id} if isinstance(st, gast.For)
                                 and isinstance(st.target, gast.Name) else set())
                found = visit(st.body, inner)
                if found is not None:
                    return found
                if isinstance(st, gast.With):  # (its body runs: with np.errstate(...): ...)
                    bound |= bound_through(st.body)
            else:
                bound_here = target_of(st)[0]
                if bound_here:
                    bound.add(bound_here)
        return None

    def bound_through(stmts):
        """The names simple statements bind in ``stmts`` and the with blocks in it."""
        return {n for st in stmts for n in (
            bound_through(st.body) if isinstance(st, gast.With)
            else () if isinstance(st, (gast.If, gast.For, gast.While)) else [target_of(st)[0]])
            if n}

    return visit(body, set()) or set()


def made_object(aliasing, var) -> bool:
    """Whether ``var`` is bound once, to an object made here (``new_object(Cls)``): what it holds
    is held in its attributes, which a sync of the name would not follow."""
    made = aliasing.layout.bindings(var)
    return len(made) == 1 and isinstance(made[0], gast.Assign) \
        and isinstance(made[0].value, gast.Call) \
        and aliasing.ctx.resolver.resolve(made[0].value.func) is runtime.new_object
