#!/usr/bin/env python3
"""Differential random-program tester for adcompiler.

Generates ordinary, user-style NumPy/Python programs from a seed, runs them in plain Python and
through adcompiler, and compares. A program is classified as

* ``ok``       every check passed;
* ``refused``  adcompiler raised ``ad.AdError`` (acceptable: a clear refusal);
* ``wrong``    a check failed: a gradient, value, side effect, type, tangent or Hessian differs;
* ``crash``    an adcompiler call raised anything that is not ``ad.AdError`` (also inside the
               generated code), or did not finish in time;
* ``skipped``  the plain program raised or returned a non-finite value at the chosen inputs.

Checks (each one letter, used in failure signatures):

* ``a`` ``ad.grad(f, wrt=...)`` against central finite differences in float64 (two step sizes
  and one-sided differences: entries where ``f`` is not smooth are not compared);
* ``b`` ``ad.value_and_grad``: the value equals the plain call's value (1e-12 relative);
* ``c`` the caller's arguments after ``ad.grad(f)(*args)`` equal those after ``f(*args)``;
* ``d`` the gradient has the argument's type, structure, shape and dtype;
* ``e`` ``ad.jvp(f, args, tangents)`` equals ``<grad, tangents>``;
* ``f`` (one program in four, float64, small arguments) ``ad.hessian`` against second
  differences of ``f``;
* ``g`` the same gradient function called with other values (other branches) and, when the
  program allows, other shapes, against finite differences;
* ``h`` ``ad.vjp(f, *args)``: the pullback of 1.0 equals the gradient.

Usage::

    python tests/differential.py --seeds 0:2000 --jobs 2 --out /work/fuzz_out   # a campaign
    python tests/differential.py --show 17            # print seed 17's program and its result
    python tests/differential.py --reduce 17          # minimal program with the same failure
    python tests/differential.py --reduce-all --out /work/fuzz_out   # reduce each failure group

Everything is seeded: a seed always gives the same program, arguments and checks.
"""
from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import importlib.util
import itertools
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------

MATRIX_SHAPES = [((3, 4), 70), ((4, 3), 10), ((3, 1), 6), ((1, 4), 6), ((2, 3, 4), 4), ((3, 3), 4)]
VECTOR_SHAPES = [((4,), 50), ((3,), 30), ((3, 1), 8), ((1, 4), 8), ((1,), 4)]
ARG_NAMES = {
    "matrix": ["x", "W", "A", "data", "X"],
    "vector": ["w", "b", "v", "y", "theta"],
    "float": ["s", "alpha", "scale", "t", "lam"],
    "list": ["xs", "layers", "terms"],
    "dict": ["params", "p", "weights"],
    "tuple": ["pair", "wb"],
    "int": ["n", "steps"],
    "bool": ["flag", "training"],
}
FUNCTION_NAMES = ["f", "f", "loss", "objective", "model", "energy", "fn"]


def weighted(r: random.Random, table):
    """A key of ``table`` (a dict or a list of (value, weight) pairs) drawn by weight."""
    items = list(table.items()) if isinstance(table, dict) else list(table)
    total = sum(w for _, w in items)
    pick = r.uniform(0, total)
    for value, w in items:
        pick -= w
        if pick <= 0:
            return value
    return items[-1][0]


@dataclasses.dataclass
class ArgSpec:
    """One positional parameter of a generated function and how its values are drawn."""
    name: str
    kind: str                       # float, array, list, tuple, dict, int, bool
    shape: tuple = ()
    dtype: str = "float64"
    items: list | None = None       # containers: [(key, ArgSpec)]
    constant: object = None         # int and bool parameters: the value always passed

    @property
    def differentiable(self) -> bool:
        """Whether gradients are taken w.r.t. this parameter."""
        return self.kind not in ("int", "bool")

    def make(self, rng: np.random.Generator, dims: dict | None = None):
        """A value for this parameter. ``dims`` maps axis sizes to other sizes (shape variants)."""
        if self.kind == "float":
            return float(rng.uniform(-1.5, 1.5))
        if self.kind == "array":
            shape = tuple((dims or {}).get(d, d) for d in self.shape)
            return rng.standard_normal(shape).astype(self.dtype)
        if self.kind in ("int", "bool"):
            return self.constant
        values = [spec.make(rng, dims) for _, spec in self.items]
        if self.kind == "list":
            return values
        if self.kind == "tuple":
            return tuple(values)
        return {key: value for (key, _), value in zip(self.items, values)}

    def describe(self) -> str:
        """Short text of the parameter's kind, e.g. ``array(3, 4) float32``."""
        if self.kind == "array":
            return "array%s %s" % (self.shape, self.dtype)
        if self.kind in ("list", "tuple", "dict"):
            return "%s[%s]" % (self.kind, ", ".join("%s: %s" % (k, s.describe()) for k, s in self.items))
        if self.kind in ("int", "bool"):
            return "%s = %r" % (self.kind, self.constant)
        return self.kind


def choose_signature(r: random.Random) -> list[ArgSpec]:
    """The parameters of a generated function: arrays, floats, containers of arrays, ints."""
    count = weighted(r, {1: 2, 2: 4, 3: 3, 4: 1})
    float32 = r.random() < 0.1
    specs: list[ArgSpec] = []
    taken: set = set()

    def name_for(role):
        options = [n for n in ARG_NAMES[role] if n not in taken]
        name = r.choice(options) if options else "%s%d" % (ARG_NAMES[role][0], len(taken))
        taken.add(name)
        return name

    def array_spec(name, role, dtype):
        shape = weighted(r, MATRIX_SHAPES if role == "matrix" else VECTOR_SHAPES)
        return ArgSpec(name, "array", shape, dtype)

    for k in range(count):
        role = weighted(r, {"matrix": 30, "vector": 24, "float": 22, "list": 8, "dict": 7, "tuple": 4,
                            "int": 3, "bool": 2})
        if k == 0 and role in ("int", "bool"):
            role = "matrix"
        name = name_for(role)
        dtype = "float32" if float32 or r.random() < 0.03 else "float64"
        if role in ("matrix", "vector"):
            specs.append(array_spec(name, role, dtype))
        elif role == "float":
            specs.append(ArgSpec(name, "float"))
        elif role == "list":
            style = weighted(r, {"broadcast": 4, "same": 4, "mixed": 2})
            size = r.choice([2, 3])
            if style == "same":
                shape = r.choice([(4,), (3, 4), (3,)])
                items = [(i, ArgSpec("%s[%d]" % (name, i), "array", shape, dtype)) for i in range(size)]
            elif style == "broadcast":
                shapes = [(3, 4)] + [r.choice([(4,), (1, 4), (3, 1), (3, 4)]) for _ in range(size - 1)]
                r.shuffle(shapes)
                items = [(i, ArgSpec("%s[%d]" % (name, i), "array", s, dtype)) for i, s in enumerate(shapes)]
            else:
                items = [(0, ArgSpec(name + "[0]", "array", r.choice([(4,), (3, 4)]), dtype)),
                         (1, ArgSpec(name + "[1]", "float"))]
            specs.append(ArgSpec(name, "list", items=items))
        elif role == "dict":
            keys = r.sample(["w", "b", "W", "scale", "bias"], r.choice([2, 2, 3]))
            items = []
            for key in keys:
                if key == "W":
                    items.append((key, ArgSpec("%s[%r]" % (name, key), "array", (3, 4), dtype)))
                elif key in ("scale", "bias") or r.random() < 0.3:
                    items.append((key, ArgSpec("%s[%r]" % (name, key), "float")))
                else:
                    items.append((key, ArgSpec("%s[%r]" % (name, key), "array", r.choice([(4,), (3, 1), (3,)]),
                                               dtype)))
            specs.append(ArgSpec(name, "dict", items=items))
        elif role == "tuple":
            first = ArgSpec(name + "[0]", "array", r.choice([(3, 4), (4,)]), dtype)
            second = r.choice([ArgSpec(name + "[1]", "float"), ArgSpec(name + "[1]", "array", (4,), dtype)])
            specs.append(ArgSpec(name, "tuple", items=[(0, first), (1, second)]))
        elif role == "int":
            specs.append(ArgSpec(name, "int", constant=r.choice([2, 3])))
        else:
            specs.append(ArgSpec(name, "bool", constant=r.choice([True, False])))
    return specs


def make_args_for(specs: list[ArgSpec], rng: np.random.Generator, dims: dict | None = None) -> list:
    """One value for each parameter in ``specs``."""
    return [spec.make(rng, dims) for spec in specs]


# ---------------------------------------------------------------------------------------------
# Program generation
# ---------------------------------------------------------------------------------------------

class Reject(Exception):
    """A candidate expression or statement that does not run, or not as required."""


RESERVED = {"np", "math", "sum", "max", "min", "abs", "len", "range", "float", "int", "list", "dict", "tuple",
            "zip", "enumerate", "reversed", "sorted", "any", "all", "map", "print", "round", "pow", "True",
            "False", "None", "and", "or", "not", "if", "else", "for", "in", "is", "def", "return", "lambda",
            "while", "break", "continue", "pass", "del", "global", "import", "from", "as", "with", "elif"}
LOCAL_NAMES = ["h", "z", "u", "out", "tmp", "r", "m", "e", "g", "q", "acc", "total", "res", "hidden", "act",
               "diff", "c", "score", "mid", "scaled", "shifted", "part", "base", "feat", "o", "k1", "y2"]
LITERALS = [("0.5", 5), ("2.0", 5), ("1.5", 3), ("(-1.0)", 2), ("3.0", 2), ("0.1", 3), ("(-0.5)", 2), ("0.25", 2),
            ("2", 2), ("1.0", 2)]
