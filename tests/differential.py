#!/usr/bin/env python3
"""Differential random-program tester for adcompiler.

Generates ordinary, user-style NumPy/Python programs from a seed, runs them in plain Python and
through adcompiler, and compares. A program is classified as

* ``ok``       every check passed;
* ``refused``  adcompiler raised ``ad.AdError`` (acceptable: a clear refusal);
* ``wrong``    a check failed: a gradient, value, side effect, type, tangent or Hessian differs;
* ``crash``    an adcompiler call raised anything that is not ``ad.AdError`` (also inside the
               generated code), or did not finish in time;
* ``nonfinite`` a gradient is inf or NaN where finite differences are finite, and the plain
               computation itself overflows or divides by zero on the way (inf * 0 in IEEE
               arithmetic: every AD tool gives it), or a float32 gradient is beyond float32's
               range; listed, not counted as wrong;
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
    python tests/differential.py --reduce-all --out /work/fuzz_out   # reduce one seed per group
    python tests/differential.py --reduce-all --per-group 0 --out /work/fuzz_out   # ... every failure

A campaign writes ``results.jsonl`` (every program), ``failures/<class>_<seed>.txt`` (program and
failure text of every wrong/crash program) and ``summary.md`` (counts per class, failure groups
by signature with the constructs their programs share, refusal messages). Workers are fresh
processes with a capped address space; a worker that dies or stalls costs one seed, recorded as
a crash. ``--reduce-all`` writes ``reduced/<seed>.py`` and ``reduced.md`` (minimal programs
grouped by signature and construct fingerprint).

Everything is seeded: a seed always gives the same program, arguments and checks (for a given
version of this file). ``tests/test_differential.py`` runs a small budget under pytest.
"""
from __future__ import annotations

import argparse
import ast
import atexit
import copy
import dataclasses
import importlib.util
import itertools
import json
import os
import random
import re
import shutil
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
    "labels": ["labels", "idx", "targets"],
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
        return self.kind not in ("int", "bool", "labels")

    def make(self, rng: np.random.Generator, dims: dict | None = None):
        """A value for this parameter. ``dims`` maps axis sizes to other sizes (shape variants)."""
        if self.kind == "float":
            value = float(rng.uniform(-1.5, 1.5))
            if self.dtype == "np.float64":
                return np.float64(value)
            if self.dtype == "0-d":
                return np.array(value)
            return value
        if self.kind == "array":
            shape = tuple((dims or {}).get(d, d) for d in self.shape)
            return rng.standard_normal(shape).astype(self.dtype)
        if self.kind in ("int", "bool"):
            return self.constant
        if self.kind == "labels":
            n = (dims or {}).get(self.shape[0], self.shape[0])
            return rng.integers(0, self.constant, size=n)
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
        if self.kind == "float" and self.dtype != "float64":
            return "float (%s)" % self.dtype
        if self.kind in ("list", "tuple", "dict"):
            return "%s[%s]" % (self.kind, ", ".join("%s: %s" % (k, s.describe()) for k, s in self.items))
        if self.kind in ("int", "bool"):
            return "%s = %r" % (self.kind, self.constant)
        if self.kind == "labels":
            return "int array%s in [0, %d)" % (self.shape, self.constant)
        return self.kind


def choose_signature(r: random.Random) -> list[ArgSpec]:
    """The parameters of a generated function: arrays, floats, containers of arrays, ints."""
    count = weighted(r, {1: 2, 2: 4, 3: 3, 4: 1})
    float32 = r.random() < 0.1
    specs: list[ArgSpec] = []
    taken: set = set()

    def name_for(role):
        """A parameter name for ``role`` not used yet."""
        options = [n for n in ARG_NAMES[role] if n not in taken]
        name = r.choice(options) if options else "%s%d" % (ARG_NAMES[role][0], len(taken))
        taken.add(name)
        return name

    def array_spec(name, role, dtype):
        """An array parameter of a shape drawn for ``role``."""
        shape = weighted(r, MATRIX_SHAPES if role == "matrix" else VECTOR_SHAPES)
        return ArgSpec(name, "array", shape, dtype)

    for k in range(count):
        role = weighted(r, {"matrix": 30, "vector": 24, "float": 22, "list": 8, "dict": 7, "tuple": 4,
                            "int": 3, "bool": 2, "labels": 2})
        if k == 0 and role in ("int", "bool", "labels"):
            role = "matrix"
        name = name_for(role)
        dtype = "float32" if float32 or r.random() < 0.03 else "float64"
        if role in ("matrix", "vector"):
            specs.append(array_spec(name, role, dtype))
        elif role == "float":
            flavour = weighted(r, {"float64": 92, "np.float64": 5, "0-d": 3})
            specs.append(ArgSpec(name, "float", dtype=flavour))
        elif role == "list":
            style = weighted(r, {"broadcast": 4, "same": 4, "mixed": 2, "floats": 1.5})
            size = r.choice([2, 3])
            if style == "same":
                shape = r.choice([(4,), (3, 4), (3,)])
                items = [(i, ArgSpec("%s[%d]" % (name, i), "array", shape, dtype)) for i in range(size)]
            elif style == "broadcast":
                shapes = [(3, 4)] + [r.choice([(4,), (1, 4), (3, 1), (3, 4)]) for _ in range(size - 1)]
                r.shuffle(shapes)
                items = [(i, ArgSpec("%s[%d]" % (name, i), "array", s, dtype)) for i, s in enumerate(shapes)]
            elif style == "floats":
                items = [(i, ArgSpec("%s[%d]" % (name, i), "float")) for i in range(size)]
            else:
                items = [(0, ArgSpec(name + "[0]", "array", r.choice([(4,), (3, 4)]), dtype)),
                         (1, ArgSpec(name + "[1]", "float"))]
            specs.append(ArgSpec(name, "list", items=items))
        elif role == "dict":
            keys = r.sample(["w", "b", "W", "scale", "bias"], r.choice([2, 2, 3]))
            items = []
            if r.random() < 0.2:  # a parameter tree: a list of arrays inside the dict
                layers = [(i, ArgSpec("%s['layers'][%d]" % (name, i), "array", shp, dtype))
                          for i, shp in enumerate(r.choice([[(3, 4), (4,)], [(4,), (4,)], [(3, 4), (3, 4), (3, 1)]]))]
                items.append(("layers", ArgSpec(name + "['layers']", "list", items=layers)))
                keys = keys[:1]
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
        elif role == "labels":
            specs.append(ArgSpec(name, "labels", (3,), "int64", constant=4))
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


class ProbeTimeout(Exception):
    """A candidate program ran far longer than generated programs do (a runaway loop)."""


