"""Pass 4b: planning. For every simple statement of the three-address form: which derivative
rule applies and how its parameters bind to the statement's operands (or which user function it
calls), plus the analyses both modes need (activity, scalar kinds). Shared by reverse and
forward mode."""
from __future__ import annotations

import functools
import inspect
import operator
import re
import types
from dataclasses import dataclass, field

import gast
import numpy as np

from . import callables, custom, effects, hooks, rules, runtime
from .analysis import (
    BOTTOM,
    CONTAINER,
    FLOAT,
    SCALAR,
    Layout,
    activity,
    array_kind,
    broadcast_kind,
    is_container,
    rank,
    scalar_kinds,
    varied_names,
)
from .errors import COMPLEX_HINT, COMPLEX_UNSUPPORTED, AdError
from .ir import copy_tree, list_method, loads, name, target_of, walk
from .parse import is_library_function, unwrap
from .resolve import MISSING
from .rules.builtin_rules import READS_LOCALS
from .rules.helpers.products import ddot_left, ddot_right

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitAnd: operator.and_,
          gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
          gast.RShift: operator.rshift}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
            gast.Invert: operator.invert}


@dataclass
class Plan:
    """How to differentiate one simple statement."""

    kind: str                     # copy, rule, index, display, store, none, opaque
    diff_reads: list = field(default_factory=list)
    rule: object = None
    bound: dict = field(default_factory=dict)
    callee: str = ""
    fn: object = None                                  # user function called (kind "call")
    positional: list = field(default_factory=list)     # its positional parameter names
    guard: tuple = None    # (callee expression, the object it named): code is valid while it still does
    call_args: list = None  # the arguments the callee receives, when not the call's own (obj.method)
    ignored: dict = field(default_factory=dict)  # rule parameter without a derivative -> names it reads
    gate: object = None  # a dtype known only at run time: the derivative is decided there (dtype_gate)
    why: str = "it has no derivative rule and no Python source"  # for an opaque call: why, and
    hint: str = None                                                # what to do instead
    receiver: str = None   # a name of unknown kind an array-method rule was applied to (checked at run time)
    layout: tuple = None   # how a dynamic call passes its arguments: see runtime.Unpacked
    watch: bool = False    # the attribute of an object the function reaches by name: see followed_check


def _element_read(value, kinds, result_kind) -> bool:
    """``x[i]`` or ``x[i, j]`` with numbers as indices only (no slice, ``...`` or ``None``), giving
    a shape-() result or indexing every axis of an array of known rank: a NumPy scalar (a copy,
    for a boolean scalar used as an index), never a view."""
    if not isinstance(value, gast.Subscript):
        return False
    parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    if not all((isinstance(p, gast.Name) and kinds.get(p.id) in (FLOAT, SCALAR))
               or (isinstance(p, gast.Constant) and type(p.value) is int)
               or (isinstance(p, gast.UnaryOp) and isinstance(p.operand, gast.Constant)) for p in parts):
        return False
    base = kinds.get(value.value.id) if isinstance(value.value, gast.Name) else None
    return result_kind == SCALAR or (isinstance(base, tuple) and base[0] == "array" and base[1] == len(parts))


_ARRAY_ATTRIBUTES = frozenset(("shape", "ndim", "size", "dtype", "T", "real", "imag", "mT", "flat", "itemsize",
                               "nbytes", "strides"))


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


def _unpacks(call) -> bool:
    """Whether arguments are unpacked into ``call`` (``f(*args)``, ``f(**opts)``)."""
    return any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def _call_text(node) -> str:
    return gast.unparse(node).strip()


def _user_function(fn) -> bool:
    """A Python function (or method) of the user's: not a library's, not adcompiler's own."""
    inner = getattr(fn, "__func__", fn)
    return isinstance(inner, types.FunctionType) and not is_library_function(inner) \
        and (getattr(inner, "__module__", None) or "").split(".")[0] != "adcompiler"


def _user_callable(obj):
    """The user's Python function (or bound method) a call of ``obj`` runs: ``obj`` itself, or the
    ``__call__`` of an object of a user class; None for anything else."""
    if obj is MISSING:
        return None
    obj = unwrap(obj)
    if _user_function(obj):
        return obj
    if _is_user_instance(obj):
        return types.MethodType(inspect.getattr_static(type(obj), "__call__"), obj)
    return None


def _is_user_class(obj) -> bool:
    init = inspect.getattr_static(obj, "__init__", None) if isinstance(obj, type) else None
    return isinstance(init, types.FunctionType) and not is_library_function(init)


def _is_user_instance(obj) -> bool:
    """An instance of a class whose ``__call__`` is a Python function with source."""
    call = inspect.getattr_static(type(obj), "__call__", None)
    return (not isinstance(obj, (type, types.FunctionType, types.MethodType))
            and isinstance(call, types.FunctionType) and not is_library_function(call))


_LOCALS_HINT = ("write the computation as code (x * 2.0, not eval('x * 2.0'); a dict of the values, not locals()), "
                "or wrap the result in ad.stop_gradient(...) if no gradient should flow through it")
_OBJECT_HINT = ("create the object outside the differentiated function and pass it in as an argument: "
                "its methods are then differentiated and its attributes get gradients")