# (template, weight, needs a scalar operand)
UNARY = [
    ("np.sin({a})", 6, False), ("np.cos({a})", 4, False), ("np.tanh({a})", 6, False), ("np.exp({a})", 4, False),
    ("np.exp(-({a}) ** 2)", 2, False), ("np.log(({a}) ** 2 + 1.0)", 4, False), ("np.log(np.abs({a}) + 1.0)", 2, False),
    ("np.log1p(({a}) ** 2)", 2, False), ("np.sqrt(({a}) ** 2 + 1.0)", 4, False), ("np.sqrt(np.abs({a}) + 0.5)", 1, False),
    ("({a}) ** 2", 6, False), ("({a}) ** 3", 2, False), ("({a}) * ({a})", 2, False), ("abs({a})", 2, False),
    ("np.abs({a})", 3, False), ("-({a})", 3, False), ("+({a})", 1, False), ("(({a}) ** 2 + 1.0) ** (-1.5)", 2, False),
    ("(-2.0) ** 2 * ({a})", 1, False), ("({a}) ** 2.0", 1, False), ("2.0 ** ({a})", 1, False),
    ("np.square({a})", 2, False), ("1.0 / (1.0 + np.exp(-({a})))", 3, False), ("np.maximum({a}, 0.0)", 4, False),
    ("np.minimum({a}, 1.0)", 1, False), ("np.clip({a}, -1.0, 1.0)", 2, False), ("np.log(1.0 + np.exp({a}))", 2, False),
    ("np.arctan({a})", 1, False), ("np.sinh({a})", 1, False), ("np.cosh({a})", 1, False),
    ("np.where(({a}) > 0, {a}, 0.1 * ({a}))", 3, False), ("({a}) / 2.0", 2, False), ("0.5 * ({a})", 3, False),
    ("({a}) * 3", 1, False), ("({a}) - 1.0", 2, False), ("1.0 - ({a})", 1, False), ("np.power({a}, 2)", 1, False),
    ("(({a}) ** 2 + 1.0) ** 0.5", 1, False), ("1.0 / (({a}) ** 2 + 1.0)", 2, False), ("np.negative({a})", 1, False),
    ("math.sin({a})", 2, True), ("math.exp({a})", 1, True), ("math.sqrt(({a}) ** 2 + 1.0)", 1, True),
    ("math.tanh({a})", 1, True), ("float({a})", 2, True), ("math.log(({a}) ** 2 + 1.0)", 1, True),
]
BINARY = [
    ("{a} + {b}", 10), ("{a} - {b}", 6), ("{a} * {b}", 10), ("{a} / (({b}) ** 2 + 1.0)", 3), ("{a} / 2.0 + {b}", 1),
    ("np.maximum({a}, {b})", 3), ("np.minimum({a}, {b})", 2), ("np.where({a} > {b}, {a}, {b})", 2),
    ("np.where({a} > 0, {b}, 2.0 * ({b}))", 2), ("np.hypot({a}, {b})", 1), ("np.add({a}, {b})", 1),
    ("np.multiply({a}, {b})", 1), ("0.5 * ({a}) + 0.5 * ({b})", 1), ("np.arctan2({a}, ({b}) ** 2 + 1.0)", 1),
    ("{a} * np.tanh({b})", 2), ("({a} - {b}) ** 2", 3),
]
REDUCTIONS = [("sum", 8), ("mean", 5), ("max", 3), ("min", 2), ("prod", 1), ("var", 1), ("std", 1)]
NUMERIC_LIMIT = 1e3


def is_float_value(v) -> bool:
    """A float-valued number or array (the values expressions are built from)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (float, np.floating)):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size > 0


def acceptable(v) -> bool:
    """A float value of reasonable size and magnitude, finite, not empty."""
    if not is_float_value(v):
        return False
    a = np.asarray(v)
    if a.size > 60 or a.ndim > 3:
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(a)) and np.max(np.abs(a)) < NUMERIC_LIMIT)


def kind_signature(v):
    """What must agree between samples for generated code to keep running: types and shapes."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, np.generic):
        return ("npscalar", v.dtype.str)
    if isinstance(v, np.ndarray):
        return ("array", v.shape, v.dtype.str)
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(kind_signature(e) for e in v))
    if isinstance(v, dict):
        return ("dict", tuple((k, kind_signature(e)) for k, e in v.items()))
    if callable(v):
        return "callable"
    return type(v).__name__


def names_in(code: str) -> set:
    """Identifiers mentioned in ``code`` (approximate: also attribute names)."""
    return set(re.findall(r"[A-Za-z_]\w*", code))


def indent(text: str, levels: int = 1) -> str:
    """``text`` indented by ``levels`` * 4 spaces."""
    pad = "    " * levels
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())


