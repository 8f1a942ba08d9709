"""The plan of one simple statement (``Plan``: which derivative rule applies and how its
parameters bind to the statement's operands, or which user function it calls), how messages name
a call or a method, and the one plan made from the call's text alone: ``dynamic_plan``, for a
callable known only at run time. The planner's other modules make plans; the transforms read
them."""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..ir import loads


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
    # (callee expression, the object it named): code is valid while it still does
    guard: tuple = None
    # the arguments the callee receives, when not the call's own (obj.method)
    call_args: list = None
    # rule parameter without a derivative -> names it reads
    ignored: dict = field(default_factory=dict)
    # a dtype known only at run time: the derivative is decided there (dtype_gate)
    gate: object = None
    why: str = "it has no derivative rule and no Python source"  # for an opaque call: why, and
    hint: str = None                                                # what to do instead
    # a name of unknown kind an array-method rule was applied to (checked at run time)
    receiver: str = None
    layout: tuple = None   # how a dynamic call passes its arguments: see runtime.Unpacked
    # the attribute of an object the function reaches by name: see followed_check
    watch: bool = False
    # parameter -> the class of every entry of the list a call gives it (checked where it runs)
    entry_classes: dict = field(default_factory=dict)
    # parameter -> (attribute, class) pairs of the objects those entries hold (checked there)
    entry_attributes: dict = field(default_factory=dict)


def _unpacks(call) -> bool:
    """Whether arguments are unpacked into ``call`` (``f(*args)``, ``f(**opts)``)."""
    return any(isinstance(a, gast.Starred) for a in call.args) \
        or any(k.arg is None for k in call.keywords)


def _call_text(node) -> str:
    return gast.unparse(node).strip()


def method_text(attribute, temps) -> str:
    """How messages name a method or attribute: ``x.astype``, or ``.real`` of a value the
    normal form computed (a temporary, one of ``temps``, not a name of the user's)."""
    receiver = attribute.value
    if isinstance(receiver, gast.Name) and receiver.id in temps:
        return "." + attribute.attr
    return _call_text(attribute)


def dynamic_plan(call, method=None) -> Plan:
    """A callable known only at run time (``layer(x)`` for each layer of a list,
    ``ACTIVATIONS[name](x)``), or a call with arguments unpacked into it (``f(*args)``,
    ``f(**opts)``): generated code differentiates it when it is called (``call_forward`` /
    ``call_backward``), through its source or its rule. Gradients reach the arguments, and the
    callable's attributes when it is an object (a layer). ``method``: for ``obj.name(x)`` of an
    object known only at run time, the callee ``method_call('name')`` (``runtime.MethodCall``),
    called with ``obj`` first, whose adjoint is then what the method reads of it."""
    parts, layout = [call.func], []
    if method is not None:
        parts, layout = [method, call.func.value], [""]
    for a in call.args:
        parts.append(a.value if isinstance(a, gast.Starred) else a)
        layout.append("*" if isinstance(a, gast.Starred) else "")
    for k in call.keywords:
        parts.append(k.value)
        layout.append("**" if k.arg is None else "=" + k.arg)
    params = ["fn"] + ["arg%d" % i for i in range(len(parts) - 1)]
    plan = Plan("dynamic", [n for a in parts for n in loads(a)], bound=dict(zip(params, parts)),
                callee=_call_text(call.func), positional=params)
    if any(layout) or method is not None:
        plan.call_args = parts[1:]
    if any(layout):
        plan.layout = tuple(layout)
    return plan