class Planner:
    """Plans of one normalised function, and its activity and scalar kinds w.r.t. ``wrt``.

    Also the state both transforms track while they emit code: ``live`` (derivative variables
    bound to a possibly non-zero value) and ``owned`` (arrays the code may update in place)."""

    def loop_fixpoint(self, generate):
        """Generate a loop body until the state at its head is the same on entry and on the back
        edge: derivatives live at the end are live (as 0.0) at the head; arrays the body updates
        in place and still owns at its end are owned before the loop (one copy, not one per
        iteration). Returns (body, head state, end state, entry state), each state (live, owned)."""
        entry = (set(self.live), set(self.owned))
        outer_wants = self.wants_owned
        head_live, head_owned = set(entry[0]), set(entry[1])
        for _ in range(8):
            self.live, self.owned = set(head_live), set(head_owned)
            self.wants_owned = set()
            body = generate()
            end_live, end_owned = self.live, self.owned
            new_owned = (head_owned | self.wants_owned) & end_owned
            new_live = head_live | end_live | new_owned
            if new_live == head_live and new_owned == head_owned:
                break
            head_live, head_owned = new_live, new_owned
        self.wants_owned = outer_wants
        return body, (head_live, head_owned), (end_live, end_owned), entry

    def __init__(self, fdef, wrt, arg_kinds, ctx):
        self.ctx = ctx
        self.loc = ctx.loc
        self.fdef = fdef
        self.wrt = list(wrt)
        ret = fdef.body[-1]
        self.body = fdef.body[:-1]
        self.ret_node = ret
        self.result = ret.value.id if isinstance(ret.value, gast.Name) else None
        self.mark_in_place_helpers(self.body)
        self.layout = Layout.of(self.body)
        self.params = {a.id for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs}
        self.bound_once = {target_of(s)[0]: s for s in self.layout.simple if isinstance(s, gast.Assign)
                           and target_of(s)[0] and len(self.layout.binds[target_of(s)[0]]) == 1}
        self.known: dict = {}  # locals bound once to a gradient function made in the body
        self.sites: dict = {}  # id(statement) -> the name bound to its call site (see site)
        self.kinds = scalar_kinds(self.layout, arg_kinds, self.kind_of_value)
        self.drop_dtype_keeping()
        self.find_views()
        self.check_in_place_updates(arg_kinds)
        self.check_element_updates()
        self.stored = {(s.targets[0].value.id, s.targets[0].attr) for s in self.layout.simple  # obj.attr = v
                       if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Attribute)}
        self.plans = {id(s): self.plan(s) for s in self.layout.simple}
        diff_reads = lambda s: self.plans[id(s)].diff_reads  # noqa: E731
        self.varied = self.varied_with_attributes(diff_reads)
        self.check_written_arguments()
        self.unfollowed = self.check_attribute_stores()
        self.active = activity(self.layout, self.wrt, self.result, diff_reads, self.varied)
        self.check_ignored_operands()
        self.check_complex_values()

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
            numbers = {p for p, node in bound.items() if self.kind_of(node) in (FLOAT, SCALAR)}
            written = {p: bound[p] for p in effects.written_parameters(fn, numbers) if p in bound}
            varied_call = any(n in self.varied for node in bound.values() for n in loads(node))
            if plan.kind == "effect" and varied_call and effects.written_parameters(fn, numbers) - set(bound):
                # (it changes an object the call does not name, the method's own: its result discarded,
                # the call runs as written, so nothing could follow what it stores there)
                raise self.loc.error("%s is called for its effect with values that depend on %s, and it changes "
                                     "the object it is a method of: the derivative does not follow what it stores"
                                     % (fn.__qualname__, ", ".join(self.wrt)), s,
                                     hint="use the value it returns (h = obj.%s(...)) instead of reading it back from "
                                          "the object" % fn.__name__)
            hint = ("return the new value from %s and assign it (x = f(x)) instead of changing the argument in "
                    "place" % fn.__name__)
            for p, node in sorted(written.items()):
                names = loads(node)
                varied = [n for n in names if n in self.varied]
                if varied:
                    raise self.loc.error("%s writes into its argument %r (here %s), which depends on %s: the "
                                         "derivative does not follow writes made inside a called function"
                                         % (fn.__qualname__, p, _call_text(node), ", ".join(self.wrt)), s, hint=hint)
                seen = [n for n in names if self.read_after(n, s)]
                if varied_call and seen:
                    # (what it writes may be computed from the arguments that depend on wrt)
                    raise self.loc.error("%s writes into its argument %r (here %s) values that may depend on %s, "
                                         "and %r is read afterwards: the derivative does not follow writes made "
                                         "inside a called function" % (fn.__qualname__, p, _call_text(node),
                                                                       ", ".join(self.wrt), seen[0]), s, hint=hint)
                for n in names:
                    self.layout.mutates.setdefault(n, []).append(self.layout.pos[id(s)])
            if plan.kind == "effect":
                self.plans[id(s)] = Plan("none")  # (it runs as written: nothing it changes is differentiated)

    def varied_with_attributes(self, diff_reads) -> set:
        """``varied_names``, attribute by attribute for objects that depend on ``wrt`` only through
        what the function stores in them (a method's ``self``, an argument not in ``wrt``): reading
        ``self.calls`` is varied only once some ``self.calls = v`` stores a varied ``v``."""
        outside = set(self.wrt)
        reads = [s for s in self.layout.simple if self.plans[id(s)].kind == "attr"
                 and s.value.value.id not in outside and s.value.value.id not in self.layout.binds]
        for s in reads:
            self.plans[id(s)].diff_reads = []
        while True:
            varied = varied_names(self.layout, self.wrt, diff_reads)
            stored = {(s.targets[0].value.id, s.targets[0].attr) for s in self.layout.simple
                      if self.plans[id(s)].kind == "setattr" and any(n in varied for n in self.plans[id(s)].diff_reads)}
            more = [s for s in reads if not self.plans[id(s)].diff_reads and (s.value.value.id, s.value.attr) in stored]
            if not more:
                return varied
            for s in more:
                self.plans[id(s)].diff_reads = [s.value.value.id]

    def check_attribute_stores(self) -> list:
        """``obj.attr = v`` with ``v`` depending on ``wrt``: differentiated (the backward pass takes
        the adjoint of ``obj.attr`` for ``v``) when ``obj`` is an argument the function only ever
        names ``obj``, and no other object's ``.attr`` is read here (it could be the same object).
        Returns the (object, attribute) pairs such stores leave set when the function returns, whose
        derivative its caller does not receive (``runtime.unfollowed``)."""
        stored = []
        for s in self.layout.simple:
            plan = self.plans[id(s)]
            if plan.kind == "none" and getattr(s, "ad_attribute_update", False) and any(
                    n in self.varied for n in loads(s.value)):
                raise self.loc.error("the augmented assignment changes an attribute's value in place with a value "
                                     "that depends on %s, which is not supported" % ", ".join(self.wrt), s,
                                     hint="assign a new value: obj.x = obj.x + v")
            if plan.callee == "module" and any(n in self.varied for n in loads(s.value)):
                raise self.loc.error("storing a value that depends on %s into the module-level %r: the derivative "
                                     "does not follow it" % (", ".join(self.wrt), target_of(s)[1]), s,
                                     hint="keep the value in a local variable, or return it")
            if plan.kind != "setattr" or not any(n in self.varied for n in plan.diff_reads):
                continue
            obj, attr = s.targets[0].value.id, s.targets[0].attr
            readers = sorted({n.value.id for n in walk(self.fdef) if isinstance(n, gast.Attribute) and n.attr == attr
                              and isinstance(n.ctx, gast.Load) and isinstance(n.value, gast.Name)})
            why = None
            if obj not in self.layout.binds and obj not in self.params:  # (self of a method, a module's object)
                if [r for r in readers if r != obj]:
                    why = "%r.%s is read here too, which may be the same object" % (
                        [r for r in readers if r != obj][0], attr)
            elif obj not in self.params or obj in self.layout.binds:
                why = "%r is not an argument of the function (or is rebound in it)" % obj
            elif any(obj in _handles(other) for other in self.layout.simple):
                why = "the object is also reached under another name here"
            elif [r for r in readers if r != obj]:
                why = "%r.%s is read here too, which may be the same object" % ([r for r in readers if r != obj][0],
                                                                               attr)
            if why:
                raise self.loc.error("storing a value that depends on %s in %s.%s: %s, so the derivative could "
                                     "not follow it" % (", ".join(self.wrt), obj, attr, why), s,
                                     hint="store values in an argument of the function (self.%s = v) and read them "
                                          "through it, or return the value instead" % attr)
            stored.append((obj, attr))
        return sorted(set(stored))

    def fresh_start(self) -> list:
        """The statement a gradient computation (not a called function's) starts with, when the
        function reads or stores attributes or calls functions that may (see ``unfollowed``)."""
        kinds = ("call", "dynamic", "attr", "setattr", "checkpoint", "effect")
        if self.ctx.generated or not any(p.kind in kinds or p.watch for p in self.plans.values()):
            return []
        call = gast.Call(func=name(self.ctx.helper("fresh_computation")), args=[], keywords=[])
        return [gast.copy_location(gast.Expr(value=call), self.ret_node)]

    def registrations(self, like) -> list:
        """Statements generated code runs as the function returns: the attributes it set to values
        depending on ``wrt`` (see ``check_attribute_stores``)."""
        out = []
        for obj, attr in self.unfollowed:
            call = gast.Call(func=name(self.ctx.helper("unfollowed")), args=[name(obj), gast.Constant(value=attr, kind=None)],
                             keywords=[])
            out.append(gast.copy_location(gast.Expr(value=call), like))
        return out

    def called_function(self, s, plan):
        """(user function, its parameter -> argument node) for a statement calling one, else (None, None)."""
        if plan.kind in ("call", "checkpoint") and plan.fn is not None:
            return getattr(plan.fn, "__func__", plan.fn), dict(plan.bound)
        if plan.kind != "effect":
            return None, None
        call = s.value
        fn = _user_callable(self.ctx.resolver.resolve(call.func))
        if fn is None or any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return None, None
        receiver = [fn.__self__] if isinstance(fn, types.MethodType) else []
        try:
            bound = inspect.signature(getattr(fn, "__func__", fn)).bind(
                *(receiver + list(call.args)), **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return None, None
        nodes = {p: v for p, v in bound.arguments.items() if isinstance(v, gast.AST)}
        return getattr(fn, "__func__", fn), nodes

    def drop_dtype_keeping(self):
        """``x = keep_dtype(x, t)`` (normalize's ``x op= v``) is ``x = t`` for a name that holds a number."""
        for s in self.layout.simple:
            value = getattr(s, "value", None)
            if isinstance(value, gast.Call) and len(value.args) == 2 and isinstance(value.args[0], gast.Name) \
                    and self.kinds.get(value.args[0].id) == FLOAT \
                    and self.ctx.resolver.resolve(value.func) is runtime.keep_dtype:
                s.value = value.args[1]

    def effect_free(self, call) -> bool:
        """Whether a call whose result is discarded cannot change a value the function goes on
        to use: print and other functions with a non-differentiable rule."""
        if self.ctx.generated:  # generated code calls only its own helpers for their effect
            return True
        obj = self.ctx.resolver.resolve(call.func)
        rule = rules.lookup(obj) if obj is not MISSING else None
        return rule is not None and rule.nondiff

    def check_ignored_operands(self):
        """A value that depends on ``wrt`` passed to a rule parameter without a derivative (the
        bounds of ``np.clip`` once had none) would silently get no gradient, and so would one a
        call changes in place (``y.sort()``, ``np.add.at(out, i, x)``), or an index that depends on
        it given to an object that computes its items from it (``np.s_[x]``): errors instead."""
        plans = [(s, p) for s in self.layout.simple for p in [self.plans[id(s)]] if p.ignored]
        self.index_checks = set()  # subscripts whose base is checked at run time (subscript_check)
        if not plans:
            return
        varied = self.varied
        for s, plan in plans:
            if plan.kind == "effect" and any(n in varied for n in plan.ignored[""]):
                raise self.loc.error("the call %s(...) discards its result, so it may change a value in place, "
                                     "which is not differentiated" % plan.callee, s,
                                     hint=plan.hint or "use the function's result instead (y = np.sort(y), "
                                                       "out = out + ..., a function that returns the new value)")
        def all_reads(s):
            plan = self.plans[id(s)]
            return plan.diff_reads + [n for names in plan.ignored.values() for n in names]
        reaching = activity(self.layout, self.wrt, self.result, all_reads)
        for s, plan in plans:
            if plan.kind == "effect":
                continue
            for param, names in plan.ignored.items():
                if any(n in reaching for n in names) and (target_of(s)[0] or target_of(s)[1]) in reaching:
                    if plan.kind == "index":  # (decided at run time, on the index's values)
                        self.index_checks.add(id(s))
                        continue
                    raise self.loc.error("%s has no derivative w.r.t. its argument %r, which depends on %s"
                                         % (plan.callee, param, ", ".join(self.wrt)), s,
                                         hint="wrap that argument in ad.stop_gradient(...) if no gradient should "
                                              "flow through it, or register a rule with ad.defvjp")

    def check_complex_values(self):
        """Complex numbers inside differentiated code are not supported yet: a statement that
        combines a complex number (``1j``, a module-level complex constant or array, or a value
        computed from one) with a value that depends on ``wrt`` is an error, never a silently
        wrong gradient. (``complex(...)`` and casts to complex dtypes are refused by their rules;
        the rules of abs, real, imag, conj and angle check their operand at run time.)"""
        if self.ctx.generated:
            return
        complex_names = set()

        def complex_atom(node):
            if isinstance(node, gast.Constant):
                return isinstance(node.value, complex)
            if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load):
                return False
            if node.id in complex_names:
                return True
            value = self.ctx.resolver.resolve(node)
            return isinstance(value, (complex, np.complexfloating)) or (
                isinstance(value, np.ndarray) and value.dtype.kind == "c")

        def reads_complex(s):
            return isinstance(s, gast.Assign) and any(complex_atom(n) for n in walk(s.value))

        grew = True
        while grew:  # values computed from complex numbers are complex, unless made real (np.abs, .real)
            grew = False
            for s in self.layout.simple:
                bound = target_of(s)[0]
                if bound and bound not in complex_names and reads_complex(s) and not self.makes_real(s):
                    complex_names.add(bound)
                    grew = True
        for s in self.layout.simple:
            if target_of(s)[0] in self.active and reads_complex(s):
                raise self.loc.error("a complex number is combined with a value that depends on %s: %s"
                                     % (", ".join(self.wrt), COMPLEX_UNSUPPORTED), s,
                                     hint=COMPLEX_HINT)

    def makes_real(self, s) -> bool:
        """Whether statement ``s`` computes a real value from any operand: a comparison, abs, the
        real or imaginary part, an angle, or a function without a derivative."""
        value = s.value
        if isinstance(value, gast.Compare):
            return True
        if isinstance(value, gast.Attribute):
            return value.attr in ("real", "imag")
        if isinstance(value, gast.Call):
            obj = self.ctx.resolver.resolve(value.func)
            if any(obj is f for f in (np.abs, abs, np.real, np.imag, np.angle)):
                return True
            rule = rules.lookup(obj) if obj is not MISSING else None
            return rule is not None and rule.nondiff
        return False

    def items_from_index(self, base):
        """Whether ``base[...]`` may compute its value from the index: not for values known to be
        arrays or containers, nor for a module-level object, an object argument or an object made
        here (``Table()``) of those types; yes for other objects (np.s_, np.ogrid, np.r_ with a
        slice, a class with ``__getitem__``), or None when only the run time knows."""
        if self.ctx.generated:
            return False
        kind = self.kinds.get(base.id)
        if is_container(kind) or kind == SHAPE or (kind != BOTTOM and rank(kind) is not None):
            return False
        cls = self.ctx.arg_classes.get(base.id) if base.id not in self.layout.binds else None
        if cls is None and base.id in self.bound_once and isinstance(self.bound_once[base.id].value, gast.Call):
            made = self.ctx.resolver.resolve(self.bound_once[base.id].value.func)
            cls = made if isinstance(made, type) else None
        if cls is None:
            obj = self.static_value(base)
            if obj is MISSING:
                return None
            cls = type(obj)
        return not issubclass(cls, runtime.SELECTING)

    def subscript_check(self, s):
        """For ``t = base[index]`` with an index that depends on ``wrt`` and a base that may compute
        its items from it, a statement raising an AdError there if the index carries float values
        and ``base`` is not an array, list, tuple or dict (``runtime.subscript_check``; an int or
        string index is not differentiable, so it is fine); else None."""
        if id(s) not in self.index_checks:
            return None
        index = gast.Tuple(elts=[name(n) for n in loads(s.value.slice)], ctx=gast.Load())
        check = gast.Call(func=name(self.ctx.helper("subscript_check")),
                          args=[s.value.value, index, self.site(s, self.plans[id(s)])], keywords=[])
        return gast.copy_location(gast.Expr(value=check), s)

    def find_views(self):
        """Which names may be views of (or the same object as) other arrays: copies, subscripts,
        ``.T`` and reshaping calls. A value read from a view changes when its base is written."""
        views = {}
        for s in self.layout.simple:
            bound, _ = target_of(s)
            if bound is None or not isinstance(s, gast.Assign):
                continue
            if isinstance(s.value, gast.Call) and self.kinds.get(bound) != FLOAT:
                for base in self.returned_arguments(s.value):  # (def f(u): return u.T; min(a, b))
                    if base != bound and (self.kinds.get(bound) != SCALAR or base in self.params):
                        views.setdefault(bound, set()).add(base)
            if isinstance(s.value, gast.Tuple) and not self.ctx.generated:  # (x, y = a[0], a[1]: the
                # tuple holds the views, and its entries are them)
                held = {e.id for e in s.value.elts if isinstance(e, gast.Name) and e.id != bound
                        and self.kinds.get(e.id) != FLOAT}
                held |= set().union(*(views.get(e, set()) for e in held)) if held else set()
                if held:
                    views.setdefault(bound, set()).update(held)
                continue
            base = self.view_source(s.value)
            # (a shape-() NumPy value may be a 0-d array, which x += v changes in place: np.where
            # and np.array make them; an element read, x[i, j], is a NumPy scalar, a copy)
            if base is None or base == bound or self.kinds.get(bound) == FLOAT or (
                    _element_read(s.value, self.kinds, self.kinds.get(bound))):
                continue
            if self.handed_over(base, s):
                # no alias the user can see, but the backward pass may read the temporary (the
                # result of ``t1 = t / x``), which writes into ``t`` change; a temporary that was
                # itself a view hands that over (``u = w if c else v``: u may be w)
                self.layout.aliases.setdefault(base, set()).add(bound)
                if views.get(base):
                    views.setdefault(bound, set()).update(views[base])
            else:
                views.setdefault(bound, set()).add(base)
        changed = True
        while changed:  # views of views
            changed = False
            for name_, bases in views.items():
                more = set().union(*(views.get(b, set()) for b in bases)) - bases - {name_}
                if more:
                    bases |= more
                    changed = True
        self.layout.views = views

    def returned_arguments(self, call) -> set:
        """Names passed to a call of a user function that may return them (or views of them)."""
        if self.ctx.generated or any(isinstance(a, gast.Starred) for a in call.args) \
                or any(k.arg is None for k in call.keywords):
            return set()
        if any(self.ctx.resolver.resolve(call.func) is f for f in (min, max)) and len(call.args) > 1:
            return {n for a in call.args for n in loads(a)}  # (one of them, itself)
        fn = _user_callable(self.ctx.resolver.resolve(call.func))
        if fn is None:
            return set()
        returned = effects.returned_parameters(fn)
        if not returned:
            return set()
        receiver = [fn.__self__] if isinstance(fn, types.MethodType) else []
        try:
            bound = inspect.signature(getattr(fn, "__func__", fn)).bind(
                *(receiver + list(call.args)), **{k.arg: k.value for k in call.keywords})
        except (TypeError, ValueError):
            return set()
        return {n for p, v in bound.arguments.items() if p in returned and isinstance(v, gast.AST) for n in loads(v)}

    def check_in_place_updates(self, arg_kinds):
        """``h += v`` changes an array in place: the same array under another name (``h = x``, a
        list element, a dict entry) changes too. The normal form rebinds ``h`` instead, so that is
        an error, unless ``h`` is a Python or NumPy scalar. (With no argument kinds at all, as for
        ``ad.source``, unknown kinds are let through: that code is for reading.)"""
        if self.ctx.generated:  # generated code updates in place only arrays it owns
            return
        specialised = any(k is not None for k in arg_kinds.values())
        bases = {b for targets in self.layout.views.values() for b in targets}
        for s in self.layout.simple:
            if not getattr(s, "ad_augmented", False):
                continue
            var = target_of(s)[0]
            kind = self.kinds.get(var)
            # (a shape-() NumPy value may be a 0-d array, changed in place)
            if kind == FLOAT or (kind is None and not specialised):
                continue
            views_of_var = {v for v, b in self.layout.views.items() if var in b and self.may_run_before(v, s)}
            others = sorted(o for o in self.layout.views.get(var, set()) | (views_of_var if var in bases else set())
                            | self.holders_seeing(var, s)
                            if is_container(self.kinds.get(o))  # (what a list holds is not tracked)
                            or any(self.seen_after(n, s) for n in self.layout.same_memory(o) - {var}))
            if others:
                raise self.loc.error("%s changes %r in place, and %s may be the same array (NumPy's += "
                                     "writes into it), which is not supported" % (
                                         "the augmented assignment", var, ", ".join(repr(o) for o in others)), s,
                                     hint="write %s = %s + ... (a new array), or copy it first: %s = %s.copy() "
                                          "(%s then no longer changes with it)" % (var, var, var, var, others[0]))

    def seen_after(self, alias, s) -> bool:
        """Whether a change made at ``s`` to an array ``alias`` may share could be observed through
        ``alias``: it is read later (or returned), it is the caller's (an argument, a module-level
        value), or a nested function may read it. (The normal form rebinds instead of writing in
        place: an alias nobody reads afterwards, such as the temporary of ``d[i, y] -= 1`` or the
        tuple a call returned and the function unpacked, does not matter.)"""
        if alias in self.params or alias not in self.layout.binds or self.read_after(alias, s):
            return True
        return any(isinstance(n, (gast.Lambda, gast.FunctionDef)) and alias in loads(n)
                   for n in walk(self.fdef) if n is not self.fdef)

    def holders_seeing(self, var, s) -> set:
        """Lists and dicts ``var``'s array was put into (``hist.append(h)``, ``[h]``) that are read
        after ``s``, or whose entries were read before it (``for item in [h]``): they hold the
        array an in-place operation at ``s`` changes."""
        found = set()
        seen_as = {var} | {v for v, bases in self.layout.views.items() if var in bases}  # (or a view of it: {'b': x[None]})
        for container in sorted({t for st in self.layout.simple for t in target_of(st) if t}):
            if container == var or not seen_as.intersection(self.entries(container, before=s)):
                continue
            entries = {v for v, bases in self.layout.views.items() if container in bases and self.may_run_before(v, s)}
            if entries or self.read_after(container, s):
                found |= {container} | entries
        return {n for n in found if n not in self.ctx.temps} or found

    def check_views_of_written(self, var, s):
        """A write into ``var`` changes the views of it too (``t = A[0:2]; A[0] = v`` changes ``t``),
        which the derivative does not follow: an error when such a view may be read after it."""
        viewers = sorted({v for v, bases in self.layout.views.items()  # (temporaries are read at once)
                          if var in bases and v != var and v not in self.ctx.temps and self.may_run_before(v, s)
                          and self.read_after(v, s)} | self.holders_seeing(var, s))
        if viewers:
            raise self.loc.error("writing into %r changes %s, which may be a view of it and is read afterwards, "
                                 "which is not supported" % (var, ", ".join(repr(v) for v in viewers)), s,
                                 hint="make %s a separate array: %s = ....copy()" % (viewers[0], viewers[0]))

    def read_after(self, var, stmt) -> bool:
        """Whether ``var`` may be read after ``stmt`` runs: later in program order, or anywhere in a
        loop around ``stmt``."""
        lay = self.layout
        at = lay.pos[id(stmt)]
        loops = lay.loops[id(stmt)]
        lo = lay.span[id(loops[0])][0] if loops else at
        hi = lay.span[id(loops[0])][1] if loops else None
        for other in lay.simple:
            p = lay.pos[id(other)]
            if (p > at or (hi is not None and lo <= p <= hi)) and var in loads(other):
                return True
        return var == self.result

    def check_element_updates(self):
        """``d[k] += v`` on a list or dict changes the array ``d[k]`` in place (runtime's
        ``element_in_place``): an error when that array may be reachable under another name too
        (a value stored into ``d`` that is a view, an argument, or read elsewhere; another view of
        ``d``), whose later reads would not see the change in the derivative."""
        for s in self.layout.simple:
            container = getattr(s, "ad_element_of", None)
            if container is None or rank(self.kinds.get(container)):
                continue  # (an array's element is written by the store that follows)
            for held in self.entries(container):  # (their arrays may be the one written: record them first)
                self.layout.mutates.setdefault(held, []).append(self.layout.pos[id(s)])
            if self.ctx.generated:
                continue
            element = target_of(s)[1]
            shared = sorted(self.shared_entries(container) | {
                v for v, bases in self.layout.views.items()  # (the normal form's temporaries are read at once)
                if container in bases and v != element and v not in self.ctx.temps and self.may_run_before(v, s)})
            if shared:
                # (a temporary of the normal form is named by the arrays it may view)
                named = sorted({b for v in shared for b in ([v] if v not in self.ctx.temps else
                                                              self.layout.views.get(v, ())) if b not in self.ctx.temps})
                raise self.loc.error("the augmented assignment changes the array in %r in place, and that array may "
                                     "also be %s, which is not supported" % (container, ", ".join(
                                         repr(v) for v in named) or "reached otherwise"), s,
                                     hint="write %s[...] = %s[...] + ... (a new array), or store a copy in %r"
                                     % (container, container, container))

    def shared_entries(self, container) -> set:
        """Names whose arrays were put into ``container`` and may be reached otherwise too."""
        params = {a.id for a in self.fdef.args.posonlyargs + self.fdef.args.args + self.fdef.args.kwonlyargs}
        stored = self.entries(container)
        written = {target_of(s)[0] for s in self.layout.simple if getattr(s, "ad_element_of", None) is not None}
        reads = {}
        for s in self.layout.simple:
            value = getattr(s, "value", None)
            items = value.values if isinstance(value, gast.Dict) else getattr(value, "elts", []) \
                if isinstance(value, (gast.List, gast.Tuple, gast.Set)) else []
            held = [e.id for e in items if isinstance(e, gast.Name)]
            for n in set(loads(s)):  # (a display holding the array twice, {'b': v, 'h': v}: two holders)
                reads[n] = reads.get(n, 0) + max(1, held.count(n))
        viewed = {b for bases in self.layout.views.values() for b in bases}
        return {v for v in stored if v not in written and self.kinds.get(v) not in (FLOAT, SCALAR) and (
            v in params or v in self.layout.views or v in viewed or reads.get(v, 0) > 1)}

    def entries(self, container, before=None) -> list:
        """Names stored into ``container`` (a list or dict display, ``d[k] = v``, ``d.append(v)``);
        with ``before`` a statement, only by statements that may run before it."""
        stored = []
        for s in self.layout.simple:
            if before is not None and not self.runs_before(s, before):
                continue
            bound, mutated = target_of(s)
            if getattr(s, "ad_element_of", None) is not None or not isinstance(s, (gast.Assign, gast.Expr)):
                continue
            value = s.value
            if bound == container and isinstance(value, (gast.List, gast.Tuple, gast.Dict)):
                stored += [e.id for e in (value.values if isinstance(value, gast.Dict) else value.elts)
                           if isinstance(e, gast.Name)]
            elif mutated == container and isinstance(s, gast.Assign) and isinstance(value, gast.Name):
                stored.append(value.id)
            elif mutated == container and isinstance(s, gast.Expr) and list_method(s) and value.args \
                    and isinstance(value.args[0], gast.Name):
                stored.append(value.args[0].id)
        return stored

    def runs_before(self, first, stmt) -> bool:
        """Whether statement ``first`` may run before ``stmt``: earlier, or in a loop around both."""
        lay = self.layout
        p = lay.pos[id(first)]
        return p < lay.pos[id(stmt)] or any(lay.span[id(loop)][0] <= p <= lay.span[id(loop)][1]
                                             for loop in lay.loops[id(stmt)])

    def may_run_before(self, var, stmt) -> bool:
        """Whether a binding of ``var`` may run before ``stmt``: earlier in program order, or in a
        loop around ``stmt`` (parameters are bound before everything)."""
        lay = self.layout
        at = lay.pos[id(stmt)]
        return var not in lay.binds or any(p < at or any(lay.span[id(loop)][0] <= p <= lay.span[id(loop)][1]
                                                         for loop in lay.loops[id(stmt)])
                                           for p in lay.binds[var])

    def handed_over(self, temp, copy) -> bool:
        """Whether ``name = temp`` (statement ``copy``) hands over a normalisation temporary that
        nothing else reads (``u = u.copy()`` becomes ``t1 = u.copy(); u = t1``): no alias remains."""
        if temp not in self.ctx.temps or not (isinstance(copy.value, gast.Name) or self.augmented_value(copy.value)):
            return False
        return not any(temp in loads(s) for s in self.layout.simple if s is not copy)

    def augmented_value(self, value):
        """The ``x op v`` of ``x = keep_dtype(x, t)`` / ``x = in_place(x, t)`` (normalize's
        ``x op= v``: the result is ``t``'s array), else None."""
        if isinstance(value, gast.Call) and len(value.args) == 2 and isinstance(value.args[1], gast.Name) \
                and any(self.ctx.resolver.resolve(value.func) is f for f in (runtime.keep_dtype, runtime.in_place)):
            return value.args[1].id
        return None

    def view_source(self, value):
        """The array ``value`` may be a view of, or None."""
        if isinstance(value, gast.Name):
            return value.id
        if self.augmented_value(value):
            return self.augmented_value(value)
        if isinstance(value, (gast.Subscript, gast.Attribute)) and isinstance(value.value, gast.Name):
            if self.ctx.resolver.resolve(value) is MISSING:
                return value.value.id
            owner = self.ctx.resolver.resolve(value.value)  # (self.buf of a method's self, W[0] of a module's W)
            if isinstance(owner, (type, types.ModuleType, types.FunctionType)) \
                    or isinstance(self.ctx.resolver.resolve(value), (int, float, complex, str, type(None))):
                return None  # (a number is never a view: self.calls += 1)
            return value.value.id
        if isinstance(value, gast.Call):
            func = value.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) and func.attr in _VIEW_METHODS \
                    and self.ctx.resolver.resolve(func) is MISSING:
                return func.value.id
            if _hashable(self.ctx.resolver.resolve(func)) and self.ctx.resolver.resolve(func) in _VIEW_FUNCTIONS \
                    and value.args and isinstance(value.args[0], gast.Name):
                return value.args[0].id
        return None

    def mark_in_place_helpers(self, stmts):
        """Calls to the runtime's in-place helpers (in generated code being differentiated again)
        mutate their first argument: say so, so every analysis sees it."""
        for s in stmts:
            for field_ in ("body", "orelse"):
                self.mark_in_place_helpers(getattr(s, field_, None) or [])
            call = s.value if isinstance(s, (gast.Expr, gast.Assign)) else None
            if isinstance(call, gast.Call) and call.args and isinstance(call.args[0], gast.Name):
                obj = self.ctx.resolver.resolve(call.func)
                if obj is runtime.add_at or obj is runtime.take_adjoint:
                    s.ad_mutates = call.args[0].id
                    s.ad_helper = obj.__name__
                elif obj is runtime.in_place:  # (x = in_place(x, t): written like a store, planned as a rule)
                    s.ad_mutates = call.args[0].id
                elif obj is runtime.element_in_place:
                    s.ad_mutates, s.ad_element_of = call.args[1].id, call.args[0].id

    def plan(self, s) -> Plan:
        helper = getattr(s, "ad_helper", None)
        if helper is not None:
            call = s.value
            return Plan(helper, [n for a in call.args[::2] for n in loads(a)])
        method = list_method(s)
        if method:
            lst, kind, call = method
            if kind == "append":
                arg = call.args[0] if len(call.args) == 1 else None
                return Plan("append", [arg.id] if isinstance(arg, gast.Name) else [])
            return Plan("pop", [lst])
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and not self.effect_free(s.value):
            frame = self.frame_reads(s.value)
            return Plan("effect", [], callee=_call_text(s.value.func), ignored={"": frame or loads(s.value)},
                        hint=_LOCALS_HINT if frame else None)
        if not isinstance(s, gast.Assign):
            return Plan("none")  # expression statements, assert, break, pass
        bound, mutated = target_of(s)
        value = s.value
        if mutated and bound is None and isinstance(s.targets[0], gast.Attribute):
            return Plan("setattr", [value.id] if isinstance(value, gast.Name) else [])
        if mutated and bound is None and self.is_module_object(mutated):
            return Plan("none", callee="module")  # CALLS[k] = n: runs as written (see check_attribute_stores)
        if mutated and bound is None:
            bases = self.layout.views.get(mutated)
            if bases and not self.ctx.generated:  # (generated code writes only into arrays it owns)
                raise self.loc.error("writing into %r, which may be a view of (or the same array as) %s, "
                                     "is not supported" % (mutated, ", ".join(repr(b) for b in sorted(bases))), s,
                                     hint="make it a separate array first: %s = %s.copy()"
                                     % (mutated, sorted(bases)[0]))
            if not self.ctx.generated:
                self.check_views_of_written(mutated, s)
            reads = [value.id] if isinstance(value, gast.Name) else []
            return Plan("store", reads)
        if isinstance(value, gast.Name):
            return Plan("copy", [value.id])
        if isinstance(value, gast.Constant):
            return Plan("none")
        if isinstance(value, gast.BinOp):
            fn = BINOPS[type(value.op)]
            sides = [is_container(self.kinds.get(getattr(v, "id", None))) for v in (value.left, value.right)]
            if any(sides) and fn in _SEQUENCE_OPS:
                other = self.kind_of(value.right if sides[0] else value.left)
                if all(sides) if fn is operator.add else other == FLOAT:
                    fn = _SEQUENCE_OPS[fn][0 if sides[0] else 1]  # lists/tuples: + concatenates, * repeats
                else:  # (a list and an array: NumPy converts the list, elementwise)
                    return Plan("opaque", loads(value), callee="arithmetic between a list or tuple and an array",
                                why="the list's gradient would be an array", hint="convert it first: np.asarray(xs)")
            return self.rule_plan(s, fn, [value.left, value.right], [])
        if isinstance(value, gast.UnaryOp):
            return self.rule_plan(s, UNARYOPS[type(value.op)], [value.operand], [])
        if isinstance(value, (gast.Compare, gast.JoinedStr)):
            return Plan("none")
        if isinstance(value, gast.Subscript):
            base = value.value
            if not isinstance(base, gast.Name):
                return Plan("none")
            # gradients reach the base only: for arrays, lists, tuples and dicts the index only
            # selects; an object that may compute its items from an index depending on wrt (np.s_,
            # np.ogrid, a class with __getitem__) is checked at run time (subscript_check)
            index = loads(value.slice)
            made = self.bound_once.get(base.id) if base.id in self.ctx.temps else None
            label = _call_text(made.value) if made is not None else base.id
            return Plan("index", [base.id], callee=label + "[...]",
                        ignored={"index": index} if index and self.items_from_index(base) is not False else {})
        if isinstance(value, (gast.Tuple, gast.List)):
            return Plan("display", [e.id for e in value.elts if isinstance(e, gast.Name)])
        if isinstance(value, gast.Dict):
            return Plan("display", [v.id for v in value.values if isinstance(v, gast.Name)])
        if isinstance(value, gast.Attribute):
            obj = self.ctx.resolver.resolve(value)
            if obj is not MISSING and isinstance(value.value, gast.Name) and (value.value.id, value.attr) in self.stored:
                return Plan("attr", [value.value.id], callee=value.attr)  # (self.h after self.h = v in a method)
            if obj is not MISSING:
                owner = self.ctx.resolver.resolve(value.value)
                watch = hasattr(owner, "__dict__") and not isinstance(
                    owner, (type, types.ModuleType, types.FunctionType, types.MethodType))
                return Plan("none", watch=watch)  # module constant such as np.pi, or a user object's attribute
            rule = rules.lookup_method(value.attr)
            if rule is not None and not self.is_object_argument(value.value):
                return self.method_plan(s, rule, value.value, [], [], value)  # (an object's attribute is its own)
            if isinstance(value.value, gast.Name):
                return Plan("attr", [value.value.id], callee=value.attr)
            return Plan("none")
        if isinstance(value, gast.Call):
            return self.call_plan(s, value)
        return Plan("opaque", loads(value), callee=type(value).__name__)

    def call_plan(self, s, call) -> Plan:
        func = call.func
        obj = self.ctx.resolver.resolve(func)
        if obj is MISSING and isinstance(func, gast.Name) and func.id in self.known:
            obj = self.known[func.id]
        args = list(call.args)
        made = self.gradient_factory(s, call, obj)
        if made is not None:
            return made
        if getattr(obj, "__adcompiler_derived__", False) and getattr(getattr(obj, "derived", None), "mode", "") == "grad":
            # calling a gradient: its vjps are Hessian-vector products (forward over reverse)
            if call.keywords or any(isinstance(a, gast.Starred) for a in args):
                raise self.loc.error("call %s with positional arguments only" % _call_text(func), s)
            reads = [n for a in args for n in loads(a)]
            return Plan("gradcall", reads, callee=_call_text(func), fn=obj)
        if obj is MISSING:
            method = self.argument_method(func)
            if method is not None and not _unpacks(call):
                # obj.method(x) (or obj(x): __call__) on an object argument: the class's function,
                # obj its first argument
                obj_node = func.value if isinstance(func, gast.Attribute) else func
                receiver = [] if isinstance(method, staticmethod) else [obj_node]
                fn = method.__func__ if isinstance(method, staticmethod) else method
                plan = self.subroutine_plan(s, gast.Call(func=func, args=receiver + args, keywords=call.keywords), fn)
                plan.call_args = receiver + args
                return plan
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                rule = rules.lookup_method(func.attr)
                if rule is not None and not self.is_object_argument(func.value):
                    return self.method_plan(s, rule, func.value, args, call.keywords, func)
                if any(hasattr(t, func.attr) for t in (np.ndarray, list, dict, tuple, set, str)) \
                        and not self.is_object_argument(func.value):  # (a method of an array or a container)
                    return Plan("opaque", loads(call), callee="the method '.%s()'" % func.attr)
            # a callable known when the call runs: a local function, an object made here, a method
            # of an object held in an attribute (self.cost.fn(a, y)), a partial
            return self.dynamic_plan(call)
        if obj is runtime.make_function:  # a lambda used as a value: its defaults are read when it is called
            return Plan("opaque", loads(call.args[1]), callee="a lambda used as a value",
                        why="its default values depend on %s" % ", ".join(self.wrt),
                        hint="pass those values as arguments when calling it")
        named = obj  # (what the call's name must still be for the code to be valid)
        if isinstance(obj, functools.partial):  # its function with the partial's arguments bound
            try:
                obj = callables.as_function(obj, "grad")
            except AdError as e:
                raise self.loc.error(e.message, s, hint=e.hint) from None
        target = unwrap(obj)
        frame = self.frame_reads(call)
        if frame:
            return Plan("opaque", frame, callee="%s(...)" % _call_text(func), hint=_LOCALS_HINT,
                        why="it reads the function's local variables through code the compiler does not see")
        if _is_user_class(obj) and rules.lookup(obj) is None:
            return Plan("opaque", loads(call), callee="%s(...)" % obj.__name__, hint=_OBJECT_HINT,
                        why="objects created inside the differentiated function are not traced")
        if getattr(target, "__module__", None) == runtime.__name__ and rules.lookup(obj) is None:
            return Plan("opaque", loads(call), callee="adcompiler's runtime helper %r (generated code is "
                        "differentiated again by forward mode: use ad.jvp / ad.hessian)" % target.__name__)
        if custom.user_rules(target)[0] is not None:
            names = [a.id for a in args if isinstance(a, gast.Name)]
            return Plan("user", names, callee=_call_text(func), fn=target, guard=(func, named))
        rule = rules.lookup(obj)
        if rule is not None:
            return self.bind_rule(s, rule, args, call.keywords, _call_text(func))
        if isinstance(obj, np.vectorize):  # its Python function, called on each element (runtime.vectorized)
            try:
                target = runtime.vectorized(obj, len(args))
            except AdError as e:
                raise self.loc.error(e.message, s, hint=e.hint) from None
            plan = self.subroutine_plan(s, call, target)
            plan.guard = (func, named)
            return plan
        if _is_user_instance(target):
            target = target.__call__  # a callable object from the module: its bound __call__
        if isinstance(target, (types.FunctionType, types.MethodType)) and is_library_function(
                getattr(target, "__func__", target)):
            return Plan("opaque", loads(call), callee="'%s' (%s.%s)" % (_call_text(func), target.__module__,
                                                                       target.__qualname__))
        if isinstance(obj, custom._Checkpointed):
            plan = self.subroutine_plan(s, call, unwrap(obj.fn))
            plan.kind = "checkpoint"
            plan.guard = (func, named)
            return plan
        if isinstance(target, types.FunctionType) or (isinstance(target, types.MethodType)
                                                      and isinstance(target.__func__, types.FunctionType)):
            plan = self.subroutine_plan(s, call, target)
            plan.guard = (func, named)
            return plan
        return Plan("opaque", loads(call), callee="'%s' (%r)" % (_call_text(func), obj))

    def is_module_object(self, var) -> bool:
        """Whether ``var`` names a module-level object (not a local, not an argument)."""
        return var not in self.layout.binds and var not in self.params and var not in self.ctx.temps \
            and self.ctx.resolver.resolve(name(var)) is not MISSING

    def is_object_argument(self, node) -> bool:
        """Whether ``node`` names an object argument of a known class (never an array)."""
        return isinstance(node, gast.Name) and node.id in self.ctx.arg_classes and node.id not in self.layout.binds

    def method_plan(self, s, rule, receiver, args, keywords, attribute) -> Plan:
        """``x.sum(...)`` / ``x.T`` (``attribute``): the array method's rule, ``x`` its first argument.
        When the kind of ``x`` is not known here, generated code checks at run time that it is an
        array or a number (a module or another object with a method of that name would get a wrong
        gradient)."""
        plan = self.bind_rule(s, rule, [receiver] + list(args), keywords, self.method_text(attribute))
        if isinstance(receiver, gast.Name) and self.kinds.get(receiver.id) is None and not self.ctx.generated:
            plan.receiver = receiver.id
        return plan

    def checks(self, s) -> list:
        """Run-time checks generated code makes before statement ``s`` (see ``method_plan``, and
        ``followed_check``)."""
        plan = self.plans.get(id(s))
        if plan is not None and (plan.kind == "attr" or plan.watch):
            return self.followed_check(s)
        if plan is None or plan.receiver is None or not any(n in self.varied for n in loads(s.value)):
            return []
        method = plan.callee.rsplit(".", 1)[-1]
        error = self.loc.error("%s.%s is differentiated as the array method .%s, but %r is %%s here, not an "
                               "array or a number" % (plan.receiver, method, method, plan.receiver), s,
                               hint="call the function itself (np.%s(...)), or differentiate a function of "
                                    "arrays" % method)
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        call = gast.Call(func=gast.Name(id=self.ctx.helper("check_receiver"), ctx=gast.Load(), annotation=None,
                                        type_comment=None),
                         args=[gast.Name(id=plan.receiver, ctx=gast.Load(), annotation=None, type_comment=None),
                               gast.Name(id=refusal, ctx=gast.Load(), annotation=None, type_comment=None)],
                         keywords=[])
        return [gast.copy_location(gast.Expr(value=call), s)]

    def followed_check(self, s) -> list:
        """``t = obj.attr`` whose value reaches the result: generated code refuses it when a called
        function set ``obj.attr`` to a value depending on ``wrt`` (``runtime.check_followed``)."""
        owner = s.value.value
        if self.ctx.generated or not self.wrt or (isinstance(owner, gast.Name) and self.kinds.get(owner.id) is not None) \
                or s.value.attr in _ARRAY_ATTRIBUTES:
            return []
        error = self.loc.error("reading %s, which a called function set to a value that depends on %s: the "
                               "derivative does not follow values a called function leaves in an object"
                               % (self.method_text(s.value), ", ".join(self.wrt)), s,
                               hint="return the value from the function that computes it and pass it on")
        refusal = self.ctx.bind("refusal", runtime.Refusal(error))
        call = gast.Call(func=name(self.ctx.helper("check_followed")),
                         args=[copy_tree(owner), gast.Constant(value=s.value.attr, kind=None), name(refusal)],
                         keywords=[])
        return [gast.copy_location(gast.Expr(value=call), s)]

    def frame_reads(self, call) -> list:
        """For a call of eval, exec, locals, vars() or another function that reads the calling
        function's local variables (``builtin_rules.READS_LOCALS``): every variable of the function,
        which is what its value may depend on. Else an empty list."""
        obj = self.ctx.resolver.resolve(call.func)
        if not any(obj is f for f in READS_LOCALS) or (obj is vars and call.args):
            return []
        a = self.fdef.args
        params = [p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None]
        return params + sorted(set(self.layout.binds) - set(params))

    def method_text(self, attribute) -> str:
        """How messages name a method or attribute: ``x.astype``, or ``.real`` of a value the
        normal form computed (a temporary, not a name of the user's)."""
        receiver = attribute.value
        if isinstance(receiver, gast.Name) and receiver.id in self.ctx.temps:
            return "." + attribute.attr
        return _call_text(attribute)

    def dynamic_plan(self, call) -> Plan:
        """A callable known only at run time (``layer(x)`` for each layer of a list,
        ``ACTIVATIONS[name](x)``), or a call with arguments unpacked into it (``f(*args)``,
        ``f(**opts)``): generated code differentiates it when it is called (``call_forward`` /
        ``call_backward``), through its source or its rule. Gradients reach the arguments, and the
        callable's attributes when it is an object (a layer)."""
        parts, layout = [call.func], []
        for a in call.args:
            parts.append(a.value if isinstance(a, gast.Starred) else a)
            layout.append("*" if isinstance(a, gast.Starred) else "")
        for k in call.keywords:
            parts.append(k.value)
            layout.append("**" if k.arg is None else "=" + k.arg)
        params = ["fn"] + ["arg%d" % i for i in range(len(parts) - 1)]
        plan = Plan("dynamic", [n for a in parts for n in loads(a)], bound=dict(zip(params, parts)),
                    callee=_call_text(call.func), positional=params)
        if any(layout):
            plan.call_args, plan.layout = parts[1:], tuple(layout)
        return plan

    def dynamic_callee(self, plan, call):
        """The callable generated code hands to ``call_forward`` / ``call_jvp``: the call's own, or
        ``unpacked(f, layout)`` when arguments are unpacked into it or passed by keyword."""
        if plan.layout is None:
            return call.func
        layout = gast.Tuple(elts=[gast.Constant(value=how, kind=None) for how in plan.layout], ctx=gast.Load())
        return gast.Call(func=gast.Name(id=self.ctx.helper("unpacked"), ctx=gast.Load(), annotation=None,
                                        type_comment=None), args=[call.func, layout], keywords=[])

    def constructed_here(self, var) -> bool:
        """Whether ``var`` is bound in the body to a new instance of a user class."""
        for s in self.layout.simple:
            if target_of(s)[0] == var and isinstance(s.value, gast.Call):
                if _is_user_class(self.ctx.resolver.resolve(s.value.func)):
                    return True
        return False

    def argument_method(self, func):
        """The plain function (or staticmethod) behind ``obj.name`` when ``obj`` is an object
        argument of a known class that the body never rebinds; else None."""
        if isinstance(func, gast.Name):  # calling the object itself
            obj, attr = func, "__call__"
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            obj, attr = func.value, func.attr
        else:
            return None
        cls = self.ctx.arg_classes.get(obj.id)
        if cls is None or obj.id in self.layout.binds:
            return None
        method = inspect.getattr_static(cls, attr, None)
        if isinstance(method, types.FunctionType) and not is_library_function(method):
            return method
        if isinstance(method, staticmethod) and isinstance(method.__func__, types.FunctionType):
            return method
        return None

    def gradient_factory(self, s, call, obj):
        """``df = ad.grad(f, ...)`` inside the function, with f and the options known: make the
        gradient function now, so later calls of ``df`` can be differentiated (its value is not
        differentiable: no plan beyond that)."""
        if obj is not hooks.grad:
            return None
        target = target_of(s)[0]
        values = []
        for node in list(call.args) + [k.value for k in call.keywords]:
            value = node.value if isinstance(node, gast.Constant) else self.ctx.resolver.resolve(node)
            if value is MISSING:
                return Plan("none")
            values.append(value)
        if target and len(self.layout.binds.get(target, ())) == 1:
            n = len(call.args)
            self.known[target] = hooks.grad(*values[:n], **{k.arg: v for k, v in zip(call.keywords, values[n:])})
        return Plan("none")

    def subroutine_plan(self, s, call, fn) -> Plan:
        """A call to a user function: it gets its own generated forward/backward pair."""
        if _unpacks(call):
            return self.dynamic_plan(call)  # (the number of arguments is known when it runs)
        try:
            sig = inspect.signature(fn, follow_wrapped=False)  # (the code differentiated is fn's own)
            bound = sig.bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
        except (TypeError, ValueError):
            raise self.loc.error("the call does not match the signature of %s" % fn.__qualname__, s) from None
        positional = [p.name for p in sig.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        args = {p: bound.arguments[p] for p in positional if p in bound.arguments}
        for p in sig.parameters.values():
            if p.kind == p.VAR_POSITIONAL:
                positional.append(p.name)  # *args: one more differentiable "position", a tuple
                if p.name in bound.arguments:
                    args[p.name] = gast.Tuple(elts=list(bound.arguments[p.name]), ctx=gast.Load())
            elif p.kind == p.KEYWORD_ONLY:
                positional.append(p.name)  # (a "position" after the positional ones: compiler.param_names)
                if p.name in bound.arguments:
                    args[p.name] = bound.arguments[p.name]
            elif p.kind == p.VAR_KEYWORD:
                positional.append(p.name)  # **kwargs: a dict of the keywords it collects
                if bound.arguments.get(p.name):
                    value = bound.arguments[p.name]
                    args[p.name] = gast.Dict(keys=[gast.Constant(value=k, kind=None) for k in value],
                                             values=list(value.values()))
        return Plan("call", [n for a in args.values() for n in loads(a)], bound=args, callee=fn.__qualname__,
                    fn=fn, positional=positional)

    def rule_plan(self, s, fn, args, keywords) -> Plan:
        return self.bind_rule(s, rules.lookup(fn), args, keywords, fn.__name__)

    def bind_rule(self, s, rule, args, keywords, callee) -> Plan:
        """The plan of a call to a function with a rule. Arguments the rule does not handle
        (a keyword it does not know, a parameter its templates ignore given another value than
        its default, a complex dtype) make the call refused when a value depending on ``wrt``
        reaches it, never silently ignored; a cast to an int or bool dtype has no derivative."""
        if rule.nondiff:
            return Plan("none")
        operands = [n for a in list(args) + [k.value for k in keywords] for n in loads(a)]
        if rule.refusal is not None:
            return Plan("opaque", operands, callee=callee, why=rule.refusal[0], hint=rule.refusal[1])
        if any(isinstance(a, gast.Starred) for a in args):
            return Plan("opaque", [n for a in args for n in loads(a)], callee=callee + " with *args")
        sig = rule.signature
        for k in keywords:
            if k.arg is None or (k.arg not in sig.params and not sig.accepts_keywords):
                return self.unhandled_plan(callee, operands, k.arg, k.value)
        bound = sig.bind(args, keywords)
        if bound is None:
            raise self.loc.error("cannot match the arguments of %s to its rule's signature (%s)"
                                 % (callee, ", ".join(sig.params)), s,
                                 hint="pass the arguments as documented by NumPy")
        for p in rule.unhandled:
            if not _same(self.static_value(bound[p]), sig.defaults.get(p, MISSING)):
                return self.unhandled_plan(callee, operands, p, bound[p])
        for p, accepted in rule.only.items():
            value = self.static_value(bound[p])
            if not any(_same(value, a) for a in accepted):
                return self.unhandled_plan(callee, operands, p, bound[p], accepted)
        gate = None
        if rule.casts:
            dtype = self.static_value(bound["dtype"])
            if dtype is MISSING:
                gate = bound["dtype"]  # known at run time only: decided there
            elif dtype is not None:
                kind = _dtype_kind(dtype)
                if kind in ("i", "u", "b"):
                    return Plan("none")  # a cast to integers or booleans is piecewise constant
                if kind != "f":
                    return Plan("opaque", operands, callee=callee, why=(
                        "the cast to %s: %s" % (_dtype_text(dtype, bound["dtype"]), COMPLEX_UNSUPPORTED if kind == "c"
                                               else "only float, int and bool dtypes are differentiated")),
                        hint=COMPLEX_HINT if kind == "c" else "compute in a float dtype")
        reads = [n for p in rule.diff for n in loads(bound[p])]
        ignored = {p: loads(bound[p]) for p in bound
                   if p not in rule.diff and p not in rule.zero and p not in _INTEGER_PARAMS and loads(bound[p])}
        return Plan("rule", reads, rule=rule, bound=bound, callee=callee, ignored=ignored, gate=gate)

    def unhandled_plan(self, callee, operands, param, node, accepted=None) -> Plan:
        """A call refused (when a value depending on ``wrt`` reaches it) because its derivative
        rule would ignore the argument ``param`` (None: ``**kwargs``)."""
        if param is None:
            what = "**%s" % _call_text(node)
        else:
            value = self.static_value(node)
            if isinstance(node, gast.Name) and node.id in self.ctx.temps:
                text = "..." if value is MISSING else repr(value)  # (a normal-form temporary: not the user's)
            else:
                text = _call_text(node) if value is MISSING or isinstance(node, gast.Constant) \
                    else "%s (%r)" % (_call_text(node), value)
            what = "%s=%s" % (param, text)
        hint = ("pass %s only with one of the values %s" % (param, ", ".join(map(repr, accepted))) if accepted
                else "leave it out, or compute the same value another way (out=: assign the result; other "
                     "arguments: see docs/supported.md for what the rule handles)")
        return Plan("opaque", operands, callee=callee, hint=hint,
                    why="the argument %s is not handled by its derivative rule" % what)

    def mapping_of(self, s, plan, templates) -> dict:
        """What the names of a rule's ``templates`` stand for at statement ``s``: its parameters'
        operands, and ``site`` if a template reads it."""
        mapping = dict(plan.bound)
        if any(t is not None and "site" in rules.template_names(t) for t in templates):
            mapping["site"] = self.site(s, plan)
        return mapping

    def site(self, s, plan):
        """A name bound in generated code to where the call of statement ``s`` is (callee,
        function, file, line, column), for errors a helper raises at run time."""
        sites = self.sites
        if id(s) not in sites:
            lineno = (getattr(s, "lineno", 0) or 0) + self.loc.line_offset
            col = getattr(s, "col_offset", None)
            where = (plan.callee, self.loc.function, self.loc.filename, lineno,
                     None if col is None else col + self.loc.col_offset)
            label = re.sub(r"\W+", "_", plan.callee).strip("_")
            sites[id(s)] = self.ctx.bind("%s_line_%d" % (label, lineno), where)
        return name(sites[id(s)])

    def gated(self, s, plan, value):
        """``value`` (an adjoint or a tangent) through ``dtype_gate`` when the call casts to a dtype
        known only at run time."""
        if plan.gate is None:
            return value
        return gast.Call(func=name(self.ctx.helper("dtype_gate")), args=[value, plan.gate, self.site(s, plan)],
                         keywords=[])

    def static_value(self, node):
        """The value of an operand known when generating code: a constant, a module-level object
        (``np.float32``, a global), or a local assigned only once, from one of those (the normal
        form's ``t1 = np.int64``); else MISSING."""
        for _ in range(8):  # (a chain of copies)
            if isinstance(node, gast.Constant):
                return node.value
            obj = self.ctx.resolver.resolve(node)
            if obj is not MISSING or not isinstance(node, gast.Name) or node.id in self.params \
                    or node.id not in self.bound_once:
                return obj
            node = self.bound_once[node.id].value
        return MISSING

    def kind_of_value(self, s, kinds):
        """The kind (FLOAT, SCALAR, array rank or None) of the value a statement computes (see
        analysis.scalar_kinds)."""
        value = s.value

        def of(node):
            if isinstance(node, gast.Constant):
                return FLOAT if isinstance(node.value, (int, float, bool)) else None
            if isinstance(node, gast.Name):
                return kinds.get(node.id)
            return None
        if isinstance(value, (gast.Name, gast.Constant)):
            return of(value)
        if isinstance(value, gast.Tuple):  # (immutable: its entries keep their kinds)
            return ("tuple_of", tuple(of(e) for e in value.elts))
        if isinstance(value, (gast.List, gast.Dict)):
            return CONTAINER
        if isinstance(value, gast.BinOp):
            if (is_container(of(value.left)) or is_container(of(value.right))) and isinstance(value.op, (gast.Add, gast.Mult)):
                return CONTAINER
            if isinstance(value.op, gast.MatMult):
                return _matmul_kind(of(value.left), of(value.right))
            return broadcast_kind(of(value.left), of(value.right))
        if isinstance(value, gast.UnaryOp):
            return of(value.operand)
        if isinstance(value, gast.Compare):
            return broadcast_kind(of(value.left), of(value.comparators[0]))
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name):
            base = kinds.get(value.value.id)
            if base == SHAPE:
                return FLOAT  # an entry of a shape tuple
            if is_container(base) and isinstance(value.slice, gast.Slice):
                return CONTAINER
            if isinstance(base, tuple) and base[0] == "tuple_of":  # an entry of a tuple of known kinds
                i = value.slice.value if isinstance(value.slice, gast.Constant) else None
                return base[1][i] if isinstance(i, int) and -len(base[1]) <= i < len(base[1]) else None
            return _index_kind(base, value.slice, of)
        if isinstance(value, gast.Attribute) and self.ctx.resolver.resolve(value) is MISSING:
            if value.attr == "shape":
                return SHAPE
            if value.attr in ("ndim", "size"):
                return FLOAT
            if value.attr == "T":
                return of(value.value)
            return None
        if isinstance(value, gast.Call):
            obj = self.ctx.resolver.resolve(value.func)
            if obj is MISSING:
                if (isinstance(value.func, gast.Attribute) and value.func.attr in _CONTAINER_METHODS
                        and is_container(of(value.func.value))):
                    return CONTAINER
                if isinstance(value.func, gast.Attribute) and value.func.attr in _WHOLE_REDUCTIONS:
                    return _reduced_kind(of(value.func.value), value.args, value.keywords)  # x.sum(axis=0)
                if isinstance(value.func, gast.Attribute) and value.func.attr == "tolist":
                    return CONTAINER  # (nested lists; a number for a 0-d array, which adds like one)
                if isinstance(value.func, gast.Attribute) and value.func.attr in ("ravel", "flatten"):
                    return array_kind(1) if of(value.func.value) not in (None, FLOAT) else None
                if isinstance(value.func, gast.Attribute) and value.func.attr == "transpose":
                    return of(value.func.value)
                if isinstance(value.func, gast.Attribute) and value.func.attr == "dot" and len(value.args) == 1 \
                        and all((rank(of(v)) or 3) <= 2 for v in (value.func.value, value.args[0])):
                    return _matmul_kind(of(value.func.value), of(value.args[0]))  # (a.dot(b), at most 2-D: a @ b)
                if isinstance(value.func, gast.Attribute) and value.func.attr == "reshape" and value.args:
                    return _reshaped_kind(self.tuple_display(value.args[0]) if len(value.args) == 1 else
                                          gast.Tuple(elts=list(value.args), ctx=gast.Load()))
                return None
            if not _hashable(obj):
                return None  # (np.poly1d and other callables the tables below cannot hold)
            if obj in _CONTAINER_BUILDERS:
                return CONTAINER
            if obj in _CREATORS and value.args:  # np.zeros(3), np.ones((2, 3)), np.full(shape, v)
                shape = self.tuple_display(value.args[0])
                if isinstance(shape, gast.Constant) and isinstance(shape.value, int) and not isinstance(shape.value, bool):
                    return array_kind(1)
                return _reshaped_kind(shape)
            if obj in _CREATORS_LIKE and value.args and rank(of(value.args[0])) and of(value.args[0]) != FLOAT:
                return of(value.args[0])  # np.zeros_like(x)
            if obj is np.ravel:
                return array_kind(1)
            if obj is np.transpose and value.args:
                return of(value.args[0])
            if obj is np.reshape and len(value.args) == 2:
                return _reshaped_kind(self.tuple_display(value.args[1]))
            if obj in _WHOLE_REDUCTION_FNS and value.args:
                return _reduced_kind(of(value.args[0]), value.args[1:], value.keywords)  # np.sum(x, axis)
            mod = getattr(obj, "__module__", None)
            if obj is runtime.unbroadcast and len(value.args) == 2:  # gradient code's helpers
                kv, kx = of(value.args[0]), of(value.args[1])
                if rank(kv) is None or rank(kx) is None:
                    return None
                return kx if rank(kv) >= rank(kx) else kv  # a lower-rank adjoint comes back as it is
            if obj in (runtime.shape_of, runtime.above) and value.args:
                return broadcast_kind(*[of(a) for a in value.args])
            if obj in _SHAPED_LIKE and len(value.args) > _SHAPED_LIKE[obj]:
                return of(value.args[_SHAPED_LIKE[obj]])
            if obj is runtime.sum_product:
                return SCALAR
            if mod == "math" or obj in (len, int, float, round, abs, bool, runtime.reduced_size):
                if obj is abs or obj is round:
                    return of(value.args[0]) if value.args else None
                return FLOAT
            if obj in _MATMULS and len(value.args) == 2:
                return _matmul_kind(of(value.args[0]), of(value.args[1]))
            rule = rules.lookup(obj)
            if rule is not None and rule.elementwise and value.args and not value.keywords:
                kind = broadcast_kind(*[of(a) for a in value.args])
                return SCALAR if kind == FLOAT else kind  # NumPy returns NumPy scalars
        return None

    def tuple_display(self, node):
        """The tuple display a name is bound to once (``t4 = (3, 2)``: a shape), else the node."""
        if isinstance(node, gast.Name) and len(self.layout.binds.get(node.id, ())) == 1:
            for s in self.layout.simple:
                if target_of(s)[0] == node.id and isinstance(s, gast.Assign) and isinstance(s.value, gast.Tuple):
                    return s.value
        return node

    def callee_guards(self, namer_ctx) -> list:
        """Statements that check, on entry, that each user function this code was generated for
        is still the one its name denotes (a re-run notebook cell rebinds it): otherwise the
        generated code asks to be generated again."""
        out, seen = [], set()
        for plan in self.plans.values():
            if plan.guard is None:
                continue
            func, obj = plan.guard
            text = gast.unparse(func).strip()
            if text in seen:
                continue
            seen.add(text)
            label = text.replace(".", "_")
            original = namer_ctx.bind(label + "_at_compile", obj)
            changed = gast.Call(func=gast.Name(id=namer_ctx.helper("callee_redefined"), ctx=gast.Load(),
                                               annotation=None, type_comment=None),
                                args=[gast.Constant(value=text, kind=None)], keywords=[])
            # a bound method is made anew at each access: compare instance and function (==)
            op = gast.NotEq() if isinstance(obj, types.MethodType) else gast.IsNot()
            test = gast.Compare(left=func, ops=[op],
                                comparators=[gast.Name(id=original, ctx=gast.Load(), annotation=None,
                                                       type_comment=None)])
            out.append(gast.If(test=test, body=[gast.Expr(value=changed)], orelse=[]))
        return out

    def callee_kinds(self, plan) -> tuple:
        """Kinds of a user function's positional arguments at a call: an object argument passes on
        its class, so the callee resolves the methods it calls on it (``self.forward(x)``)."""
        def kind(p):
            node = plan.bound.get(p)
            if isinstance(node, gast.Name) and node.id in self.ctx.arg_classes and node.id not in self.layout.binds:
                return ("object", self.ctx.arg_classes[node.id])
            return self.kind_of(node) if node is not None else None
        return tuple(kind(p) for p in plan.positional)

    def kind_of(self, node):
        if isinstance(node, gast.Constant):
            return FLOAT if isinstance(node.value, (int, float, bool)) else None
        if isinstance(node, gast.Name):
            return self.kinds.get(node.id)
        return None


