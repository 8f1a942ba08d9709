"""The rule table format. Each entry is one short expression per differentiable argument,
written in plain Python over the argument names, ``g`` (the adjoint of the result) and ``ans``
(the result). The compiler inlines the expression into generated code, so generated code reads
like the rule.

Kinds of entry
- ``elementwise``: vjps are unbroadcast to their operand's shape automatically; the forward
  (tangent) rule is derived: sum over arguments of the vjp with ``g`` replaced by the tangent.
- ``linear``: the function is linear in its one differentiable argument, so the tangent rule is
  the function applied to the tangent.
- general entries give ``jvp`` explicitly (``t_<arg>`` is the tangent of ``<arg>``).
- ``nondiff``: the result carries no gradient (floor, argmax, shape queries, comparisons).
- ``refuse``: a function adcompiler will not differentiate (complex constructors, NumPy's
  higher-order functions): an AdError, with the reason and what to do instead, when a value
  depending on ``wrt`` reaches it.

Unknown arguments are refused, never assumed. A parameter no template reads in some mode (and
that is not differentiable) is accepted only at its default, unless the entry says why any value
is fine (``harmless=``) or which constant values its templates handle (``only=``); any other
value is an AdError naming it (``np.reshape: the argument order='F' is not handled ...``). A
parameter called ``dtype`` is the result's dtype and is handled for every entry alike: a float
dtype keeps the rule, an int or bool dtype gives a zero gradient (the cast is piecewise
constant), a complex one is refused, and one known only at run time is decided there
(``dtype_gate``). Templates may read ``site``: the call's description (callee, function, file,
line, column), for errors raised at run time.
"""
from __future__ import annotations

import ast
import builtins
import importlib
from dataclasses import dataclass, field, replace
from functools import cached_property

import gast

from .helpers import HELPERS

# Names a template may use besides its parameters, g and ans: numpy, math, scipy.special (``sp``),
# scipy.stats (``st``), scipy.linalg (``sla``), scipy.signal (``sig``) and scipy.spatial.distance
# (``ssd``) (in SciPy's rules only:
# they are loaded once the user's code has imported SciPy), and the helpers (the public functions
# of the runtime and of the helper modules), all bound in generated code.
_MODULES = {"np": "numpy", "math": "math", "sp": "scipy.special", "st": "scipy.stats",
            "sla": "scipy.linalg", "sig": "scipy.signal", "ssd": "scipy.spatial.distance"}
HELPER_NAMES = frozenset(set(_MODULES) | set(HELPERS))


def helper_object(name):
    """The object a helper name in a template stands for."""
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    return HELPERS[name]


# Helpers that read only the shape/dtype of the argument at this position (not its values).
SHAPE_ONLY = {"unbroadcast": 1, "unreduce": 1, "expand_like": 1, "reduced_size": 0}