def count_statements(text: str) -> int:
    """Number of statements (simple and compound, at any depth) in a block of source."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0
    return sum(isinstance(n, ast.stmt) for n in ast.walk(tree))


PROBE_KEY = "__differential_probe__"


class ProgramBuilder:
    """Builds one program statement by statement. Every candidate statement is tried by running
    the function so far on three argument samples (real Python semantics: closures, loops,
    aliasing); a candidate that raises, leaves non-finite values or makes the samples disagree
    on types or shapes is dropped and another one drawn. So generated programs run."""

    MAX_STATEMENTS = 15

    def __init__(self, seed: int, attempt: int = 0):
        self.seed = seed
        self.r = random.Random(seed * 1009 + attempt)
        self.specs = choose_signature(self.r)
        self.fname = self.r.choice(FUNCTION_NAMES)
        self.defaults: list[tuple[str, str]] = []
        if self.r.random() < 0.12:
            self.defaults.append((self.r.choice(["eps", "gamma", "decay"]), self.r.choice(["0.5", "0.001", "2.0"])))
        self.samples = [make_args_for(self.specs, np.random.default_rng([seed, attempt, k])) for k in range(3)]
        self.module_blocks: list[str] = []
        self.body: list[str] = []
        self.features: list[str] = []
        self.active = {s.name for s in self.specs if s.differentiable}
        self.reads: dict[str, int] = {}
        self.scope: dict = {}
        self.module_ns: dict = {}
        self.depth_limit = 2
        self.prefer_shape = None
        self.loop_vars: list[str] = []
        env = self.probe("pass")
        if env is None:
            raise Reject("the empty function does not run")
        self.scope, self.module_ns = env

    # ---- rendering and probing ------------------------------------------------------------

    @property
    def arg_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def render(self, body: list[str], module_blocks: list[str] | None = None) -> str:
        """Module source: imports, module-level helpers, and the function with ``body``."""
        params = ", ".join(self.arg_names + ["%s=%s" % d for d in self.defaults])
        blocks = module_blocks if module_blocks is not None else self.module_blocks
        text = "import math\n\nimport numpy as np\n\n"
        for block in blocks:
            text += "\n" + block + "\n\n"
        text += "\ndef %s(%s):\n%s\n" % (self.fname, params, indent("\n".join(body) or "pass"))
        return text

    def probe(self, block: str, module_block: str | None = None):
        """Run the function with ``block`` appended on every sample; return (locals, module
        namespace) at the end of the block for the first sample that reaches it, or None when
        the candidate is not acceptable."""
        modules = self.module_blocks + ([module_block] if module_block else [])
        src = self.render(self.body + [block, "return (%r, locals())" % PROBE_KEY], modules)
        ns: dict = {}
        try:
            exec(compile(src, "<probe>", "exec"), ns)
        except Exception:
            return None
        fn = ns[self.fname]
        envs = []
        for args in self.samples:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                        out = fn(*copy.deepcopy(args))
            except Exception:
                return None
            if isinstance(out, tuple) and len(out) == 2 and out[0] == PROBE_KEY:
                envs.append(out[1])
            elif not (isinstance(out, (float, np.floating)) and np.isfinite(out) and abs(out) < 1e6):
                return None
        reached = [e for e in envs if e is not None]
        if not reached:
            return None
        for name, value in reached[0].items():
            if is_float_value(value) and not acceptable(value):
                return None
            if isinstance(value, (list, tuple)) and any(is_float_value(v) and not acceptable(v) for v in value):
                return None
            for other in reached[1:]:
                if name in other and kind_signature(other[name]) != kind_signature(value):
                    return None
        return reached[0], ns

    # ---- names -----------------------------------------------------------------------------

    def taken(self) -> set:
        return set(self.scope) | set(self.module_ns) | RESERVED | set(self.arg_names) | {d[0] for d in self.defaults}

    def fresh(self, pool=None, extra_taken=()) -> str:
        """An unused local name, from ``pool`` when one is free."""
        taken = self.taken() | set(extra_taken)
        options = [n for n in (pool or LOCAL_NAMES) if n not in taken]
        if options and self.r.random() < 0.85:
            return self.r.choice(options)
        for k in itertools.count(1):
            name = "v%d" % k
            if name not in taken:
                return name

    def numeric_names(self, shape=None) -> list[str]:
        """Names of float values in scope (and numeric module constants), optionally of a shape."""
        out = []
        for name, value in sorted(self.scope.items()):
            if name.startswith("__") or not is_float_value(value):
                continue
            if shape is None or np.shape(value) == shape:
                out.append(name)
        for name, value in sorted(self.module_ns.items()):
            if name.isupper() and is_float_value(value) and (shape is None or np.shape(value) == shape):
                out.append(name)
        return out

    def names_of(self, test) -> list[str]:
        """Names in scope whose value satisfies ``test``."""
        return [n for n, v in sorted(self.scope.items()) if not n.startswith("__") and test(v)]

    def callables(self) -> list[str]:
        names = [n for n, v in sorted(self.scope.items()) if callable(v) and not isinstance(v, type)
                 and not n.startswith("__") and getattr(v, "__module__", None) is None]
        names += [n for n, v in sorted(self.module_ns.items()) if callable(v) and not n.startswith("__")
                  and getattr(v, "__module__", "") is None and n != self.fname]
        return names

    def eval(self, code: str):
        """Value of ``code`` in the current scope (Reject when it raises or warns)."""
        ns = dict(self.module_ns)
        ns.update(self.scope)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                    return eval(code, ns)
        except Exception as exc:
            raise Reject(str(exc)) from None

    def simulate(self, stmt: str) -> None:
        """Execute a simple statement in the current scope (to know the values after it)."""
        ns = dict(self.module_ns)
        ns.update(self.scope)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                    exec(stmt, ns)
        except Exception as exc:
            raise Reject(str(exc)) from None
        self.scope = {k: v for k, v in ns.items() if not k.startswith("__") and
                      (k in self.scope or k not in self.module_ns)}

    def mark(self, target: str, code: str) -> None:
        """Record activity: ``target`` depends on the arguments when ``code`` reads an active name."""
        used = names_in(code)
        for n in used:
            self.reads[n] = self.reads.get(n, 0) + 1
        if used & self.active:
            self.active.add(target)

    # ---- expressions -----------------------------------------------------------------------

    def literal(self) -> str:
        return weighted(self.r, LITERALS)

    def leaf(self) -> str:
        """A name of a float value in scope (mostly one depending on the arguments), or a literal."""
        names = self.numeric_names()
        if self.prefer_shape is not None and self.r.random() < 0.5:
            shaped = self.numeric_names(self.prefer_shape)
            if shaped:
                names = shaped
        if names and self.r.random() < 0.88:
            active = [n for n in names if n in self.active]
            pool = active if active and self.r.random() < 0.85 else names
            # names not read yet are preferred: fewer dead intermediates
            fresh = [n for n in pool if not self.reads.get(n)]
            if fresh and self.r.random() < 0.5:
                pool = fresh
            return self.r.choice(pool)
        ints = [n for n in self.loop_vars if isinstance(self.scope.get(n), int) and not isinstance(self.scope.get(n), bool)]
        if ints and self.r.random() < 0.4:
            return "(%s + 1)" % self.r.choice(ints)
        return self.literal()

    def expr(self, depth: int = 0, shape=None, mode: str = "any", scalar: bool = False) -> str:
        """A float expression. ``shape`` with ``mode`` "exact" (the result has that shape) or "fits"
        (it broadcasts to that shape without enlarging it); ``scalar`` asks for a 0-d value."""
        if scalar:
            shape, mode = (), "exact"
        saved = self.prefer_shape
        self.prefer_shape = shape
        try:
            for _ in range(14):
                try:
                    code = self.node(depth)
                    value = self.eval(code)
                except Reject:
                    continue
                if not acceptable(value):
                    continue
                got = np.shape(value)
                if shape is None or mode == "any":
                    return code
                if mode == "exact" and got == shape:
                    return code
                if mode == "fits":
                    try:
                        if np.broadcast_shapes(got, shape) == shape:
                            return code
                    except ValueError:
                        pass
        finally:
            self.prefer_shape = saved
        return self.fallback(shape, mode)

    def fallback(self, shape, mode) -> str:
        """A simple expression of the requested shape."""
        if shape is None or mode == "any" or mode == "fits" and self.r.random() < 0.5:
            names = self.numeric_names(shape) if shape is not None else self.numeric_names()
            if names:
                return "%s * %s" % (self.r.choice(names), self.literal())
            return self.literal()
        names = self.numeric_names(shape)
        if names:
            return "%s * %s" % (self.r.choice(names), self.literal())
        if shape == ():
            return self.literal()
        if mode == "fits":
            return self.literal()
        return "np.full(%r, %s)" % (shape, self.literal())

    def node(self, depth: int) -> str:
        """One random expression node (operands generated recursively)."""
        if depth >= self.depth_limit or self.r.random() < 0.22 + 0.22 * depth:
            return self.leaf()
        options = {"unary": 26, "binary": 30, "reduce": 11, "index": 11, "matmul": 4, "ifexp": 2, "shape": 3,
                   "mask": 2}
        if self.callables():
            options["call"] = 6
        if self.names_of(lambda v: isinstance(v, (list, tuple, dict)) and v):
            options["container"] = 8
        if self.names_of(lambda v: isinstance(v, (list, tuple)) or isinstance(v, np.ndarray) and v.ndim >= 1):
            options["comp"] = 3
        choice = weighted(self.r, options)
        return getattr(self, "node_" + choice)(depth)

    def operand(self, depth: int) -> tuple[str, object]:
        code = self.node(depth + 1)
        return code, self.eval(code)

    def node_unary(self, depth):
        code, value = self.operand(depth)
        scalar = np.ndim(value) == 0
        table = [(t, w) for t, w, needs_scalar in UNARY if scalar or not needs_scalar]
        return weighted(self.r, table).format(a=code)

    def node_binary(self, depth):
        a, va = self.operand(depth)
        for _ in range(4):
            b, vb = self.operand(depth)
            try:
                shape = np.broadcast_shapes(np.shape(va), np.shape(vb))
            except ValueError:
                continue
            if int(np.prod(shape)) <= 48:
                break
        else:
            b = self.literal()
        if self.r.random() < 0.5:
            a, b = b, a
        return weighted(self.r, BINARY).format(a="(%s)" % a, b="(%s)" % b)

    def node_reduce(self, depth):
        a, va = self.operand(depth)
        nd = np.ndim(va)
        fn = weighted(self.r, REDUCTIONS)
        if nd == 0:
            return "np.%s(%s)" % (fn, a) if fn in ("sum", "mean", "max", "min") else "np.tanh(%s)" % a
        if fn in ("var", "std") and np.size(va) < 2:
            fn = "sum"
        axis = None
        if self.r.random() < 0.55:
            axis = self.r.randrange(-nd, nd)
        keep = axis is not None and self.r.random() < 0.35
        args = ""
        if axis is not None:
            args += "axis=%d" % axis
            if keep:
                args += ", keepdims=True"
        form = self.r.random()
        if form < 0.6:
            return "np.%s(%s%s)" % (fn, a, ", " + args if args else "")
        if form < 0.9:
            return "(%s).%s(%s)" % (a, fn, args)
        if nd == 1 and fn in ("sum", "max", "min"):
            return "%s(%s)" % (fn, a)  # builtin over the entries of a vector
        if axis is None:
            return "np.linalg.norm(%s)" % a
        return "np.cumsum(%s, axis=%d)" % (a, axis)

    def index_options(self, shape: tuple, write: bool = False) -> list[str]:
        """Index expressions (with brackets) valid for an array of ``shape``."""
        nd = len(shape)
        if nd == 0:
            return []
        r = self.r
        n0 = shape[0]
        opts = ["[%d]" % r.randrange(n0), "[%d]" % -r.randint(1, n0), "[1:]", "[:-1]", "[::2]", "[::-1]",
                "[%d:%d]" % (0, max(1, n0 - 1)), "[[0, %d]]" % (n0 - 1), "[...]"]
        if n0 >= 2:
            opts += ["[[1, 0, 1]]"]
        if not write:
            opts += ["[None]", "[..., None]", "[:, None]" if nd >= 1 else "[None]"]
        if nd >= 2:
            n1 = shape[1]
            i, j = r.randrange(n0), r.randrange(n1)
            opts += ["[%d, %d]" % (i, j), "[:, %d]" % j, "[%d, :]" % i, "[1:, :%d]" % max(1, n1 - 1), "[..., %d]" % j,
                     "[:, [0, %d]]" % (n1 - 1), "[%d, -1]" % i, "[:, ::-1]", "[-1, 1:]", "[:, -1]"]
            if not write:
                opts += ["[:, None, :]"]
        return opts

    def array_operand(self, depth, min_ndim=1) -> tuple[str, object]:
        """An array-valued operand, mostly a name (users index names)."""
        names = [n for n in self.numeric_names() if np.ndim(self.eval(n)) >= min_ndim]
        if names and self.r.random() < 0.75:
            active = [n for n in names if n in self.active]
            name = self.r.choice(active if active and self.r.random() < 0.8 else names)
            return name, self.eval(name)
        code, value = self.operand(depth)
        if np.ndim(value) < min_ndim:
            raise Reject("not an array")
        return "(%s)" % code, value

    def node_index(self, depth):
        a, va = self.array_operand(depth)
        shape = np.shape(va)
        r = self.r.random()
        if r < 0.75:
            return a + self.r.choice(self.index_options(shape))
        if r < 0.82:
            return "%s.flat[%d]" % (a, self.r.randrange(np.size(va)))
        if r < 0.88:
            return "%s.ravel()[%d]" % (a, self.r.randrange(np.size(va)))
        if len(shape) >= 2 and r < 0.94:
            return self.r.choice(["%s.T", "np.transpose(%s)", "%s.reshape(%d, %d)" % ("%s", shape[1], shape[0])]) % a
        return self.r.choice(["%s.reshape(-1)", "%s.ravel()", "np.expand_dims(%s, 0)", "%s.flatten()",
                              "np.squeeze(%s)" if 1 in shape else "%s.reshape(-1)"]) % a

    def node_mask(self, depth):
        a, va = self.array_operand(depth)
        cond = self.r.choice(["%s > 0", "%s < 0.5", "np.abs(%s) > 0.3"]) % a
        fn = self.r.choice(["np.sum(%s)", "(%s).sum()", "np.sum((%s) ** 2)"])
        return fn % ("%s[%s]" % (a, cond))

    def node_matmul(self, depth):
        arrays = [(n, self.eval(n)) for n in self.numeric_names() if np.ndim(self.eval(n)) in (1, 2)]
        pairs = []
        for (n1, v1), (n2, v2) in itertools.product(arrays, arrays):
            if v1.shape[-1] == v2.shape[0] and (v1.ndim == 2 or v2.ndim == 2 or n1 != n2 or True):
                pairs.append((n1, n2))
        for n, v in arrays:
            if v.ndim == 2:
                pairs.append((n, n + ".T"))
                pairs.append((n + ".T", n))
        if not pairs:
            raise Reject("no operands for a matrix product")
        a, b = self.r.choice(pairs)
        form = self.r.choice(["{a} @ {b}", "{a} @ {b}", "np.dot({a}, {b})", "{a}.dot({b})", "np.matmul({a}, {b})"])
        if a.endswith(".T") and form.startswith("{a}."):
            form = "{a} @ {b}"
        vectors = [n for n, v in arrays if v.ndim == 1]
        if len(vectors) >= 1 and self.r.random() < 0.15:
            return "np.outer(%s, %s)" % (self.r.choice(vectors), self.r.choice(vectors))
        return form.format(a=a, b=b)

    def node_ifexp(self, depth):
        a, va = self.operand(depth)
        b = self.expr(depth + 1, shape=np.shape(va), mode="exact")
        return "(%s if %s else %s)" % (a, self.condition(), b)

    def node_shape(self, depth):
        a, va = self.array_operand(depth)
        shape = np.shape(va)
        same = [n for n in self.numeric_names(shape)]
        b = self.r.choice(same) if same and self.r.random() < 0.7 else "(%s * 2.0)" % a
        if len(shape) == 1 and self.r.random() < 0.5:
            others = [n for n in self.numeric_names() if np.ndim(self.eval(n)) == 1]
            b = self.r.choice(others) if others else b
            return "np.concatenate([%s, %s])" % (a, b)
        return self.r.choice(["np.stack([%s, %s])", "np.concatenate([%s, %s])", "np.stack([%s, %s], axis=-1)",
                              "np.concatenate([%s, %s], axis=-1)"]) % (a, b)

    def node_call(self, depth):
        name = self.r.choice(self.callables())
        fn = self.scope.get(name, self.module_ns.get(name))
        try:
            import inspect
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            raise Reject("no signature")
        parts = []
        keyword = False
        for p in params:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            if p.default is p.empty:
                arg = self.expr(depth + 1)
                if self.r.random() < 0.15:
                    parts.append("%s=%s" % (p.name, arg))
                    keyword = True
                elif keyword:
                    parts.append("%s=%s" % (p.name, arg))
                else:
                    parts.append(arg)
            else:
                choice = self.r.random()
                if choice < 0.45:
                    keyword = True
                    continue
                arg = self.expr(depth + 1) if self.r.random() < 0.6 else self.literal()
                if choice < 0.75 or keyword:
                    parts.append("%s=%s" % (p.name, arg))
                    keyword = True
                else:
                    parts.append(arg)
        code = "%s(%s)" % (name, ", ".join(parts))
        value = self.eval(code)
        if isinstance(value, tuple) and value and is_float_value(value[0]):
            return code + "[%d]" % self.r.randrange(len(value))
        return code

    def node_container(self, depth):
        names = self.names_of(lambda v: isinstance(v, (list, tuple, dict)) and v)
        name = self.r.choice(names)
        value = self.scope[name]
        if isinstance(value, dict):
            keys = [k for k, v in value.items() if is_float_value(v)]
            if not keys:
                raise Reject("no float entries")
            key = self.r.choice(keys)
            form = self.r.random()
            if form < 0.7:
                return "%s[%r]" % (name, key)
            if form < 0.85:
                return "%s.get(%r, 0.0)" % (name, key)
            return "sum(%s.values())" % name
        n = len(value)
        form = self.r.random()
        if form < 0.55:
            i = self.r.randrange(n)
            return "%s[%d]" % (name, i if self.r.random() < 0.7 else i - n)
        if form < 0.75:
            return "sum(%s)" % name
        if form < 0.88:
            return "%s[0] * %s[-1]" % (name, name)
        return "%s[%d] + %s[%d]" % (name, self.r.randrange(n), name, self.r.randrange(n))

    def iterable(self):
        """(source code, sample element) of something a loop or a comprehension can run over."""
        options = []
        for name in self.names_of(lambda v: isinstance(v, np.ndarray) and v.ndim >= 1 and v.dtype.kind == "f"
                                  and 1 < v.shape[0] <= 5):
            options.append((name, self.scope[name][0]))
        for name in self.names_of(lambda v: isinstance(v, (list, tuple)) and v and all(
                is_float_value(e) for e in v)):
            options.append((name, self.scope[name][0]))
        for name in self.names_of(lambda v: isinstance(v, dict) and v and all(is_float_value(e) for e in v.values())):
            options.append(("%s.values()" % name, next(iter(self.scope[name].values()))))
        if not options:
            raise Reject("nothing to iterate over")
        return self.r.choice(options)

    def node_comp(self, depth):
        src, element = self.iterable()
        var = self.fresh(["r", "row", "item", "v", "e", "a_i", "p"])
        saved_scope = self.scope
        self.scope = dict(self.scope)
        self.scope[var] = element
        if names_in(src) & self.active:
            self.active.add(var)
        try:
            inner = None
            for _ in range(6):
                candidate = self.expr(depth + 1)
                if var in names_in(candidate):
                    inner = candidate
                    break
            if inner is None:
                inner = "np.sum(%s)" % var
            inner_scalar = "np.sum(%s)" % inner if np.ndim(self.eval(inner)) else inner
        finally:
            self.scope = saved_scope
        form = self.r.choice(["sum({e} for {v} in {s})", "sum([{e} for {v} in {s}])", "max({es} for {v} in {s})",
                              "min({es} for {v} in {s})", "np.sum([{es} for {v} in {s}])",
                              "np.stack([{e} for {v} in {s}])", "sum({es} for {v} in {s})"])
        return form.format(e=inner, es=inner_scalar, v=var, s=src)

    def condition(self, data: bool | None = None) -> str:
        """A condition for an ``if``/``while``/conditional expression (on data or constant)."""
        r = self.r
        if data is None:
            data = r.random() < 0.7
        if not data:
            flags = self.names_of(lambda v: isinstance(v, bool))
            options = ["True", "1.0", "1", "not False", "3 > 2"]
            if flags:
                options += [r.choice(flags), "not " + r.choice(flags)]
            ints = [n for n in self.loop_vars if isinstance(self.scope.get(n), int)]
            if ints:
                i = r.choice(ints)
                options += ["%s %% 2 == 0" % i, "%s > 0" % i, "%s == 1" % i, "%s < 2" % i]
            return r.choice(options)
        names = self.numeric_names()
        active = [n for n in names if n in self.active] or names
        if not active:
            return "True"
        a = r.choice(active)
        scalar = np.ndim(self.eval(a)) == 0
        form = r.choice(["np.sum({a}) > 0.0", "np.mean({a}) < 0.5", "np.max({a}) > 1.0", "{a}.sum() > 0",
                         "np.sum({a} ** 2) < 3.0"] + (["{a} > 0.0", "{a} < 0.5", "abs({a}) > 0.2"] if scalar else []))
        cond = form.format(a=a)
        if r.random() < 0.2:
            other = self.condition(r.random() < 0.5)
            cond = "%s %s %s" % (cond, r.choice(["and", "or"]), other)
        elif r.random() < 0.05:
            cond = "not " + cond if not cond.startswith("not") else cond
        return cond

    # ---- statements ------------------------------------------------------------------------

    class _Sandbox:
        """Saves the builder's scope and bookkeeping; restores them on exit (statements are
        generated against simulated values, then accepted or dropped as a whole)."""

        def __init__(self, builder):
            self.b = builder

        def __enter__(self):
            b = self.b
            self.saved = (b.scope, set(b.active), dict(b.reads), list(b.loop_vars), b.depth_limit)
            b.scope = dict(b.scope)
            return self

        def __exit__(self, *exc):
            b = self.b
            b.scope, b.active, b.reads, b.loop_vars, b.depth_limit = self.saved
            return False

    def sandbox(self):
        return ProgramBuilder._Sandbox(self)

    def local_floats(self, ndim_min=0, allow_args=False, scalars=True) -> list[str]:
        """Names of float values that are locals (arguments only when ``allow_args``)."""
        out = []
        for name, value in sorted(self.scope.items()):
            if name.startswith("__") or not is_float_value(value) or name in self.loop_vars:
                continue
            if name in self.arg_names and not allow_args:
                continue
            if np.ndim(value) < ndim_min or (not scalars and np.ndim(value) == 0):
                continue
            out.append(name)
        return out

    def pick_active(self, names: list[str]) -> str:
        active = [n for n in names if n in self.active]
        return self.r.choice(active if active and self.r.random() < 0.8 else names)

    def assign(self, target: str, rhs: str, lines: list[str], marks: list) -> None:
        """Append ``target = rhs`` to ``lines`` after simulating it."""
        stmt = "%s = %s" % (target, rhs)
        self.simulate(stmt)
        self.mark(target, rhs)
        marks.append((target, rhs))
        lines.append(stmt)

    def stmt_assign(self):
        marks, lines = [], []
        locals_ = self.local_floats()
        if locals_ and self.r.random() < 0.15:
            target = self.pick_active(locals_)
            feature = "assign:rebind"
        else:
            target = self.fresh()
            feature = "assign"
        self.assign(target, self.expr(0), lines, marks)
        return lines, marks, feature

    def write_stmt(self, name: str, lines: list[str], marks: list, index_var: str | None = None) -> None:
        """A subscript write (``=``, ``+=``, ...) into array ``name``; appended to ``lines``."""
        value = self.scope[name]
        shape = np.shape(value)
        r = self.r
        choice = r.random()
        if index_var is not None and choice < 0.7:
            n0 = shape[0]
            if len(shape) >= 2 and r.random() < 0.3:
                idx = r.choice(["[%s, :]", "[:, %s]" if shape[1] > n0 - 1 else "[%s, :]", "[%s, 0]", "[%s]"]) % index_var
            else:
                idx = "[%s]" % index_var
            target = name + idx
        elif choice < 0.12:
            cond = r.choice(["%s > 0", "%s < 0.5", "np.abs(%s) > 1.0"]) % name
            form = r.choice(["{t}[{c}] = 0.0", "{t}[{c}] *= 0.5", "{t}[{c}] = {t}[{c}] ** 2", "{t}[{c}] += 1.0"])
            stmt = form.format(t=name, c=cond)
            self.simulate(stmt)
            lines.append(stmt)
            return
        elif choice < 0.2:
            target = "%s.flat[%d]" % (name, r.randrange(np.size(value)))
        else:
            target = name + r.choice(self.index_options(shape, write=True))
        tshape = np.shape(self.eval(target))
        op = weighted(r, {"=": 5, "+=": 4, "-=": 1, "*=": 2, "/=": 1})
        if op == "/=":
            rhs = r.choice(["2.0", "(%s) ** 2 + 1.0" % self.expr(1, shape=tshape, mode="fits")])
        else:
            rhs = self.expr(1, shape=tshape, mode="fits")
        stmt = "%s %s %s" % (target, op, rhs)
        self.simulate(stmt)
        self.mark(name, rhs)
        marks.append((name, rhs))
        lines.append(stmt)

    def stmt_copy_write(self):
        r = self.r
        sources = [n for n in self.numeric_names() if np.ndim(self.scope.get(n, 0)) >= 1 and n in self.scope]
        if not sources:
            raise Reject("no arrays to copy")
        src = self.pick_active(sources)
        shape = np.shape(self.scope[src])
        form = weighted(r, {"{a}.copy()": 6, "{a} * 1.0": 4, "np.copy({a})": 2, "np.array({a})": 2, "{a} + 0.0": 1,
                            "1.0 * {a}": 1, "{a}[:]": 1.5, "{a}": 1.5, "np.asarray({a})": 1, "np.zeros_like({a})": 2,
                            "np.ones_like({a}) * 0.5": 1, "np.zeros(%r)" % (shape,): 1,
                            "{a}.astype(np.float64)": 1, "{a}.reshape(-1)": 0.7})
        name = self.fresh(["y", "out", "buf", "z", "c", "new", "upd", "cp"])
        lines, marks = [], []
        self.assign(name, form.format(a=src), lines, marks)
        index_var = None
        for _ in range(r.choice([1, 1, 2, 3])):
            self.write_stmt(name, lines, marks, index_var)
        if r.random() < 0.3:
            op = r.choice(["+=", "*=", "-="])
            rhs = self.expr(1, shape=np.shape(self.scope[name]), mode="fits")
            stmt = "%s %s %s" % (name, op, rhs)
            self.simulate(stmt)
            self.mark(name, rhs)
            marks.append((name, rhs))
            lines.append(stmt)
        kind = {"{a}[:]": "view", "{a}": "alias", "np.asarray({a})": "alias", "{a}.reshape(-1)": "view"}.get(form, "copy")
        return lines, marks, "copy_write:" + kind

    def stmt_write(self):
        arrays = self.local_floats(ndim_min=1, allow_args=self.r.random() < 0.15)
        if not arrays:
            raise Reject("no arrays to write into")
        name = self.pick_active(arrays)
        lines, marks = [], []
        for _ in range(self.r.choice([1, 1, 2])):
            self.write_stmt(name, lines, marks)
        return lines, marks, "write" + (":arg" if name in self.arg_names else "")

    def stmt_augassign(self):
        r = self.r
        names = self.local_floats(allow_args=r.random() < 0.15)
        if not names:
            raise Reject("nothing to update")
        name = self.pick_active(names)
        shape = np.shape(self.scope[name])
        op = weighted(r, {"+=": 5, "-=": 2, "*=": 3, "/=": 2, "**=": 0.5})
        if op == "/=":
            rhs = r.choice(["2.0", "(%s) ** 2 + 1.0" % self.expr(1, shape=shape, mode="fits")])
        elif op == "**=":
            rhs = "2"
        else:
            rhs = self.expr(1, shape=shape, mode="fits")
        lines, marks = [], []
        stmt = "%s %s %s" % (name, op, rhs)
        self.simulate(stmt)
        self.mark(name, rhs)
        marks.append((name, rhs))
        lines.append(stmt)
        return lines, marks, "augassign:" + ("arg" if name in self.arg_names else "array" if shape else "scalar")

    def stmt_self_assign(self):
        names = [n for n in self.numeric_names() if n in self.scope]
        if not names:
            raise Reject("no names")
        a = self.pick_active(names)
        r = self.r
        if len(names) >= 2 and r.random() < 0.25:
            b = r.choice([n for n in names if n != a])
            return ["%s, %s = %s, %s" % (a, b, b, a)], [(a, b), (b, a)], "self_assign:swap"
        form = r.choice(["{a} = {a}", "{a} = +{a}", "{a} = ({a})", "{a} = {a}\n{a} = {a} * 1.0"])
        return form.format(a=a).split("\n"), [], "self_assign"

    def stmt_rebind_kind(self):
        r = self.r
        names = [n for n in self.local_floats(ndim_min=1, allow_args=r.random() < 0.4)]
        if not names:
            raise Reject("no arrays")
        t = self.pick_active(names)
        lines, marks = [], []
        self.assign(t, r.choice(["float(np.sum({t}))", "np.mean({t})", "{t}.sum()", "float({t}.max())"]).format(t=t),
                    lines, marks)
        if r.random() < 0.6:
            self.assign(t, r.choice(["[{t}, {t} * 2.0]", "[{t}, -{t}, 0.5]", "({t}, {t} ** 2)"]).format(t=t), lines, marks)
            if r.random() < 0.7:
                self.assign(self.fresh(), r.choice(["{t}[0] + {t}[1]", "sum({t})", "{t}[-1] * {t}[0]"]).format(t=t),
                            lines, marks)
        return lines, marks, "rebind_kind"

    def stmt_prologue(self):
        r = self.r
        arrays = [s.name for s in self.specs if s.kind == "array"]
        floats = [s.name for s in self.specs if s.kind == "float"]
        options = []
        for a in arrays:
            options += ["{a} = np.asarray({a})", "{a} = np.array({a}, dtype=float)", "{a} = np.atleast_1d({a})",
                        "{a} = {a}.astype(np.float64)", "{a} = np.asarray({a}, dtype=np.float64)"]
            options = [o.format(a=a) for o in options]
        for s in floats:
            options.append("%s = float(%s)" % (s, s))
        if not options:
            raise Reject("nothing to convert")
        stmt = r.choice(options)
        self.simulate(stmt)
        return [stmt], [], "prologue"

    def loop_header(self):
        """(header text, {loop variable: sample value}, kind) of a ``for`` loop."""
        r = self.r
        kinds = {"range": 8, "rows": 4, "list": 2, "enumerate": 2, "zip": 1.5, "dict": 1, "reuse": 1, "literal": 1.5}
        kind = weighted(r, kinds)
        var = self.fresh(["i", "j", "k", "t", "step", "idx"])
        if kind in ("range", "reuse"):
            if kind == "reuse":
                arrays = self.local_floats(ndim_min=1)
                if not arrays:
                    kind = "range"
                else:
                    var = r.choice(arrays)
            n = r.choice([2, 3, 3, 4])
            firsts = {"range(%d)" % n: 0, "range(1, %d)" % n: 1, "reversed(range(%d))" % n: n - 1,
                      "range(%d, -1, -1)" % (n - 1): n - 1}
            for name in self.names_of(lambda v: isinstance(v, np.ndarray) and v.ndim >= 1 and 1 < v.shape[0] <= 5):
                firsts["range(%s.shape[0])" % name] = 0
                firsts["range(len(%s))" % name] = 0
            for name in self.names_of(lambda v: isinstance(v, (list, tuple)) and len(v) > 1):
                firsts["range(len(%s))" % name] = 0
            for spec in self.specs:
                if spec.kind == "int" and spec.name in self.scope:
                    firsts["range(%s)" % spec.name] = 0
            header = r.choice(sorted(firsts))
            if r.random() < 0.1:
                var = "_"
            return "for %s in %s:" % (var, header), {var: firsts[header]}, "for:" + kind
        if kind == "literal":
            a = self.expr(1)
            b = self.expr(1)
            return "for %s in [%s, %s]:" % (var if var not in "ijk" else "item", a, b), \
                {var if var not in "ijk" else "item": self.eval(a)}, "for:literal"
        src, element = self.iterable()
        if kind == "rows" or kind == "list":
            v = self.fresh(["row", "item", "r", "layer", "term"])
            return "for %s in %s:" % (v, src), {v: element}, "for:iter"
        if kind == "enumerate":
            v = self.fresh(["row", "item", "r", "term"], extra_taken=[var])
            return "for %s, %s in enumerate(%s):" % (var, v, src), {var: 0, v: element}, "for:enumerate"
        if kind == "zip":
            src2, element2 = self.iterable()
            v1 = self.fresh(["a_row", "p_i", "u_i"])
            v2 = self.fresh(["b_row", "q_i", "w_i"], extra_taken=[v1])
            return "for %s, %s in zip(%s, %s):" % (v1, v2, src, src2), {v1: element, v2: element2}, "for:zip"
        dicts = self.names_of(lambda v: isinstance(v, dict) and v and all(is_float_value(e) for e in v.values()))
        if not dicts:
            raise Reject("no dict")
        d = r.choice(dicts)
        key, first = next(iter(self.scope[d].items()))
        form = r.random()
        if form < 0.4:
            k = self.fresh(["key", "name"])
            return "for %s in %s:" % (k, d), {k: key}, "for:dict-keys"
        k = self.fresh(["key", "name"])
        v = self.fresh(["val", "param"], extra_taken=[k])
        return "for %s, %s in %s.items():" % (k, v, d), {k: key, v: first}, "for:dict-items"

    def accumulator(self, lines, marks, like=None):
        """Create (or pick) a local accumulator before a loop; returns its name."""
        r = self.r
        existing = self.local_floats()
        if existing and r.random() < 0.4:
            return self.pick_active(existing)
        name = self.fresh(["acc", "total", "h", "state", "running", "s_acc"])
        arrays = [n for n in self.numeric_names() if np.ndim(self.eval(n)) >= 1]
        if arrays and r.random() < 0.55:
            a = self.pick_active(arrays)
            init = r.choice(["np.zeros_like({a})", "{a} * 0.0", "{a}.copy()", "np.ones_like({a})", "{a}"]).format(a=a)
        else:
            init = r.choice(["0.0", "0.0", "1.0", "0"])
        self.assign(name, init, lines, marks)
        return name

    def loop_body(self, targets: list[str], count: int, nesting: int, in_while: bool = False) -> list[str]:
        """Statements of a loop body that keep the kinds of ``targets`` (names live across
        iterations); simulated once with the first iteration's values."""
        r = self.r
        lines, marks = [], []
        self.depth_limit = 2
        loop_ints = [v for v in self.loop_vars if isinstance(self.scope.get(v), int)]
        for _ in range(count):
            options = {"update": 7, "augassign": 2, "temp": 2.5, "break": 1.2, "cond": 1.5, "return": 0.6}
            if not in_while:
                options["continue"] = 0.8
            writable = [t for t in targets if np.ndim(self.scope.get(t, 0)) >= 1]
            if writable and loop_ints:
                options["write"] = 3
            lists = [n for n in self.names_of(lambda v: isinstance(v, list)) if n not in self.arg_names]
            if lists:
                options["append"] = 3
            if nesting < 2:
                options["nested"] = 1
            kind = weighted(r, options)
            try:
                if kind in ("update", "augassign") and targets:
                    t = r.choice(targets)
                    if not is_float_value(self.scope.get(t)):
                        continue
                    shape = np.shape(self.scope[t])
                    e = None
                    for _ in range(5):
                        e = self.expr(1, shape=shape, mode="fits")
                        if names_in(e) & set(self.loop_vars):
                            break
                    if kind == "augassign":
                        stmt = "%s %s %s" % (t, r.choice(["+=", "+=", "-=", "*="]), e if r.random() < 0.8 else "0.9")
                    else:
                        form = r.choice(["{t} + {e}", "{t} * {c} + {e}", "np.tanh({t} + {e})", "{t} + {e} * {c}",
                                         "{t} - 0.1 * ({e})", "{e} + 0.0 * {t}"])
                        stmt = "%s = %s" % (t, form.format(t=t, e=e, c=r.choice(["0.9", "0.5", "1.1"])))
                        if np.shape(self.eval(stmt.split(" = ", 1)[1])) != shape:
                            continue
                    self.simulate(stmt)
                    self.mark(t, stmt)
                    lines.append(stmt)
                elif kind == "temp":
                    name = self.fresh(["tmp", "cur", "step_val", "d", "delta"])
                    self.assign(name, self.expr(0), lines, marks)
                elif kind == "write":
                    self.write_stmt(r.choice(writable), lines, marks, index_var=r.choice(loop_ints))
                elif kind == "append":
                    name = r.choice(lists)
                    items = self.scope[name]
                    e = self.expr(1, shape=np.shape(items[0]), mode="exact") if items and is_float_value(items[0]) \
                        else self.expr(1)
                    stmt = r.choice(["{n}.append({e})", "{n}.append({e})", "{n} += [{e}]", "{n} = {n} + [{e}]"]).format(
                        n=name, e=e)
                    self.simulate(stmt)
                    self.mark(name, e)
                    lines.append(stmt)
                elif kind in ("break", "continue"):
                    cond = self.condition(data=r.random() < 0.5)
                    lines.append("if %s:\n    %s" % (cond, kind))
                elif kind == "return":
                    lines.append("if %s:\n    return %s" % (self.condition(data=True), self.scalar_of(self.expr(0))))
                elif kind == "cond" and targets:
                    t = r.choice(targets)
                    if not is_float_value(self.scope.get(t)):
                        continue
                    shape = np.shape(self.scope[t])
                    a = self.expr(1, shape=shape, mode="exact")
                    text = "if %s:\n    %s = %s" % (self.condition(), t, a)
                    if r.random() < 0.6:
                        text += "\nelse:\n    %s = %s" % (t, self.expr(1, shape=shape, mode="exact"))
                    lines.append(text)
                elif kind == "nested":
                    inner_var = self.fresh(["j", "m", "k2"])
                    n = r.choice([2, 3])
                    self.scope[inner_var] = 0
                    self.loop_vars.append(inner_var)
                    inner = self.loop_body(targets, 1, nesting + 1)
                    if inner:
                        lines.append("for %s in range(%d):\n%s" % (inner_var, n, indent("\n".join(inner))))
            except Reject:
                continue
        return lines

    def stmt_for(self):
        r = self.r
        lines, marks = [], []
        targets = []
        pre_kind = r.random()
        if pre_kind < 0.2:
            arrays = [n for n in self.numeric_names() if np.ndim(self.eval(n)) >= 1]
            if arrays:
                a = self.pick_active(arrays)
                name = self.fresh(["parts", "rows", "terms", "outs", "hs"])
                self.assign(name, "[]", lines, marks)
        elif pre_kind < 0.35:
            name = self.fresh(["out", "result", "filled", "buf"])
            n = r.choice([3, 4])
            shape = r.choice([(n,), (n, 4), (4, n)]) if r.random() < 0.7 else (n, 3)
            self.assign(name, "np.zeros(%r)" % (shape,), lines, marks)
            targets.append(name)
        header, loop_vars, feature = self.loop_header()
        if not any(isinstance(v, int) for v in loop_vars.values()) and targets and r.random() < 0.5:
            targets = []
        targets.append(self.accumulator(lines, marks))
        if r.random() < 0.3:
            others = [n for n in self.local_floats() if n not in targets]
            if others:
                targets.append(r.choice(others))
        for var, value in loop_vars.items():
            self.scope[var] = value
            self.loop_vars.append(var)
            if names_in(header) & self.active:
                self.active.add(var)
        body = self.loop_body(targets, r.choice([1, 2, 2, 3]), nesting=1)
        if not body:
            raise Reject("empty loop body")
        text = header + "\n" + indent("\n".join(body))
        if r.random() < 0.05:
            text += "\nelse:\n    %s = %s * 1.0" % (targets[0], targets[0])
        lines.append(text)
        lists = [n for n in self.names_of(lambda v: isinstance(v, list)) if n not in self.arg_names]
        for name in lists:
            if "%s = []" % name in lines and r.random() < 0.8:
                lines.append("%s = %s" % (self.fresh(["stacked", "combined", "joined"]),
                                          r.choice(["np.stack({n})", "sum({n})", "np.sum({n}, axis=0)",
                                                    "np.concatenate({n})"]).format(n=name) + "  # lists"))
        for t in targets:
            marks.append((t, "\n".join(lines)))
        return lines, marks, feature

    def stmt_while(self):
        r = self.r
        lines, marks = [], []
        counter = self.fresh(["k", "it", "n_iter", "count", "step"])
        self.assign(counter, "0", lines, marks)
        targets = [self.accumulator(lines, marks)]
        n = r.choice([2, 3, 4])
        style = weighted(r, {"count": 4, "and": 3, "or": 1, "never": 1.5, "true-break": 1.5})
        acc = targets[0]
        data = "np.sum(np.abs(%s)) < 50.0" % acc if np.ndim(self.scope[acc]) else "abs(%s) < 50.0" % acc
        header = {"count": "while %s < %d:" % (counter, n),
                  "and": "while %s < %d and %s:" % (counter, n, data),
                  "or": "while %s < %d or %s < 0:" % (counter, n, counter),
                  "never": r.choice(["while %s > %d:" % (counter, n), "while %s < 0:" % counter,
                                     "while False and %s < %d:" % (counter, n)]),
                  "true-break": "while True:"}[style]
        self.scope[counter] = 0
        self.loop_vars.append(counter)
        body = self.loop_body(targets, r.choice([1, 2, 2]), nesting=1, in_while=True)
        first = r.random() < 0.4
        inc = "%s += 1" % counter if r.random() < 0.8 else "%s = %s + 1" % (counter, counter)
        if style == "true-break":
            body = ["if %s >= %d:\n    break" % (counter, n), inc] + body
        elif first:
            body = [inc] + body
        else:
            body = body + [inc]
        lines.append(header + "\n" + indent("\n".join(body)))
        for t in targets:
            marks.append((t, "\n".join(lines)))
        return lines, marks, "while:" + style

    def stmt_if(self):
        r = self.r
        lines, marks = [], []
        data = r.random() < 0.65
        cond = self.condition(data)
        arms = weighted(r, {"if": 3, "if-else": 5, "if-elif-else": 2, "ifexp": 2})
        targets = [n for n in self.local_floats(allow_args=r.random() < 0.2)]
        chosen = []
        if targets and r.random() < 0.7:
            chosen.append(self.pick_active(targets))
        new = None
        if arms != "if" and (not chosen or r.random() < 0.4):
            new = self.fresh()
        if arms == "ifexp":
            if new is None:
                new = self.fresh()
            a = self.expr(0)
            b = self.expr(0, shape=np.shape(self.eval(a)), mode="exact")
            self.assign(new, "%s if %s else %s" % (a, cond, b), lines, marks)
            return lines, marks, "if:ifexp"
        new_shape = None

        def arm():
            nonlocal new_shape
            out = []
            for t in chosen:
                shape = np.shape(self.scope[t])
                if r.random() < 0.3 and shape:
                    op = r.choice(["+=", "*=", "-="])
                    out.append("%s %s %s" % (t, op, self.expr(1, shape=shape, mode="fits")))
                else:
                    out.append("%s = %s" % (t, self.expr(1, shape=shape, mode="exact")))
            if new is not None:
                if new_shape is None:
                    e = self.expr(0)
                    new_shape = np.shape(self.eval(e))
                else:
                    e = self.expr(0, shape=new_shape, mode="exact")
                out.append("%s = %s" % (new, e))
            if r.random() < 0.1:
                out.append("return %s" % self.scalar_of(self.expr(0)))
            return out or ["pass"]

        text = "if %s:\n%s" % (cond, indent("\n".join(arm())))
        if arms == "if-elif-else":
            text += "\nelif %s:\n%s" % (self.condition(True), indent("\n".join(arm())))
        if arms != "if":
            text += "\nelse:\n%s" % indent("\n".join(arm()))
        if not data and r.random() < 0.3 and not self.names_of(lambda v: isinstance(v, bool)):
            flag = self.fresh(["flag", "use_bias", "enabled", "debug"])
            lines.append("%s = %s" % (flag, r.choice(["True", "False", "1 > 0"])))
            text = text.replace("if %s:" % cond, "if %s:" % r.choice([flag, "not " + flag]), 1)
        lines.append(text)
        for t in chosen + ([new] if new else []):
            marks.append((t, text))
        return lines, marks, "if:" + ("data" if data else "const") + ":" + arms

    def scalar_of(self, code: str) -> str:
        """``code`` reduced to a scalar when it is an array."""
        try:
            if np.ndim(self.eval(code)) == 0:
                return code
        except Reject:
            pass
        return self.r.choice(["np.sum(%s)", "np.mean(%s)", "np.sum((%s) ** 2)"]) % code

    def function_body(self, params: dict, statements: int, returns_tuple: bool = False) -> list[str]:
        """Body of a helper, nested def or lambda whose parameters take the sample values ``params``."""
        r = self.r
        for p, v in params.items():
            self.scope[p] = v
            self.active.add(p)
        lines, marks = [], []
        self.depth_limit = 2
        for _ in range(statements):
            try:
                if r.random() < 0.2:
                    p = r.choice([p for p, v in params.items() if is_float_value(v)] or list(params))
                    shape = np.shape(self.scope[p])
                    self.assign(p, self.expr(1, shape=shape, mode="exact"), lines, marks)
                else:
                    self.assign(self.fresh(["t1", "t2", "tmp", "a1", "hid"]), self.expr(0), lines, marks)
            except Reject:
                continue
        main = list(params)[0]
        e = None
        for _ in range(6):
            e = self.expr(0)
            if names_in(e) & set(params) | (names_in(e) & {n for n, _ in marks}):
                break
        if main not in names_in(e) and not names_in(e) & {n for n, _ in marks}:
            e = "%s * (%s)" % (main, e)
        if returns_tuple:
            e = "%s, %s" % (e, self.scalar_of(self.expr(1)))
        lines.append("return " + e)
        return lines

    def stmt_helper(self):
        r = self.r
        hname = self.fresh(["affine", "act", "smooth", "layer", "penalty", "sq", "norm_sq", "soft", "blend",
                            "transform", "score_fn", "stats"])
        first = self.expr(0)
        params = {"u": self.eval(first)}
        call = [first]
        if r.random() < 0.35:
            second = self.expr(1)
            params["v"] = self.eval(second)
            call.append(second)
        defaults = r.sample([("scale", "1.0"), ("shift", "0.0"), ("power", "2"), ("eps", "0.001")], r.choice([0, 1, 1, 2]))
        for name, lit in defaults:
            params[name] = eval(lit)
        returns_tuple = r.random() < 0.15
        with self.sandbox():
            self.scope = {}
            body = self.function_body(params, r.choice([0, 1, 1, 2]), returns_tuple)
        ret = body[-1]
        for name, _ in defaults:
            if name not in names_in(ret):
                wrap = {"scale": "({e}) * scale", "shift": "({e}) + shift", "power": "({e}) ** power",
                        "eps": "({e}) + eps"}[name]
                if returns_tuple:
                    head, tail = ret[len("return "):].rsplit(", ", 1)
                    ret = "return " + wrap.format(e=head) + ", " + tail
                else:
                    ret = "return " + wrap.format(e=ret[len("return "):])
        body[-1] = ret
        signature = ", ".join([p for p in params if p in ("u", "v")] + ["%s=%s" % d for d in defaults])
        module_block = "def %s(%s):\n%s" % (hname, signature, indent("\n".join(body)))
        for name, _ in defaults:
            choice = r.random()
            if choice < 0.4:
                continue
            value = r.choice(["2.0", "0.5", "1.5"]) if name != "power" else "2"
            if choice < 0.7 and len(call) == len([p for p in params if p in ("u", "v")]):
                call.append("%s=%s" % (name, value))
            else:
                call.append("%s=%s" % (name, value))
        if r.random() < 0.15:
            call[0] = "u=" + call[0]
            call = [c if "=" in c.split("(")[0] or i == 0 else ("v=" + c if i == 1 else c) for i, c in enumerate(call)]
        text = "%s(%s)" % (hname, ", ".join(call))
        target = self.fresh()
        if returns_tuple:
            other = self.fresh(extra_taken=[target])
            return ["%s, %s = %s" % (target, other, text)], [(target, text), (other, text)], "helper:tuple", module_block
        return ["%s = %s" % (target, text)], [(target, text)], "helper", module_block

    def stmt_nested_def(self):
        r = self.r
        lines, marks = [], []
        name = self.fresh(["inner", "g", "phi", "apply", "local_fn", "unit", "fwd"])
        arg = self.expr(0)
        outer_names = [n for n in self.numeric_names() if n in self.scope]
        param = r.choice(outer_names) if outer_names and r.random() < 0.2 else self.fresh(["u", "z_", "val", "xx"])
        params = {param: self.eval(arg)}
        default = r.random() < 0.3
        if default:
            params["k"] = 2.0
        if r.random() < 0.3:
            with self.sandbox():
                body = ["return " + self.expr(0)] if False else None
                for p, v in params.items():
                    self.scope[p] = v
                    self.active.add(p)
                e = None
                for _ in range(6):
                    e = self.expr(0)
                    if param in names_in(e):
                        break
                text = "%s = lambda %s: %s" % (name, ", ".join(
                    [param] + (["k=2.0"] if default else [])), e if param in names_in(e) else "%s * (%s)" % (param, e))
            feature = "lambda"
        else:
            with self.sandbox():
                inner = []
                if r.random() < 0.25:  # a def inside the def
                    deeper = self.fresh(["deeper", "core", "h_fn"], extra_taken=list(params))
                    dparam = self.fresh(["w_", "q_", "t_"], extra_taken=list(params))
                    with self.sandbox():
                        dbody = self.function_body({dparam: params[param]}, r.choice([0, 1]))
                    inner.append("def %s(%s):\n%s" % (deeper, dparam, indent("\n".join(dbody))))
                    self.simulate(inner[-1])
                body = self.function_body(params, r.choice([0, 1, 2]))
                if inner:
                    body[-1] = body[-1].replace("return ", "return %s(%s) + " % (deeper, param), 1)
                    feature = "nested_def:deep"
                else:
                    feature = "nested_def"
            text = "def %s(%s):\n%s" % (name, ", ".join([param] + (["k=2.0"] if default else [])),
                                        indent("\n".join(inner + body)))
        lines.append(text)
        self.simulate(text)
        self.mark(name, text)
        if r.random() < 0.15:
            rebind = [n for n in self.local_floats() if n in names_in(text)]
            if rebind:
                t = r.choice(rebind)
                self.assign(t, "%s * 2.0" % t, lines, marks)
                feature += ":late-binding"
        call = "%s(%s%s)" % (name, arg, ", k=%s" % r.choice(["0.5", "3.0"]) if default and r.random() < 0.5 else "")
        if r.random() < 0.3:
            other = self.expr(1)
            call = "%s + %s(%s)" % (call, name, other)
        self.assign(self.fresh(), call, lines, marks)
        return lines, marks, feature

    def stmt_containers(self):
        r = self.r
        lines, marks = [], []
        kind = weighted(r, {"list": 4, "dict": 3, "tuple": 2, "append": 2, "unpack-arg": 1})
        if kind == "list":
            name = self.fresh(["parts", "items", "terms", "layers_", "vals"])
            first = self.expr(0)
            shape = np.shape(self.eval(first))
            same = r.random() < 0.6
            rest = [self.expr(1, shape=shape, mode="exact" if same else "fits") for _ in range(r.choice([1, 2]))]
            self.assign(name, "[%s]" % ", ".join([first] + rest), lines, marks)
            consume = r.choice(["sum({n})", "np.stack({n})" if same else "sum({n})", "{n}[0] * {n}[-1]",
                                "np.concatenate({n})" if same and shape else "sum({n})", "max({n}, key=np.sum)" if False else "{n}[1]"])
            if r.random() < 0.3:
                self.simulate("%s.append(%s)" % (name, rest[0]))
                lines.append("%s.append(%s)" % (name, rest[0]))
            self.assign(self.fresh(), consume.format(n=name), lines, marks)
        elif kind == "dict":
            name = self.fresh(["d", "cache", "state", "stats", "named"])
            keys = r.sample(["a", "b", "w", "bias", "h"], 2)
            e1, e2 = self.expr(0), self.expr(1)
            self.assign(name, "{%r: %s, %r: %s}" % (keys[0], e1, keys[1], e2), lines, marks)
            step = r.choice(["{d}['c'] = {d}[{k0!r}] * 2.0", "{d}[{k0!r}] = {d}[{k0!r}] + {d}[{k1!r}]",
                             "{d}[{k0!r}] += 1.0", "{d}['c'] = {d}.get('c', 0.0) + {d}[{k1!r}]",
                             "{d}[{k1!r}] *= 0.5"])
            stmt = step.format(d=name, k0=keys[0], k1=keys[1])
            self.simulate(stmt)
            self.mark(name, stmt)
            lines.append(stmt)
            use = r.choice(["{d}[{k0!r}]", "sum({d}.values())", "{d}[{k1!r}] * {d}[{k0!r}]",
                            "sum(np.sum(v) for v in {d}.values())"])
            self.assign(self.fresh(), use.format(d=name, k0=keys[0], k1=keys[1]), lines, marks)
        elif kind == "tuple":
            name = self.fresh(["pair", "tup", "both"])
            e1, e2 = self.expr(0), self.expr(1)
            self.assign(name, "(%s, %s)" % (e1, e2), lines, marks)
            a = self.fresh(["first", "a0"])
            b = self.fresh(["second", "b0"], extra_taken=[a])
            stmt = "%s, %s = %s" % (a, b, name)
            self.simulate(stmt)
            self.mark(a, name)
            self.mark(b, name)
            lines.append(stmt)
        elif kind == "append":
            lists = [n for n in self.names_of(lambda v: isinstance(v, list) and v and is_float_value(v[0]))
                     if n not in self.arg_names or r.random() < 0.2]
            if not lists:
                raise Reject("no list")
            name = r.choice(lists)
            e = self.expr(1, shape=np.shape(self.scope[name][0]), mode="exact")
            stmt = r.choice(["{n}.append({e})", "{n} = {n} + [{e}]", "{n} += [{e}]"]).format(n=name, e=e)
            self.simulate(stmt)
            self.mark(name, e)
            lines.append(stmt)
            self.assign(self.fresh(), r.choice(["sum({n})", "{n}[-1] * 2.0", "np.sum({n}[-1])"]).format(n=name),
                        lines, marks)
        else:
            seqs = [s.name for s in self.specs if s.kind in ("tuple", "list") and s.name in self.scope
                    and isinstance(self.scope[s.name], (list, tuple))]
            if not seqs:
                raise Reject("no sequence argument")
            name = r.choice(seqs)
            n = len(self.scope[name])
            targets = [self.fresh(["a0", "first", "w0"])]
            while len(targets) < n:
                targets.append(self.fresh(["a1", "second", "b0", "third"], extra_taken=targets))
            if n >= 3 and r.random() < 0.4:
                stmt = "%s, *%s = %s" % (targets[0], targets[1], name)
            else:
                stmt = "%s = %s" % (", ".join(targets), name)
            self.simulate(stmt)
            for t in targets:
                self.mark(t, name)
            lines.append(stmt)
        return lines, marks, "containers:" + kind

    def stmt_unpack(self):
        r = self.r
        arrays = [n for n in self.numeric_names() if np.ndim(self.scope.get(n, 0)) == 2 and n in self.scope]
        if not arrays:
            raise Reject("no matrix")
        a = r.choice(arrays)
        lines, marks = [], []
        if r.random() < 0.5:
            n1 = self.fresh(["n_rows", "n", "rows_", "N"])
            n2 = self.fresh(["n_cols", "m", "cols_", "D"], extra_taken=[n1])
            stmt = "%s, %s = %s.shape" % (n1, n2, a)
            self.simulate(stmt)
            lines.append(stmt)
            use = r.choice(["{a}.reshape({n2}, {n1})", "np.sum({a}) / ({n1} * {n2})", "{a}[{n1} - 1]",
                            "np.zeros(({n1}, {n2})) + {a}"]).format(a=a, n1=n1, n2=n2)
            self.assign(self.fresh(), use, lines, marks)
        else:
            t1 = self.fresh(["first_row", "r0"])
            t2 = self.fresh(["second_row", "r1"], extra_taken=[t1])
            stmt = "%s, %s = %s[0], %s[-1]" % (t1, t2, a, a)
            self.simulate(stmt)
            self.mark(t1, a)
            self.mark(t2, a)
            lines.append(stmt)
        return lines, marks, "unpack"

    def stmt_module_const(self):
        r = self.r
        name = r.choice(["SCALE", "WEIGHTS", "OFFSET", "COEFFS", "EPS", "BIAS"])
        if name in self.module_ns:
            raise Reject("constant exists")
        value = r.choice(["0.5", "np.array([0.5, -1.0, 2.0, 0.25])", "np.linspace(-1.0, 1.0, 3).reshape(3, 1)",
                          "np.arange(4.0) * 0.1", "1e-3", "(0.5, 2.0)", "[1.0, -0.5, 0.25]"])
        block = "%s = %s" % (name, value)
        with self.sandbox():
            saved = self.module_ns
            self.module_ns = dict(saved)
            exec(block, self.module_ns)
            try:
                target = self.fresh()
                if isinstance(self.module_ns[name], (tuple, list)):
                    rhs = r.choice(["{e} * {C}[0] + {C}[1]", "sum(c * {e} for c in {C})"]).format(e=self.expr(1), C=name)
                else:
                    rhs = "%s * %s" % (self.expr(1), name) if r.random() < 0.5 else "%s + %s" % (name, self.expr(1))
                self.eval(rhs)
            finally:
                self.module_ns = saved
        return ["%s = %s" % (target, rhs)], [(target, rhs)], "module_const", block

    def stmt_early_return(self):
        cond = self.condition(data=True)
        return ["if %s:\n    return %s" % (cond, self.scalar_of(self.expr(0)))], [], "early_return"

    def stmt_idiom(self):
        r = self.r
        lines, marks = [], []
        arrays = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n]) >= 1]
        if not arrays:
            raise Reject("no arrays")
        a = self.pick_active(arrays)
        v = self.scope[a]
        name = weighted(r, {"softmax": 2, "logsumexp": 2, "standardize": 1.5, "mse": 2, "layer": 2, "horner": 1.5,
                            "newton": 1, "running_max": 1, "cumsum": 1.2, "pairwise": 0.8, "rnn": 1.5, "l2": 1,
                            "normalize": 1, "gram": 1, "mask": 1.2, "huber": 1, "clip_norm": 1, "descent": 1})
        f = self.fresh
        if name == "softmax":
            z, p = f(["z", "logits_"]), f(["probs", "p_"], extra_taken=["z"])
            text = ["{z} = {a} - np.max({a}, axis=-1, keepdims=True)",
                    "{p} = np.exp({z}) / np.sum(np.exp({z}), axis=-1, keepdims=True)"]
            fill = dict(a=a, z=z, p=p)
        elif name == "logsumexp":
            m, l = f(["m", "mx"]), f(["lse", "logz"])
            text = ["{m} = np.max({a})", "{l} = {m} + np.log(np.sum(np.exp({a} - {m})))"]
            fill = dict(a=a, m=m, l=l)
        elif name == "standardize":
            if v.shape[0] < 2:
                raise Reject("too short")
            mu, sd, zn = f(["mu", "mean_"]), f(["sd", "sigma"]), f(["zn", "normed"])
            text = ["{mu} = np.mean({a}, axis=0)", "{sd} = np.std({a}, axis=0) + 0.1", "{zn} = ({a} - {mu}) / {sd}"]
            fill = dict(a=a, mu=mu, sd=sd, zn=zn)
        elif name == "mse":
            b = self.expr(1, shape=v.shape, mode="fits")
            err, mse = f(["err", "resid"]), f(["mse", "loss_"])
            text = ["{err} = {a} - {b}", "{mse} = np.mean({err} ** 2)"]
            fill = dict(a=a, b=b, err=err, mse=mse)
        elif name == "layer":
            ws = [n for n in self.numeric_names() if np.ndim(self.eval(n)) in (1, 2) and self.eval(n).shape[0] == v.shape[-1]]
            if not ws:
                raise Reject("no weights")
            w = r.choice(ws)
            h = f(["h", "hidden", "act"])
            text = [r.choice(["{h} = np.maximum({a} @ {w} + {c}, 0.0)", "{h} = np.tanh(np.dot({a}, {w}) + {c})",
                              "{h} = 1.0 / (1.0 + np.exp(-({a} @ {w})))"])]
            fill = dict(a=a, w=w, h=h, c=self.expr(2, scalar=True) if r.random() < 0.5 else "0.1")
        elif name == "horner":
            acc, c = f(["acc", "poly"]), f(["c", "coef"])
            text = ["{acc} = " + r.choice(["0.0", "np.zeros_like({a})"]), "for {c} in [0.5, -1.0, 2.0]:",
                    "    {acc} = {acc} * {a} + {c}"]
            fill = dict(a=a, acc=acc, c=c)
        elif name == "newton":
            t, y = f(["t_", "target"]), f(["y_", "root"])
            text = ["{t} = {a} ** 2 + 1.0", "{y} = {t}", "for _ in range(3):", "    {y} = 0.5 * ({y} + {t} / {y})"]
            fill = dict(a=a, t=t, y=y)
        elif name == "running_max":
            best, row = f(["best", "top"]), f(["row", "item"])
            text = ["{best} = -np.inf", "for {row} in {a}:", "    {best} = max({best}, float(np.sum({row})))"]
            fill = dict(a=a, best=best, row=row)
        elif name == "cumsum":
            if v.ndim != 1:
                raise Reject("not a vector")
            cs, run, i = f(["cs", "csum"]), f(["running", "partial"]), f(["i", "j"])
            text = ["{cs} = np.zeros_like({a})", "{run} = 0.0", "for {i} in range(len({a})):",
                    "    {run} = {run} + {a}[{i}]", "    {cs}[{i}] = {run}"]
            fill = dict(a=a, cs=cs, run=run, i=i)
        elif name == "pairwise":
            if v.ndim != 2:
                raise Reject("not a matrix")
            d2, dist = f(["d2", "sq_dist"]), f(["dist", "dists"])
            text = ["{d2} = np.sum(({a}[:, None, :] - {a}[None, :, :]) ** 2, axis=-1)", "{dist} = np.sqrt({d2} + 1.0)"]
            fill = dict(a=a, d2=d2, dist=dist)
        elif name == "rnn":
            if v.ndim != 2 or v.shape[0] > 5:
                raise Reject("not a matrix")
            h, t = f(["h", "state"]), f(["t", "step"])
            w = self.expr(1, shape=(v.shape[1],), mode="fits")
            text = ["{h} = np.zeros({n})", "for {t} in range({a}.shape[0]):", "    {h} = np.tanh({h} * {w} + {a}[{t}])"]
            fill = dict(a=a, h=h, t=t, n=v.shape[1], w=w)
        elif name == "l2":
            src, _ = self.iterable()
            reg, p = f(["reg", "penalty_"]), f(["p_", "param"])
            text = ["{reg} = 0.01 * sum(np.sum({p} ** 2) for {p} in {src})"]
            fill = dict(reg=reg, p=p, src=src)
        elif name == "normalize":
            u = f(["unit", "direction"])
            text = ["{u} = {a} / np.linalg.norm({a})"] if r.random() < 0.5 else \
                ["{u} = {a} / np.sqrt(np.sum({a} ** 2))"]
            fill = dict(a=a, u=u)
        elif name == "gram":
            if v.ndim != 2:
                raise Reject("not a matrix")
            g, tr = f(["G", "gram"]), f(["tr", "trace_"])
            text = ["{g} = {a}.T @ {a}", r.choice(["{tr} = np.trace({g})", "{tr} = np.sum(np.diag({g}))",
                                                  "{tr} = {g}[0, 0] + {g}[-1, -1]"])]
            fill = dict(a=a, g=g, tr=tr)
        elif name == "mask":
            mask, out = f(["mask", "pos"]), f(["kept", "masked"])
            text = ["{mask} = {a} > 0", r.choice(["{out} = np.where({mask}, {a}, 0.0)", "{out} = {a} * {mask}",
                                                 "{out} = {a}.copy()\n{out}[~{mask}] = 0.0"])]
            fill = dict(a=a, mask=mask, out=out)
        elif name == "huber":
            b = self.expr(1, shape=v.shape, mode="fits")
            res, hub = f(["res", "delta"]), f(["hub", "huber"])
            text = ["{res} = {a} - {b}",
                    "{hub} = np.sum(np.where(np.abs({res}) < 1.0, 0.5 * {res} ** 2, np.abs({res}) - 0.5))"]
            fill = dict(a=a, b=b, res=res, hub=hub)
        elif name == "clip_norm":
            g, nrm = f(["g", "grad_"]), f(["nrm", "norm_"])
            text = ["{g} = {a} * 1.0", "{nrm} = np.sqrt(np.sum({g} ** 2))", "if {nrm} > 1.0:", "    {g} = {g} / {nrm}"]
            fill = dict(a=a, g=g, nrm=nrm)
        else:  # descent
            cur = f(["cur", "guess"])
            text = ["{cur} = {a} * 0.5", "for _ in range(3):", "    {cur} = {cur} - 0.1 * ({cur} - {a}) * 2.0"]
            fill = dict(a=a, cur=cur)
        block = "\n".join(text).format(**fill)
        for stmt_name in fill.values():
            if isinstance(stmt_name, str) and re.fullmatch(r"[A-Za-z_]\w*", stmt_name) and stmt_name != a:
                marks.append((stmt_name, a))
        return block.split("\n"), marks, "idiom:" + name

    # ---- assembling ------------------------------------------------------------------------

    STATEMENTS = {"assign": 20, "copy_write": 8, "write": 5, "augassign": 6, "for": 12, "while": 5, "if": 9,
                  "helper": 6, "nested_def": 6, "containers": 6, "rebind_kind": 2, "self_assign": 2,
                  "early_return": 2, "unpack": 2, "module_const": 2, "idiom": 9}

    def statement_count(self, extra: str = "") -> int:
        return count_statements("\n".join(self.body + [extra]))

    def add_statement(self) -> bool:
        """Draw statements until one runs on every sample (or give up after a few tries)."""
        for _ in range(10):
            table = dict(self.STATEMENTS)
            if not self.body:
                table["prologue"] = 3
            kind = weighted(self.r, table)
            with self.sandbox():
                try:
                    out = getattr(self, "stmt_" + kind)()
                except Reject:
                    continue
            lines, marks, feature = out[:3]
            module_block = out[3] if len(out) > 3 else None
            block = "\n".join(lines)
            block = block.replace("  # lists", "")
            if self.statement_count(block) > self.MAX_STATEMENTS:
                continue
            probed = self.probe(block, module_block)
            if probed is None:
                continue
            self.body.append(block)
            if module_block:
                self.module_blocks.append(module_block)
            self.scope, self.module_ns = probed
            for target, code in marks:
                self.mark(target, code)
            self.features.append(feature)
            return True
        return False

    def return_expression(self) -> str:
        """A scalar from one to three live values (those computed but not read yet first)."""
        r = self.r
        names = [n for n in self.numeric_names() if n in self.scope and n in self.active]
        if not names:
            raise Reject("nothing active to return")
        unread = [n for n in names if not self.reads.get(n) and n not in self.arg_names]
        recent = [n for n in names if n not in self.arg_names]
        chosen = []
        for _ in range(r.choice([1, 2, 2, 3])):
            pool = unread or recent or names
            name = r.choice(pool)
            if name in chosen:
                continue
            chosen.append(name)
            if name in unread:
                unread.remove(name)
        terms = []
        for name in chosen:
            if np.ndim(self.scope[name]) == 0:
                terms.append(r.choice(["{n}", "{n}", "{n} ** 2", "float({n})"]).format(n=name))
            else:
                terms.append(r.choice(["np.sum({n})", "np.mean({n} ** 2)", "{n}.sum()", "np.sum(np.tanh({n}))",
                                       "float(np.sum({n}))", "np.linalg.norm({n})", "np.max({n})",
                                       "np.sum({n} * {n})"]).format(n=name))
        out = terms[0]
        for t in terms[1:]:
            out += r.choice([" + ", " + ", " - ", " + 0.5 * "]) + t
        return out

    def finish(self) -> str | None:
        """Append the return statement; returns the final source, or None when it does not run."""
        for _ in range(6):
            try:
                ret = self.return_expression()
            except Reject:
                return None
            if self.r.random() < 0.25:
                name = self.fresh(["loss", "result", "value", "objective_"])
                tail = "%s = %s\nreturn %s" % (name, ret, name)
            else:
                tail = "return " + ret
            src = self.render(self.body + [tail])
            if runs_to_scalar(src, self.fname, self.samples):
                self.body.append(tail)
                return canonical_source(src)
        return None

    def build(self) -> str | None:
        """Generate the whole program; None when this attempt failed."""
        target = self.r.choice([3, 4, 5, 6, 7, 8, 10])
        for _ in range(target * 2):
            if len(self.body) >= target or self.statement_count() >= self.MAX_STATEMENTS - 2:
                break
            self.add_statement()
        if not self.body:
            return None
        return self.finish()