class probe_time_limit:
    """Context manager: raise ProbeTimeout in the code it wraps after ``seconds`` (only when no
    other real-time timer is running, such as the checker's own time limit)."""

    def __init__(self, seconds: float = 2.0):
        self.seconds = seconds
        self.armed = False

    def __enter__(self):
        if hasattr(signal, "setitimer") and signal.getitimer(signal.ITIMER_REAL)[0] == 0:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    @staticmethod
    def _fire(signum, frame):
        raise ProbeTimeout()

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


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
    ("({a}) * (({a}) > 0)", 2, False), ("max({a}, 0.0)", 1, True), ("min({a}, 1.0)", 1, True),
    ("abs({a} - 1.0)", 1, True), ("np.sign({a}) * ({a})", 1, False), ("np.expm1({a})", 1, False),
    ("np.log2(({a}) ** 2 + 1.0)", 1, False), ("np.float64({a})", 1, True), ("({a}) * math.pi", 1, False),
    ("np.floor({a}) + ({a})", 1, False), ("({a}) / 3", 1, False), ("2 ** ({a})", 1, False),
]
BINARY = [
    ("{a} + {b}", 10), ("{a} - {b}", 6), ("{a} * {b}", 10), ("{a} / (({b}) ** 2 + 1.0)", 3), ("{a} / 2.0 + {b}", 1),
    ("np.maximum({a}, {b})", 3), ("np.minimum({a}, {b})", 2), ("np.where({a} > {b}, {a}, {b})", 2),
    ("np.where({a} > 0, {b}, 2.0 * ({b}))", 2), ("np.hypot({a}, {b})", 1), ("np.add({a}, {b})", 1),
    ("np.multiply({a}, {b})", 1), ("0.5 * ({a}) + 0.5 * ({b})", 1), ("np.arctan2({a}, ({b}) ** 2 + 1.0)", 1),
    ("{a} * np.tanh({b})", 2), ("({a} - {b}) ** 2", 3), ("(({a}) ** 2 + 1.0) ** ({b})", 2),
    ("np.power(({a}) ** 2 + 0.5, {b})", 1), ("np.exp2({a}) * {b}", 1),
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
        self.claimed: set = set()   # names given out while the current statement is generated
        env = self.probe("pass")
        if env is None:
            raise Reject("the empty function does not run")
        self.scope, self.module_ns = env

    # ---- rendering and probing ------------------------------------------------------------

    @property
    def arg_names(self) -> list[str]:
        """The function's parameter names, in order."""
        return [s.name for s in self.specs]

    def render(self, body: list[str], module_blocks: list[str] | None = None) -> str:
        """Module source: imports, module-level helpers, and the function with ``body``."""
        params = ", ".join(self.arg_names + ["%s=%s" % d for d in self.defaults])
        blocks = module_blocks if module_blocks is not None else self.module_blocks
        text = "import functools\nimport math\n\nimport numpy as np\n\n"
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
                with probe_time_limit(), warnings.catch_warnings():
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
        """Names a new local must not use: everything in scope, in the module, in the source so
        far (names of nested functions and their parameters too) and Python's own."""
        source_names = names_in("\n".join(self.body + self.module_blocks))
        return (set(self.scope) | set(self.module_ns) | RESERVED | set(self.arg_names) | source_names |
                {d[0] for d in self.defaults} | self.claimed)

    def fresh(self, pool=None, extra_taken=()) -> str:
        """An unused local name, from ``pool`` when one is free."""
        taken = self.taken() | set(extra_taken)
        options = [n for n in (pool or LOCAL_NAMES) if n not in taken]
        if options and self.r.random() < 0.85:
            name = self.r.choice(options)
            self.claimed.add(name)
            return name
        for k in itertools.count(1):
            name = "v%d" % k
            if name not in taken:
                self.claimed.add(name)
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
        """Names of the functions in scope a call can go to: nested defs, lambdas, module helpers."""
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
            with probe_time_limit(), warnings.catch_warnings():
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
        """A float literal as users write them (negative ones parenthesised)."""
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
                   "mask": 2, "build": 2.5}
        if self.callables():
            options["call"] = 6
        if self.names_of(lambda v: isinstance(v, (list, tuple, dict)) and v):
            options["container"] = 8
        if self.names_of(lambda v: isinstance(v, (list, tuple)) or isinstance(v, np.ndarray) and v.ndim >= 1):
            options["comp"] = 3
        choice = weighted(self.r, options)
        return getattr(self, "node_" + choice)(depth)

    def operand(self, depth: int) -> tuple[str, object]:
        """An operand one level deeper and its value."""
        code = self.node(depth + 1)
        return code, self.eval(code)

    def node_unary(self, depth):
        """An elementwise function of one operand (math.* forms only for scalars)."""
        code, value = self.operand(depth)
        scalar = np.ndim(value) == 0
        table = [(t, w) for t, w, needs_scalar in UNARY if scalar or not needs_scalar]
        return weighted(self.r, table).format(a=code)

    def node_binary(self, depth):
        """An arithmetic or elementwise combination of two operands that broadcast together."""
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
        template = weighted(self.r, BINARY)
        if a == b and "-" in template:  # x - x is an exact zero: norms and roots of it have no derivative
            b = self.literal()
        return template.format(a="(%s)" % a, b="(%s)" % b)

    def node_reduce(self, depth):
        """A reduction (sum, mean, max, min, prod, var, std, norm, cumsum) with axis/keepdims."""
        code = self._node_reduce(depth)
        if ("std(" in code or "norm(" in code) and np.min(np.abs(self.eval(code))) < 1e-2:
            raise Reject("standard deviation or norm near zero (no derivative)")
        return code

    def _node_reduce(self, depth):
        """The reduction of ``node_reduce`` before its validity check."""
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
            if fn == "std" and np.shape(va)[axis] < 2:
                fn = "var"
        keep = axis is not None and self.r.random() < 0.35
        args = ""
        if axis is None and nd >= 2 and self.r.random() < 0.15 and fn != "std":
            args += "axis=(0, 1)"
        elif axis is not None:
            args += "axis=%d" % axis
            if keep:
                args += ", keepdims=True"
        form = self.r.random()
        if axis is not None and not keep and self.r.random() < 0.2:  # the axis given by position
            if self.r.random() < 0.5:
                return "np.%s(%s, %d)" % (fn, a, axis)
            return "(%s).%s(%d)" % (a, fn, axis)
        if form < 0.6:
            return "np.%s(%s%s)" % (fn, a, ", " + args if args else "")
        if form < 0.9:
            return "(%s).%s(%s)" % (a, fn, args)
        if nd == 1 and fn in ("sum", "max", "min"):
            return "%s(%s)" % (fn, a)  # builtin over the entries of a vector
        if axis is None:
            return "np.linalg.norm(%s)" % a
        if self.r.random() < 0.5:
            return "np.linalg.norm(%s, axis=%d)" % (a, axis)
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
        """An indexing read: ints, slices, ``...``, ``None``, fancy, ``.flat``, ``.ravel()``, reshapes."""
        a, va = self.array_operand(depth)
        shape = np.shape(va)
        r = self.r.random()
        ints = [n for n in self.loop_vars if type(self.scope.get(n)) is int]
        if ints and self.r.random() < 0.3:
            i = self.r.choice(ints)
            return a + self.r.choice(["[%s]", "[%s:%s + 2]", "[-%s - 1]", "[%s, ...]"]).replace("%s", i)
        if self.r.random() < 0.06:
            if len(shape) == 1:
                return "%s[np.argmax(%s)]" % (a, a)
            return "%s[np.argmin(%s[:, 0])]" % (a, a)
        if len(shape) >= 2 and self.r.random() < 0.06:
            return "%s[%d][%d]" % (a, self.r.randrange(shape[0]), self.r.randrange(shape[1]))
        if r < 0.75:
            return a + self.r.choice(self.index_options(shape))
        if r < 0.82:
            return "%s.flat[%d]" % (a, self.r.randrange(np.size(va)))
        if r < 0.88:
            return "%s.ravel()[%d]" % (a, self.r.randrange(np.size(va)))
        if len(shape) >= 2 and r < 0.94:
            return self.r.choice(["%s.T", "np.transpose(%s)", "%s.reshape(%d, %d)" % ("%s", shape[1], shape[0])]) % a
        return self.r.choice(["%s.reshape(-1)", "%s.ravel()", "np.expand_dims(%s, 0)", "%s.flatten()",
                              "np.squeeze(%s)" if 1 in shape else "%s.reshape(-1)", "np.roll(%s, 1)", "np.flip(%s)",
                              "np.tile(%s, 2)", "np.repeat(%s, 2)", "np.sort(%s)", "np.diff(%s)",
                              "np.diag(%s)" if len(shape) <= 2 else "np.sort(%s)", "%s[1:] - %s[:-1]",
                              "np.cumprod(%s)" if np.size(va) <= 6 else "np.cumsum(%s)"]).replace("%s", a)

    def node_build(self, depth):
        """An array built from scalars: ``np.array([a, b])`` and friends."""
        parts = [self.expr(depth + 1, scalar=True) for _ in range(self.r.choice([2, 3]))]
        form = self.r.random()
        if form < 0.6:
            return "np.array([%s])" % ", ".join(parts)
        if form < 0.8:
            return "np.stack([%s])" % ", ".join(parts)
        if len(parts) == 2:
            return "np.array([[%s, %s], [%s, %s]])" % (parts[0], parts[1], parts[1], parts[0])
        return "np.asarray([%s])" % ", ".join(parts)

    def node_mask(self, depth):
        """A reduction of a boolean-mask selection (its size depends on the data)."""
        a, va = self.array_operand(depth)
        cond = self.r.choice(["%s > 0", "%s < 0.5", "np.abs(%s) > 0.3"]) % a
        fn = self.r.choice(["np.sum(%s)", "(%s).sum()", "np.sum((%s) ** 2)"])
        return fn % ("%s[%s]" % (a, cond))

    def node_matmul(self, depth):
        """A matrix product of operands with matching inner dimensions (``@``, dot, matmul, outer)."""
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
        """A conditional expression whose branches have the same shape."""
        a, va = self.operand(depth)
        b = self.expr(depth + 1, shape=np.shape(va), mode="exact")
        return "(%s if %s else %s)" % (a, self.condition(), b)

    def node_shape(self, depth):
        """``np.stack`` or ``np.concatenate`` of two arrays."""
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
        """A call of a helper, nested def or lambda in scope, with positional and keyword arguments."""
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
        """An entry of a list, tuple or dict in scope (indexing, ``.get``, ``sum``)."""
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
        """A generator expression or list comprehension over rows, a list or dict values, fed to sum/max/min/np.stack."""
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
                         "np.sum({a} ** 2) < 3.0", "np.any({a} > 1.0)", "({a} > -1.0).all()",
                         "isinstance({a}, np.ndarray)"] +
                        (["{a} > 0.0", "{a} < 0.5", "abs({a}) > 0.2", "-1.0 < {a} < 1.0", "isinstance({a}, float)"]
                         if scalar else ["{a}.ndim == 2", "{a}.shape[0] > 2", "len({a}) == 3"]))
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
        """A context manager that restores the scope and bookkeeping on exit."""
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
        """One of ``names``, mostly one that depends on the arguments."""
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
        """``name = expression`` (a new name, or rebinding a local; sometimes ``a = b = ...``)."""
        marks, lines = [], []
        locals_ = self.local_floats()
        if locals_ and self.r.random() < 0.15:
            target = self.pick_active(locals_)
            feature = "assign:rebind"
        else:
            target = self.fresh()
            feature = "assign"
        rhs = self.expr(0)
        if re.fullmatch(r"[A-Za-z_]\w*", rhs) and self.r.random() < 0.7:
            rhs = self.expr(0)  # a bare name makes an alias; users mostly compute something
        if self.r.random() < 0.05:
            other = self.fresh(extra_taken=[target])
            stmt = "%s = %s = %s" % (target, other, rhs)
            self.simulate(stmt)
            self.mark(target, rhs)
            self.mark(other, rhs)
            return [stmt], [(target, rhs), (other, rhs)], "assign:chained"
        self.assign(target, rhs, lines, marks)
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
        elif choice < 0.23:
            sources = [n for n in self.numeric_names(shape) if n != name]
            stmt = "%s[:] = %s" % (name, r.choice(sources) if sources else self.expr(1, shape=shape, mode="fits"))
            self.simulate(stmt)
            self.mark(name, stmt)
            lines.append(stmt)
            return
        elif choice < 0.29 and shape[0] >= 2:
            stmt = r.choice(["{t}[1:] = {t}[:-1] * {c}", "{t}[:-1] += {t}[1:]", "{t}[[0, 1]] = {t}[[1, 0]]",
                             "{t}[0] = {t}[-1] * {c}", "{t}[::-1] = {t} * {c}"]).format(t=name, c=self.literal())
            self.simulate(stmt)
            lines.append(stmt)
            return
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
        """A copy (or view, or alias) of an array followed by subscript writes into it."""
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
        if r.random() < 0.15:
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
        """Subscript writes into an existing local array (sometimes an argument)."""
        arrays = self.local_floats(ndim_min=1, allow_args=self.r.random() < 0.15)
        if not arrays:
            raise Reject("no arrays to write into")
        name = self.pick_active(arrays)
        lines, marks = [], []
        for _ in range(self.r.choice([1, 1, 2])):
            self.write_stmt(name, lines, marks)
        return lines, marks, "write" + (":arg" if name in self.arg_names else "")

    def stmt_augassign(self):
        """An augmented assignment on a local (sometimes an argument): ``+=``, ``*=``, ``/=``, ..."""
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
        """``x = x``, ``x = +x``, ``a, b = b, a``."""
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
        """A name rebound to a value of another kind: array -> float -> list."""
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
        """The conversions users start functions with: ``x = np.asarray(x)``, ``s = float(s)``."""
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
            if r.random() < 0.1 and kind != "reuse":
                var = "_"
            if kind == "reuse" and r.random() < 0.25:  # never runs: the name keeps its array
                return "for %s in range(0):" % var, {var: self.scope[var]}, "for:empty-reuse"
            return "for %s in %s:" % (var, header), {var: firsts[header]}, "for:" + kind
        if kind == "literal":
            a = self.expr(1)
            b = self.expr(1)
            return "for %s in [%s, %s]:" % (var if var not in "ijk" else "item", a, b), \
                {var if var not in "ijk" else "item": self.eval(a)}, "for:literal"
        src, element = self.iterable()
        if kind == "rows" or kind == "list":
            v = self.fresh(["row", "item", "r", "layer", "term"])
            if not src.endswith(".values()") and r.random() < 0.15:
                last = self.eval(src)[-1]
                return "for %s in reversed(%s):" % (v, src), {v: last}, "for:reversed-seq"
            return "for %s in %s:" % (v, src), {v: element}, "for:iter"
        if kind == "enumerate":
            v = self.fresh(["row", "item", "r", "term"], extra_taken=[var])
            if r.random() < 0.2:
                return "for %s, %s in enumerate(%s, start=1):" % (var, v, src), {var: 1, v: element}, \
                    "for:enumerate-start"
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
            if r.random() < 0.3:
                return "for %s in sorted(%s):" % (k, d), {k: sorted(self.scope[d])[0]}, "for:dict-sorted-keys"
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

    def loop_body(self, targets: list[str], count: int, nesting: int, in_while: bool = False,
                  iterated: set = frozenset()) -> list[str]:
        """Statements of a loop body that keep the kinds of ``targets`` (names live across
        iterations); simulated once with the first iteration's values. Lists named in
        ``iterated`` (what the loop runs over) are never appended to."""
        r = self.r
        lines, marks = [], []
        self.depth_limit = 2
        loop_ints = [v for v in self.loop_vars if isinstance(self.scope.get(v), int)]
        for _ in range(count):
            options = {"update": 7, "augassign": 2, "temp": 2.5, "break": 1.2, "cond": 1.5, "return": 0.6,
                       "pair": 1.0 if len(targets) >= 2 else 0.0}
            views = [v for v in self.loop_vars if isinstance(self.scope.get(v), np.ndarray)
                     and self.scope[v].base is not None]
            if views:
                options["row-in-place"] = 2.5
            if not in_while:
                options["continue"] = 0.8
            writable = [t for t in targets if np.ndim(self.scope.get(t, 0)) >= 1]
            if writable and loop_ints:
                options["write"] = 3
            lists = [n for n in self.names_of(lambda v: isinstance(v, list)) if n not in self.arg_names
                     and n not in iterated]
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
                elif kind == "pair":
                    a, b = r.sample([t for t in targets if is_float_value(self.scope.get(t))], 2)
                    if np.shape(self.scope[a]) != np.shape(self.scope[b]):
                        continue
                    stmt = r.choice(["{a}, {b} = {b}, {a} + 0.5 * {b}", "{a}, {b} = {b} * 0.9, {a}",
                                     "{a}, {b} = {a} + {b}, {a} - {b}"]).format(a=a, b=b)
                    self.simulate(stmt)
                    self.mark(a, stmt)
                    self.mark(b, stmt)
                    lines.append(stmt)
                elif kind == "row-in-place":
                    v = r.choice(views)
                    stmt = r.choice(["{v} *= {c}", "{v} /= np.sum(np.abs({v})) + 1.0", "{v} += {e}", "{v}[0] = {e0}",
                                     "{v}[...] = np.tanh({v})", "{v} -= {v}.mean()"]).format(
                        v=v, c=self.literal(), e=self.expr(1, shape=np.shape(self.scope[v]), mode="fits"),
                        e0=self.expr(1, shape=np.shape(self.scope[v][0]), mode="fits"))
                    self.simulate(stmt)
                    self.mark(v, stmt)
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
                    stmt = r.choice(["{n}.append({e})", "{n}.append({e})", "{n} += [{e}]", "{n} = {n} + [{e}]",
                                     "{n}.extend([{e}])", "{n}.extend(({e}, {e}))"]).format(n=name, e=e)
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
                    inner = self.loop_body(targets, 1, nesting + 1, iterated=iterated)
                    if inner:
                        lines.append("for %s in range(%d):\n%s" % (inner_var, n, indent("\n".join(inner))))
            except Reject:
                continue
        return lines

    def stmt_for(self):
        """A ``for`` loop (range, rows, lists, enumerate, zip, dict items) with accumulators."""
        r = self.r
        lines, marks = [], []
        targets = []
        pre_kind = r.random()
        if pre_kind < 0.2:
            if any(np.ndim(self.eval(n)) >= 1 for n in self.numeric_names()):
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
        body = self.loop_body(targets, r.choice([1, 2, 2, 3]), nesting=1, iterated=names_in(header))
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
        """A ``while`` loop with a counter: plain, with ``and``/``or`` data conditions, never run, or ``while True`` with ``break``."""
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
        body = self.loop_body(targets, r.choice([1, 2, 2]), nesting=1, in_while=True, iterated=set(targets))
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
        """``if``/``elif``/``else`` on data or constants; the arms assign names of the same kinds."""
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
            """The statements of one branch."""
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
        """A module-level helper function and a call of it."""
        r = self.r
        special = r.random()
        if special < 0.12:
            return self.helper_varargs()
        if special < 0.22:
            return self.helper_recursive()
        if special < 0.3:
            return self.helper_in_place()
        if special < 0.38:
            return self.helper_object()
        return self.helper_plain()

    def helper_object(self):
        """A module-level object with weights and a method (a layer users call as ``LAYER(x)``)."""
        r = self.r
        arrays = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n]) >= 1
                  and np.shape(self.scope[n])[-1] == 4]
        if not arrays or "Affine" in self.module_ns:
            raise Reject("no (..., 4) arrays")
        block = ("class Affine:\n    \"\"\"y = tanh(x * w + b).\"\"\"\n\n"
                 "    def __init__(self, w, b):\n        self.w = w\n        self.b = b\n\n"
                 "    def __call__(self, x):\n        return np.tanh(x * self.w + self.b)\n\n"
                 "    def scaled(self, x, k=2.0):\n        return self(x) * k\n\n\n"
                 "LAYER = Affine(np.array([0.5, -1.0, 1.5, 0.25]), 0.1)")
        arg = self.pick_active(arrays)
        call = r.choice(["LAYER(%s)", "LAYER.scaled(%s)", "LAYER.scaled(%s, k=0.5)", "LAYER(LAYER(%s))"]) % arg
        target = self.fresh()
        return ["%s = %s" % (target, call)], [(target, call)], "helper:object", block

    def helper_varargs(self):
        """A helper taking ``*terms``."""
        r = self.r
        hname = self.fresh(["total_of", "combine", "add_all"])
        body = r.choice(["return sum(np.sum(t ** 2) for t in terms)", "out = 0.0\nfor t in terms:\n    out = out + np.sum(t)\nreturn out",
                         "return terms[0] * 2.0 + np.sum(terms[-1])"])
        block = "def %s(*terms):\n%s" % (hname, indent(body))
        args = [self.expr(0) for _ in range(r.choice([1, 2, 3]))]
        target = self.fresh()
        call = "%s(%s)" % (hname, ", ".join(args))
        return ["%s = %s" % (target, call)], [(target, call)], "helper:varargs", block

    def helper_in_place(self):
        """A helper that changes its array argument in place and returns it (the caller's array
        changes too)."""
        r = self.r
        arrays = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n]) >= 1]
        if not arrays:
            raise Reject("no arrays")
        hname = self.fresh(["center_", "scale_", "clip_", "update_"])
        body = r.choice(["u -= u.mean()\nreturn u", "u *= 0.5\nreturn u", "u[0] = 0.0\nreturn u * 2.0",
                         "np.clip(u, -1.0, 1.0, out=u)\nreturn u", "u[u < 0] = 0.0\nreturn np.sum(u)"])
        block = "def %s(u):\n%s" % (hname, indent(body))
        arg = self.pick_active(arrays)
        if r.random() < 0.6:
            arg = "%s.copy()" % arg if r.random() < 0.5 else "%s * 1.0" % arg
        target = self.fresh()
        call = "%s(%s)" % (hname, arg)
        return ["%s = %s" % (target, call)], [(target, call)], "helper:in-place", block

    def helper_recursive(self):
        """A recursive helper counting down an int."""
        r = self.r
        hname = self.fresh(["repeat_", "power_", "nest"])
        body = r.choice(["if n == 0:\n    return u\nreturn {h}(np.tanh(u) * 1.5, n - 1)",
                         "return u if n <= 0 else u * {h}(u, n - 1)",
                         "if n == 0:\n    return 1.0\nreturn 0.5 * u + {h}(u, n - 1) * 0.5"]).format(h=hname)
        block = "def %s(u, n):\n%s" % (hname, indent(body))
        target = self.fresh()
        call = "%s(%s, %d)" % (hname, self.expr(1), r.choice([1, 2, 3]))
        return ["%s = %s" % (target, call)], [(target, call)], "helper:recursive", block

    def helper_plain(self):
        """A helper with keyword defaults, called with positional and keyword arguments."""
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
            positional = len(call) == len([p for p in params if p in ("u", "v")]) + \
                [d[0] for d in defaults].index(name) and "=" not in "".join(c.split("(")[0] for c in call)
            if choice < 0.7 and positional:
                call.append(value)  # a default given by position
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
        """A nested def (possibly with a def inside it) or a lambda reading enclosing names, and calls of it."""
        r = self.r
        lines, marks = [], []
        special = r.random()
        if special < 0.1:
            parts = self.fresh(["parts", "collected"])
            push = self.fresh(["push", "record"])
            a, b = self.expr(1), self.expr(1)
            text = ("{p} = []\n\ndef {f}(v):\n    {p}.append(v * 2.0)\n{f}({a})\n{f}({b})\n{t} = sum({p})"
                    .format(p=parts, f=push, a=a, b=b, t=self.fresh(extra_taken=[parts, push])))
            return text.split("\n"), [(parts, a + b)], "nested_def:closure-append"
        if special < 0.18:
            fs = self.fresh(["fns", "funcs"])
            a = self.expr(0)
            target = self.fresh(extra_taken=[fs])
            text = ("{fs} = [lambda u, k=k: u * k for k in (1.0, 2.0, 0.5)]\n{t} = sum(fn({a}) for fn in {fs})"
                    .format(fs=fs, a=a, t=target))
            return text.split("\n"), [(target, a)], "lambda:list-default-capture"
        if special < 0.26:  # (the arms of an if bind one name to different functions)
            fn = self.fresh(["act", "phi_", "kernel_", "step_fn"])
            cond = self.condition(r.random() < 0.6)
            other = r.choice(["np.tanh", "np.sin", "lambda u: u ** 2 * (%s)" % self.expr(0, scalar=True),
                              "lambda u: np.exp(-u) * (%s)" % self.expr(0, scalar=True)])
            text = ("if {c}:\n    {f} = lambda u: u * ({e})\nelse:\n    {f} = {o}"
                    .format(c=cond, f=fn, e=self.expr(0, scalar=True), o=other))
            self.simulate(text)
            self.mark(fn, text)
            lines.extend(text.split("\n"))
            call = "%s(%s)" % (fn, self.expr(0))
            if r.random() < 0.4:
                call = "%s + %s(%s)" % (call, fn, self.expr(1))
            self.assign(self.fresh(extra_taken=[fn]), call, lines, marks)
            return lines, marks, "lambda:branch-choice"
        helpers = self.callables()
        if special < 0.36 and helpers:  # (functools.partial of a function in scope, values bound now)
            import inspect
            helper = r.choice(helpers)
            try:
                signature = inspect.signature(self.scope.get(helper, self.module_ns.get(helper)))
            except (TypeError, ValueError):
                raise Reject("no signature")
            params = [p for p in signature.parameters.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
            required = [p.name for p in params if p.default is p.empty]
            optional = [p.name for p in params if p.default is not p.empty]
            parts = [helper]
            if required and r.random() < 0.5:
                parts.append(self.expr(0))
                required = required[1:]
            if optional and r.random() < 0.7:
                parts.append("%s=%s" % (r.choice(optional), self.expr(0)))
            fn = self.fresh(["kern", "part_fn", "fixed", "bound_fn"])
            text = "%s = functools.partial(%s)" % (fn, ", ".join(parts))
            self.simulate(text)
            self.mark(fn, text)
            lines.append(text)
            if r.random() < 0.2:  # (the partial keeps the values it was given)
                rebind = [n for n in self.local_floats() if n in names_in(text)]
                if rebind:
                    t = r.choice(rebind)
                    self.assign(t, "%s * 2.0" % t, lines, marks)
            call = "%s(%s)" % (fn, ", ".join(self.expr(0) for _ in required))
            self.assign(self.fresh(extra_taken=[fn]), call, lines, marks)
            return lines, marks, "partial"
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
        """Lists, dicts and tuples of arrays built, copied, unpacked and consumed inside the function."""
        r = self.r
        lines, marks = [], []
        kind = weighted(r, {"list": 4, "dict": 3, "tuple": 2, "append": 2, "unpack-arg": 1, "copy-seq": 1.5,
                            "copy-dict": 1.5, "tolist": 0.6, "held-list": 0.8})
        if kind == "list":
            name = self.fresh(["parts", "items", "terms", "layers_", "vals"])
            first = self.expr(0)
            shape = np.shape(self.eval(first))
            same = r.random() < 0.6
            rest = [self.expr(1, shape=shape, mode="exact" if same else "fits") for _ in range(r.choice([1, 2]))]
            self.assign(name, "[%s]" % ", ".join([first] + rest), lines, marks)
            consume = r.choice(["sum({n})", "np.stack({n})" if same else "sum({n})", "{n}[0] * {n}[-1]",
                                "np.array({n})" if same else "sum({n})", "np.asarray({n}).sum(axis=0)" if same else
                                "sum({n}) / len({n})",
                                "sum({n}, np.zeros(%r))" % (shape,) if same else "sum({n}, 0.0)",
                                "np.concatenate({n})" if same and shape else "sum({n})", "{n}[1]"])
            if r.random() < 0.3:
                stmt = r.choice(["{n}.append({e})", "{n}.extend([{e}])", "{n}.extend({n})"]).format(n=name, e=rest[0])
                self.simulate(stmt)
                lines.append(stmt)
            if r.random() < 0.3:  # a copy of the list whose entry is replaced or changed in place
                copy_name = self.fresh(["ys", "copied", "items2"])
                self.assign(copy_name, "list(%s)" % name, lines, marks)
                e = self.expr(1, shape=shape, mode="fits")
                stmt = r.choice(["{c}[0] = {c}[0] * {e}", "{c}[-1] = {e}", "{c}[0] *= {e}", "{c}[-1] += {e}"]).format(
                    c=copy_name, e=e)
                self.simulate(stmt)
                self.mark(copy_name, e)
                lines.append(stmt)
                if r.random() < 0.5:
                    name = copy_name
            self.assign(self.fresh(), consume.format(n=name), lines, marks)
        elif kind == "dict":
            name = self.fresh(["d", "cache", "state", "stats", "named"])
            keys = r.sample(["a", "b", "w", "bias", "h"], 2)
            e1, e2 = self.expr(0), self.expr(1)
            self.assign(name, "{%r: %s, %r: %s}" % (keys[0], e1, keys[1], e2), lines, marks)
            step = r.choice(["{d}['c'] = {d}[{k0!r}] * 2.0", "{d}[{k0!r}] = {d}[{k0!r}] + {d}[{k1!r}]",
                             "{d}[{k0!r}] += 1.0", "{d}['c'] = {d}.get('c', 0.0) + {d}[{k1!r}]",
                             "{d}[{k1!r}] *= 0.5", "{d}['c'] = {d}.pop({k0!r}) * 2.0",
                             "{d}[{k0!r}] = {d}.pop({k1!r}) + {d}[{k0!r}]"])
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
        elif kind == "copy-seq":
            seqs = self.names_of(lambda v: isinstance(v, list) and v and is_float_value(v[0]))
            if not seqs:
                raise Reject("no list")
            src = r.choice(seqs)
            name = self.fresh(["ys", "copied", "items2"])
            self.assign(name, r.choice(["list({s})", "{s}[:]", "{s}.copy()", "[v for v in {s}]"]).format(s=src),
                        lines, marks)
            e = self.expr(1, shape=np.shape(self.scope[name][0]), mode="fits")
            # (ys[0] *= e changes the array the copy shares with the source: in place)
            stmt = r.choice(["{n}[0] = {n}[0] * {e}", "{n}.append({e})", "{n}[-1] = {e}", "{n}[0] *= {e}",
                             "{n}[-1] += {e}"]).format(n=name, e=e)
            self.simulate(stmt)
            self.mark(name, e)
            lines.append(stmt)
            self.assign(self.fresh(), r.choice(["sum({n})", "np.array({n}[0]) + {n}[-1]"]).format(n=name), lines, marks)
        elif kind == "copy-dict":
            dicts = self.names_of(lambda v: isinstance(v, dict) and v and all(is_float_value(e) for e in v.values()))
            if not dicts:
                raise Reject("no dict")
            src = r.choice(dicts)
            key = r.choice(list(self.scope[src]))
            name = self.fresh(["new_params", "upd", "p2"])
            e = self.expr(1, shape=np.shape(self.scope[src][key]), mode="fits")
            self.assign(name, r.choice(["{{**{s}, {k!r}: {s}[{k!r}] * {e}}}", "dict({s})", "{s}.copy()",
                                        "{{k: v * {e} for k, v in {s}.items()}}" if np.ndim(e) == 0 else "dict({s})"])
                        .format(s=src, k=key, e=e), lines, marks)
            if r.random() < 0.6:
                stmt = "%s[%r] = %s[%r] - 0.1 * %s" % (name, key, name, key, e)
                self.simulate(stmt)
                self.mark(name, stmt)
                lines.append(stmt)
            self.assign(self.fresh(), r.choice(["sum(np.sum(v) for v in {n}.values())", "{n}[{k!r}] * 2.0"]).format(
                n=name, k=key), lines, marks)
        elif kind == "held-list":  # (a list a dict holds, changed through it, read through it or not)
            name = self.fresh(["log", "history", "record"])
            first = self.expr(0)
            shape = np.shape(self.eval(first))
            self.assign(name, r.choice(["{'hist': [%s]}", "{'hist': [%s], 'n': 1}"]) % first, lines, marks)
            stmt = r.choice(["{n}['hist'].append({e})", "{n}['hist'] += [{e}]"]).format(
                n=name, e=self.expr(1, shape=shape, mode="exact"))
            self.simulate(stmt)
            self.mark(name, stmt)
            lines.append(stmt)
            self.assign(self.fresh(), r.choice(["{n}['hist'][-1] * 2.0", "sum({n}['hist'])", "{n}['hist'][0]"])
                        .format(n=name), lines, marks)
        elif kind == "tolist":
            arrays = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n]) == 1]
            if not arrays:
                raise Reject("no vector")
            a = self.pick_active(arrays)
            name = self.fresh(["vals", "as_list"])
            self.assign(name, r.choice(["{a}.tolist()", "list({a})", "[float(v) for v in {a}]"]).format(a=a),
                        lines, marks)
            self.assign(self.fresh(), r.choice(["sum({n})", "max({n})", "{n}[0] * {n}[-1]", "np.array({n}) * 2.0"])
                        .format(n=name), lines, marks)
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
        """``n, m = x.shape`` or ``a, b = x[0], x[-1]``."""
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
        """A module-level constant (float, array, tuple, list) used in the function."""
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

    def stmt_assert(self):
        """An ``assert`` on a shape, a length or finiteness."""
        r = self.r
        names = [n for n in self.numeric_names() if n in self.scope]
        if not names:
            raise Reject("no names")
        a = r.choice(names)
        value = self.scope[a]
        options = ["assert np.all(np.isfinite(%s))" % a, "assert %s is not None" % a]
        if np.ndim(value):
            options += ["assert %s.shape == %r" % (a, np.shape(value)), "assert %s.ndim == %d" % (a, np.ndim(value)),
                        "assert len(%s) == %d, 'bad length'" % (a, len(value))]
        else:
            options += ["assert %s > -1000.0" % a, "assert not math.isnan(%s)" % a]
        return [r.choice(options)], [], "assert"

    def stmt_with(self):
        """Statements inside ``with np.errstate(...)`` or ``with warnings.catch_warnings()``."""
        marks = []
        inner = []
        for _ in range(self.r.choice([1, 2])):
            self.assign(self.fresh(), self.expr(0), inner, marks)
        header = self.r.choice(['with np.errstate(all="ignore"):', 'with np.errstate(divide="ignore", invalid="ignore"):',
                                "with warnings.catch_warnings():"])
        block = header + "\n" + indent("\n".join(inner))
        if "warnings" in header:
            block = "import warnings\n" + block
        return block.split("\n"), marks, "with"

    def stmt_arg_entry_write(self):
        """Rebinding an entry of a list/dict argument: the caller's container changes (users do
        this by accident and on purpose)."""
        r = self.r
        containers = [s.name for s in self.specs if s.kind in ("list", "dict") and isinstance(self.scope.get(s.name),
                                                                                           (list, dict))]
        if not containers:
            raise Reject("no container argument")
        name = r.choice(containers)
        value = self.scope[name]
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        key = r.choice(keys)
        item = "%s[%r]" % (name, key)
        lines, marks = [], []
        if not is_float_value(value[key]):
            raise Reject("not a float entry")
        form = r.choice(["{i} = {i} * {e}", "{i} = np.tanh({i}) + {e}", "{n}.append({e})" if isinstance(value, list)
                         else "{n}['extra'] = {e}", "{i} = {e}"])
        e = self.expr(1, shape=np.shape(value[key]), mode="fits")
        stmt = form.format(i=item, e=e, n=name)
        self.simulate(stmt)
        self.mark(name, e)
        lines.append(stmt)
        self.assign(self.fresh(), self.r.choice(["{i} * 2.0", "np.sum({i})", "sum(np.sum(q) for q in {v})"]).format(
            i=item, v=name if isinstance(value, list) else name + ".values()"), lines, marks)
        return lines, marks, "arg_entry_write"

    def stmt_walrus(self):
        """An ``if`` whose condition binds a name with ``:=``."""
        lines, marks = [], []
        names = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n])]
        if not names:
            raise Reject("no arrays")
        a = self.pick_active(names)
        m = self.fresh(["m", "peak", "top"])
        target = self.fresh(extra_taken=[m])
        text = "if (%s := np.max(%s)) > 0.0:\n    %s = %s * %s\nelse:\n    %s = %s * 0.5" % (
            m, a, target, a, m, target, a)
        lines.append(text)
        marks += [(m, a), (target, a)]
        return lines, marks, "walrus"

    def stmt_isinstance(self):
        """A branch on ``isinstance`` (code written for both floats and arrays)."""
        names = [n for n in self.numeric_names() if n in self.scope]
        if not names:
            raise Reject("no names")
        a = self.pick_active(names)
        target = self.fresh()
        text = ("if isinstance({a}, np.ndarray):\n    {t} = np.sum({a} ** 2)\nelse:\n    {t} = {a} ** 2"
                if self.r.random() < 0.5 else
                "if isinstance({a}, float):\n    {t} = {a} * 2.0\nelse:\n    {t} = np.asarray({a}) * 2.0")
        return [text.format(a=a, t=target)], [(target, a)], "isinstance"

    def stmt_log(self):
        """A module-level log or counter the function writes to (training-loop style)."""
        r = self.r
        names = [n for n in self.numeric_names() if n in self.scope and n in self.active]
        if not names:
            raise Reject("nothing to log")
        a = r.choice(names)
        style = r.choice(["list", "dict", "list"])
        if style == "list":
            if "HISTORY" in self.module_ns:
                raise Reject("one log per program")
            block = "HISTORY = []"
            stmt = r.choice(["HISTORY.append(float(np.sum({a})))", "HISTORY.append(np.max({a}))",
                             "HISTORY.append(({n!r}, float(np.mean({a}))))"]).format(a=a, n=a)
        else:
            if "CALLS" in self.module_ns:
                raise Reject("one counter per program")
            block = "CALLS = {}"
            stmt = r.choice(["CALLS['n'] = CALLS.get('n', 0) + 1", "CALLS[{n!r}] = float(np.sum({a}))"]).format(a=a, n=a)
        return [stmt], [], "log:" + style, block

    def stmt_early_return(self):
        """``if <data condition>: return <scalar>`` in the middle of the function."""
        cond = self.condition(data=True)
        return ["if %s:\n    return %s" % (cond, self.scalar_of(self.expr(0)))], [], "early_return"

    def stmt_idiom(self):
        """A realistic multi-line idiom: softmax, logsumexp, standardisation, MSE, a layer, Horner, Newton, running max, cumulative sums, pairwise distances, an RNN loop, penalties, linear algebra, einsum, cross-entropy with integer labels, seeded noise and dropout, ..."""
        r = self.r
        marks = []
        arrays = [n for n in self.numeric_names() if n in self.scope and np.ndim(self.scope[n]) >= 1]
        if not arrays:
            raise Reject("no arrays")
        a = self.pick_active(arrays)
        v = self.scope[a]
        labels = [s.name for s in self.specs if s.kind == "labels" and s.name in self.scope]
        name = weighted(r, {"softmax": 2, "logsumexp": 2, "standardize": 1.5, "mse": 2, "layer": 2, "horner": 1.5,
                            "newton": 1, "running_max": 1, "cumsum": 1.2, "pairwise": 0.8, "rnn": 1.5, "l2": 1,
                            "normalize": 1, "gram": 1, "mask": 1.2, "huber": 1, "clip_norm": 1, "descent": 1,
                            "linalg": 1.2, "einsum": 1, "smoothness": 1.2, "noise": 1, "dropout": 1, "xent": 4 if labels else 0.3, "onehot": 2 if labels else 0})
        f = self.fresh
        if name == "softmax":
            z, p = f(["z", "logits_"]), f(["probs", "p_"], extra_taken=["z"])
            text = ["{z} = {a} - np.max({a}, axis=-1, keepdims=True)",
                    "{p} = np.exp({z}) / np.sum(np.exp({z}), axis=-1, keepdims=True)"]
            fill = dict(a=a, z=z, p=p)
        elif name == "logsumexp":
            m, lse = f(["m", "mx"]), f(["lse", "logz"])
            text = ["{m} = np.max({a})", "{lse} = {m} + np.log(np.sum(np.exp({a} - {m})))"]
            fill = dict(a=a, m=m, lse=lse)
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
            text = r.choice([
                ["{best} = -np.inf", "for {row} in {a}:", "    {best} = max({best}, float(np.sum({row})))"],
                ["{best} = float('inf')", "for {row} in {a}:", "    {best} = min({best}, np.sum({row} ** 2))"],
                ["{best} = -math.inf", "for {row} in {a}:", "    if np.sum({row}) > {best}:",
                 "        {best} = np.sum({row})"],
                ["{best} = None", "for {row} in {a}:", "    {v} = np.sum(np.tanh({row}))",
                 "    if {best} is None or {v} > {best}:", "        {best} = {v}"]])
            fill = dict(a=a, best=best, row=row, v=f(["val", "cand"]))
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
        elif name == "linalg":
            if v.ndim != 2:
                raise Reject("not a matrix")
            m_, out = f(["M", "K"]), f(["sol", "inv_", "logdet"])
            n = v.shape[1]
            rhs = self.expr(1, shape=(n,), mode="fits")
            text = ["{m} = {a}.T @ {a} + 3.0 * np.eye({n})", r.choice([
                "{out} = np.linalg.solve({m}, np.ones({n}) * {rhs})", "{out} = np.linalg.inv({m}) @ (np.ones({n}) * {rhs})",
                "{out} = np.log(np.linalg.det({m}))", "{out} = np.linalg.norm({m})"])]
            fill = dict(a=a, m=m_, out=out, n=n, rhs=rhs)
        elif name == "noise":
            rng_name, noisy = f(["rng", "gen"]), f(["noisy", "perturbed"])
            text = ["{rng} = np.random.default_rng(0)", "{noisy} = {a} + 0.1 * {rng}.standard_normal({a}.shape)"]
            fill = dict(a=a, rng=rng_name, noisy=noisy)
        elif name == "dropout":
            keep, out = f(["keep", "mask_"]), f(["dropped", "out"])
            text = ["{keep} = np.random.default_rng(1).random({a}.shape) > 0.3", "{out} = np.where({keep}, {a} / 0.7, 0.0)"]
            fill = dict(a=a, keep=keep, out=out)
        elif name == "smoothness":
            if v.shape[0] < 2:
                raise Reject("too short")
            pen, i = f(["pen", "rough"]), f(["i", "j"])
            text = r.choice([["{pen} = np.sum(({a}[1:] - {a}[:-1]) ** 2)"], ["{pen} = np.sum(np.diff({a}, axis=0) ** 2)"],
                             ["{pen} = 0.0", "for {i} in range(len({a}) - 1):",
                              "    {pen} = {pen} + np.sum(({a}[{i} + 1] - {a}[{i}]) ** 2)"]])
            fill = dict(a=a, pen=pen, i=i)
        elif name == "einsum":
            e = f(["e_", "contr"])
            if v.ndim == 2:
                ws = [n for n in self.numeric_names() if np.shape(self.eval(n)) == (v.shape[1],)]
                form = r.choice(["{e} = np.einsum('ij,ij->', {a}, {a})", "{e} = np.einsum('ij->j', {a})"] +
                                (["{e} = np.einsum('ij,j->i', {a}, %s)" % r.choice(ws)] if ws else []))
            else:
                form = r.choice(["{e} = np.einsum('i,i->', {a}, {a})", "{e} = np.einsum('i,j->ij', {a}, {a})"])
            text = [form]
            fill = dict(a=a, e=e)
        elif name in ("xent", "onehot"):
            lab = r.choice(labels) if labels else None
            if v.ndim != 2 or v.shape[0] != 3 or v.shape[1] < 4:
                raise Reject("needs (3, 4) logits")
            z, lp, nll = f(["z", "shifted"]), f(["logp", "log_probs"]), f(["nll", "xent"])
            pick = "np.array([0, 3, 1])" if lab is None else lab
            if name == "xent":
                text = ["{z} = {a} - np.max({a}, axis=1, keepdims=True)",
                        "{lp} = {z} - np.log(np.sum(np.exp({z}), axis=1, keepdims=True))",
                        r.choice(["{nll} = -np.mean({lp}[np.arange({a}.shape[0]), {lab}])",
                                  "{nll} = -np.sum({lp}[np.arange(len({lab})), {lab}]) / len({lab})"])]
            else:
                text = ["{z} = np.zeros_like({a})", "{z}[np.arange(3), {lab}] = 1.0",
                        "{nll} = -np.sum({z} * np.log(1.0 / (1.0 + np.exp(-{a}))))"]
            fill = dict(a=a, z=z, lp=lp, nll=nll, lab=pick)
        else:  # descent
            cur = f(["cur", "guess"])
            text = ["{cur} = {a} * 0.5", "for _ in range(3):", "    {cur} = {cur} - 0.1 * ({cur} - {a}) * 2.0"]
            fill = dict(a=a, cur=cur)
        block = "\n".join(text).format(**fill)
        if name in ("standardize", "normalize", "clip_norm") and (
                np.min(np.std(v, axis=0)) < 1e-2 or np.linalg.norm(v) < 1e-2):
            raise Reject("standard deviation or norm near zero (no derivative)")
        for stmt_name in fill.values():
            if isinstance(stmt_name, str) and re.fullmatch(r"[A-Za-z_]\w*", stmt_name) and stmt_name != a:
                marks.append((stmt_name, a))
        return block.split("\n"), marks, "idiom:" + name

    # ---- assembling ------------------------------------------------------------------------

    STATEMENTS = {"assign": 20, "copy_write": 7, "write": 5, "augassign": 4, "for": 12, "while": 5, "if": 9,
                  "helper": 6, "nested_def": 6, "containers": 6, "rebind_kind": 2, "self_assign": 2,
                  "early_return": 2, "unpack": 2, "module_const": 2, "idiom": 10, "assert": 1.5, "with": 1.5,
                  "arg_entry_write": 1.5, "walrus": 1, "isinstance": 1, "log": 1.5}

    def statement_count(self, extra: str = "") -> int:
        """Statements in the body so far (plus ``extra``)."""
        return count_statements("\n".join(self.body + [extra]))

    def add_statement(self) -> bool:
        """Draw statements until one runs on every sample (or give up after a few tries)."""
        for _ in range(10):
            table = dict(self.STATEMENTS)
            if not self.body:
                table["prologue"] = 3
            kind = weighted(self.r, table)
            self.claimed = set()
            with self.sandbox():
                try:
                    out = getattr(self, "stmt_" + kind)()
                except Reject:
                    continue
                except Exception:  # a generator corner case: drop the candidate, never the program
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
            value = self.scope[name]
            if np.ndim(value) and np.min(np.abs(value)) == 0 and np.max(np.abs(value)) < 1e-2:
                continue  # an all-zero value: its norm has no derivative
            if np.ndim(self.scope[name]) == 0:
                terms.append(r.choice(["{n}", "{n}", "{n} ** 2", "float({n})"]).format(n=name))
            else:
                terms.append(r.choice(["np.sum({n})", "np.mean({n} ** 2)", "{n}.sum()", "np.sum(np.tanh({n}))",
                                       "float(np.sum({n}))", "np.linalg.norm({n})", "np.max({n})",
                                       "np.sum({n} * {n})"]).format(n=name))
        if not terms:
            raise Reject("nothing to return")
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
                continue
            if self.r.random() < 0.25:
                name = self.fresh(["loss", "result", "value", "objective_"])
                tail = "%s = %s\nreturn %s" % (name, ret, name)
            else:
                tail = "return " + ret
            src = self.render(self.body + [tail])
            if runs_to_scalar(src, self.fname, self.samples):
                self.body.append(tail)
                src = canonical_source(src)
                if self.r.random() < 0.07:
                    src = self.from_numpy_import(src)
                return src
        return None

    def from_numpy_import(self, src: str) -> str:
        """``from numpy import exp, sin`` and bare ``exp(...)`` calls (the script style), when the
        program still runs that way."""
        used = sorted(set(re.findall(r"\bnp\.(exp|sin|cos|tanh|sqrt|log|maximum|where|sum)\(", src)))
        if not used or set(used) & names_in("\n".join(self.body)) - {"np"} & set(self.scope):
            return src
        new = re.sub(r"\bnp\.(%s)\(" % "|".join(used), r"\1(", src)
        new = new.replace("import numpy as np\n", "import numpy as np\nfrom numpy import %s\n" % ", ".join(used), 1)
        if runs_to_scalar(new, self.fname, self.samples):
            self.features.append("from-numpy-import")
            return new
        return src

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
            with probe_time_limit(), warnings.catch_warnings():
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