# parameters that take integers (or tuples of them, or flags) by NumPy's contract: piecewise
# constant, so their zero derivative is exact whatever they are computed from
# (dtype too: its effect on the derivative is handled by bind_rule; a dtype carries no gradient)
_INTEGER_PARAMS = frozenset(("axis", "axes", "axis1", "axis2", "keepdims", "ddof", "dtype", "shape", "newshape",
                             "repeats", "reps", "n", "k", "compute_uv", "full_matrices"))


def _same(value, default) -> bool:
    """Whether an argument known when generating code is the parameter's default (MISSING: not
    known, never the default)."""
    if value is MISSING or isinstance(value, np.ndarray):
        return False
    try:
        return value is default or (type(value) is type(default) and bool(value == default))
    except (TypeError, ValueError):
        return False


def _dtype_kind(dtype) -> str:
    """NumPy's kind letter of a dtype argument ('f' float, 'i'/'u' int, 'b' bool, 'c' complex);
    '' for a value that is not a dtype."""
    try:
        return np.dtype(dtype).kind
    except (TypeError, ValueError):
        return ""


def _dtype_text(dtype, node) -> str:
    """A dtype argument as messages show it."""
    try:
        return "dtype %s" % np.dtype(dtype).name
    except (TypeError, ValueError):
        return "dtype=%s" % _call_text(node)

