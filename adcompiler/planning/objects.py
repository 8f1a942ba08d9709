"""Objects and their attributes: values a called function writes into its arguments
(``check_written_arguments``), attributes read and stored here (``obj.attr = v``: followed only
for an argument named one way, see ``check_attribute_stores``), and activity attribute by
attribute (``varied_with_attributes``). The statements generated code runs so a caller's
attribute set to a value depending on ``wrt`` is never silently read are in ``runtime_checks``."""
from __future__ import annotations

import inspect
import linecache
import types

import gast

from .. import effects, runtime
from ..analysis import FLOAT, SCALAR, rank, varied_names
from ..ir import list_method, loads, target_of, walk
from .call_plans import _user_callable
from .entries import fresh_puts, owned_attribute
from .identities import FollowByIdentity
from .kinds import kind_of
from .plan import Plan, _call_text


def _handles(s) -> set:
    """Names statement ``s`` hands on as values (copied, put in a container or a list, returned
    as an entry): ``a = obj``, ``[obj]``, ``lst.append(obj)``."""
    value = getattr(s, "value", None)
    if isinstance(value, gast.Name):
        return {value.id}
    if isinstance(value, (gast.Tuple, gast.List, gast.Set)):
        return {e.id for e in value.elts if isinstance(e, gast.Name)}
    if isinstance(value, gast.Dict):
        return {v.id for v in value.values if isinstance(v, gast.Name)}
    method = list_method(s)
    if method and method[1] == "append":
        return {a.id for a in method[2].args if isinstance(a, gast.Name)}
    return set()


def varied_with_attributes(layout, plans, wrt, diff_reads) -> set:
    """``varied_names``, attribute by attribute for objects that depend on ``wrt`` only through
    what the function stores in them (a method's ``self``, an argument not in ``wrt``): reading
    ``self.calls`` is varied only once some ``self.calls = v`` stores a varied ``v``. ``plans``
    maps id(statement) to its plan: the reads of attributes not varied yet are taken out of
    their plans' ``diff_reads``."""
    outside = set(wrt)
    reads = [s for s in layout.simple if plans[id(s)].kind == "attr"
             and s.value.value.id not in outside and s.value.value.id not in layout.binds]
    for s in reads:
        plans[id(s)].diff_reads = []
    while True:
        varied = varied_names(layout, wrt, diff_reads)
        stored = {(s.targets[0].value.id, s.targets[0].attr) for s in layout.simple
                  if plans[id(s)].kind == "setattr"
                  and any(n in varied for n in plans[id(s)].diff_reads)}
        more = [s for s in reads if not plans[id(s)].diff_reads
                and (s.value.value.id, s.value.attr) in stored]
        if not more:
            return varied
        for s in more:
            plans[id(s)].diff_reads = [s.value.value.id]


def returned_objects(fdef, layout, kinds, params, ctx) -> set:
    """The name the function returns when it may hold an object: a reader of every attribute
    (its tangent or cotangent has them all)."""
    def may_be_object(var, seen) -> bool:  # (an object argument, one made here, or a copy)
        if var in seen or rank(kinds.get(var)) is not None:
            return False
        seen.add(var)
        if var in params:
            return var in ctx.arg_classes
        return any(makes_object(b, ctx) or (isinstance(getattr(b, "value", None), gast.Name)
                                            and may_be_object(b.value.id, seen))
                   for b in layout.bindings(var))
    ret = fdef.body[-1].value
    return {ret.id} if isinstance(ret, gast.Name) and may_be_object(ret.id, set()) else set()


def makes_object(s, ctx) -> bool:
    """Whether ``s`` binds an object made here (``obj = new_object(Cls)``)."""
    return isinstance(s, gast.Assign) and isinstance(s.value, gast.Call) \
        and ctx.resolver.resolve(s.value.func) is runtime.new_object


