"""Pass 4: analyses of the three-address form.

- program order and loop nesting of every statement, and where each name is (re)bound or
  mutated, to decide which values the backward pass must take from the tape;
- activity: names that depend on the differentiated arguments (varied) and reach the output
  (useful); only active names get adjoints;
- scalar kinds: names known to hold Python floats or other shape-() values, so the generated
  code skips unbroadcasting and uses ``math`` on the scalar path.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from .ir import list_method, loads, target_of

FLOAT, SCALAR = "float", "scalar"
CONTAINER = "container"  # a list, tuple or dict (its adjoint has the same structure)
BOTTOM = "bottom"  # no information yet (the fixpoint's start); unknown if it stays


def array_kind(ndim):
    """The kind of an ndarray of rank ``ndim`` (rank 0 is a shape-() SCALAR)."""
    return SCALAR if ndim == 0 else ("array", ndim)


def rank(kind):
    """Rank of a kind: 0 for scalars, n for arrays, None when unknown."""
    if kind in (FLOAT, SCALAR, BOTTOM):
        return 0
    if isinstance(kind, tuple) and kind[0] == "array":
        return kind[1]
    return None


def is_tuple(kind) -> bool:
    """Whether a kind is a tuple of known entry kinds (a tuple display's)."""
    return isinstance(kind, tuple) and kind[0] == "tuple_of"


def is_container(kind) -> bool:
    """Whether a kind is a list, tuple or dict (known entry kinds or not)."""
    return kind == CONTAINER or is_tuple(kind)


def broadcast_kind(*kinds):
    """Kind of an elementwise result: Python floats stay floats, otherwise the largest rank."""
    known = [k for k in kinds if k != BOTTOM]
    if not known:
        return BOTTOM
    kinds = known
    if all(k == FLOAT for k in kinds):
        return FLOAT
    ranks = [rank(k) for k in kinds]
    if any(r is None for r in ranks):
        return None
    return array_kind(max(ranks))


@dataclass
class Layout:
    """Program order: each statement's position and enclosing loops; every loop's extent."""

    pos: dict = field(default_factory=dict)      # id(stmt) -> position
    loops: dict = field(default_factory=dict)    # id(stmt) -> tuple of enclosing loop nodes
    span: dict = field(default_factory=dict)     # id(loop) -> (first, last) positions
    binds: dict = field(default_factory=dict)    # name -> positions where it is rebound
    mutates: dict = field(default_factory=dict)  # name -> positions where it is mutated in place
    simple: list = field(default_factory=list)   # every simple statement in order
    views: dict = field(default_factory=dict)    # name -> names of arrays it may be a view of
    # temporary -> the names it was handed over to (same array)
    aliases: dict = field(default_factory=dict)
    # position -> ((id of an if outside every loop, arm 0 or 1), ...): the arms it sits in
    arms: dict = field(default_factory=dict)
    # (views, base -> names that view it), built on first use
    _viewers: tuple = None
    # (number of simple statements, name -> the simple statements binding it), built on first use
    _bindings: tuple = None
    _readers: tuple = None  # (the same for the statements reading it)

    @classmethod
    def of(cls, body, params=()) -> "Layout":
        lay = cls()
        counter = [0]

        def visit(stmts, loops, arms=()):
            for s in stmts:
                p = counter[0]
                counter[0] += 1
                lay.pos[id(s)] = p
                lay.loops[id(s)] = loops
                lay.arms[p] = arms
                if isinstance(s, (gast.For, gast.While)):
                    if isinstance(s, gast.For):
                        lay.binds.setdefault(s.target.id, []).append(p)
                    visit(s.body, loops + (s,), arms)
                    lay.span[id(s)] = (p, counter[0] - 1)
                elif isinstance(s, gast.If):
                    # (the arms of an if outside every loop never both run)
                    visit(s.body, loops, arms + (((id(s), 0),) if not loops else ()))
                    visit(s.orelse, loops, arms + (((id(s), 1),) if not loops else ()))
                elif isinstance(s, gast.With):
                    if not getattr(s, "ad_hook", False):  # (a gradient hook is backward-only code)
                        visit(s.body, loops, arms)
                else:
                    lay.simple.append(s)
                    bound, mutated = target_of(s)
                    if bound:
                        lay.binds.setdefault(bound, []).append(p)
                    if mutated:
                        lay.mutates.setdefault(mutated, []).append(p)
                    method = list_method(s)
                    if method and isinstance(s, gast.Assign):  # (v = lst.pop() changes lst)
                        lay.mutates.setdefault(method[0], []).append(p)
        visit(body, ())
        return lay

    def bindings(self, name: str) -> list:
        """The simple statements that bind ``name``, in program order."""
        if self._bindings is None or self._bindings[0] != len(self.simple):
            by_name = {}
            for s in self.simple:
                bound = target_of(s)[0]
                if bound:
                    by_name.setdefault(bound, []).append(s)
            self._bindings = (len(self.simple), by_name)
        return self._bindings[1].get(name, [])

    def readers(self, name: str) -> list:
        """The simple statements that read ``name``, in program order."""
        if self._readers is None or self._readers[0] != len(self.simple):
            by_name = {}
            for s in self.simple:
                for n in set(loads(s)):
                    by_name.setdefault(n, []).append(s)
            self._readers = (len(self.simple), by_name)
        return self._readers[1].get(name, [])

    def same_memory(self, name: str) -> set:
        """``name`` and the names whose in-place writes may change its value (arrays it views,
        views of it, names it was handed over to)."""
        if self._viewers is None or self._viewers[0] is not self.views:
            viewers = {}
            for v, bases in self.views.items():
                for b in bases:
                    viewers.setdefault(b, set()).add(v)
            self._viewers = (self.views, viewers)
        handed, todo = set(), [name]
        while todo:  # (t4 handed over to t1, t1 to feat: the same array under all three names)
            for n in self.aliases.get(todo.pop(), ()):
                if n not in handed:
                    handed.add(n)
                    todo.append(n)
        return {name} | self.views.get(name, set()) | handed | self._viewers[1].get(name, set())

    def written_after(self, name: str, stmt) -> bool:
        """Whether the array ``name`` holds when ``stmt`` runs may be written in place later (by
        a write into it or into a name sharing its memory): after ``stmt``, or anywhere in a loop
        around it."""
        positions = [p for n in self.same_memory(name) for p in self.mutates.get(n, ())]
        loops = self.loops[id(stmt)]
        if not loops:
            return any(p > self.pos[id(stmt)] for p in positions)
        first = self.span[id(loops[0])][0]
        return any(p >= first for p in positions)

    def exclusive(self, p: int, q: int) -> bool:
        """Whether the statements at positions ``p`` and ``q`` sit in different arms of one
        ``if`` outside every loop (``return x`` in one, ``x /= v`` in the other): never both run."""
        other = dict(self.arms.get(q, ()))
        return any(other.get(branch, arm) != arm for branch, arm in self.arms.get(p, ()))

    def bound_in(self, name: str, loop) -> bool:
        """Whether ``name`` is bound anywhere inside ``loop`` (its target included)."""
        first, last = self.span[id(loop)]
        return any(first <= p <= last for p in self.binds.get(name, ()))

    def in_loop(self, stmt) -> bool:
        return bool(self.loops[id(stmt)])

    def changes_after(self, name: str, stmt, with_mutation: bool) -> bool:
        """May ``name`` hold a different value when the backward pass reaches ``stmt`` than when
        ``stmt`` ran forward? True if it is rebound (or mutated, when that matters) later on, or
        anywhere in an enclosing loop -- except as the counter of an enclosing ``for``, which
        the reversed loop sets again."""
        positions = list(self.binds.get(name, ()))
        if with_mutation:  # a view changes when the array it looks into is written
            for base in self.same_memory(name):
                positions += self.mutates.get(base, ())
        loops = self.loops[id(stmt)]
        if not loops:
            here = self.pos[id(stmt)]
            return any(p > here for p in positions)
        counting = [loop for loop in loops if isinstance(loop, gast.For) and loop.target.id == name]
        if counting:
            # The reversed loop sets its counter again each iteration: only a rebinding inside
            # that loop's body can make the value differ.
            start, end = self.span[id(counting[-1])]
            return any(start < p <= end for p in positions)
        first = self.span[id(loops[0])][0]
        return any(p >= first for p in positions)


def fixpoint(step):
    """Repeat ``step()`` (which returns True on change) until nothing changes."""
    while step():
        pass


def varied_names(layout: Layout, wrt, diff_reads) -> set[str]:
    """Names that depend on ``wrt`` through differentiable operations (``diff_reads(stmt)``: the
    names a statement's result depends on differentiably)."""
    varied = set(wrt)

    def forward():
        changed = False
        for s in layout.simple:
            bound, mutated = target_of(s)
            target = bound or mutated
            if target and target not in varied and any(r in varied for r in diff_reads(s)):
                varied.add(target)
                changed = True
        return changed
    fixpoint(forward)
    return varied


def activity(layout: Layout, wrt, result: str | None, diff_reads, varied=None) -> set[str]:
    """Names that depend on ``wrt`` through differentiable operations and reach ``result``
    (``varied``: the names that depend on ``wrt``, when already known)."""
    if varied is None:
        varied = varied_names(layout, wrt, diff_reads)
    useful = {result} if result else set()

    def backward():
        changed = False
        for s in reversed(layout.simple):
            bound, mutated = target_of(s)
            target = bound or mutated
            if target in useful:
                for r in diff_reads(s):
                    if r not in useful:
                        useful.add(r)
                        changed = True
        return changed
    fixpoint(backward)
    return varied & useful


def scalar_kinds(layout: Layout, params: dict, kind_of_value) -> dict:
    """Names every definition of which gives a Python float (FLOAT) or another shape-() value
    (SCALAR). ``params`` maps argument names to their kind; ``kind_of_value(stmt, kinds)`` gives the
    kind of one statement's value."""
    kinds = dict(params)
    for s in layout.simple:
        bound, _ = target_of(s)
        if bound and bound not in kinds:
            kinds[bound] = BOTTOM
    for s in layout.simple:
        # (a write into an element keeps the kind its bindings give: ``new = coeffs + [0.0];
        # new[1] = v; coeffs = new`` in a loop is a list; a name written into and bound nowhere
        # here is not known)
        mutated = target_of(s)[1]
        if mutated and mutated not in kinds:
            kinds[mutated] = None
    for name, positions in layout.binds.items():
        kinds.setdefault(name, FLOAT)  # loop counters over range()
    defs = {}
    for s in layout.simple:
        bound, _ = target_of(s)
        if bound:
            defs.setdefault(bound, []).append(s)

    changes = {}

    def step():
        changed = False
        for name, stmts in defs.items():
            if name in params:
                new = (
                    None
                    if params[name] is None
                    else _join([params[name]] + [kind_of_value(s, kinds) for s in stmts])
                )
            else:
                new = _join([kind_of_value(s, kinds) for s in stmts])
            if new != kinds.get(name) and changes.get(name, 0) <= 4:
                changes[name] = changes.get(name, 0) + 1
                # (kinds that keep changing, as in ``a, b =
                # b, a``, become unknown: the fixpoint ends)
                kinds[name] = new if changes[name] <= 4 else None
                changed = True
        return changed
    fixpoint(step)
    return {k: (None if v == BOTTOM else v) for k, v in kinds.items()}


def _join(kinds):
    """Kind of a name bound by several statements: what they all agree on."""
    kinds = [k for k in kinds if k != BOTTOM]
    if not kinds:
        return BOTTOM
    if len(set(kinds)) == 1:
        return kinds[0]
    if all(k in (FLOAT, SCALAR) for k in kinds):
        return SCALAR
    if all(is_container(k) for k in kinds):  # (a = (w,) then a += (v,): a tuple still)
        return CONTAINER
    return None