# calls whose result is a list, tuple or dict
_CONTAINER_BUILDERS = (list, tuple, dict, zip, enumerate, sorted, reversed, divmod, np.split, np.array_split,
                       np.hsplit, np.vsplit, np.dsplit, np.meshgrid, np.linalg.slogdet, np.linalg.eigh, np.linalg.qr)
_CONTAINER_METHODS = ("items", "values", "keys", "copy")
_CREATORS = (np.zeros, np.ones, np.empty, np.full)
_CREATORS_LIKE = (np.zeros_like, np.ones_like, np.empty_like, np.full_like)
_SEQUENCE_OPS = {operator.add: (list.__add__, list.__add__), operator.mul: (list.__mul__, list.__rmul__)}

# runtime helpers whose result has the shape of their argument at this position
_SHAPED_LIKE = {runtime.in_place: 1, runtime.keep_dtype: 1, runtime.element_in_place: 2, runtime.cast_like: 1, runtime.own: 1, runtime.unreduce: 1, runtime.expand_like: 1,
                runtime.unreduce_extreme: 2, runtime.dmatmul_left: 1, runtime.dmatmul_right: 2,
                ddot_left: 1, ddot_right: 2, runtime.container_adjoint: 0,
                runtime.log_softmax: 0}


def _hashable(obj) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _reshaped_kind(shape):
    """Kind of a reshape to a constant ``shape`` (an int or a tuple display of them)."""
    if isinstance(shape, gast.Constant):
        return array_kind(len(shape.value)) if isinstance(shape.value, tuple) else array_kind(1)
    if isinstance(shape, gast.Tuple):
        return array_kind(len(shape.elts))
    return None