def shared_entry_arrays(aliasing, params, obj, attr, s):
    """Why the store ``s`` of ``obj.attr``, ``obj`` an entry of a list stored back after it,
    cannot be followed when the entries' ``attr`` arrays are changed in place: the array stored
    may be another name's too (else None)."""
    holder = aliasing.entry_holder(obj)
    if attr in aliasing.entry_updates.get(holder, ()) \
            and not _own_array(aliasing, params, s.value.id, obj, attr):
        # (the entries' arrays, checked apart when the function is called, stay apart)
        return ("the entries' %r arrays are changed in place here, and this one may be another "
                "name's too" % attr)
    return None


def _own_array(aliasing, params, var, obj, attr) -> bool:
    """Whether ``var`` holds an array no other name may hold (made by an operation), or the one
    ``obj.attr`` held (updated in place)."""
    if var in params:
        return False
    layout = aliasing.layout
    read_back = {b.targets[0].id for b in layout.simple
                 if isinstance(b, gast.Assign) and isinstance(b.value, gast.Attribute)
                 and isinstance(b.value.value, gast.Name)
                 and (b.value.value.id, b.value.attr) == (obj, attr)}
    return var in read_back or (
        aliasing.sharing_memory(var) <= {var} | read_back
        and all(isinstance(b, gast.Assign)
                and isinstance(b.value, (gast.BinOp, gast.UnaryOp, gast.Call))
                for b in layout.bindings(var)))


