"""``ForwardMode``: the forward-mode transform of one function, made of the mixins of this package
(one job each: ``statements``, ``rule_tangents``, ``elements``, ``calls``, ``control``,
``tangent_state``) over ``Transform``. Here: the state they share (set up in ``__init__``) and
the names of tangents."""
from __future__ import annotations

from ..ir import list_method
from ..transform import Transform
from .calls import Calls
from .control import ControlFlow
from .elements import Elements
from .rule_tangents import RuleTangents
from .statements import Statements
from .tangent_state import TangentState


class ForwardMode(Statements, RuleTangents, Elements, Calls, ControlFlow, TangentState, Transform):
    """Builds the statements of the forward-mode (tangent) function of one normalised function."""

    def __init__(self, plan, ctx):
        super().__init__(plan, ctx)
        self.tangents: dict[str, str] = {}
        self.live: set = set(plan.wrt)
        self.maybe_zero: set = set()   # tangents that may be the scalar 0.0 standing for an array
        # lists that get active values appended: they need a tangent list from the start
        self.grown = {m[0] for m in map(list_method, self.plan.layout.simple)
                      if m and m[1] == "append"} & self.plan.active

    def tan(self, var: str) -> str:
        """The tangent name of ``var``: ``dx`` for ``x`` (renamed on collision)."""
        if var not in self.tangents:
            self.tangents[var] = self.ctx.namer.fresh("d" + var)
        return self.tangents[var]

    def helper(self, name_: str) -> str:
        return self.ctx.helper(name_)