def _reduced_kind(kind, args, keywords):
    """Kind of a reduction (sum, mean, max, ...) of a value of ``kind`` over a constant ``axis``
    (the first further positional argument or the keyword) with a constant ``keepdims``."""
    given = dict(zip(("axis",), args))
    given.update({k.arg: k.value for k in keywords if k.arg in ("axis", "keepdims")})
    axis, keepdims = given.get("axis", gast.Constant(value=None, kind=None)), given.get("keepdims")
    if not isinstance(axis, gast.Constant) or (keepdims is not None and not isinstance(keepdims, gast.Constant)):
        return None
    if axis.value is None and not (keepdims is not None and keepdims.value):
        return SCALAR  # every axis
    r = rank(kind)
    if r is None or kind == FLOAT:
        return None
    if keepdims is not None and keepdims.value:
        return kind
    removed = len(axis.value) if isinstance(axis.value, tuple) else 1
    return array_kind(r - removed) if r >= removed else None


SHAPE = "shape"
_WHOLE_REDUCTIONS = ("sum", "mean", "max", "min", "prod", "var", "std")
_WHOLE_REDUCTION_FNS = {getattr(__import__("numpy"), n) for n in _WHOLE_REDUCTIONS + ("amax", "amin")}


_MATMULS = {__import__("numpy").matmul, __import__("numpy").dot}
_VIEW_METHODS = ("reshape", "transpose", "ravel", "squeeze", "view", "swapaxes", "diagonal",
                 "get", "setdefault")  # (a dict's entry is the object it holds)