class ObjectStores:
    """The checks of one normalised function's writes into objects: arguments a called function
    writes into, attributes stored. Made from the data they need: the function, its layout,
    kinds and parameters, ``wrt`` and the names depending on it (``varied``), its plans (which
    ``check_written_arguments`` updates) and its ``Aliasing``."""

    def __init__(self, fdef, layout, kinds, params, wrt, varied, plans, aliasing, ctx):
        self.fdef, self.layout, self.kinds, self.params = fdef, layout, kinds, params
        self.wrt, self.varied, self.plans, self.aliasing = wrt, varied, plans, aliasing
        self.ctx, self.loc = ctx, ctx.loc

    def check_written_arguments(self):
        """A called function of the user's that writes into an argument (``u[u < 0] = 0``,
        ``u -= u.mean()``, see ``effects``): an error when the argument depends on ``wrt`` (the
        derivative would not follow the write); otherwise the write is a mutation of that name
        here, so values the backward pass reads are recorded before it. A call whose result is
        discarded and which writes into nothing that depends on ``wrt`` runs as it is."""
        if self.ctx.generated:
            return
        for s in self.layout.simple:
            plan = self.plans[id(s)]
            fn, bound = self.called_function(s, plan)
            if fn is None:
                continue
            numbers = {p for p, node in bound.items()
                       if kind_of(node, self.kinds) in (FLOAT, SCALAR)}
            written = {p: bound[p] for p in effects.written_parameters(fn, numbers) if p in bound}
            if plan.kind == "call":
                # (self.x = x in a function with generated code of its own: what it stores is
                # recorded as it returns, and a differentiated read of it later refused)
                for p in effects.attribute_parameters(fn):
                    written.pop(p, None)
            varied_call = any(n in self.varied for node in bound.values() for n in loads(node))
            if plan.kind == "effect" and varied_call \
                    and effects.written_parameters(fn, numbers) - set(bound):
                # (it changes an object the call does not name, the method's own: its result
                # discarded, the call runs as written, so nothing could follow what it stores there)
                raise self.loc.error(
                    "%s is called for its effect with values that depend on %s, and it changes the "
                    "object it is a method of: the derivative does not follow what it stores"
                    % (fn.__qualname__, ", ".join(self.wrt)), s,
                    hint="use the value it returns (h = obj.%s(...)) instead of reading it back "
                         "from the object" % fn.__name__)
            hint = ("return the new value from %s and assign it (x = f(x)) instead of changing the "
                    "argument in place" % fn.__name__)
            for p, node in sorted(written.items()):
                names = loads(node)
                varied = [n for n in names if n in self.varied]
                if varied:
                    error = self.loc.error(
                        "%s writes into its argument %r (here %s), which depends on %s: the "
                        "derivative does not follow writes made inside a called function"
                        % (fn.__qualname__, p, _call_text(node), ", ".join(self.wrt)), s, hint=hint)
                    if not self.ctx.by_identity:
                        raise FollowByIdentity.of(error)  # (inlined there, what it stores followed)
                    raise error
                seen = [n for n in names if self.aliasing.read_after(n, s)]
                if varied_call and seen:
                    # (what it writes may be computed from the arguments that depend on wrt)
                    raise self.loc.error(
                        "%s writes into its argument %r (here %s) values that may depend on %s, "
                        "and %r is read afterwards: the derivative does not follow writes made "
                        "inside a called function" % (fn.__qualname__, p, _call_text(node),
                                                      ", ".join(self.wrt), seen[0]), s, hint=hint)
                # (on every name that may hold the array: t = lst[1] read before the call too)
                for n in set().union(*map(self.aliasing.reachable_memory, names)):
                    self.layout.mutates.setdefault(n, []).append(self.layout.pos[id(s)])
            if plan.kind == "effect":
                # (it runs as written: nothing it changes is differentiated)
                self.plans[id(s)] = Plan("none")

    def called_function(self, s, plan):
        """(user function, its parameter -> argument node) for a statement calling one, else
        (None, None)."""
        if plan.kind in ("call", "checkpoint") and plan.fn is not None:
            return getattr(plan.fn, "__func__", plan.fn), dict(plan.bound)
        if plan.kind != "effect":
            return None, None
        call = s.value
        fn = _user_callable(self.ctx.resolver.resolve(call.func))
        if fn is None or any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            return None, None
        receiver = [fn.__self__] if isinstance(fn, types.MethodType) else []
        try:
            bound = inspect.signature(getattr(fn, "__func__", fn)).bind(
                *(receiver + list(call.args)), **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return None, None
        nodes = {p: v for p, v in bound.arguments.items() if isinstance(v, gast.AST)}
        return getattr(fn, "__func__", fn), nodes

    def check_attribute_stores(self) -> list:
        """``obj.attr = v`` with ``v`` depending on ``wrt``: differentiated (the backward pass takes
        the adjoint of ``obj.attr`` for ``v``) when ``obj`` is an argument the function only ever
        names ``obj``, and no other object's ``.attr`` is read here (it could be the same object).
        Returns the (object, attribute) pairs such stores leave set when the function returns, whose
        derivative its caller does not receive (``runtime.unfollowed``)."""
        stored = []
        made = self.made_here()
        for s in self.layout.simple:
            plan = self.plans[id(s)]
            if plan.kind == "none" and getattr(s, "ad_attribute_update", False) and any(
                    n in self.varied for n in loads(s.value)):
                raise self.loc.error(
                    "the augmented assignment changes an attribute's value in place with a value "
                    "that depends on %s, which is not supported" % ", ".join(self.wrt), s,
                    hint="assign a new value: obj.x = obj.x + v")
            if plan.callee == "module" and any(n in self.varied for n in loads(s.value)):
                raise self.loc.error(
                    "storing a value that depends on %s into the module-level %r: the derivative "
                    "does not follow it" % (", ".join(self.wrt), target_of(s)[1]), s,
                    hint="keep the value in a local variable, or return it")
            if plan.kind != "setattr" or not any(n in self.varied for n in plan.diff_reads):
                continue
            obj, attr = s.targets[0].value.id, s.targets[0].attr
            if self.ctx.by_identity:
                # (any name may reach the object: its table entry is the same; what may still
                # go wrong is an array held by others changed in place)
                why = getattr(s, "ad_restored", False) and shared_entry_arrays(
                    self.aliasing, self.params, obj, attr, s)
                if why:
                    raise self.loc.error(
                        "storing a value that depends on %s in %s.%s: %s, so the derivative "
                        "could not follow it" % (", ".join(self.wrt), self.aliasing.spelled(obj),
                                                 attr, why), s,
                        hint="give each object its own array (p.%s = v.copy())" % attr)
                continue
            why = self.store_problem(obj, attr, s, made)
            if why:
                error = self.loc.error(
                    "storing a value that depends on %s in %s.%s: %s, so the derivative could not "
                    "follow it" % (", ".join(self.wrt), self.aliasing.spelled(obj), attr, why), s,
                    hint="store values in an argument of the function (self.%s = v) and read them "
                         "through it, or return the value instead" % attr)
                if self.ctx.generated:
                    raise error
                raise FollowByIdentity.of(error)
            if obj not in made:  # (an object made here is the caller's only when returned)
                stored.append((obj, attr))
        return sorted(set(stored))

    def store_problem(self, obj, attr, s, made):
        """Why the store ``s`` of ``obj.attr`` cannot be followed by name (another name may reach
        the object, or read the attribute of the same object), else None; ``made``: the names
        of objects made here (``made_here``)."""
        readers = sorted({n.value.id for n in walk(self.fdef)
                          if isinstance(n, gast.Attribute) and n.attr == attr
                          and isinstance(n.ctx, gast.Load) and isinstance(n.value, gast.Name)}
                         | returned_objects(self.fdef, self.layout, self.kinds, self.params,
                                            self.ctx))
        others = [r for r in readers if r != obj]
        if obj not in self.layout.binds and obj not in self.params:  # (a method's self, ...)
            return "%r.%s is read here too, which may be the same object" % (others[0], attr) \
                if others else None
        if getattr(s, "ad_restored", False):
            return self.entry_store_problem(obj, attr, s, readers)
        if (obj not in self.params or obj in self.layout.binds) and obj not in made:
            return "%r is not an argument of the function (or is rebound in it)" % (
                self.aliasing.spelled(obj))
        if any(self.hands_on(other, obj) for other in self.layout.simple) \
                and (obj not in made or self.handed_before_stored(obj)):
            # (an object made here may be handed on once every store into it has run:
            # [Dense(W1), Dense(W2)])
            return "the object is also reached under another name here"
        if others and not (obj in made and not self.handed_before_stored(obj)):
            # (an object made here is another name's only by being handed on)
            return "%r.%s is read here too, which may be the same object" % (others[0], attr)
        return None

    def entry_store_problem(self, obj, attr, s, readers):
        """Why the store ``s`` of ``obj.attr``, ``obj`` an entry of a list argument stored back
        after it (``planning/entries.py``), cannot be followed, else None: ``obj`` is handed on
        (``[p]``, ``q = p``), or another name that may hold the same object is bound before the
        store and reads ``.attr`` after it (it would read the stored value, which its derivative
        would not follow)."""
        if self.ctx.generated:
            return None  # (checked when the code differentiated again was generated)
        if any(self.hands_on(other, obj) for other in self.layout.simple
               if getattr(other, "ad_restores", None) != obj
               and getattr(other, "ad_restores_attribute", None) != obj):
            return "the object is also reached under another name here"
        al = self.aliasing
        holder = al.entry_holder(obj)
        if holder is None:  # (an object read from an attribute: entries.held_read)
            if any(self.hands_on(st, other) for other in self.same_holders(obj, objects=True)
                   for st in self.layout.simple
                   if getattr(st, "ad_restores_attribute", None) != other):
                return "the object is also reached under another name here"
        for same in self.same_holders(holder) if holder is not None else ():
            escape = self.entries_escape(same)
            if escape:
                return "the objects of %r are also reached otherwise here (%s)" % (holder, escape)
        stale = [r for r in readers if r != obj and al.may_run_before(r, s) and al.read_after(r, s)
                 and not al.dead_at(r, s)]
        if stale:
            return "%r.%s is read here too, which may be the same object" % (stale[0], attr)
        return shared_entry_arrays(al, self.params, obj, attr, s)

    def entries_escape(self, holder) -> str:
        """How the objects of the list or dict ``holder`` may be reached other than by reading
        its entries (``ps[k]``, ``len(ps)``) and storing them back: the code of a statement
        handing on ``holder`` itself (``list(ps)``, ``qs = ps``) or an entry read from it
        (``pair = [ps[0]]``); else ''."""
        read = {target_of(st)[0] for st in self.layout.simple if isinstance(st, gast.Assign)
                and isinstance(st.value, gast.Subscript) and isinstance(st.value.value, gast.Name)
                and st.value.value.id == holder}
        for st in self.layout.simple:
            value = getattr(st, "value", None)
            if (list_method(st) or ("", "", ""))[:2] == (holder, "append") \
                    and fresh_puts(self.aliasing, [(st, st.value.args[0])]):
                continue  # (a new object put in: entries.fresh_puts)
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Attribute) \
                    and isinstance(value, gast.Name) and value.id == holder \
                    and owned_attribute(self.aliasing, holder) == (
                        getattr(st.targets[0].value, "id", None), st.targets[0].attr):
                continue  # (the list stored back where it was read from)
            if getattr(st, "ad_restores", None) or getattr(st, "ad_restores_attribute", None) or (
                    isinstance(st, gast.Assign) and isinstance(value, gast.Subscript)
                    and isinstance(value.value, gast.Name) and value.value.id == holder):
                continue
            if (holder in loads(st) and not self.reads_keys(value, holder)) \
                    or any(self.hands_on(st, n) for n in read - {target_of(st)[0]}):
                return self.line_of(st)
        return ""

    def same_holders(self, holder, objects=False) -> list:
        """``holder`` and, when it is read from an attribute (``owned_attribute``), every other
        name read from that attribute (the same list, or object)."""
        owned = owned_attribute(self.aliasing, holder, objects)
        if owned is None:
            return [holder]
        return sorted({target_of(st)[0] for st in self.layout.simple
                       if isinstance(st, gast.Assign) and isinstance(st.value, gast.Attribute)
                       and isinstance(st.value.value, gast.Name)
                       and (st.value.value.id, st.value.attr) == owned} | {holder})

    def line_of(self, st) -> str:
        """``line N: its text`` of the user's statement ``st`` came from."""
        lineno = getattr(st, "lineno", None)
        if lineno is None:
            return gast.unparse(st).strip()
        lineno += self.loc.line_offset
        text = linecache.getline(self.loc.filename, lineno).strip()
        return "line %d: %s" % (lineno, text) if text else "line %d" % lineno

    def reads_keys(self, value, holder) -> bool:
        """Whether ``value`` reads only the length of ``holder`` or, of a dict, its keys
        (``len(ps)``, ``list(d)``, ``sorted(d)``, ``d.keys()``)."""
        if not isinstance(value, gast.Call):
            return False
        fn = self.ctx.resolver.resolve(value.func)
        if fn is runtime.check_by_position or fn is runtime.check_classes:
            return True  # (iterated by position: its entries are read)
        is_dict = (self.ctx.argument_containers.get(holder) or ("", ""))[1] == "dict"
        if isinstance(value.func, gast.Attribute):
            return is_dict and value.func.attr == "keys" and not value.args \
                and isinstance(value.func.value, gast.Name) and value.func.value.id == holder
        return len(value.args) == 1 and not value.keywords and (
            fn is len or (is_dict and any(fn is f for f in (list, sorted, iter, set))))

    def handed_before_stored(self, obj) -> bool:
        """Whether a statement handing the object ``obj`` on (``[obj]``, ``b = obj``) may run
        before an attribute store into the same object (a later pass of a loop making a new
        one does not count)."""
        al = self.aliasing
        stores = [s for s in self.layout.simple if self.plans[id(s)].kind == "setattr"
                  and s.targets[0].value.id == obj]
        return any(al.runs_before(h, st) and not al.rebound_between(obj, h, st)
                   for h in self.layout.simple if self.hands_on(h, obj) for st in stores)

    def hands_on(self, s, obj) -> bool:
        """Whether statement ``s`` hands the object ``obj`` on (see ``_handles``), or binds the
        result of a call that may return it or hold it (``r = o.reader(k)``, a closure over
        ``self``)."""
        value = getattr(s, "value", None)
        return obj in _handles(s) or (isinstance(s, gast.Assign) and isinstance(value, gast.Call)
                                      and obj in self.aliasing.returned_arguments(value, True))

    def made_here(self) -> set:
        """Names bound once, to an object made here (``obj = Cls(args)``, its ``__init__``
        inlined: ``obj = new_object(Cls)``): no other object can be theirs."""
        return {target_of(s)[0] for s in self.layout.simple if makes_object(s, self.ctx)
                and len(self.layout.binds.get(target_of(s)[0], ())) == 1}
