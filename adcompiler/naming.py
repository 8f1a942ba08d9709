"""Deterministic, collision-free names for temporaries, adjoints and runtime helpers."""
from __future__ import annotations

import re

import gast

from .ir import walk


def names_in(tree) -> set[str]:
    """Every identifier used anywhere in ``tree`` (so fresh names never collide with them)."""
    used = set()
    for node in walk(tree):
        if isinstance(node, gast.Name):
            used.add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)):
            used.add(node.name)
        elif isinstance(node, gast.alias):
            used.add((node.asname or node.name).split(".")[0])
    return used


def label_of(fn) -> str:
    """The identifier that names ``fn``'s generated functions: ``lambda_`` for a lambda,
    ``Layer_call`` for ``Layer.__call__`` (a dunder alone would be unreadable)."""
    name = fn.__name__
    if name == "<lambda>":
        return "lambda_"
    if name.startswith("__") and name.endswith("__"):
        owner = getattr(fn, "__qualname__", name).split(".")[-2:-1]
        return "_".join(owner + [name.strip("_")])
    return name


class Namer:
    """Hands out names that are unused so far; the same sequence of requests gives the same
    names."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.counters: dict[str, int] = {}

    def reserve(self, names) -> None:
        self.taken.update(names)

    def fresh(self, base: str) -> str:
        """``base`` itself if free, else ``base_1``, ``base_2``, ... (``<lambda>_forward`` becomes
        ``lambda_forward``: only identifier characters)."""
        base = _identifier(base)
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self.numbered(base + "_")

    def numbered(self, prefix: str) -> str:
        """``prefix1``, ``prefix2``, ... (temporaries: ``t1``, ``t2``)."""
        n = self.counters.get(prefix, 0)
        while True:
            n += 1
            name = "%s%d" % (prefix, n)
            if name not in self.taken:
                self.counters[prefix] = n
                self.taken.add(name)
                return name


class Bindings:
    """Objects the generated code refers to by name (numpy, runtime helpers, adjoint functions of
    callees). A preferred name is kept when the user's function does not use it for something
    else."""

    def __init__(self, namer: Namer, user_names: dict):
        self.namer = namer
        self.user_names = user_names  # name -> object it denotes in the user's function (or None)
        self.objects: dict[str, object] = {}
        self._by_id: dict[int, str] = {}

    def name_for(self, preferred: str, obj) -> str:
        known = self._by_id.get(id(obj))
        if known is not None:
            return known
        if preferred in self.user_names and self.user_names[preferred] is obj:
            name = preferred
            self.namer.reserve([name])
        else:
            name = self.namer.fresh(preferred)
        self.objects[name] = obj
        self._by_id[id(obj)] = name
        return name


def _identifier(text: str) -> str:
    if text.isidentifier():
        return text
    cleaned = re.sub(r"\W+", "", text)
    return cleaned if cleaned.isidentifier() else "v_" + cleaned