def runs_to_scalar(src: str, fname: str, samples: list) -> bool:
    """Whether the program runs on every sample (no warnings) and returns a finite float."""
    ns: dict = {}
    try:
        exec(compile(src, "<final>", "exec"), ns)
        for args in samples:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                    out = ns[fname](*copy.deepcopy(args))
            if not isinstance(out, (float, np.floating)) or not np.isfinite(out) or abs(out) > 1e6:
                return False
    except Exception:
        return False
    return True


def canonical_source(src: str) -> str:
    """The program re-printed by ``ast.unparse`` (minimal parentheses), top-level blocks separated
    by blank lines."""
    tree = ast.parse(src)
    parts = []
    for node in tree.body:
        text = ast.unparse(node)
        if parts and (isinstance(node, (ast.FunctionDef, ast.ClassDef)) or
                      isinstance(tree.body[tree.body.index(node) - 1], (ast.FunctionDef, ast.ClassDef))):
            parts.append("\n\n" + text)
        elif parts and isinstance(node, ast.Import) is False and isinstance(tree.body[tree.body.index(node) - 1], ast.Import):
            parts.append("\n" + text)
        else:
            parts.append(text)
    return "\n".join(parts) + "\n"


@dataclasses.dataclass
class GeneratedProgram:
    """A generated program and everything needed to call it."""
    seed: int
    source: str
    name: str
    specs: list
    features: list

    def make_args(self, rng: np.random.Generator, dims: dict | None = None) -> list:
        """Arguments for the program (``dims`` maps axis sizes to others: shape variants)."""
        return make_args_for(self.specs, rng, dims)


_PROGRAM_CACHE: dict = {}


def generate(seed: int) -> GeneratedProgram:
    """The program of ``seed`` (deterministic; retried with sub-seeds until one runs)."""
    if seed in _PROGRAM_CACHE:
        return _PROGRAM_CACHE[seed]
    for attempt in range(40):
        try:
            builder = ProgramBuilder(seed, attempt)
            src = builder.build()
        except Reject:
            continue
        if src is not None:
            program = GeneratedProgram(seed, src, builder.fname, builder.specs, builder.features)
            _PROGRAM_CACHE[seed] = program
            return program
    raise RuntimeError("no runnable program for seed %d" % seed)


def make_program(seed: int):
    """``(source_text, function_name, make_args)`` for ``seed``; ``make_args(rng)`` draws arguments
    (``make_args(rng, dims={3: 5})`` with every axis of size 3 made 5)."""
    program = generate(seed)
    return program.source, program.name, program.make_args
