"""Webs: a name rebound to values of different kinds (``out = x.copy()``, later
``out = out.sum()``, later ``out = [out, 0.5]``) holds, between such bindings, what are really
different variables. Kinds are inferred per name, so such a name has no kind at all, and every
use of it is planned for an unknown value (an element update of an unknown ``out`` is refused as
a list's). ``split_webs`` gives each web of such a name (its bindings and the uses they reach,
connected through the uses reached by several of them) a name of its own, after which each has
the kind of its own bindings.

A web is kept whole where a binding changes the value it reads rather than making a new one
(``x = keep_dtype(x, t)`` and ``x = in_place(x, t)``, the normal form's ``x op= v``, which
NumPy does in place), and names read by nested functions, gradient hooks or ``try`` blocks are
left alone, and so is every name of a function that calls ``eval``, ``locals()`` or ``vars()``.
"""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import walk
from ..rules.builtin_rules import READS_LOCALS

_UPDATES = (runtime.keep_dtype, runtime.in_place, runtime.element_in_place)


def split_webs(body, ret, candidates, params, ctx) -> dict:
    """Rename every web of each name in ``candidates`` but the one it starts with (a parameter's,
    or the first binding's) in ``body`` and the final ``ret``; returns {new name: old name}."""
    candidates = set(candidates) - _left_alone(body, ctx)
    if not candidates or any(isinstance(n, gast.Call) and any(
            ctx.resolver.resolve(n.func) is f for f in READS_LOCALS)
            for st in body for n in walk(st)):
        return {}  # (eval, locals(), vars() read the variables by their names)
    webs = _Webs(candidates, ctx)
    state = {n: frozenset([("start", n)]) for n in candidates}
    webs.block(body, state)
    webs.uses(ret, state)
    reading = webs.join()
    renamed = {}
    for var in sorted(candidates):
        groups = {}
        for node in webs.defs.get(var, {}).values():
            groups.setdefault(webs.find(id(node)), []).append(node)
        start = webs.find(("start", var))
        for root in sorted(groups, key=lambda r: min(_position(n) for n in groups[r])):
            if root == start:
                continue
            new = ctx.namer.fresh(var)
            ctx.resolver.locals.add(new)
            for node in groups[root] + reading.get(root, []):
                node.id = new
            renamed[new] = var
    if renamed:
        _rename_marks(body, renamed)
    return renamed


def _rename_marks(body, renamed):
    """The names the normal form marks statements with follow their nodes' new names: the
    array a statement writes into (``ad_mutates``: ``x = in_place(x, t)``, ``t =
    scatter_add(x, i, v)``), the container ``t = element_in_place(d, old, new)`` changes
    (``ad_element_of``)."""
    for stmt in body:
        for s in walk(stmt):
            for mark in ("ad_mutates", "ad_element_of"):
                old = getattr(s, mark, None)
                if old is None:
                    continue
                new = {n.id for n in walk(s) if isinstance(n, gast.Name)
                       and renamed.get(n.id) == old}
                if len(new) == 1:
                    setattr(s, mark, new.pop())


def _position(node):
    return (getattr(node, "lineno", 0) or 0, getattr(node, "col_offset", 0) or 0)


def _left_alone(body, ctx) -> set:
    """Names read by nested functions and lambdas (closures see the name, not one web),
    gradient hooks (backward-only code), ``try`` blocks, ``global``/``nonlocal`` ones, and the
    normal form's temporaries."""
    out = set(ctx.temps)
    for stmt in body:
        for node in walk(stmt):
            if isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef, gast.Try)) \
                    or (isinstance(node, gast.With) and getattr(node, "ad_hook", False)):
                out |= {n.id for n in walk(node) if isinstance(n, gast.Name)}
            elif isinstance(node, (gast.Global, gast.Nonlocal)):
                out |= set(node.names)
    return out


class _Webs:
    """Reaching bindings over the structured normal form, joined into webs by union-find."""

    def __init__(self, candidates, ctx):
        self.candidates, self.ctx = candidates, ctx
        self.parent: dict = {}
        self.defs: dict = {}  # name -> {id: its binding Name nodes}
        self.reached: dict = {}  # id(use node) -> (node, bindings reaching it)

    def find(self, key):
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, keys):
        keys = [self.find(k) for k in keys]
        for k in keys[1:]:
            self.parent[k] = keys[0]

    def join(self) -> dict:
        """Join the bindings a use may see into one web; {web root: the uses in it}."""
        for _, keys in self.reached.values():
            self.union(list(keys))
        reading = {}
        for node, keys in self.reached.values():
            if keys:
                reading.setdefault(self.find(next(iter(keys))), []).append(node)
        return reading

    def uses(self, node, state):
        for n in walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) \
                    and n.id in self.candidates:
                self.reached[id(n)] = (n, state.get(n.id, frozenset()))

    def bind(self, target, state, keep_with=()):
        if isinstance(target, gast.Name) and target.id in self.candidates:
            self.defs.setdefault(target.id, {})[id(target)] = target
            self.find(id(target))
            if keep_with:
                self.union([id(target)] + list(keep_with))
            state[target.id] = frozenset([id(target)])

    def simple(self, s, state):
        self.uses(s, state)
        if isinstance(s, gast.Assign) and len(s.targets) == 1:
            target = s.targets[0]
            value = s.value
            keep = ()
            if isinstance(target, gast.Name) and target.id in self.candidates and (
                    getattr(s, "ad_augmented", False) or getattr(s, "ad_mutates", None)
                    or (isinstance(value, gast.Call) and any(
                        self.ctx.resolver.resolve(value.func) is f for f in _UPDATES))):
                keep = state.get(target.id, ())  # (the same object, changed)
            self.bind(target, state, keep)

    def block(self, stmts, state):
        for s in stmts:
            if isinstance(s, gast.If):
                self.uses(s.test, state)
                other = dict(state)
                self.block(s.body, state)
                self.block(s.orelse, other)
                _merge(state, other)
            elif isinstance(s, (gast.For, gast.While)):
                self.loop(s, state)
            elif isinstance(s, gast.With):
                for item in s.items:
                    self.uses(item, state)
                self.block(s.body, state)
            else:
                self.simple(s, state)

    def loop(self, s, state):
        if isinstance(s, gast.For):
            self.uses(s.iter, state)
        head = dict(state)
        for _ in range(100):  # (the sets only grow: a fixpoint within a few passes)
            inside = dict(head)
            if isinstance(s, gast.While):
                self.uses(s.test, inside)
            else:
                self.bind(s.target, inside)
            self.block(s.body, inside)
            grown = dict(head)
            _merge(grown, inside)
            if grown == head:
                break
            head = grown
        _merge(state, head)


def _merge(state, other):
    for k, v in other.items():
        state[k] = state.get(k, frozenset()) | v