# ---------------------------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------------------------

CHECK_NAMES = {"a": "grad vs finite differences", "b": "value_and_grad value", "c": "arguments after the call",
               "d": "gradient type/shape/dtype", "e": "jvp", "f": "hessian", "g": "gradient at other inputs",
               "h": "vjp"}
ALL_CHECKS = "abcdefgh"
TIME_LIMIT = 20
FD_STEP = 1e-6
FD_STEP_WIDE = 1e-4
SHAPE_VARIANTS = [{3: 5}, {3: 1}, {4: 2}, {4: 6}, {3: 2, 4: 5}]


class Timeout(BaseException):
    """The program's checks ran longer than the time limit (a BaseException: never swallowed by
    ``except Exception`` in the code under test)."""


class CheckFailed(Exception):
    """Raised inside a check to record a failure."""

    def __init__(self, failure: "Failure"):
        super().__init__(failure.message)
        self.failure = failure


@dataclasses.dataclass
class Failure:
    """One failed (or refused) check."""
    check: str          # a..h
    status: str         # wrong, crash, refused
    kind: str           # short name of what went wrong (part of the signature)
    message: str        # one line
    detail: str = ""    # expected vs got, or the traceback
    where: str = ""     # file:line of the innermost frame (crashes)
    origin: str = ""    # innermost adcompiler module:function (crashes)

    def signature(self) -> str:
        """Failures with the same signature are (probably) the same bug."""
        if self.status == "crash":
            return "crash:%s:%s:%s@%s" % (self.check, self.kind, normalize_message(self.message), self.origin)
        if self.status in ("refused", "nonfinite"):
            return "%s:%s:%s" % (self.status, self.check, normalize_message(self.message))
        return "wrong:%s:%s" % (self.check, self.kind)


