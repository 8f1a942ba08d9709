"""Values Python computes later than where they are written: a generator's items, taken when
they are consumed. The generated code computes them where they are written, so those that could
differ are refused (``check_kept_lazy``; a dict's view read after a store into the dict:
``planning/list_sharing.py``).
"""
from __future__ import annotations

import inspect
import itertools
import types
from collections import Counter

import gast

from ..errors import AdError
from ..ir import walk
from ..parse import is_user_function, parse_function
from .closures import late_names
from .itertools_calls import ITERTOOLS


def read_again(body) -> set:
    """The names ``body`` (statements) reads more than once, or in a loop that does not bind
    them (each pass reads the same value again)."""
    loads = Counter(n.id for st in body for n in walk(st)
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load))
    again = {n for n, count in loads.items() if count > 1}
    for loop in (n for st in body for n in walk(st) if isinstance(n, (gast.For, gast.While))):
        inside = [n for st in loop.body for n in walk(st) if isinstance(n, gast.Name)]
        again |= {n.id for n in inside if isinstance(n.ctx, gast.Load)} - {
            n.id for n in inside if isinstance(n.ctx, gast.Store)}
    return again


class LaterValues:
    """Checks of generators kept in names (a mixin of the ``Normalizer``)."""

    def check_kept_lazy(self, target, value, s):
        """Refuse ``target = (f(x) for x in xs)`` (or ``map(lambda ...)``) reading a name that is
        bound again in the function: Python computes the items when they are taken, with the
        name's value then; the generated code computes them here. Refuse such a generator (or
        a user's generator function's) read twice: Python's second pass finds it empty, the
        generated code keeps its items in a list."""
        if self.generated:
            return  # (adcompiler's own code, checked when it was generated)
        if isinstance(value, gast.Call) and self.is_global(value.func) \
                and any(self.resolver.resolve(value.func) is f for f in ITERTOOLS + (
                    itertools.count, itertools.cycle, itertools.repeat)):
            raise self.loc.error(
                "%r holds an itertools iterator, which Python runs lazily and once: the "
                "generated code takes its items where it is made, which is not supported"
                % target, s, hint="iterate over it where it is made (for v in "
                                  "itertools.count(...)), or keep a list of a bounded one")
        if target in self.read_again and self.one_pass(value):
            raise self.loc.error(
                "%r holds a generator (or a map or filter object), which Python runs through "
                "once, and is read again: its second pass finds nothing, which is not "
                "supported" % target, s,
                hint="make a list ([...] or list(...)) to read the items more than once")
        parts = [value] if isinstance(value, gast.GeneratorExp) else [
            a for a in value.args if isinstance(a, gast.Lambda)] \
            if isinstance(value, gast.Call) and self.is_global(value.func) \
            and self.resolver.resolve(value.func) in (map, filter) else []
        for part in parts:
            own = {n.id for n in walk(part) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Store)} | (
                {a.id for a in part.args.args} if isinstance(part, gast.Lambda) else set())
            read = sorted({n.id for n in walk(part) if isinstance(n, gast.Name)
                           and isinstance(n.ctx, gast.Load)} - own)
            again = [n for n in read if self.stores[n] > (0 if n in self.parameters else 1)]
            if again:
                raise self.loc.error(
                    "%r holds a generator whose items read %r, which is bound again in the "
                    "function: Python computes the items when they are taken, adcompiler where "
                    "the generator is made" % (target, again[0]), s,
                    hint="make a list ([...]) where the values are meant, or read the name "
                         "into another one first")

    def learn_later_values(self, body):
        """The names of the function's ``body`` a closure may read late or that are read again
        (``late_names``, ``read_again``); its generators kept in containers refused."""
        self.read_late, self.read_again = late_names(body), read_again(body)
        self.check_kept_generators(body)

    def check_kept_generators(self, body):
        """Refuse a generator (``one_pass``) kept in a list, tuple, set or dict, or made by a
        comprehension (``[(v * k for v in x) for k in ks]``): what reads it again finds it empty
        in Python, the generated code keeps its items."""
        if self.generated:
            return
        for node in (n for st in body for n in walk(st)):
            kept = node.elts if isinstance(node, (gast.List, gast.Tuple, gast.Set)) \
                else node.values if isinstance(node, gast.Dict) \
                else [node.elt] if isinstance(node, (gast.ListComp, gast.SetComp,
                                                     gast.GeneratorExp)) \
                else [node.value] if isinstance(node, gast.DictComp) else []
            for item in kept:
                if item is not None and self.one_pass(item):
                    raise self.loc.error(
                        "a generator (or a map or filter object) kept in a list, tuple or dict: "
                        "Python runs through it once, the generated code keeps its items, "
                        "which is not supported", item,
                        hint="make a list ([...] or list(...)) of its items instead")

    def one_pass(self, value) -> bool:
        """Whether ``value`` makes an iterator Python runs through once that the generated code
        keeps as a list: a generator expression, ``map``, ``filter``, a call of a generator
        function of the user's."""
        if isinstance(value, gast.GeneratorExp):
            return True
        if not isinstance(value, gast.Call) or not self.is_global(value.func):
            return False
        fn = self.resolver.resolve(value.func)
        return fn in (map, filter) or inspect.isgeneratorfunction(fn)

    def check_generator_arguments(self, node, s):
        """Refuse a generator (``one_pass``) given to a function of the user's that reads the
        parameter it binds twice (``sum(it) + len(list(it))``): Python's second pass finds
        nothing, the generated code gives the function a list. Returns None (nothing emitted)."""
        given = [(k, a) for k, a in enumerate(node.args) if self.one_pass(a)] + [
            (k.arg, k.value) for k in node.keywords if k.arg and self.one_pass(k.value)]
        fn = self.resolver.resolve(node.func) if given and self.is_global(node.func) else None
        if self.generated or not isinstance(fn, types.FunctionType) or not is_user_function(fn):
            return
        try:
            tree = parse_function(fn).tree
        except AdError:
            return
        params = [a.id for a in tree.args.posonlyargs + tree.args.args]
        again = read_again(tree.body)
        for where, arg in given:
            param = params[where] if isinstance(where, int) and where < len(params) else where
            if param in again:
                raise self.loc.error(
                    "a generator (or a map or filter object) is given to %s, which reads its "
                    "parameter %r more than once: Python's second pass over it finds nothing, "
                    "which is not supported" % (fn.__qualname__, param), arg,
                    hint="give it a list ([...] or list(...))")