@dataclass
class Signature:
    params: list
    defaults: dict
    varargs: str | None = None
    keyword_only: tuple = ()
    accepts_keywords: bool = False  # (**kwargs: any keyword binds, as a parameter of its own)
    aliases: dict = field(default_factory=dict)  # another name a keyword may have -> parameter

    @classmethod
    def parse(cls, text: str) -> "Signature":
        fn = ast.parse("def _(%s): pass" % text).body[0]
        args = fn.args
        params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
        positional = args.posonlyargs + args.args
        defaults = {a.arg: ast.literal_eval(d)
                    for a, d in zip(positional[len(positional) - len(args.defaults):],
                                    args.defaults)}
        defaults.update({a.arg: ast.literal_eval(d)
                         for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        return cls(params, defaults, args.vararg.arg if args.vararg else None,
                   tuple(a.arg for a in args.kwonlyargs))

    def bind(self, args, keywords):
        """Map parameter names to argument nodes (defaults as constants); None if it cannot bind."""
        bound = {}
        positional = [p for p in self.params if p not in self.keyword_only]
        if len(args) > len(positional) and not self.varargs:
            return None
        for p, a in zip(positional, args):
            bound[p] = a
        if self.varargs:
            extra = args[len(positional):] if len(args) > len(positional) else []
            bound[self.varargs] = gast.Tuple(elts=list(extra), ctx=gast.Load())
        for k in keywords:
            if self.accepts_keywords and k.arg is not None and k.arg not in bound:
                bound[k.arg] = k.value
                continue
            arg = self.aliases.get(k.arg, k.arg)
            if arg is None or arg not in self.params or arg in bound:
                return None
            bound[arg] = k.value
        if any(k.arg in self.aliases for k in keywords) and any(
                p in bound and p not in {self.aliases.get(k.arg) for k in keywords}
                for p in self.aliases.values()):
            return None  # (clip(x, lo, max=hi) mixes the two spellings: NumPy raises)
        for p in self.params:
            if p not in bound:
                if p not in self.defaults:
                    return None
                bound[p] = gast.Constant(value=self.defaults[p], kind=None)
        return bound


def template_names(template) -> set:
    """Every name a template reads."""
    found = getattr(template, "ad_names", None)
    if found is None:
        found = template.ad_names = frozenset(n.id for n in gast.walk(template)
                                              if isinstance(n, gast.Name))
    return found


@dataclass
class Rule:
    """How to differentiate one callable."""

    fn: object
    name: str
    signature: Signature
    vjps: dict = field(default_factory=dict)      # param -> template (gast expr)
    jvp: object = None                            # template or None
    elementwise: bool = False
    linear: bool = False
    nondiff: bool = False
    scalar_vjps: dict = field(default_factory=dict)  # cheaper templates when all args are floats
    # float parameters whose derivative is zero almost everywhere (copysign's sign)
    zero: tuple = ()
    # simpler templates when the other operands are constants
    constant_vjps: dict = field(default_factory=dict)
    # parameters no template needs to read, whatever their value (reshape's shape)
    harmless: tuple = ()
    # parameter -> the constant values its templates handle
    only: dict = field(default_factory=dict)
    refusal: tuple = None  # (why, what to do instead) for a function that is not differentiated
    # the ndarray method the function is, with the same arguments after the array (np.sum: "sum"),
    # for a reduction over ``axis``: its spelling in generated code, fusion's patterns, and a
    # uniform adjoint for a whole sum or mean
    reduction: str | None = None
    product: str | None = None  # "matmul" (np.dot, np.matmul, @: their rank rules) or "bilinear"
    like: str | None = None  # the parameter whose kind (rank, shape) the result has
    batching: str | None = None  # how its tangent runs on a batch of tangents (batched.py's rule)
    container: bool = False  # its result is a tuple (its adjoint adds up entry by entry)
    # its differentiable parameters are arrays, never sequences of them (np.concatenate's are): a
    # list given for one is read as np.asarray(list) (elementwise entries, reductions and
    # products always are)
    arrays: bool = False
    # its adjoints are 0 where it picked no value (np.where's): the contributions made from them
    # are 0 there, even where a derivative is not finite (sqrt of the entries not picked)
    selects: bool = False

    def vjp_template(self, param, bound, all_float):
        """The vjp template of ``param`` for these bound operands: the constant form when every
        other differentiable operand is a constant, the scalar form when all are Python floats."""
        if param in self.constant_vjps and all(isinstance(bound.get(q), gast.Constant)
                                               for q in self.vjps if q != param):
            return self.constant_vjps[param]
        if all_float and param in self.scalar_vjps:
            return self.scalar_vjps[param]
        return self.vjps[param]

    @property
    def diff(self) -> list:
        """Differentiable parameters: those with a vjp template or a tangent in the jvp template
        (but ``zero`` ones, whose tangent a jvp may read for another purpose: ``where_picked``)."""
        names = self.signature.params + ([self.signature.varargs] if self.signature.varargs else [])
        in_jvp = set()
        if self.jvp is not None:
            in_jvp = {n.id[2:] for n in gast.walk(self.jvp) if isinstance(n, gast.Name)
                      and n.id.startswith("t_")} - set(self.zero)
        return [p for p in names if p in self.vjps or p in in_jvp]

    @property
    def casts(self) -> bool:
        """Whether the entry has a ``dtype`` parameter (the result's dtype: see the module's
        doc)."""
        return "dtype" in self.signature.params

    def read_in_every_mode(self, param) -> bool:
        """Whether the derivative of every mode reads ``param``: every reverse template (the
        scalar and constant variants too) and the tangent rule (a ``linear`` entry's tangent is
        the call itself, an elementwise entry's is derived from its reverse templates)."""
        reverse = [*self.vjps.values(), *self.scalar_vjps.values(), *self.constant_vjps.values()]
        if not all(param in template_names(t) for t in reverse):
            return False
        return self.jvp is None or param in template_names(self.jvp)

    @cached_property
    def unhandled(self) -> tuple:
        """Parameters whose value the derivative would ignore: accepted only at their default."""
        special = set(self.diff) | set(self.zero) | set(self.harmless) | set(self.only) | {"dtype"}
        return tuple(p for p in self.signature.params if p not in special
                     and not self.read_in_every_mode(p))


def helpers_used(template) -> list:
    """The helper names (np, unbroadcast, ...) a template refers to (computed once per template)."""
    used = getattr(template, "ad_helpers", None)
    if used is None:
        used = sorted({n.id for n in gast.walk(template) if isinstance(n, gast.Name)
                       and n.id in HELPER_NAMES})
        template.ad_helpers = used
    return used


def needs_array_adjoint(template) -> bool:
    """Whether a template may fail, or give a wrongly shaped value, when ``g`` is the scalar 0.0
    standing for a zero array: ``g`` reaches a NumPy or ``math`` call or a subscript without going
    through one of adcompiler's helpers (which all accept 0.0 for a zero). Computed once."""
    cached = getattr(template, "ad_needs_array", None)
    if cached is not None:
        return cached

    def reaches(node) -> bool:  # does an unprotected g flow into node's value?
        if isinstance(node, gast.Name):
            return node.id == "g"
        if (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Name)
            and node.func.id in HELPER_NAMES
        ):
            return False  # (a helper accepts 0.0 and returns 0.0 or an array of the right shape)
        return any(reaches(c) for c in gast.iter_child_nodes(node))

    def unsafe(node) -> bool:
        if (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Name)
            and node.func.id in HELPER_NAMES
        ):
            # (a helper takes the 0.0 in its first argument, the adjoint it maps; elsewhere it is
            # a value whose shape the helper reads)
            later = node.args[1:] + [k.value for k in node.keywords]
            return any(unsafe(a) for a in node.args + [k.value for k in node.keywords]) or (
                node.func.id not in ("np", "math") and any(reaches(a) for a in later))
        if isinstance(node, (gast.Call, gast.Subscript, gast.Attribute)) or (
                isinstance(node, gast.BinOp) and isinstance(node.op, gast.MatMult)):
            if isinstance(node, gast.Call):
                parts = list(node.args) + [k.value for k in node.keywords]
            elif isinstance(node, gast.BinOp):
                parts = [node.left, node.right]  # (g @ x needs an array)
            else:
                parts = [node.value]  # (g[i], g.T)
            if any(reaches(p) for p in parts):
                return True
        return any(unsafe(c) for c in gast.iter_child_nodes(node))
    template.ad_needs_array = unsafe(template)
    return template.ad_needs_array