@dataclasses.dataclass
class Result:
    """Outcome of checking one program."""
    seed: int
    status: str
    failures: list
    source: str = ""
    function: str = ""
    wrt: str = ""
    args: str = ""
    seconds: float = 0.0
    skip_reason: str = ""
    features: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def primary(self) -> Failure | None:
        """The failure that decides the status (first of the most severe kind)."""
        for status in ("crash", "wrong", "refused", "nonfinite"):
            for failure in self.failures:
                if failure.status == status:
                    return failure
        return None

    @property
    def signature(self) -> str:
        """The result's signature: that of its primary failure, or its status."""
        if self.status in ("skipped", "broken"):
            return self.status
        p = self.primary
        return p.signature() if p else "ok"

    def report(self) -> str:
        """Human-readable text: the program, how it was called, every failure."""
        out = ["seed %d: %s  (%s)" % (self.seed, self.status.upper(), self.signature),
               "reproduce: python tests/differential.py --show %d" % self.seed,
               "arguments: %s" % self.args, "ad.grad(%s, wrt=%s)" % (self.function, self.wrt), "", self.source]
        if self.skip_reason:
            out.append("skipped: " + self.skip_reason)
        shown = {}
        for failure in self.failures:
            key = (failure.status, failure.kind, failure.message)
            if key in shown:
                out.append("--- check %s (%s): same as check %s" % (failure.check, CHECK_NAMES[failure.check],
                                                                  shown[key]))
                continue
            shown[key] = failure.check
            out.append("--- check %s (%s): %s [%s] %s" % (failure.check, CHECK_NAMES[failure.check],
                                                         failure.status, failure.kind, failure.message))
            if failure.where:
                out.append("    at %s (%s)" % (failure.where, failure.origin))
            if failure.detail:
                out.append(indent(failure.detail.rstrip(), 1))
        if self.notes:
            out.append("notes: " + "; ".join(self.notes))
        return "\n".join(out)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["signature"] = self.signature
        if self.status not in ("wrong", "crash"):
            data["source"] = ""
        return data


TYPE_WORDS = {"float", "int", "list", "tuple", "dict", "NoneType", "numpy.ndarray", "ndarray", "str", "bool",
              "function", "numpy.float64", "numpy.float32", "float64", "float32", "object", "builtin_function_or_method",
              "generator", "module", "type", "complex", "numpy.bool_", "range", "zip", "enumerate", "method"}


def normalize_message(message: str) -> str:
    """A message with the parts that vary between programs stripped: quoted identifiers (type
    names are kept), numbers, shapes, generated-code labels, addresses."""
    lines = [line for line in str(message).strip().splitlines() if line.strip()]
    text = lines[0] if lines else ""
    text = re.sub(r"<adcompiler:[^>]*>", "<generated>", text)
    text = re.sub(r"0x[0-9a-fA-F]+", "ADDR", text)

    def quoted(m):
        word = m.group(0)[1:-1]
        return m.group(0) if word in TYPE_WORDS else "'_'"
    text = re.sub(r"'[^']*'|\"[^\"]*\"", quoted, text)
    text = re.sub(r"\((\s*-?\d+\s*,?)+\s*\)", "(shape)", text)
    text = re.sub(r"\[(\s*-?\d+\s*,?)+\s*\]", "[ints]", text)
    text = re.sub(r"-?\b\d+(\.\d+)?([eE][-+]?\d+)?\b", "N", text)
    text = re.sub(r"\b(in|of) [A-Za-z_]\w*:", r"\1 FN:", text)
    text = re.sub(r"\bline N\b.*", "", text)
    return text.strip()[:160]


