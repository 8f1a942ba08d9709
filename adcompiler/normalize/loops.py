"""The ``Normalizer``'s ``for`` loops: a loop over ``range`` keeps its counter (a fresh one when
the name holds other values too); a loop over any other iterable (a sequence, ``enumerate``,
``zip``, ``reversed``, a dict view; an iterator, a set or a string as the list of its items, a
value of no kind known here checked when it runs: see ``sequences``) becomes a loop over
``range(len(...))`` whose body starts by binding the loop's target to the item. The same
``by_position`` gives ``a, b = v`` (``statements``) the list of the items of an iterator.
"""
from __future__ import annotations

import inspect

import gast

from .. import runtime
from ..effects import WRITING_METHODS
from ..ir import assign, const, copy_tree, located, name, target_of, walk
from ..resolve import MISSING
from .dicts import makes_dict
from .sequences import (
    NUMBER,
    OTHER,
    SEQUENCE,
    gone_over_in_python,
    iterated_attribute,
    iteration_kind,
)


class Loops:
    """``for`` methods of the ``Normalizer`` (a mixin)."""

    def stmt_For(self, s):
        self.check_generator_fed(s)
        if self.unrolled_loop(s):  # (for layer in self.layers of a Sequential made here)
            return
        if self.grown_in_loop(s):  # (for item in work: ... work.append(new): a work list)
            return
        if self.counted_loop(s):  # (for i in itertools.count(): ... break)
            return
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

    def check_generator_fed(self, s):
        """Refuse ``for x in gen(state):`` over a generator function of the user's whose body
        changes what it is given (``state['u'] = k * x``, ``log.append(x)``): Python runs the
        generator between the passes, seeing the change; the generated code runs it first (it is
        the function returning the list of what it yields)."""
        it = s.iter
        fn = self.resolver.resolve(it.func) if isinstance(it, gast.Call) \
            and self.is_global(it.func) else None
        if not inspect.isgeneratorfunction(fn):
            return
        given = {a.id for a in list(it.args) + [k.value for k in it.keywords]
                 if isinstance(a, gast.Name)}
        for st in s.body:
            for n in walk(st):
                target = n.func.value if isinstance(n, gast.Call) \
                    and isinstance(n.func, gast.Attribute) and n.func.attr in WRITING_METHODS \
                    else n.value if isinstance(n, (gast.Subscript, gast.Attribute)) \
                    and isinstance(n.ctx, gast.Store) else None
                if isinstance(target, gast.Name) and target.id in given:
                    raise self.loc.error(
                        "the loop changes %r, which the generator %s it goes over is given: "
                        "Python runs the generator between the loop's passes, adcompiler "
                        "before the loop" % (target.id, fn.__name__), st,
                        hint="compute each value in the loop itself, or pass the generator "
                             "what does not change")

    def grown_in_loop(self, s) -> bool:
        """``for item in work:`` whose body adds to the list ``work`` (``work.append(...)``):
        Python's loop goes on over what is added, so it is the loop ``k = 0; while k <
        len(work): item = work[k]; k += 1; ...``; True if so, else False (nothing emitted)."""
        seq = s.iter
        # (not when the body binds the name again: the loop goes over the list it had first)
        if not isinstance(seq, gast.Name) or any(
                isinstance(n, gast.Name) and n.id == seq.id and isinstance(n.ctx, gast.Store)
                for st in s.body for n in walk(st)) or not any(
                isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
                and n.func.attr in ("append", "extend", "insert")
                and isinstance(n.func.value, gast.Name) and n.func.value.id == seq.id
                for st in s.body for n in walk(st)):
            return False
        counter = self.namer.fresh("k")
        self.resolver.locals.add(counter)
        self.emit(assign(counter, const(0)), s)
        length = gast.Call(func=name(self._builtin("len")), args=[name(seq.id)], keywords=[])
        head = [gast.Assign(targets=[s.target], value=gast.Subscript(
                    value=name(seq.id), slice=name(counter), ctx=gast.Load()), type_comment=None),
                assign(counter, gast.BinOp(left=name(counter), op=gast.Add(), right=const(1)))]
        loop = gast.While(test=gast.Compare(left=name(counter), ops=[gast.Lt()],
                                            comparators=[length]),
                          body=[located(st, s) for st in head] + s.body, orelse=[])
        loop.ad_break_flag = getattr(s, "ad_break_flag", None)
        self.stmt_While(located(loop, s))
        return True

    def range_name(self) -> str:
        if self.resolver.lookup("range") is range and "range" not in self.resolver.locals:
            return "range"
        raise self.loc.error(
            "the name 'range' is shadowed, so loops over sequences cannot be rewritten")

    def iteration(self, it, s):
        """(length expression, k -> element expression) for iterating over ``it``."""
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else MISSING
        if callee is enumerate and 1 <= len(it.args) <= 2 \
                and all(k.arg == "start" for k in it.keywords):
            length, items = self.iteration(it.args[0], s)
            start = it.args[1] if len(it.args) == 2 else (
                it.keywords[0].value if it.keywords else None)
            if start is None:
                return length, lambda k: gast.Tuple(elts=[k, items(k)], ctx=gast.Load())
            first = self.atom(start, s)
            return length, lambda k: gast.Tuple(
                elts=[gast.BinOp(left=k, op=gast.Add(), right=copy_tree(first)), items(k)],
                ctx=gast.Load())
        if callee is reversed and len(it.args) == 1 and not it.keywords:
            length, items = self.iteration(it.args[0], s)
            n = self.atom(length, s)
            last = self.atom(gast.BinOp(left=n, op=gast.Sub(), right=const(1)), s)
            return n, lambda k: items(gast.BinOp(left=copy_tree(last), op=gast.Sub(), right=k))
        if starred_zip(it, callee):  # (for a, b in zip(*rows): over the transposed rows)
            return self.iteration(self.transposed(self.atom(it.args[0].value, s).id), s)
        strict = [k for k in it.keywords if k.arg == "strict"] if callee is zip else []
        if callee is zip and it.args and len(strict) == len(it.keywords) <= 1 \
                and all(isinstance(k.value, gast.Constant) for k in strict):
            parts = self.zip_parts(it.args, strict, s)  # (a count's length: None)
            lengths = [self.atom(p[0], s) for p in parts if p[0] is not None]
            common = self.helper("strict_length", runtime.strict_length) \
                if strict and strict[0].value.value else self._builtin("min")
            length = lengths[0] if len(lengths) == 1 else gast.Call(
                func=name(common), args=lengths, keywords=[])
            return length, lambda k: gast.Tuple(elts=[p[1](k) for p in parts], ctx=gast.Load())
        keys = False
        if (isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) and not it.args
                and it.func.attr in ("items", "values", "keys") and not self.is_global(it.func)) \
                or (isinstance(it, gast.Name) and it.id in self.dict_params | self.maybe_dicts) \
                or makes_dict(it, self.resolver, self.sure_dicts):
            # a dict view: iterate over a list of it (a name that may hold a dict: over the list
            # of its keys, or a copy of the list or tuple it holds)
            keys = it.id in self.dict_params | self.sure_dicts if isinstance(it, gast.Name) \
                else it.func.attr == "keys" if isinstance(it.func, gast.Attribute) \
                and it.func.attr in ("items", "values", "keys") else True
            it = self.list_of(it)
        seq = self.by_position(it, s, iterating=True)
        if keys and self.out and isinstance(self.out[-1], gast.Assign) \
                and isinstance(seq, gast.Name) and target_of(self.out[-1])[0] == seq.id:
            self.out[-1].ad_dict_keys = True  # (a dict's keys: hashable, never an array's view)
        if isinstance(seq, gast.Constant):
            self.unsupported(it, "iterating over a constant", "iterate over a list, tuple or array")
        if seq.id in self.loop_stores:
            # ``for row in total: total = ...``: Python iterates over the sequence it had first
            first = self.namer.fresh(seq.id + "_items")
            self.resolver.locals.add(first)
            self.emit(assign(first, seq), s)
            seq = name(first)
        length = gast.Call(func=name(self._builtin("len")), args=[seq], keywords=[])
        return length, lambda k: gast.Subscript(value=copy_tree(seq), slice=k, ctx=gast.Load())

    def by_position(self, it, s, iterating: bool):
        """An atom holding ``it``, or the list of its items when indexing ``it`` by position may
        not give them (see ``sequences``). Unpacked (``iterating`` false): the list when ``it``
        may be a set, a dict or an iterator (``a, b = zip(*pairs)``); iterated: unless it is
        known to be a sequence, and a value of no kind known here is checked when it runs."""
        cls = self.object_classes.get(it.id) if isinstance(it, gast.Name) else None
        items = self.iterated_object(it, s) if cls is not None and not iterating else None
        if items is not None:  # (x, y = v: the list of what v.__iter__ gives)
            return items
        held = iterated_attribute(cls) if cls is not None and iterating else None
        # (not when the loop names the object: a list iterator sees what it appends to obj.ws)
        if held and isinstance(s, gast.For) and any(
                isinstance(n, gast.Name) and n.id == getattr(it, "id", None)
                for st in s.body for n in walk(st)):
            held = None
        if held:  # (for w in obj, its __iter__ 'return iter(self.ws)': for w in obj.ws)
            return self.by_position(gast.Attribute(value=it, attr=held, ctx=gast.Load()), s,
                                    iterating)
        if cls is not None and gone_over_in_python(cls, iterating):
            self.unsupported(it, "%s an object of your class (its __iter__)"
                             % ("iterating over" if iterating else "unpacking"),
                             "go over the list or array it holds (for w in obj.ws)")
        kind = iteration_kind(it, self.resolver, self.iterables)
        if kind in (SEQUENCE, NUMBER) or (kind is None and not iterating):
            return self.atom(it, s)
        if kind is None:
            return self.checked_when_run(it, s)
        self.refuse_endless(it)
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else MISSING
        if starred_zip(it, callee):  # (zip(*[...]): the rows read once)
            return self.atom(self.transposed(self.atom(it.args[0].value, s).id), s)
        return self.atom(self.items_of(it), s)

    def unpacked(self, target, value):
        """``value`` of ``target = value`` (a tuple of targets), an entry of its display that is
        unpacked in turn the list of its items where it may be a set, a dict or an iterator
        (``(a, b), c = zip(xs, ys), 1.0``)."""
        nested = (gast.Tuple, gast.List)
        if not (isinstance(target, nested) and isinstance(value, nested)
                and len(target.elts) == len(value.elts)):
            return value
        elts = [v if not isinstance(t, nested) else self.unpacked(t, v)
                if isinstance(v, nested) or iteration_kind(v, self.resolver, self.iterables)
                != OTHER else self.items_of(v) for t, v in zip(target.elts, value.elts)]
        return type(value)(elts=elts, ctx=gast.Load())

    def items_of(self, it):
        """The list of the items of ``it``: for ``zip``, ``enumerate`` or ``reversed``, made as a
        loop over it makes them, which follows their derivatives (``a, b = zip(xs, ys)``)."""
        callee = self.resolver.resolve(it.func) if isinstance(it, gast.Call) else MISSING
        if starred_zip(it, callee) and isinstance(it.args[0].value, gast.Name):
            return self.transposed(it.args[0].value.id)
        if any(callee is f for f in (zip, enumerate, reversed)) and not it.keywords \
                and not any(isinstance(a, gast.Starred) for a in it.args):
            item = self.namer.fresh("item")
            return gast.ListComp(elt=name(item), generators=[gast.comprehension(
                target=name(item, True), iter=it, ifs=[], is_async=0)])
        return self.list_of(it)

    def transposed(self, rows):
        """``zip(*rows)`` as a list (``rows`` a name): the tuples of the k-th entries of the rows,
        for k up to the length of the shortest."""
        row, k = self.namer.fresh("row"), self.namer.fresh("k")
        column = gast.ListComp(elt=gast.Subscript(value=name(row), slice=name(k),
                                                  ctx=gast.Load()),
                               generators=[gast.comprehension(target=name(row, True),
                                                              iter=name(rows), ifs=[],
                                                              is_async=0)])
        count = gast.Call(func=name(self.helper("zip_length", runtime.zip_length)),
                          args=[name(rows)], keywords=[])
        return gast.ListComp(
            elt=gast.Call(func=name(self._builtin("tuple")), args=[column], keywords=[]),
            generators=[gast.comprehension(target=name(k, True), iter=gast.Call(
                func=name(self._builtin("range")), args=[count], keywords=[]), ifs=[],
                is_async=0)])

    def listed_transpose(self, node, s):
        """``list(zip(*rows))`` (or ``tuple``): of the transposed rows; ``dict(zip(names,
        theta))`` or ``sorted(enumerate(w))``: of the list of the pairs; else None."""
        inner = node.args[0] if len(node.args) == 1 and not node.keywords else None
        outer = self.resolver.resolve(node.func) if isinstance(inner, gast.Call) else None
        if any(outer is f for f in (dict, sorted)) and not node.keywords \
                and any(self.resolver.resolve(inner.func) is f for f in (zip, enumerate)) \
                and not starred_zip(inner, zip):
            return gast.Call(func=node.func, args=[self.list_of(inner)], keywords=[])
        if isinstance(inner, gast.Call) and self.resolver.resolve(node.func) in (list, tuple) \
                and starred_zip(inner, self.resolver.resolve(inner.func)):
            rows = self.atom(inner.args[0].value, s)
            return gast.Call(func=node.func, args=[self.transposed(rows.id)], keywords=[])
        return None

    def checked_when_run(self, it, s):
        """An atom holding ``it``, whose kind is not known here: the loop reads it by position,
        so it refuses when it runs if ``it`` is then a set, a dict or an iterator. (Not the list
        of its items: a list or array the loop updates is read as it is then, as Python does.)"""
        value = self.atom(it, s)
        if isinstance(value, gast.Constant):
            return value
        spelled = gast.unparse(it).strip().replace("%", "%%")
        error = self.loc.error(
            "the loop over %s reads it by position, which is right for a list, tuple or array, "
            "but it is a %%s when the loop runs" % spelled, it,
            hint="iterate over list(%s), or sorted(%s) for a set" % (spelled, spelled))
        check = gast.Call(func=name(self.helper("check_by_position", runtime.check_by_position)),
                          args=[copy_tree(value),
                                name(self.helper("refusal", runtime.Refusal(error)))],
                          keywords=[])
        self.emit(gast.Expr(value=check), s)
        return value

    def list_of(self, it):
        return gast.Call(func=name(self._builtin("list")), args=[it], keywords=[])

    def bind_items(self, target, value, s):
        if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, gast.Tuple) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self.bind_items(t, v, s)
        elif isinstance(target, gast.Name):
            if isinstance(value, gast.Name):
                self.emit(assign(target.id, copy_tree(value)), s)
            else:
                self.assign_to(target.id, value, s)
        else:
            self.store(target, self.atom(value, s), s)


def starred_zip(it, callee) -> bool:
    """Whether ``it`` is ``zip(*rows)`` (``callee``: what its function resolves to)."""
    return callee is zip and len(it.args) == 1 and isinstance(it.args[0], gast.Starred) \
        and not it.keywords