def template_reads(template, params) -> tuple[set, set]:
    """(params whose values the template reads, params it reads only for shape/dtype)."""
    value, shape = set(), set()
    shape_nodes = set()
    for node in gast.walk(template):
        if (
            isinstance(node, gast.Call)
            and isinstance(node.func, gast.Name)
            and node.func.id in SHAPE_ONLY
        ):
            pos = SHAPE_ONLY[node.func.id]
            if pos < len(node.args) and isinstance(node.args[pos], gast.Name):
                shape_nodes.add(id(node.args[pos]))
    for node in gast.walk(template):
        if isinstance(node, gast.Name) and node.id in params:
            (shape if id(node) in shape_nodes else value).add(node.id)
    return value, shape - value


def check_template_names(rule: Rule) -> None:
    """Every name a template of ``rule`` reads is a parameter (``t_x``: its tangent), ``g``,
    ``ans``, ``site``, a builtin or a helper generated code binds: a misspelled helper fails here,
    when the table is loaded, not as a NameError in generated code."""
    sig = rule.signature
    params = set(sig.params) | ({sig.varargs} if sig.varargs else set())
    allowed = params | {"t_" + p for p in params} | {"g", "ans", "site"} | HELPER_NAMES
    templates = [*rule.vjps.values(), *rule.scalar_vjps.values(), *rule.constant_vjps.values()]
    for template in templates + ([rule.jvp] if rule.jvp is not None else []):
        unknown = sorted(n for n in template_names(template) if n not in allowed
                         and not hasattr(builtins, n))
        if unknown:
            raise ValueError("%s: its derivative template reads %r, which is neither one of its "
                             "parameters nor a helper of generated code" % (rule.name, unknown[0]))