def describe_value(v) -> str:
    """Short text of a value's type and shape."""
    if isinstance(v, np.ndarray):
        return "ndarray%s %s" % (v.shape, v.dtype)
    if isinstance(v, (list, tuple)):
        return "%s[%s]" % (type(v).__name__, ", ".join(describe_value(e) for e in v))
    if isinstance(v, dict):
        return "dict{%s}" % ", ".join("%r: %s" % (k, describe_value(e)) for k, e in v.items())
    return type(v).__name__


def leaves(value, path=()):
    """(path, leaf) for every float/array leaf of an argument (containers nest)."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from leaves(item, path + (i,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, path + (key,))
    else:
        yield path, value


def get_at(value, path):
    for step in path:
        value = value[step]
    return value


def replace_at(value, path, new):
    """A copy of ``value`` with the leaf at ``path`` replaced (containers rebuilt, leaves shared)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = dict(value)
        out[head] = replace_at(value[head], rest, new)
        return out
    items = list(value)
    items[head] = replace_at(value[head], rest, new)
    return tuple(items) if isinstance(value, tuple) else items


def path_text(name: str, path, idx=()) -> str:
    text = name + "".join("[%r]" % p for p in path)
    if idx:
        text += "[%s]" % ", ".join(map(str, idx))
    return text


def to_float64(value):
    """``value`` with float32 arrays converted to float64 (finite differences run in float64)."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32:
        return value.astype(np.float64)
    if isinstance(value, list):
        return [to_float64(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_float64(v) for v in value)
    if isinstance(value, dict):
        return {k: to_float64(v) for k, v in value.items()}
    return value


def random_like(value, rng: np.random.Generator):
    """A random tangent with the structure, shapes and dtypes of ``value``."""
    if isinstance(value, np.ndarray):
        return rng.standard_normal(value.shape).astype(value.dtype)
    if isinstance(value, list):
        return [random_like(v, rng) for v in value]
    if isinstance(value, tuple):
        return tuple(random_like(v, rng) for v in value)
    if isinstance(value, dict):
        return {k: random_like(v, rng) for k, v in value.items()}
    if isinstance(value, np.floating):
        return type(value)(rng.standard_normal())
    return float(rng.standard_normal())


def negated(value):
    """``-value`` through containers (other inputs that take other branches)."""
    if isinstance(value, np.ndarray):
        return -value
    if isinstance(value, bool) or isinstance(value, int):
        return value
    if isinstance(value, (float, np.floating)):
        return -value
    if isinstance(value, list):
        return [negated(v) for v in value]
    if isinstance(value, tuple):
        return tuple(negated(v) for v in value)
    if isinstance(value, dict):
        return {k: negated(v) for k, v in value.items()}
    return value


def structure_problems(arg, grad, where: str) -> list[tuple[str, str]]:
    """(kind, text) for every way ``grad`` does not have ``arg``'s type, structure, shape, dtype."""
    problems = []
    if isinstance(arg, bool) or isinstance(arg, int):
        return problems
    if type(arg) is float:
        if type(grad) is not float:
            problems.append(("type", "%s: float argument, gradient is %s" % (where, describe_value(grad))))
        return problems
    if isinstance(arg, np.floating):  # a NumPy scalar: a float of either kind will do
        if not isinstance(grad, (float, np.floating)) or np.ndim(grad):
            problems.append(("type", "%s: %s argument, gradient is %s" % (where, type(arg).__name__,
                                                                          describe_value(grad))))
        return problems
    if isinstance(arg, np.ndarray):
        if type(grad) is not np.ndarray:
            problems.append(("type", "%s: ndarray%s argument, gradient is %s" % (where, arg.shape,
                                                                                describe_value(grad))))
        elif grad.shape != arg.shape:
            problems.append(("shape", "%s: argument shape %s, gradient shape %s" % (where, arg.shape, grad.shape)))
        elif grad.dtype != arg.dtype:
            problems.append(("dtype", "%s: argument dtype %s, gradient dtype %s" % (where, arg.dtype, grad.dtype)))
        return problems
    if isinstance(arg, (list, tuple)):
        if type(grad) is not type(arg) or len(grad) != len(arg):
            problems.append(("structure", "%s: argument %s, gradient %s" % (where, describe_value(arg),
                                                                             describe_value(grad))))
            return problems
        for i, (a, g) in enumerate(zip(arg, grad)):
            problems += structure_problems(a, g, "%s[%d]" % (where, i))
        return problems
    if isinstance(arg, dict):
        if type(grad) is not dict or set(grad) != set(arg):
            problems.append(("structure", "%s: argument %s, gradient %s" % (where, describe_value(arg),
                                                                             describe_value(grad))))
            return problems
        for key in arg:
            problems += structure_problems(arg[key], grad[key], "%s[%r]" % (where, key))
    return problems


