"""Planning statements: ``StatementPlanner.plan`` picks how each simple statement is
differentiated (a copy, an index, a store, a rule, a call, or opaque); the plans of calls are
``call_plans``', binding a call's arguments to a derivative rule is ``binding``'s."""
from __future__ import annotations

import inspect
import operator
import types

import gast
import numpy as np

from .. import rules, runtime
from ..analysis import BOTTOM, FLOAT, is_container, rank
from ..effects import WRITING_METHODS
from ..ir import copy_tree, list_method, loads, name, target_of
from ..resolve import MISSING
from .call_plans import _LOCALS_HINT, CallPlans
from .kinds import SHAPE, kind_of
from .plan import Plan, _call_text

BINOPS = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
          gast.Div: operator.truediv, gast.Pow: operator.pow, gast.MatMult: operator.matmul,
          gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod, gast.BitAnd: operator.and_,
          gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
          gast.RShift: operator.rshift}
UNARYOPS = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
            gast.Invert: operator.invert}


_SEQUENCE_OPS = {operator.add: (list.__add__, list.__add__),
                 operator.mul: (list.__mul__, list.__rmul__)}


class StatementPlanner(CallPlans):
    """The plans of the simple statements of one normalised function (``plan``), made from the
    data they need: the function, its layout and kinds, its parameters, ``wrt``, and its
    ``Aliasing`` (a write into a view is refused as it is planned)."""

    def __init__(self, fdef, layout, kinds, params, wrt, aliasing, ctx):
        self.fdef, self.layout, self.kinds, self.params, self.wrt = fdef, layout, kinds, params, wrt
        self.aliasing, self.ctx, self.loc = aliasing, ctx, ctx.loc
        self.bound_once = {target_of(s)[0]: s for s in self.layout.simple
                           if isinstance(s, gast.Assign) and target_of(s)[0]
                           and len(self.layout.binds[target_of(s)[0]]) == 1}
        self.known: dict = {}  # locals bound once to a gradient function made in the body
        self.stored = {(s.targets[0].value.id, s.targets[0].attr)  # obj.attr = v
                       for s in self.layout.simple
                       if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Attribute)}

    def plan(self, s) -> Plan:
        """How simple statement ``s`` is differentiated."""
        helper = getattr(s, "ad_helper", None)
        if helper is not None:
            call = s.value
            return Plan(helper, [n for a in call.args[::2] for n in loads(a)])
        method = list_method(s)
        if method:
            lst, kind, call = method
            if not self.ctx.generated and not self.appends_text(kind, call):
                self.aliasing.check_list_changed(lst, s)  # (b = lst, or [lst]: b sees it too)
            if kind == "append":
                arg = call.args[0] if len(call.args) == 1 else None
                return Plan("append", [arg.id] if isinstance(arg, gast.Name) else [])
            return Plan("pop", [lst])
        if (isinstance(s, gast.Expr) or self.result_of_a_change(s)) \
                and isinstance(s.value, gast.Call) and not self.effect_free(s.value):
            frame = self.frame_reads(s.value)
            refusal = getattr(rules.lookup(self.ctx.resolver.resolve(s.value.func)), "refusal",
                              None)  # (set_outer: a global's new value)
            why, hint = refusal or (None, _LOCALS_HINT if frame else None)
            if isinstance(s, gast.Assign) and not refusal:
                why, hint = ("the method .%s() changes the list, dict or array it is called "
                             "on in place, which is not differentiated" % s.value.func.attr,
                             "write the change as its own statements (d[k] = v, lst.append(v))")
            return Plan("effect", [], callee=_call_text(s.value.func),
                        ignored={"": frame or loads(s.value)}, why=why, hint=hint)
        if not isinstance(s, gast.Assign):
            return Plan("none")  # expression statements, assert, break, pass
        bound, mutated = target_of(s)
        value = s.value
        if mutated and bound is None:
            return self.store_plan(s, mutated)
        if isinstance(value, gast.Name):
            return Plan("copy", [value.id])
        if isinstance(value, gast.Constant):
            return Plan("none")
        if isinstance(value, gast.BinOp):
            return self.binop_plan(s, value)
        if isinstance(value, gast.UnaryOp):
            self.check_numeric_operands(s, [value.operand])
            return self.rule_plan(s, UNARYOPS[type(value.op)], [value.operand], [])
        if isinstance(value, (gast.Compare, gast.JoinedStr)):
            return Plan("none")
        if isinstance(value, gast.Subscript):
            return self.index_plan(value)
        if isinstance(value, (gast.Tuple, gast.List)):
            return Plan("display", [e.id for e in value.elts if isinstance(e, gast.Name)])
        if isinstance(value, gast.Dict):
            return Plan("display", [v.id for v in value.values if isinstance(v, gast.Name)])
        if isinstance(value, gast.Attribute):
            return self.attribute_plan(s, value)
        if isinstance(value, gast.Call):
            return self.call_plan(s, value)
        return Plan("opaque", loads(value), callee=type(value).__name__)

    def result_of_a_change(self, s) -> bool:
        """``r = d.update(e)`` (a method that changes a list, dict or array in place), of a value
        that is not an object of a known class: the call is made for its effect, as an expression
        statement, whether its result is read or not (a change that goes unseen otherwise)."""
        value = getattr(s, "value", None)
        return isinstance(s, gast.Assign) and isinstance(value, gast.Call) \
            and isinstance(value.func, gast.Attribute) and value.func.attr in WRITING_METHODS \
            and target_of(s)[0] is not None and isinstance(value.func.value, gast.Name) \
            and not self.is_known_object(value.func.value) \
            and not self.is_module_object(value.func.value.id)

    def appends_text(self, kind, call) -> bool:
        """Whether ``lst.append(v)`` appends a string (``f"loss {v:.3f}"``, a log line): no
        derivative goes into the list through it, whatever else holds the list."""
        arg = call.args[0] if kind == "append" and len(call.args) == 1 else None
        made = self.bound_once.get(arg.id) if isinstance(arg, gast.Name) else None
        value = made.value if made is not None else arg
        return isinstance(value, gast.JoinedStr) or (
            isinstance(value, gast.Constant) and isinstance(value.value, str))

    def replaces_an_entry(self, s, container) -> bool:
        """Whether ``d[k] = v`` replaces an entry of a dict or list made in the function (a
        comprehension's, handed over: ``m = items``) that no other name for it reads afterwards:
        no array is written into."""
        return is_container(self.kinds.get(container)) \
            and not self.aliasing.completes_element_update(s) \
            and self.aliasing.fresh_container(container) \
            and not self.aliasing.list_sharers(container, s)

    def store_plan(self, s, mutated) -> Plan:
        """``x[i] = v`` or ``obj.attr = v``: a store into ``mutated``, the name written into."""
        value = s.value
        if isinstance(s.targets[0], gast.Attribute):
            return Plan("setattr", [value.id] if isinstance(value, gast.Name) else [])
        if self.is_module_object(mutated):
            # CALLS[k] = n: runs as written (see check_attribute_stores)
            return Plan("none", callee="module")
        bases = {b for b in self.layout.views.get(mutated) or ()
                 if b != getattr(s, "ad_written_back", None)
                 and not self.aliasing.filled_then_handed(b, mutated)}  # (params = items)
        # (generated code writes only into arrays it owns; no derivative follows a write of
        # values that do not depend on wrt into arrays that do not)
        if bases and not self.ctx.generated and mutated in self.aliasing.reached \
                and not getattr(s, "ad_synced", False) \
                and not (self.aliasing.fresh_list(mutated)
                         and not self.aliasing.completes_element_update(s)) \
                and not self.replaces_an_entry(s, mutated) \
                and self.aliasing.bases_at(mutated, s):
            error = self.loc.error("writing into %r, which may be a view of (or the same array "
                                   "as) %s, is not supported" % (mutated, ", ".join(
                                       repr(b) for b in sorted(bases))), s,
                                   hint="make it a separate array first: %s = %s.copy()"
                                   % (mutated, sorted(bases)[0]))
            # (ys = list(xs); ys[0] *= v of a number entry: a new number replaces it)
            if not (self.aliasing.fresh_list(mutated)
                    and self.aliasing.number_entry_update(s, error)):
                raise error
        if not self.ctx.generated:
            self.aliasing.check_views_of_written(mutated, s)
        reads = [value.id] if isinstance(value, gast.Name) else []
        return Plan("store", reads)

    def binop_plan(self, s, value) -> Plan:
        """``a op b``: the operator's rule, or a list's concatenation or repetition."""
        fn = BINOPS[type(value.op)]
        sides = [is_container(self.kinds.get(getattr(v, "id", None)))
                 for v in (value.left, value.right)]
        if all(sides) and fn not in _SEQUENCE_OPS:
            # (a | b of dicts or sets the normal form did not know for dicts: no arithmetic)
            return Plan("opaque", loads(value), callee="this operator between two containers",
                        hint="merge dicts with {**a, **b}")
        if any(sides):
            other_node = value.right if sides[0] else value.left
            other = kind_of(other_node, self.kinds)
            if fn is operator.add and other is None and isinstance(other_node, gast.Name):
                self.concatenated_unknown(s, other_node.id)
                sides = [True, True]
            if fn in _SEQUENCE_OPS and (all(sides) if fn is operator.add else other == FLOAT):
                # lists/tuples: + concatenates, * repeats
                fn = _SEQUENCE_OPS[fn][0 if sides[0] else 1]
            elif self.ctx.generated and not self.constant_display(
                    value.left if sides[0] else value.right):
                # (gradient code: an adjoint list, not NumPy's operand)
                return Plan("opaque", loads(value),
                            callee="arithmetic between a list or tuple and an array",
                            why="the list's gradient would be an array",
                            hint="convert it first: np.asarray(xs)")
            else:
                # (a list and an array: NumPy converts the list, elementwise; the array's
                # derivative is the operator's, the list's would be an array: refused if the
                # list depends on wrt, see check_ignored_operands)
                plan = self.rule_plan(s, fn, [value.left, value.right], [])
                listed = loads(value.left if sides[0] else value.right)
                plan.diff_reads = [n for n in plan.diff_reads if n not in listed]
                plan.ignored = {**plan.ignored, "the list": listed}
                plan.callee = "arithmetic between a list or tuple and an array (converted by NumPy)"
                return plan
        self.check_numeric_operands(s, [value.left, value.right],
                                    sequences=fn in (operator.add, operator.mul))
        return self.rule_plan(s, fn, [value.left, value.right], [])

    def check_numeric_operands(self, s, operands, what="this operator", sequences=False):
        """An operator's rule is right for numbers and arrays: an operand of no known kind (a
        value read from a container, an argument of a function called with an object) that may
        depend on ``wrt`` is checked where ``s`` runs (``check_numeric``), refusing an object
        whose class defines the operator (``v * w`` of a vector class: its method, not
        arithmetic; a list beside an array is NumPy's too). With ``sequences`` (``+``, ``*``),
        every operand is checked (``check_arithmetic``): a list or tuple with no array beside
        it is concatenated or repeated. Not beside a string constant (``self.name + "_W"``),
        nor in code shown for reading, which has no kinds."""
        unknown = [o.id for o in operands if isinstance(o, gast.Name)
                   and self.kinds.get(o.id) is None]
        if not unknown or self.ctx.generated or not self.ctx.specialised \
                or not any(isinstance(o, gast.Name) and o.id in self.aliasing.reached
                           for o in operands) \
                or any(isinstance(o, gast.Constant) and isinstance(o.value, (str, bytes))
                       for o in operands) \
                or id(s) in self.aliasing.array_guards:
            return
        error = self.loc.error("%s is differentiated as arithmetic on numbers and arrays, but "
                               "an operand is %%s here" % what, s,
                               hint="call a method of the object's class instead of the operator "
                                    "(v.dot(w)), or pass numbers and arrays")
        if sequences:  # (a + b of two lists: a concatenation, not arithmetic)
            values = [copy_tree(o) for o in operands]
            self.aliasing.array_guards[id(s)] = (
                "check_arithmetic", [gast.Tuple(elts=values, ctx=gast.Load())], error)
            return
        self.aliasing.array_guards[id(s)] = (
            "check_numeric", [gast.Tuple(elts=[name(n) for n in unknown], ctx=gast.Load())], error)

    def concatenated_unknown(self, s, operand):
        """``lst + [v]`` where ``lst`` has no known kind (read from a dict, a list or an
        attribute, ``d['hist'] += [v]``; ``shape[:-1] + (1,)``): planned as a concatenation, which
        generated code checks before ``s`` (``check_sequence``), refusing an array there (NumPy
        would add the list's entries to it)."""
        error = self.loc.error("a value added to a list or tuple is differentiated as a "
                               "concatenation, but it is %s here", s,
                               hint="convert the list for NumPy's arithmetic: np.asarray([...])")
        self.aliasing.array_guards[id(s)] = ("check_sequence", [name(operand)], error)

    def constant_display(self, node) -> bool:
        """Whether ``node`` names a list or tuple every binding of which is a display of
        constants (``[0.5, 1.0]``)."""
        return isinstance(node, gast.Name) and all(
            isinstance(st.value, (gast.List, gast.Tuple))
            and all(isinstance(e, gast.Constant) for e in st.value.elts)
            for st in self.layout.simple
            if isinstance(st, gast.Assign) and target_of(st)[0] == node.id)

    def index_plan(self, value) -> Plan:
        """``base[index]``."""
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
                    ignored={"index": index} if index and self.items_from_index(base) is not False
                    else {})

    def attribute_plan(self, s, value) -> Plan:
        """``x.attr``: an attribute the function stored, a module's or an object's attribute, or an
        array's (``x.T``: its rule)."""
        obj = self.ctx.resolver.resolve(value)
        if obj is not MISSING and isinstance(value.value, gast.Name) \
                and (value.value.id, value.attr) in self.stored:
            # (self.h after self.h = v in a method)
            return Plan("attr", [value.value.id], callee=value.attr)
        if obj is not MISSING:
            owner = self.ctx.resolver.resolve(value.value)
            watch = hasattr(owner, "__dict__") and not isinstance(
                owner, (type, types.ModuleType, types.FunctionType, types.MethodType))
            # module constant such as np.pi, or a user object's attribute
            return Plan("none", watch=watch)
        rule = rules.lookup_method(value.attr)
        if rule is not None and not self.is_known_object(value.value) \
                and not is_container(self.kinds.get(getattr(value.value, "id", None))) \
                and not callable(inspect.getattr_static(np.ndarray, value.attr, None)):
            # (an object's attribute is its own; so is a namedtuple's field, b.mean, which for an
            # array would be a method, not a value)
            if self.ctx.by_identity and isinstance(value.value, gast.Name) \
                    and any(attr == value.attr for _, attr in self.stored):
                # (an object's .size may be stored here, read through any name: read as an
                # attribute when an array's would carry no derivative, else checked)
                if rule.nondiff:
                    return Plan("attr", [value.value.id], callee=value.attr)
                s.ad_check_receiver = True
            return self.method_plan(s, rule, value.value, [], [], value)
        code = _code_run_by_reading(self.known_class(value.value), value.attr)
        if code is not None and not any(  # (an attribute the function stores is its own)
                isinstance(t, gast.Attribute) and t.attr == value.attr
                and isinstance(t.value, gast.Name) and t.value.id == value.value.id
                for st in self.layout.simple if isinstance(st, gast.Assign) for t in st.targets):
            return Plan("opaque", [value.value.id], callee="reading .%s" % value.attr,
                        why="it runs %s, which the derivative does not follow" % code,
                        hint="store the value in a plain attribute, or make it a @property")
        if isinstance(value.value, gast.Name):
            return Plan("attr", [value.value.id], callee=value.attr)
        return Plan("none")

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
        if cls is None and base.id in self.bound_once \
                and isinstance(self.bound_once[base.id].value, gast.Call):
            made = self.ctx.resolver.resolve(self.bound_once[base.id].value.func)
            cls = made if isinstance(made, type) else None
        if cls is None:
            obj = self.static_value(base)
            if obj is MISSING:
                return None
            cls = type(obj)
        return not issubclass(cls, runtime.SELECTING)


def _code_run_by_reading(cls, attr):
    """What code of the class ``cls`` reading ``obj.attr`` runs other than a plain read (the
    normal form calls a @property's getter itself): ``__getattribute__``, ``__getattr__`` for an
    attribute the class does not have, a descriptor's ``__get__`` (``functools.cached_property``);
    None for a plain read (or an unknown class)."""
    if cls is None or cls is object:
        return None
    if isinstance(inspect.getattr_static(cls, "__getattribute__", None), types.FunctionType):
        return "%s.__getattribute__" % cls.__name__
    found = inspect.getattr_static(cls, attr, MISSING)
    if found is MISSING:
        return "%s.__getattr__" % cls.__name__ \
            if inspect.getattr_static(cls, "__getattr__", None) is not None else None
    if hasattr(type(found), "__get__") and not isinstance(
            found, (types.FunctionType, staticmethod, classmethod, property,
                    types.MemberDescriptorType)):  # (a __slots__ entry: a plain read)
        return "the __get__ of %s.%s (a %s)" % (cls.__name__, attr, type(found).__name__)
    return None