class Table:
    """One namespace's rules (numpy, math, builtins): ``elementwise``/``define``/``nondiff``."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.rules: dict = {}

    def _add(self, rule: Rule):
        key = _key(rule.fn)
        reserved = {"g", "ans", "site"} & set(rule.signature.params + [rule.signature.varargs])
        if reserved:  # templates read g, ans and site as the adjoint, the result and the call site
            raise ValueError(
                "%s: a parameter may not be called %s" % (rule.name, sorted(reserved)[0])
            )
        if key in self.rules:  # aliases such as np.abs / np.absolute are one object: list it once
            raise ValueError(
                "%s has two entries in the %s rule table" % (rule.name, self.namespace)
            )
        check_template_names(rule)
        for p in (*rule.harmless, *rule.only):
            if p not in rule.signature.params:
                raise ValueError("%s: %r is not one of its parameters" % (rule.name, p))
            if p in rule.harmless and rule.read_in_every_mode(p):
                raise ValueError(
                    "%s: every template reads %r, so it need not be declared harmless"
                    % (rule.name, p)
                )
            if (
                p in rule.only
                and p in rule.signature.defaults
                and rule.signature.defaults[p] not in rule.only[p]
            ):
                raise ValueError(
                    "%s: the default of %r must be one of the values it accepts" % (rule.name, p)
                )
        self.rules[key] = rule
        return rule

    def elementwise(self, fn, params: str, *vjps, scalar=None, constant=None, name=None, zero=(),
                    harmless=(), only=None, selects=False):
        """An elementwise function: one vjp template per parameter (None: not differentiable; an
        active value passed to it is an error unless the parameter is listed in ``zero``).
        ``harmless``/``only``: see the module's doc; ``selects``: see ``Rule``."""
        sig = Signature.parse(params)
        rule = Rule(fn, name or _name(fn), sig, elementwise=True, zero=tuple(zero),
                    harmless=tuple(harmless), only=dict(only or {}), selects=selects)
        for p, t in zip(sig.params, vjps):
            if t is not None:
                rule.vjps[p] = _parse(t)
        for p, t in zip(sig.params, scalar or ()):
            if t is not None:
                rule.scalar_vjps[p] = _parse(t)
        for p, t in zip(sig.params, constant or ()):
            if t is not None:
                rule.constant_vjps[p] = _parse(t)
        return self._add(rule)

    def define(self, fn, params: str, vjp=None, jvp=None, linear=False, name=None, zero=(),
               harmless=(), only=None,
               reduction=None, batching=None, like=None, product=None, container=False,
               arrays=False, selects=False, **more_vjps):
        """A general function. ``vjp`` is the template of the first parameter; templates of other
        parameters are passed by parameter name. ``harmless``/``only``: see the module's doc;
        ``reduction``/``batching``/``like``/``product``/``container``/``arrays``/``selects``: see
        ``Rule``."""
        sig = Signature.parse(params)
        rule = Rule(fn, name or _name(fn), sig, linear=linear, zero=tuple(zero),
                    harmless=tuple(harmless),
                    only=dict(only or {}), reduction=reduction, batching=batching, like=like,
                    product=product, container=container, arrays=arrays, selects=selects)
        first = sig.params[0] if sig.params else sig.varargs
        if vjp is not None:
            rule.vjps[first] = _parse(vjp)
        for p, t in more_vjps.items():
            rule.vjps[p] = _parse(t)
        if jvp is not None:
            rule.jvp = _parse(jvp)
        elif linear and len(rule.vjps) > 1:  # f(t_a, b) is not the tangent when b varies too
            raise ValueError(
                "%s: a linear entry has one differentiable parameter; give jvp=" % rule.name
            )
        return self._add(rule)

    def reduction(self, fn, params: str, vjp, jvp=None, method=None, name=None, selects=False):
        """A reduction over ``axis`` (first parameter the array): linear when no ``jvp`` is given
        (its tangent is the reduction of the tangent, also on a batch of tangents). ``method``:
        the ndarray method with the same arguments (``"sum"`` for ``np.sum``), if any;
        ``selects``: see ``Rule``."""
        linear = jvp is None
        return self.define(fn, params, vjp, jvp=jvp, linear=linear, name=name, reduction=method,
                           batching="reduction" if linear and method else None, selects=selects)

    def product(self, fn, params: str, left, right, call, matmul=False, batching=None,
                harmless=(), only=None):
        """A bilinear product of its first two parameters: ``left``/``right`` are their vjp
        templates; the tangent is derived, ``call(t_a, b) + call(a, t_b)`` (``call``: how the
        templates spell the product; other parameters are passed by keyword). ``matmul``: it
        follows np.matmul's rules on operands of rank 1 and 2 (its result's rank; batched
        tangents)."""
        sig = Signature.parse(params)
        a, b = sig.params[:2]
        rest = "".join(", %s=%s" % (p, p) for p in sig.params[2:])
        jvp = "{0}(t_{1}, {2}{3}) + {0}({1}, t_{2}{3})".format(call, a, b, rest)
        return self.define(fn, params, left, jvp=jvp, product="matmul" if matmul else "bilinear",
                           batching=batching, harmless=harmless, only=only, **{b: right})

    def alias(self, key, rule: Rule):
        """Reuse another table's rule under ``key`` (an array method with the function's
        signature, the receiver as first parameter: ``x.sum(axis)`` is ``np.sum(x, axis)``)."""
        return self._add(replace(rule, fn=key, name="x." + key))

    def like(self, fn, rule: Rule, params: str, harmless=(), only=None, name=None):
        """``fn`` computes what ``rule``'s function does, with the parameters ``params``: the
        rule's (its templates read them by name) and more, each harmless or accepted at the
        values ``only`` lists (``scipy.linalg.inv(a, overwrite_a=False, check_finite=True)`` is
        ``np.linalg.inv(a)``)."""
        return self._add(replace(rule, fn=fn, name=name or _name(fn),
                                 signature=Signature.parse(params),
                                 harmless=tuple(rule.harmless) + tuple(harmless),
                                 only={**rule.only, **(only or {})}))

    def nondiff(self, *fns):
        """Functions whose results carry no gradient."""
        for fn in fns:
            self._add(Rule(fn, _name(fn), Signature([], {}, "args"), nondiff=True))

    def refuse(self, *fns, why, hint):
        """Functions adcompiler does not differentiate: a value that depends on ``wrt`` reaching
        one is an AdError saying ``why`` and what to do instead (``hint``); fine on other values."""
        for fn in fns:
            self._add(Rule(fn, _name(fn), Signature([], {}, "args", accepts_keywords=True),
                           refusal=(why, hint)))

    def without_gradient(self, *fns):
        """Functions whose results carry their inputs' values but that have no derivative rule
        (``np.unique``, ``np.random.permutation``): an error when given a value that depends on
        ``wrt`` (never a silent zero); fine on other values."""
        for fn in fns:
            self._add(Rule(fn, _name(fn), Signature([], {}, "args", accepts_keywords=True)))


def _parse(text: str):
    tree = gast.parse(text, mode="eval").body
    return tree


def _name(fn) -> str:
    mod = getattr(fn, "__module__", None) or ""
    return (
        "%s.%s" % (mod, getattr(fn, "__name__", repr(fn)))
        if mod
        else getattr(fn, "__name__", repr(fn))
    )


def _key(fn):
    try:
        hash(fn)
        return fn
    except TypeError:
        return id(fn)