def same_values(a, b) -> bool:
    """Exact deep equality of arguments (types, shapes, dtypes and values; NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return set(a) == set(b) and all(same_values(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (a != a and b != b)
    return a == b


def same_effect(a, b) -> bool:
    """Side effects on module state agree: same entries, numbers equal to 1e-9 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(same_effect(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_effect(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, int, np.number)) and isinstance(b, (float, int, np.number)):
        a, b = float(a), float(b)  # (an inf equals itself, a NaN counts as equal to a NaN)
        return a == b or (a != a and b != b) or abs(a - b) <= 1e-9 * max(1.0, abs(a))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and all(same_effect(x, y) for x, y in zip(a.ravel().tolist(),
                                                                            b.ravel().tolist()))
    return type(a) is type(b) and a == b


def first_difference(a, b, where: str) -> str:
    """Where two argument values first differ (for messages)."""
    if type(a) is not type(b):
        return "%s: %s vs %s" % (where, describe_value(a), describe_value(b))
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return "%s: %s vs %s" % (where, describe_value(a), describe_value(b))
        bad = np.argwhere(~((a == b) | (np.isnan(a) & np.isnan(b))))
        if len(bad):
            idx = tuple(bad[0])
            return "%s[%s]: %r vs %r" % (where, ", ".join(map(str, idx)), a[idx], b[idx])
        return ""
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return "%s: length %d vs %d" % (where, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (where, i))
            if d:
                return d
        return ""
    if isinstance(a, dict):
        for k in a:
            d = first_difference(a[k], b.get(k), "%s[%r]" % (where, k))
            if d:
                return d
        return ""
    return "" if same_values(a, b) else "%s: %r vs %r" % (where, a, b)


def exception_location(exc: BaseException) -> tuple[str, str]:
    """(file:line of the innermost frame, innermost adcompiler module:function or 'generated')."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = "%s:%d" % (os.path.basename(frames[-1].filename), frames[-1].lineno) if frames else "?"
    origin = ""
    for frame in reversed(frames):
        if frame.filename.startswith("<adcompiler"):
            origin = origin or "generated:" + frame.name
        elif os.sep + "adcompiler" + os.sep in frame.filename:
            origin = (origin + " " if origin else "") + "%s:%s" % (os.path.basename(frame.filename), frame.name)
            break
    return where, origin or "user-code"


class ProgramChecker:
    """Runs the checks on one program; every adcompiler call goes through ``call``, which turns
    ``AdError`` into a refusal and any other exception into a crash."""

    def __init__(self, program: GeneratedProgram, source: str, only: str | None = None, ci: bool = False):
        import adcompiler
        self.ad = adcompiler
        self.program = program
        self.source = source
        self.only = only or ALL_CHECKS
        self.ci = ci
        self.seed = program.seed
        self.failures: list[Failure] = []
        self.notes: list[str] = []
        self.float32_far = False  # (its float32 value far from its float64 value: see finite_differences)
        self.rng = random.Random(program.seed * 31 + 17)       # choices of the checks
        self.f = None

    # ---- calling ---------------------------------------------------------------------------

    def call(self, check: str, fn, *args, **kwargs):
        """Call an adcompiler entry point (or what it returned); classify its exceptions."""
        self.restore_module_arrays()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    return fn(*args, **kwargs)
        except Timeout:
            raise
        except self.ad.AdError as exc:
            raise CheckFailed(Failure(check, "refused", "AdError", str(exc).strip().splitlines()[0]
                                      if str(exc).strip() else "AdError", str(exc)))
        except Exception as exc:  # anything else from adcompiler is a crash
            where, origin = exception_location(exc)
            message = "%s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])
            raise CheckFailed(Failure(check, "crash", type(exc).__name__, message, tb, where, origin))

    def plain(self, args):
        """``f(*args)`` in plain Python on a copy: (value, arguments after the call), or None."""
        self.restore_module_arrays()
        copies = copy.deepcopy(args)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    value = self.f(*copies)
        except Timeout:
            raise
        except Exception:
            return None
        if not isinstance(value, (float, np.floating, int, np.integer)) and not (
                isinstance(value, np.ndarray) and value.ndim == 0):
            return None
        if not np.isfinite(value) or isinstance(value, bool):
            return None
        return value, copies

    def value_at(self, args) -> float:
        """``f`` at ``args`` as a float (NaN when it raises): for finite differences."""
        self.restore_module_arrays()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    return float(self.f(*copy.deepcopy(args)))
        except Timeout:
            raise
        except Exception:
            return float("nan")

    def restore_module_arrays(self) -> None:
        """Put the module-level arrays back as they were before the first call (in place): a
        program writing into one at each call (``tmp = OFFSET; tmp -= r``) would change the value
        of every later call, the finite differences' included (seeds 812895, 919388). What a call
        writes there is compared with the plain call's all the same (``module_state``)."""
        globs = self.f.__globals__
        if not hasattr(self, "module_arrays"):
            self.module_arrays = {k: v.copy() for k, v in globs.items()
                                  if k.isupper() and isinstance(v, np.ndarray)}
        for k, value in self.module_arrays.items():
            target = globs.get(k)
            if isinstance(target, np.ndarray) and target.shape == value.shape \
                    and target.dtype == value.dtype:
                target[...] = value
            else:
                globs[k] = value.copy()

    def module_state(self) -> dict:
        """Copies of the module-level lists, dicts (logs, counters) and arrays the program may
        write."""
        globs = self.f.__globals__
        return {k: copy.deepcopy(v) for k, v in globs.items()
                if k.isupper() and isinstance(v, (list, dict, np.ndarray))}

    def reset_module_state(self, state: dict) -> None:
        """Put the module-level lists, dicts and arrays back to ``state`` (in place: the function
        holds the same objects)."""
        globs = self.f.__globals__
        for k, value in state.items():
            target = globs.get(k)
            if isinstance(target, np.ndarray) and isinstance(value, np.ndarray) \
                    and target.shape == value.shape:
                target[...] = value
            elif isinstance(target, list):
                target[:] = copy.deepcopy(value)
            elif isinstance(target, dict):
                target.clear()
                target.update(copy.deepcopy(value))

    def fail(self, check, kind, message, detail=""):
        raise CheckFailed(Failure(check, "wrong", kind, message, detail))

    def run(self, check: str, fn, *args) -> bool:
        """Run one check function; record its failure. True when it passed."""
        if check not in self.only:
            return False
        try:
            fn(*args)
            return True
        except CheckFailed as exc:
            self.failures.append(exc.failure)
            return False

    # ---- finite differences ----------------------------------------------------------------

    def finite_differences(self, args, positions):
        """{(position, path, index): (estimate, smooth)} for every float entry of the arguments at
        ``positions``, plus f(args). Entries where two step sizes or the one-sided differences
        disagree are marked not smooth (kinks of abs/max/where, branch switches)."""
        original = args
        args = to_float64(args)
        f0 = self.value_at(args)
        out = {}
        if any(isinstance(leaf, np.ndarray) and leaf.dtype == np.float32 for a in original for _, leaf in leaves(a)):
            in_own_dtype = self.value_at(original)
            if "isinstance(" in self.source:
                # (a branch on the type of a value, isinstance(y, float), takes another arm in
                # float64 than in float32 where the values may agree by chance: seed 1247766)
                self.notes.append("finite differences skipped: the program branches on types, and "
                                  "its float64 differences say nothing about its float32 gradient")
                self.float32_far = True
                return {}, f0
            if not abs(in_own_dtype - f0) <= 1e-3 * (1 + abs(f0)):
                # the program does something else in float64 (a branch on the dtype, isinstance of a
                # NumPy scalar): its float64 differences say nothing about its float32 gradient
                self.notes.append("finite differences skipped: the program computes %r in float32 and %r in "
                                  "float64" % (in_own_dtype, f0))
                self.float32_far = True
                return {}, f0
        for p in positions:
            for path, leaf in leaves(args[p]):
                if isinstance(leaf, np.ndarray):
                    if leaf.dtype.kind != "f":
                        continue
                    indices = list(np.ndindex(leaf.shape))
                elif isinstance(leaf, (float, np.floating)):
                    indices = [()]
                else:
                    continue
                for idx in indices:
                    def at(delta):
                        if isinstance(leaf, np.ndarray):
                            new = leaf.copy()
                            new[idx] += delta
                        else:
                            new = type(leaf)(leaf + delta)
                        moved = list(args)
                        moved[p] = replace_at(args[p], path, new)
                        return self.value_at(moved)
                    h, H = FD_STEP, FD_STEP_WIDE
                    fp, fm, Fp, Fm = at(h), at(-h), at(H), at(-H)
                    central = (fp - fm) / (2 * h)
                    wide = (Fp - Fm) / (2 * H)
                    forward, backward = (fp - f0) / h, (f0 - fm) / h
                    noise = 1e-9 * (1 + abs(f0)) / h
                    scale = max(abs(central), abs(wide), 1.0)
                    smooth = (np.isfinite([central, wide, forward, backward]).all()
                              and abs(central - wide) <= 1e-5 * scale + 10 * noise
                              and abs(forward - backward) <= 1e-3 * scale + 10 * noise)
                    out[(p, path, idx)] = (central, bool(smooth))
        return out, f0

    def overflows(self, args) -> bool:
        """Whether the plain call at ``args`` overflows, divides by zero or makes a NaN on the way
        (an intermediate inf: its derivative is inf * 0 in IEEE arithmetic, for every AD tool)."""
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                self.f(*copy.deepcopy(args))
        except (FloatingPointError, OverflowError, ZeroDivisionError):
            return True
        except Exception:
            return False
        return False

    def compare_to_fd(self, check: str, grads: dict, fd: dict, f0: float, float32: bool, label: str, args=None):
        """Compare AD gradients ``{position: gradient}`` with finite differences; raise on mismatch.
        A gradient that is not finite where the plain computation itself goes through inf or NaN
        (``expm1`` of a large number, ``0.0 ** -2``) is recorded as ``nonfinite``, not as wrong."""
        scale = max([abs(v) for v, ok in fd.values() if ok] + [1.0])
        rtol = 5e-3 if float32 else 1e-4
        atol = (5e-4 if float32 else 1e-5) * scale + 1e-8 * (1 + abs(f0)) / FD_STEP
        bad = []
        compared = skipped = 0
        for (p, path, idx), (want, smooth) in fd.items():
            if p not in grads:
                continue
            if not smooth:
                skipped += 1
                continue
            try:
                leaf = get_at(grads[p], path)
                got = float(np.asarray(leaf, dtype=float)[idx]) if idx else float(np.asarray(leaf, dtype=float))
            except Exception:
                continue  # structure problems are check d's
            compared += 1
            if not (abs(got - want) <= rtol * abs(want) + atol):
                bad.append((p, path, idx, want, got))
        if skipped:
            self.notes.append("%s: %d entries not smooth at the point (not compared)" % (label, skipped))
        if bad:
            names = [s.name for s in self.program.specs]
            lines = ["%s: finite differences %.8g, adcompiler %.8g" % (path_text(names[p], path, idx), want, got)
                     for p, path, idx, want, got in bad[:8]]
            if len(bad) > 8:
                lines.append("... %d of %d compared entries differ" % (len(bad), compared))
            p = bad[0][0]
            # a NaN/inf where finite differences are finite (often sqrt, std or norm at exactly 0)
            # is its own kind: it is not a silently plausible number
            kind = "nan" if all(not np.isfinite(got) for *_, got in bad) else "grad"
            message = "%s: %d of %d entries differ from finite differences (%s)" % (
                label, len(bad), compared, self.program.specs[p].describe())
            beyond_float32 = float32 and all(abs(want) > np.finfo(np.float32).max for *_, want, _ in bad)
            if kind == "nan" and args is not None and (beyond_float32 or self.overflows(args)):
                raise CheckFailed(Failure(check, "nonfinite", "overflow", message + "; the plain computation "
                                          "overflows or divides by zero on the way", "\n".join(lines)))
            self.fail(check, kind, message, "\n".join(lines))
        return compared

    # ---- the checks ------------------------------------------------------------------------

    def choose_wrt(self):
        """The differentiated positions and the ``wrt`` spelling (int, name, or tuple)."""
        specs = self.program.specs
        candidates = [i for i, s in enumerate(specs) if s.differentiable]
        r = self.rng
        if len(candidates) > 1 and r.random() < 0.35:
            positions = sorted(r.sample(candidates, r.randint(1, len(candidates) - 1)))
        else:
            positions = candidates
        if len(positions) == 1 and r.random() < 0.85:
            p = positions[0]
            return positions, (specs[p].name if r.random() < 0.3 else p), False
        spelled = tuple(specs[p].name if r.random() < 0.2 else p for p in positions)
        return positions, spelled, True

    def gradients(self, check, gfun, args, positions, many):
        """Call a gradient function (the last arguments by keyword in some programs, as users
        do); {position: gradient}."""
        k = self.keyword_tail
        names = [s.name for s in self.program.specs]
        if k and all(n.isidentifier() for n in names[len(args) - k:]):
            got = self.call(check, gfun, *args[:len(args) - k], **dict(zip(names[len(args) - k:], args[len(args) - k:])))
        else:
            got = self.call(check, gfun, *args)
        if many:
            if not isinstance(got, tuple) or len(got) != len(positions):
                self.fail("d", "structure", "grad with a tuple wrt returned %s, expected a tuple of %d"
                          % (describe_value(got), len(positions)))
            return dict(zip(positions, got))
        return {positions[0]: got}

    def check_structure(self, check, args, grads):
        for p, g in grads.items():
            problems = structure_problems(args[p], g, self.program.specs[p].name)
            if problems:
                kind = problems[0][0]
                self.fail(check, kind, problems[0][1], "\n".join(t for _, t in problems))

    def check_program(self, args) -> None:
        """All selected checks for the program at ``args`` (plain call already known to work)."""
        ad = self.ad
        specs = self.program.specs
        positions, wrt, many = self.choose_wrt()
        self.positions, self.wrt, self.many = positions, wrt, many
        self.keyword_tail = self.rng.randint(1, len(args)) if self.rng.random() < 0.2 else 0
        float32 = any(isinstance(leaf, np.ndarray) and leaf.dtype == np.float32
                      for a in args for _, leaf in leaves(a))
        tangent_rng = np.random.default_rng([self.seed, 4])
        tangents = [random_like(a, tangent_rng) if i in positions else None for i, a in enumerate(args)]
        initial = self.module_state()
        plain_value, plain_after = self.plain(args)
        plain_effect = self.module_state()
        state = {"grads": None, "fd": None, "exact": False}

        def grad_checks():
            gfun = self.call("a", ad.grad, self.f, wrt=wrt)
            state["gfun"] = gfun
            copies = copy.deepcopy(args)
            self.reset_module_state(initial)
            grads = self.gradients("a", gfun, copies, positions, many)
            state["grads"] = grads
            effect = self.module_state()
            if "c" in self.only and not same_effect(effect, plain_effect):
                self.failures.append(Failure("c", "wrong", "module-state", "the module state written by "
                                             "ad.grad(f)(*args) differs from what f(*args) writes",
                                             "plain call: %r\nad.grad: %r" % (plain_effect, effect)))
            if not same_values(copies, plain_after):
                self.failures.append(Failure("c", "wrong", "mutation", "the arguments after ad.grad(f)(*args) differ "
                                             "from those after f(*args)", "first difference (plain vs ad.grad): " +
                                             first_difference(plain_after, copies, "args")))
            structure_ok = self.run("d", self.check_structure, "d", args, grads)
            fd, f0 = self.finite_differences(args, positions)
            state["fd"] = fd
            state["smooth"] = all(ok for _, ok in fd.values())
            self.compare_to_fd("a", grads, fd, f0, float32, "gradient", args)
            state["exact"] = structure_ok or "d" not in self.only

        self.run("a", grad_checks)
        if "a" not in self.only and set("cdg") & set(self.only):
            # the reducer may run a later check alone: it needs the gradient function
            try:
                state["gfun"] = self.call("a", ad.grad, self.f, wrt=wrt)
                copies = copy.deepcopy(args)
                grads = self.gradients("a", state["gfun"], copies, positions, many)
                state["grads"] = grads
                if "c" in self.only and not same_values(copies, plain_after):
                    self.failures.append(Failure("c", "wrong", "mutation", "the arguments after ad.grad(f)(*args) "
                                                 "differ from those after f(*args)", "first difference: " +
                                                 first_difference(plain_after, copies, "args")))
                if "d" in self.only:
                    self.run("d", self.check_structure, "d", args, grads)
            except CheckFailed as exc:
                self.failures.append(exc.failure)

        def value_and_grad_check():
            value, grad = self.call("b", ad.value_and_grad(self.f, wrt=wrt), *copy.deepcopy(args))
            self.compare_value("b", value, plain_value, "value_and_grad")
            grads = dict(zip(positions, grad)) if many else {positions[0]: grad}
            if state["grads"] is not None:
                for p in positions:
                    for path, _ in leaves(args[p]):
                        try:
                            leaf = get_at(state["grads"][p], path)
                        except Exception:
                            continue  # (check d)
                        try:
                            other = get_at(grads[p], path)
                        except Exception:
                            self.fail("b", "structure", "value_and_grad's gradient has another structure than grad's")
                        if not np.allclose(np.asarray(other, dtype=float), np.asarray(leaf, dtype=float),
                                           rtol=1e-7, atol=1e-10, equal_nan=True):
                            self.fail("b", "grad", "value_and_grad's gradient differs from grad's at %s"
                                      % path_text(specs[p].name, path),
                                      "grad: %r\nvalue_and_grad: %r" % (leaf, other))

        self.run("b", value_and_grad_check)

        def reference_dot(direction_args):
            """(<gradient, tangent> when the gradient was verified, else a directional difference;
            how it was found; its uncertainty: how far the differences of two steps are apart)."""
            if state["exact"] and state.get("smooth"):
                total = 0.0
                for p in positions:
                    for path, _ in leaves(args[p]):
                        leaf = get_at(state["grads"][p], path)
                        total += float(np.sum(np.asarray(leaf, dtype=float) *
                                              np.asarray(get_at(direction_args[p], path), dtype=float)))
                return total, "<grad, tangent>", 0.0
            base = to_float64(args)
            vals = []
            for h in (FD_STEP, FD_STEP_WIDE):
                plus = [axpy(a, t, h) if t is not None else a for a, t in zip(base, direction_args)]
                minus = [axpy(a, t, -h) if t is not None else a for a, t in zip(base, direction_args)]
                vals.append((self.value_at(plus) - self.value_at(minus)) / (2 * h))
            if not np.isfinite(vals).all() or abs(vals[0] - vals[1]) > 1e-5 * max(1.0, abs(vals[0])) + 1e-3:
                return None, "directional difference (not smooth)", None
            return vals[0], "directional difference", abs(vals[0] - vals[1])

        def jvp_check():
            out, tangent_out = self.call("e", ad.jvp, self.f, copy.deepcopy(args), copy.deepcopy(tangents))
            self.compare_value("e", out, plain_value, "jvp's primal output")
            want, how, spread = reference_dot(tangents)
            if float32 and self.float32_far:
                # (rounding decides the value: two float32 sums of the same terms in other orders,
                # the tangent's and <grad, tangent>'s, may be far apart too; seed 1175993)
                want, how = None, "the program's float32 value is far from its float64 value"
            elif float32 and "isinstance(" in self.source and how != "<grad, tangent>":
                # (isinstance(v, float) takes another arm for float64 differences than for the
                # float32 call: seed 1289127, when the gradient was refused)
                want, how = None, "the program branches on types (float64 differences)"
            if want is None:
                self.notes.append("jvp not compared: " + how)
                return
            if not np.all(np.isfinite(np.asarray(tangent_out, dtype=float))) and np.isfinite(want) \
                    and self.overflows(args):
                raise CheckFailed(Failure("e", "nonfinite", "overflow", "jvp %r where %s is %r; the plain "
                                          "computation overflows or divides by zero on the way"
                                          % (tangent_out, how, want)))
            self.compare_scalar("e", "jvp", tangent_out, want, how, float32, spread)

        self.run("e", jvp_check)

        def vjp_check():
            out, pullback = self.call("h", ad.vjp, self.f, *copy.deepcopy(args))
            self.compare_value("h", out, plain_value, "vjp's output")
            cotangents = self.call("h", pullback, 1.0)
            if not isinstance(cotangents, tuple) or len(cotangents) != len(args):
                self.fail("h", "structure", "the pullback returned %s, expected a tuple of %d"
                          % (describe_value(cotangents), len(args)))
            for p in positions:
                problems = structure_problems(args[p], cotangents[p], specs[p].name)
                if problems:
                    self.fail("h", problems[0][0], "pullback: " + problems[0][1])
            if state["exact"]:
                for p in positions:
                    for path, _ in leaves(args[p]):
                        leaf = get_at(state["grads"][p], path)
                        other = np.asarray(get_at(cotangents[p], path), dtype=float)
                        ref = np.asarray(leaf, dtype=float)
                        tol = 1e-3 if float32 else 1e-7
                        # (the same NaN in both: the gradient overflowed, and vjp gives it as grad does)
                        scale = np.max(np.abs(ref), initial=0, where=np.isfinite(ref))
                        if not np.allclose(other, ref, rtol=tol, atol=tol * (1 + scale), equal_nan=True):
                            self.fail("h", "vjp", "pullback(1.0) differs from the (verified) gradient at %s"
                                      % path_text(specs[p].name, path), "grad: %r\npullback: %r" % (ref, other))
            else:
                fd = state["fd"]
                if fd is None:
                    fd, f0 = self.finite_differences(args, positions)
                else:
                    f0 = plain_value
                self.compare_to_fd("h", {p: cotangents[p] for p in positions}, fd, float(f0), float32, "vjp",
                                   args)

        self.run("h", vjp_check)

        if "f" in self.only and (self.rng.random() < 0.25 or self.only == "f"):
            self.run("f", self.hessian_check, args, positions, float32, state)
        if "g" in self.only and state.get("gfun") is not None:
            self.run("g", self.other_inputs_check, args, positions, many, float32, state["gfun"])

    def compare_value(self, check, got, want, what):
        """The primal value computed by adcompiler equals the plain call's (1e-12 relative)."""
        if np.shape(got) != np.shape(want):
            self.fail(check, "value", "%s has shape %s, the plain call returned shape %s"
                      % (what, np.shape(got), np.shape(want)))
        tol = 1e-12 if np.asarray(want).dtype != np.float32 else 1e-6
        g, w = float(got), float(want)
        if not (abs(g - w) <= tol * max(1.0, abs(w)) or (g != g and w != w)):
            self.fail(check, "value", "%s %r differs from the plain call's value %r" % (what, g, w))

    def compare_scalar(self, check, kind, got, want, how, float32, spread=0.0):
        """``got`` against ``want``, known to within ``spread`` (a difference quotient's rounding
        noise: seed 270820's function is large, and a step of 1e-6 loses digits)."""
        try:
            g = float(np.asarray(got, dtype=float))
        except Exception:
            self.fail(check, "structure", "%s returned %s, expected a scalar" % (kind, describe_value(got)))
        tol = 2e-3 if float32 else 1e-5
        if not abs(g - want) <= tol * max(1.0, abs(want)) + spread:
            self.fail(check, kind, "%s %.10g differs from %s %.10g" % (kind, g, how, want))

    def hessian_check(self, args, positions, float32, state):
        """``ad.hessian(f, wrt=p)`` against second differences of f (small float64 arguments)."""
        if float32:
            return
        small = [p for p in positions if isinstance(args[p], float) or
                 isinstance(args[p], np.ndarray) and args[p].size <= 12]
        if not small:
            return
        p = self.rng.choice(small)
        x = args[p]
        how = self.rng.random()
        if isinstance(x, float) and how < 0.4:
            label = "grad(grad(f))"
            H = self.call("f", self.ad.grad(self.ad.grad(self.f, wrt=p), wrt=p), *copy.deepcopy(args))
        elif how < 0.7:
            label = "hessian"
            H = self.call("f", self.ad.hessian(self.f, wrt=p), *copy.deepcopy(args))
        else:
            label = "hessian(mode='reverse')"
            H = self.call("f", self.ad.hessian(self.f, wrt=p, mode="reverse"), *copy.deepcopy(args))
        self.notes.append("second derivatives by " + label)
        shape = np.shape(x)
        if isinstance(x, float):
            if np.ndim(H) != 0:
                self.fail("f", "shape", "%s w.r.t. a float has shape %s" % (label, np.shape(H)))
        elif shape == ():  # a 0-d array argument: any 0-d value will do
            if np.ndim(H) != 0:
                self.fail("f", "shape", "%s w.r.t. a 0-d array has shape %s" % (label, np.shape(H)))
        elif not isinstance(H, np.ndarray) or H.shape != shape + shape:
            self.fail("f", "shape", "hessian w.r.t. an argument of shape %s is %s, expected shape %s"
                      % (shape, describe_value(H), shape + shape))
        n = int(np.prod(shape)) if shape else 1
        H = np.asarray(H, dtype=float).reshape(n, n)
        flat = np.asarray(x, dtype=float).reshape(-1)
        f0 = self.value_at(args)

        def f_at(vec):
            moved = list(args)
            if shape:
                moved[p] = vec.reshape(shape)
            elif isinstance(x, np.ndarray):
                moved[p] = np.array(vec[0])
            else:
                moved[p] = type(x)(vec[0])
            return self.value_at(moved)

        def second_differences(i, j):
            estimates = []
            for h in (1e-4, 2e-4):
                ei, ej = np.zeros(n), np.zeros(n)
                ei[i] = h
                ej[j] = h
                estimates.append((f_at(flat + ei + ej) - f_at(flat + ei - ej) - f_at(flat - ei + ej)
                                  + f_at(flat - ei - ej)) / (4 * h * h))
            return estimates

        noise = 1e-15 * (1 + abs(f0)) / 1e-8

        def smooth(estimates):
            e1, e2 = estimates
            return np.isfinite(estimates).all() and abs(e1 - e2) <= 1e-3 * max(1.0, abs(e1)) + 20 * noise

        # (a kink within a step of the point along i, np.maximum(0.5, y) at y[1] = 0.49999224, makes
        # the mixed differences of row i agree with each other by chance: seed 1185853)
        diagonal = [second_differences(i, i) for i in range(n)]
        bad = []
        for i in range(n):
            for j in range(i, n):
                if not (smooth(diagonal[i]) and smooth(diagonal[j])):
                    continue  # not smooth there
                estimates = diagonal[i] if i == j else second_differences(i, j)
                if not smooth(estimates):
                    continue
                e1 = estimates[0]
                for a, b in ((i, j), (j, i)):
                    if not abs(H[a, b] - e1) <= 1e-3 * abs(e1) + 1e-4 * max(1.0, np.max(np.abs(H))) + 20 * noise:
                        bad.append((a, b, e1, H[a, b]))
        if bad:
            name = self.program.specs[p].name
            lines = ["H[%d, %d] (flat indices of %s): second differences %.8g, adcompiler %.8g" % (a, b, name, w, g)
                     for a, b, w, g in bad[:8]]
            if all(not np.isfinite(g) for *_, g in bad) and self.overflows(args):
                raise CheckFailed(Failure("f", "nonfinite", "overflow", "%s w.r.t. %s: %d entries are not finite; the "
                                          "plain computation overflows or divides by zero on the way"
                                          % (label, name, len(bad)), "\n".join(lines)))
            self.fail("f", "hessian", "%s w.r.t. %s: %d entries differ from second differences"
                      % (label, name, len(bad)), "\n".join(lines))

    def other_inputs_check(self, args, positions, many, float32, gfun):
        """The same gradient function at other values (fresh draw, negated arguments: other
        branches) and at other shapes when the program runs on them."""
        rng = np.random.default_rng([self.seed, 5])
        candidates = [("other values", self.program.make_args(rng)), ("negated arguments", negated(args))]
        variants = list(SHAPE_VARIANTS)
        self.rng.shuffle(variants)
        if "std(" in self.source:  # the standard deviation over one entry has no derivative (sqrt at 0)
            variants = [v for v in variants if 1 not in v.values()]
        shape_tries = 0
        for dims in variants:
            if shape_tries >= (1 if self.ci else 2):
                break
            other = self.program.make_args(np.random.default_rng([self.seed, 6]), dims)
            if all(np.shape(l1) == np.shape(l2) for a, b in zip(args, other)
                   for (_, l1), (_, l2) in zip(leaves(a), leaves(b))):
                continue
            if self.plain(other) is None:
                continue
            shape_tries += 1
            candidates.append(("shapes %s" % describe_value(other), other))
        for label, other in candidates:
            plain = self.plain(other)
            if plain is None:
                continue
            copies = copy.deepcopy(other)
            grads = self.gradients("g", gfun, copies, positions, many)
            if not same_values(copies, plain[1]):
                self.fail("g", "mutation", "%s: the arguments after the gradient call differ from those after "
                          "f(*args)" % label, first_difference(plain[1], copies, "args"))
            for p, g in grads.items():
                problems = structure_problems(other[p], g, self.program.specs[p].name)
                if problems:
                    self.fail("g", problems[0][0], "%s: %s" % (label, problems[0][1]))
            fd, f0 = self.finite_differences(other, positions)
            self.compare_to_fd("g", grads, fd, f0, float32, label, other)


def axpy(a, t, h):
    """``a + h * t`` through containers."""
    if isinstance(a, np.ndarray):  # (a 0-d array stays one: a + v is a NumPy scalar, seed 1221889)
        return np.asarray(a + h * np.asarray(t, dtype=a.dtype), dtype=a.dtype)
    if isinstance(a, (float, np.floating)):
        return type(a)(a + h * float(t))
    if isinstance(a, list):
        return [axpy(x, y, h) for x, y in zip(a, t)]
    if isinstance(a, tuple):
        return tuple(axpy(x, y, h) for x, y in zip(a, t))
    if isinstance(a, dict):
        return {k: axpy(a[k], t[k], h) for k in a}
    return a


_LOADED = itertools.count()
_TMPDIR: list = []


def load_function(source: str, name: str, seed: int):
    """Write ``source`` to a fresh file (adcompiler reads source from files), import it, and
    return the function; each call gets its own file and module name (linecache never serves
    an older text)."""
    if not _TMPDIR:
        _TMPDIR.append(tempfile.mkdtemp(prefix="adcompiler_differential_"))
        atexit.register(shutil.rmtree, _TMPDIR[0], True)
    module_name = "dprog_%d_%d_%d" % (seed, os.getpid(), next(_LOADED))
    path = os.path.join(_TMPDIR[0], module_name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, name), path, module_name


def _on_alarm(signum, frame):
    raise Timeout()


def check_source(source: str, function: str, specs: list[ArgSpec], seed: int = 0, only: str | None = None,
                 time_limit: int = TIME_LIMIT) -> Result:
    """Run the checks on a hand-written program: ``function`` in ``source`` called with arguments
    drawn from ``specs`` (e.g. ``[ArgSpec("x", "array", (3, 4)), ArgSpec("s", "float")]``);
    ``seed`` seeds the arguments and the checks' choices."""
    program = GeneratedProgram(seed, source, function, list(specs), ["hand-written"])
    return check_program(seed, source, only, time_limit, program=program)


def check_program(seed: int, source: str | None = None, only: str | None = None, time_limit: int = TIME_LIMIT,
                  ci: bool = False, program: GeneratedProgram | None = None) -> Result:
    """Generate (or take ``source`` for) the program of ``seed`` and run the checks on it.
    ``only`` restricts the checks (letters, e.g. "a"); the reducer uses it. ``program`` replaces
    the generated program (``check_source``)."""
    start = time.time()
    try:
        import adcompiler  # noqa: F401  (a half-edited compiler is not a finding about this program)
    except Exception as exc:
        return Result(seed, "broken", [], skip_reason="adcompiler does not import: %s: %s"
                      % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""))
    program = program or generate(seed)
    source = program.source if source is None else source
    result = Result(seed, "ok", [], source=source, function=program.name, features=list(program.features),
                    args=", ".join("%s: %s" % (s.name, s.describe()) for s in program.specs))
    args = program.make_args(np.random.default_rng([seed, 3]))
    old = signal.signal(signal.SIGALRM, _on_alarm) if hasattr(signal, "SIGALRM") else None
    if old is not None:
        signal.alarm(time_limit)
    checker = None
    module_name = path = None
    try:
        try:
            f, path, module_name = load_function(source, program.name, seed)
        except Exception as exc:
            result.status, result.skip_reason = "skipped", "the program does not import: %r" % exc
            return result
        checker = ProgramChecker(program, source, only, ci)
        checker.f = f
        if checker.plain(args) is None:
            result.status = "skipped"
            result.skip_reason = "the plain call raises or returns a non-finite or non-scalar value"
            return result
        try:
            checker.module_state()
        except TypeError:  # (a log holding what cannot be copied and compared: seed 615123)
            result.status = "skipped"
            result.skip_reason = "the plain call stores values that cannot be copied in the module"
            return result
        checker.check_program(args)
    except Timeout:
        if checker is not None:
            checker.failures.append(Failure("a", "crash", "timeout", "timeout: the checks ran over %d s" % time_limit,
                                            where="", origin="timeout"))
    finally:
        if old is not None:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        if module_name:
            sys.modules.pop(module_name, None)
        if path and os.path.exists(path):
            os.unlink(path)
        result.seconds = round(time.time() - start, 3)
    if checker is not None:
        result.failures = checker.failures
        result.notes = checker.notes
        result.wrt = repr(getattr(checker, "wrt", ""))
        if getattr(checker, "keyword_tail", 0):
            result.notes.append("the gradient function was called with its last %d argument(s) by keyword"
                                % checker.keyword_tail)
        statuses = {f.status for f in checker.failures}
        result.status = ("crash" if "crash" in statuses else "wrong" if "wrong" in statuses else
                         "refused" if "refused" in statuses else "nonfinite" if "nonfinite" in statuses else "ok")
    return result