_VIEW_FUNCTIONS = {getattr(__import__("numpy"), n) for n in (
    "reshape", "transpose", "ravel", "squeeze", "expand_dims", "asarray", "asanyarray", "atleast_1d", "atleast_2d",
    "atleast_3d", "broadcast_to", "moveaxis", "rollaxis", "swapaxes", "diagonal", "diag", "real", "imag", "flip",
    "fliplr", "flipud", "rot90", "split", "array_split", "hsplit", "vsplit", "dsplit", "matrix_transpose",
    "permute_dims", "unstack") if hasattr(__import__("numpy"), n)}


def _matmul_kind(a, b):
    """Kind of ``a @ b`` from the operands' ranks (1-D operands drop a dimension)."""
    if BOTTOM in (a, b):
        return BOTTOM
    ra, rb = rank(a), rank(b)
    if ra is None or rb is None or ra == 0 or rb == 0:
        return None
    if ra == 1 and rb == 1:
        return SCALAR
    if ra == 1 or rb == 1:
        return array_kind(max(ra, rb) - 1)
    return array_kind(max(ra, rb))


def _index_kind(base, index, of):
    """Kind of ``x[index]`` for an array ``x``: integer indices drop a dimension, None adds one."""
    if base == BOTTOM:
        return BOTTOM
    n = rank(base)
    if n is None or base in (FLOAT,):
        return None
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    for part in parts:
        if isinstance(part, gast.Slice):
            continue
        if isinstance(part, gast.Constant) and part.value is None:
            n += 1
        elif (isinstance(part, gast.Constant) and isinstance(part.value, int) and not isinstance(part.value, bool)) \
                or (isinstance(part, gast.Name) and of(part) == FLOAT):
            n -= 1
        elif isinstance(part, gast.Name) and of(part) == BOTTOM:
            return BOTTOM  # (the index's kind is not known yet)
        else:
            return None  # fancy, boolean or Ellipsis indexing
    return array_kind(n) if n >= 0 else None