# ---------------------------------------------------------------------------------------------
# Reduction
# ---------------------------------------------------------------------------------------------

def _node_at(tree, path):
    node = tree
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]
    return node


def _statement_sites(tree):
    """Paths (to the list and index) of every statement, outer statements first."""
    sites = []

    def visit(node, path):
        for field in ("body", "orelse", "finalbody"):
            items = getattr(node, field, None)
            if isinstance(items, list):
                for i, child in enumerate(items):
                    if isinstance(child, ast.stmt):
                        sites.append(path + ((field, i),))
                for i, child in enumerate(items):
                    if isinstance(child, ast.stmt):
                        visit(child, path + ((field, i),))
    visit(tree, ())
    return sites


def _expression_sites(tree):
    """Paths of every expression node (outermost first) and the field holding it."""
    sites = []

    def visit(node, path):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        if isinstance(child, ast.expr):
                            sites.append(path + ((field, i),))
                        visit(child, path + ((field, i),))
            elif isinstance(value, ast.AST):
                if isinstance(value, ast.expr):
                    sites.append(path + ((field, None),))
                visit(value, path + ((field, None),))
    visit(tree, ())
    return sites


def _replace(tree, path, new):
    parent = _node_at(tree, path[:-1])
    field, index = path[-1]
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new


def _simpler_expressions(node):
    """Smaller expressions that could stand for ``node``: its operands, the object of a method
    call, a call without one keyword, and so on."""
    out = []
    if isinstance(node, ast.BinOp):
        out += [node.left, node.right]
    elif isinstance(node, ast.UnaryOp):
        out.append(node.operand)
    elif isinstance(node, ast.BoolOp):
        out += node.values
    elif isinstance(node, ast.IfExp):
        out += [node.body, node.orelse]
    elif isinstance(node, ast.Call):
        out += [a for a in node.args if not isinstance(a, ast.Starred)]
        root = node.func
        while isinstance(root, (ast.Attribute, ast.Call)):
            root = root.value if isinstance(root, ast.Attribute) else root.func
        if isinstance(node.func, ast.Attribute) and not (isinstance(root, ast.Name) and root.id in ("np", "math")):
            out.append(node.func.value)
        for i in range(len(node.keywords)):
            smaller = copy.deepcopy(node)
            del smaller.keywords[i]
            out.append(smaller)
        if len(node.args) > 1:
            for i in range(1, len(node.args)):
                smaller = copy.deepcopy(node)
                del smaller.args[i]
                out.append(smaller)
    elif isinstance(node, ast.Subscript):
        out.append(node.value)
    elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store):
        root = node.value
        while isinstance(root, (ast.Attribute, ast.Call)):
            root = root.value if isinstance(root, ast.Attribute) else root.func
        if not (isinstance(root, ast.Name) and root.id in ("np", "math")):  # keep np.random.default_rng(1)...
            out.append(node.value)
    elif isinstance(node, (ast.List, ast.Tuple)) and not isinstance(node.ctx, ast.Store) and len(node.elts) > 1:
        for i in range(len(node.elts)):
            smaller = copy.deepcopy(node)
            del smaller.elts[i]
            out.append(smaller)
    elif isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value not in (0.0, 1.0, 2.0):
        out.append(ast.Constant(2.0))
    return out


def self_differences(tree) -> int:
    """Number of ``e - e`` subtractions (exact zeros) in a tree."""
    return sum(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and ast.dump(n.left) == ast.dump(n.right)
               for n in ast.walk(tree))


def reduction_candidates(source: str, function: str):
    """Sources one step simpler than ``source``: a statement deleted, a compound statement
    replaced by one of its bodies, an expression replaced by a part of it."""
    tree = ast.parse(source)
    for path in _statement_sites(tree):
        node = _node_at(tree, path)
        if isinstance(node, ast.FunctionDef) and node.name == function and len(path) == 1:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Pass):
            continue
        # delete
        new = copy.deepcopy(tree)
        parent = _node_at(new, path[:-1])
        field, index = path[-1]
        items = getattr(parent, field)
        del items[index]
        if not items and field == "body":
            items.append(ast.Pass())
        yield new
        # unwrap
        for body_field in ("body", "orelse"):
            body = getattr(node, body_field, None)
            if isinstance(node, (ast.If, ast.For, ast.While, ast.With)) and body:
                new = copy.deepcopy(tree)
                parent = _node_at(new, path[:-1])
                items = getattr(parent, field)
                items[index:index + 1] = copy.deepcopy(body)
                yield new
        if isinstance(node, (ast.If, ast.For, ast.While)) and node.orelse:
            new = copy.deepcopy(tree)
            _node_at(new, path).orelse = []
            yield new
    for path in _expression_sites(tree):
        node = _node_at(tree, path)
        if isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del)):
            continue
        for simpler in _simpler_expressions(node):
            new = copy.deepcopy(tree)
            _replace(new, path, copy.deepcopy(simpler))
            yield new


def reduce_failure(seed: int, target: Result | None = None, budget: float = 240.0, log=None,
                   refusals: bool = False) -> tuple[str, Result]:
    """Delete statements and simplify expressions of seed's program while the failure keeps its
    signature (checked with only the failing check). Returns (minimal source, its result).
    With ``refusals``, a refused program is reduced too (to see what is refused)."""
    program = generate(seed)
    target = target or check_program(seed)
    if target.status not in ("wrong", "crash") + (("refused",) if refusals else ()):
        return program.source, target
    signature = target.signature
    only = target.primary.check
    current, current_result = target.source, target
    deadline = time.time() + budget
    seen = {current}
    trials = 0
    changed = True
    while changed and time.time() < deadline:
        changed = False
        zeros = self_differences(ast.parse(current))
        for tree in reduction_candidates(current, program.name):
            if time.time() > deadline:
                break
            if self_differences(tree) > zeros:
                continue  # an exact zero made by the reduction would change what fails
            try:
                candidate = canonical_source(ast.unparse(ast.fix_missing_locations(tree)))
            except Exception:
                continue
            if candidate in seen or len(candidate) >= len(current) + 20:
                continue
            seen.add(candidate)
            trials += 1
            result = check_program(seed, source=candidate, only=only, time_limit=TIME_LIMIT)
            if result.signature == signature:
                current, current_result = candidate, result
                changed = True
                if log:
                    log("  step %d: %d characters" % (trials, len(current)))
                break
    current_result.notes.append("reduced in %d trials" % trials)
    return current, current_result


# ---------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------

def parse_range(text: str) -> list[int]:
    """``"0:2000"`` -> 0..1999; ``"5"`` -> [5]; ``"1,4,9"`` -> [1, 4, 9]."""
    if ":" in text:
        a, b = text.split(":")
        return list(range(int(a), int(b)))
    return [int(t) for t in text.split(",") if t]


WORKER_MEMORY = 4 << 30


def run_worker(seeds: list[int], results_path: str, ci: bool = False) -> None:
    """Check ``seeds`` one by one, appending one JSON line per result (flushed at once). The
    process's address space is capped (the machine is shared): a blow-up is a MemoryError."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    with open(results_path, "a") as out:
        for seed in seeds:
            try:
                result = check_program(seed, ci=ci)
            except Exception as exc:  # a failure of the tester itself: record, go on
                result = Result(seed, "crash", [Failure("a", "crash", "tester", "tester error: %r" % exc,
                                                        traceback.format_exc(), origin="tester")])
            out.write(json.dumps(result.to_json(), default=str) + "\n")
            out.flush()


def run_campaign(seeds: list[int], jobs: int, out_dir: str, chunk: int = 25, stall: float = 180.0,
                 rerun_broken: bool = True) -> list[dict]:
    """Check ``seeds`` in ``jobs`` worker processes (a fresh process per chunk of seeds). A worker
    that dies or stalls costs one seed (recorded as a crash); the rest of its chunk is re-run."""
    os.makedirs(out_dir, exist_ok=True)
    work_dir = tempfile.mkdtemp(prefix="differential_work_", dir=out_dir)
    pending = [seeds[i:i + chunk] for i in range(0, len(seeds), chunk)]
    running = []
    results: dict[int, dict] = {}
    counter = itertools.count()
    started = time.time()
    last_report = 0.0
    while pending or running:
        while pending and len(running) < jobs:
            part = pending.pop(0)
            path = os.path.join(work_dir, "chunk_%d.jsonl" % next(counter))
            with open(path + ".stderr", "w") as err:
                proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker",
                                         ",".join(map(str, part)), "--results", path],
                                        stdout=subprocess.DEVNULL, stderr=err)
            running.append([proc, part, path, time.time(), 0])
        time.sleep(0.2)
        for entry in list(running):
            proc, part, path, since, size = entry
            current = os.path.getsize(path) if os.path.exists(path) else 0
            if current != size:
                entry[3], entry[4] = time.time(), current
            finished = proc.poll() is not None
            if not finished and time.time() - entry[3] > stall:
                proc.kill()
                proc.wait()
                finished = True
            if not finished:
                continue
            running.remove(entry)
            done = read_results(path)
            for r in done:
                results[r["seed"]] = r
            missing = [s for s in part if s not in {r["seed"] for r in done}]
            if missing:
                with open(path + ".stderr", errors="replace") as fh:
                    err = fh.read()[-2000:]
                dead = missing[0]
                results[dead] = Result(dead, "crash", [Failure("a", "crash", "worker-died",
                                                               "the worker process died or stalled (rc %s)"
                                                               % proc.returncode, err, origin="process")],
                                       source="(see python tests/differential.py --show %d)" % dead).to_json()
                if missing[1:]:
                    pending.insert(0, missing[1:])
        if time.time() - last_report > 30:
            last_report = time.time()
            counts = count_statuses(results.values())
            print("[%5.0f s] %d/%d  %s" % (time.time() - started, len(results), len(seeds),
                                         " ".join("%s=%d" % kv for kv in sorted(counts.items()))), flush=True)
    broken = [s for s in seeds if results.get(s, {}).get("status") == "broken"]
    if broken and rerun_broken:
        print("%d programs ran while adcompiler did not import; running them again" % len(broken), flush=True)
        time.sleep(30)
        for r in run_campaign(broken, jobs, os.path.join(out_dir, "rerun"), chunk, stall, rerun_broken=False):
            results[r["seed"]] = r
    ordered = [results[s] for s in seeds if s in results]
    with open(os.path.join(out_dir, "results.jsonl"), "w") as fh:
        for r in ordered:
            fh.write(json.dumps(r, default=str) + "\n")
    write_failure_files(ordered, out_dir)
    write_summary(ordered, out_dir, "python tests/differential.py --seeds %d:%d" % (seeds[0], seeds[-1] + 1)
                  if seeds == list(range(seeds[0], seeds[-1] + 1)) else "(seed list)")
    return ordered


def read_results(path: str) -> list[dict]:
    out = []
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return out


def count_statuses(results) -> dict:
    counts: dict = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def result_from_json(data: dict) -> Result:
    failures = [Failure(**f) for f in data.get("failures", [])]
    fields = {f.name for f in dataclasses.fields(Result)}
    return Result(**{k: v for k, v in data.items() if k in fields and k != "failures"}, failures=failures)


def write_failure_files(results: list[dict], out_dir: str) -> None:
    """One text file per wrong/crash program: its source, arguments and failures."""
    folder = os.path.join(out_dir, "failures")
    os.makedirs(folder, exist_ok=True)
    for data in results:
        if data["status"] in ("wrong", "crash"):
            with open(os.path.join(folder, "%s_%d.txt" % (data["status"], data["seed"])), "w") as fh:
                fh.write(result_from_json(data).report() + "\n")


def group_failures(results: list[dict]) -> dict:
    """signature -> list of results, for wrong and crash programs."""
    groups: dict = {}
    for data in results:
        if data["status"] in ("wrong", "crash"):
            groups.setdefault(data["signature"], []).append(data)
    return dict(sorted(groups.items(), key=lambda kv: -len(kv[1])))


def enriched_features(group: list[dict], results: list[dict], top: int = 4) -> list[str]:
    """Program features over-represented in ``group`` compared with all checked programs: hints
    at the construct behind a failure group."""
    def freq(rs):
        counts: dict = {}
        for r in rs:
            for feat in set(r.get("features", [])):
                counts[feat] = counts.get(feat, 0) + 1
        return counts
    everywhere = freq([r for r in results if r["status"] != "skipped"])
    here = freq(group)
    total = max(1, len([r for r in results if r["status"] != "skipped"]))
    scored = []
    for feat, n in here.items():
        if n >= max(2, len(group) // 4):
            lift = (n / len(group)) / (everywhere.get(feat, n) / total)
            scored.append((lift, n, feat))
    scored.sort(reverse=True)
    return ["%s (%d/%d, x%.1f)" % (feat, n, len(group), lift) for lift, n, feat in scored[:top]]


def write_summary(results: list[dict], out_dir: str, command: str) -> str:
    """``summary.md``: counts per class, failure groups by signature with example seeds and the
    constructs they share, refusal messages."""
    counts = count_statuses(results)
    lines = ["# Differential campaign", "", "command: `%s`" % command, "",
             "| class | programs |", "|---|---|"]
    for status in ("ok", "refused", "nonfinite", "wrong", "crash", "skipped") + (("broken",) if counts.get("broken") else ()):
        lines.append("| %s | %d |" % (status, counts.get(status, 0)))
    lines.append("| total | %d |" % len(results))
    lines += ["", "## Failure groups (wrong and crash), by signature", ""]
    for signature, group in group_failures(results).items():
        seeds = [g["seed"] for g in group]
        lines.append("### %d x `%s`" % (len(group), signature))
        lines.append("seeds: %s%s" % (", ".join(map(str, seeds[:12])), " ..." if len(seeds) > 12 else ""))
        first = group[0]
        primary = result_from_json(first).primary
        if primary:
            lines.append("first: check %s, %s" % (primary.check, primary.message[:300]))
        lines.append("shared constructs: " + ", ".join(enriched_features(group, results)))
        lines.append("")
    refusals: dict = {}
    for data in results:
        if data["status"] == "refused":
            refusals.setdefault(data["signature"], []).append(data["seed"])
    lines += ["## Refusals (AdError), by message", ""]
    for signature, seeds in sorted(refusals.items(), key=lambda kv: -len(kv[1])):
        lines.append("- %d x `%s` (seeds %s)" % (len(seeds), signature[:200], ", ".join(map(str, seeds[:6]))))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "summary.md"), "w") as fh:
        fh.write(text)
    return text


def constructs(source: str, function: str) -> list[str]:
    """A fingerprint of a (reduced) program: the statement kinds, subscript forms and calls it
    uses; reduced failures with the same fingerprint are usually the same bug."""
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign):
            target = "subscript" if isinstance(node.target, ast.Subscript) else "name"
            found.add("%s %s=" % (target, type(node.op).__name__))
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Subscript) for t in node.targets):
                found.add("subscript write")
            if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
                found.add("tuple assignment")
            if len(node.targets) > 1:
                found.add("chained assignment")
        elif isinstance(node, (ast.For, ast.While, ast.If, ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.DictComp,
                               ast.IfExp, ast.Return, ast.Break, ast.Continue, ast.NamedExpr, ast.With, ast.Starred)):
            found.add(type(node).__name__)
        elif isinstance(node, ast.FunctionDef) and node.name != function:
            found.add("def")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                base = func.value.id if isinstance(func.value, ast.Name) and func.value.id in ("np", "math") else ""
                found.add("%s.%s()" % (base or "<obj>", func.attr))
            elif isinstance(func, ast.Name):
                found.add("%s()" % func.id)
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            sl = node.slice
            kind = ("fancy" if isinstance(sl, ast.List) else "mask" if isinstance(sl, ast.Compare) else
                    "tuple" if isinstance(sl, ast.Tuple) else "slice" if isinstance(sl, ast.Slice) else "index")
            found.add("read[%s]" % kind)
        elif isinstance(node, ast.Attribute) and node.attr in ("T", "flat"):
            found.add("." + node.attr)
    return sorted(found)


def failing_seeds(out_dir: str, per_group: int) -> list[tuple[int, str]]:
    """(seed, signature) of the failures of a campaign: ``per_group`` per signature, 0 for all."""
    results = read_results(os.path.join(out_dir, "results.jsonl"))
    chosen = []
    for signature, group in group_failures(results).items():
        for data in group[:per_group or None]:
            chosen.append((data["seed"], signature))
    return chosen


def reduce_groups(out_dir: str, per_group: int = 1, budget: float = 240.0, jobs: int = 2) -> None:
    """Reduce failures of the campaign in ``out_dir`` (``per_group`` seeds per signature, 0 for
    all) in ``jobs`` worker processes; writes ``reduced/<seed>.py`` and ``<seed>.txt`` (the
    report), then ``reduced.md`` listing the minimal programs grouped by fingerprint."""
    folder = os.path.join(out_dir, "reduced")
    os.makedirs(folder, exist_ok=True)
    todo = [(seed, sig) for seed, sig in failing_seeds(out_dir, per_group)
            if not os.path.exists(os.path.join(folder, "%d.txt" % seed))]
    running = []
    while todo or running:
        while todo and len(running) < jobs:
            seed, _ = todo.pop(0)
            log = open(os.path.join(folder, "%d.log" % seed), "w")
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--reduce-one", str(seed),
                                     "--budget", str(budget), "--out", folder], stdout=log, stderr=subprocess.STDOUT)
            running.append((proc, seed, log, time.time()))
        time.sleep(0.5)
        for entry in list(running):
            proc, seed, log, since = entry
            if proc.poll() is None and time.time() - since > budget * 3 + 120:
                proc.kill()
            if proc.poll() is not None:
                log.close()
                running.remove(entry)
                print("reduced seed %d (rc %s)" % (seed, proc.returncode), flush=True)
    write_reduced_index(out_dir)


def reduce_one(seed: int, folder: str, budget: float) -> None:
    """Worker of ``reduce_groups``: reduce one seed, write its program and report."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    result = check_program(seed)
    if result.status not in ("wrong", "crash"):
        text = "seed %d is now %s (%s)\n" % (seed, result.status, result.signature)
        source = ""
    else:
        source, reduced = reduce_failure(seed, result, budget)
        text = reduced.report() + "\n"
        with open(os.path.join(folder, "%d.py" % seed), "w") as fh:
            fh.write(source)
    with open(os.path.join(folder, "%d.txt" % seed), "w") as fh:
        fh.write(text)


def write_reduced_index(out_dir: str) -> str:
    """``reduced.md``: every reduced failure, grouped by (signature, fingerprint)."""
    folder = os.path.join(out_dir, "reduced")
    groups: dict = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".txt"):
            continue
        seed = int(name[:-4])
        py = os.path.join(folder, "%d.py" % seed)
        if not os.path.exists(py):
            continue
        source = open(py).read()
        report = open(os.path.join(folder, name)).read()
        signature = report.split("(", 1)[1].split(")\n", 1)[0] if "(" in report else "?"
        fingerprint = ", ".join(constructs(source, generate(seed).name))
        groups.setdefault((signature, fingerprint), []).append((seed, source, report))
    lines = ["# Reduced failures of %s" % out_dir, ""]
    for (signature, fingerprint), items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        seed, source, report = min(items, key=lambda item: len(item[1]))
        lines += ["## %d x `%s`" % (len(items), signature), "constructs: %s" % fingerprint,
                  "seeds: %s" % ", ".join(str(i[0]) for i in sorted(items)), "", "```python", source.rstrip(), "```",
                  "", "```", report.split("\n\n", 1)[-1].split("import numpy as np", 1)[-1].split(
                      "\n---", 1)[-1][:2500].rstrip(), "```", ""]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "reduced.md"), "w") as fh:
        fh.write(text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", help="seed range A:B (or a list a,b,c) for a campaign")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--out", default="/work/fuzz_out", help="output folder of a campaign")
    parser.add_argument("--show", help="print the program(s) of these seeds and their results")
    parser.add_argument("--reduce", help="reduce the failing program of these seeds")
    parser.add_argument("--reduce-all", action="store_true", help="reduce one seed per failure group of --out")
    parser.add_argument("--per-group", type=int, default=1, help="seeds reduced per group (--reduce-all; 0: all)")
    parser.add_argument("--reduce-one", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds per reduction")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    parser.add_argument("--ci", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.worker:
        run_worker(parse_range(opts.worker), opts.results, opts.ci)
        return 0
    if opts.show:
        for seed in parse_range(opts.show):
            print(check_program(seed).report())
            print()
        return 0
    if opts.reduce:
        for seed in parse_range(opts.reduce):
            result = check_program(seed)
            if result.status not in ("wrong", "crash", "refused"):
                print("seed %d is %s: nothing to reduce" % (seed, result.status))
                continue
            print("reducing seed %d: %s" % (seed, result.signature), flush=True)
            source, reduced = reduce_failure(seed, result, opts.budget, log=lambda m: print(m, flush=True),
                                             refusals=True)
            print(reduced.report())
            os.makedirs(opts.out, exist_ok=True)
            with open(os.path.join(opts.out, "reduced_%d.py" % seed), "w") as fh:
                fh.write(source)
        return 0
    if opts.reduce_one:
        reduce_one(int(opts.reduce_one), opts.out, opts.budget)
        return 0
    if opts.reduce_all:
        reduce_groups(opts.out, opts.per_group, opts.budget, opts.jobs)
        return 0
    if opts.seeds:
        seeds = parse_range(opts.seeds)
        start = time.time()
        results = run_campaign(seeds, opts.jobs, opts.out)
        counts = count_statuses(results)
        print("checked %d programs in %.0f s" % (len(results), time.time() - start))
        for status in ("ok", "refused", "nonfinite", "wrong", "crash", "skipped", "broken"):
            if status != "broken" or counts.get(status):
                print("  %-8s %d" % (status, counts.get(status, 0)))
        print("failure groups: %d (see %s)" % (len(group_failures(results)), os.path.join(opts.out, "summary.md")))
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
