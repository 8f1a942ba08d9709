"""``ReverseMode``: the reverse-mode transform of one function, made of the mixins of this package
(one job each: ``contributions``, ``forward_sweep``, ``taping``, ``backward``, ``backward_calls``,
``backward_stores``, ``adjoint_state``) over ``Transform``. Here: the state they share (set up
in ``__init__``), the names of adjoints and of the tape, and the refusal of helpers with no
reverse rule."""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import list_method, target_of
from ..rules.helpers import TOPICS, norms
from ..transform import Transform
from .adjoint_state import AdjointState
from .backward import BackwardSweep
from .backward_calls import BackwardCalls
from .backward_stores import BackwardStores
from .contributions import Contributions
from .forward_sweep import ForwardSweep
from .taping import Taping

# the modules of the rules' helpers (not the runtime's): see refuse_traced_helpers
_TOPIC_MODULES = frozenset(m.__name__ for m in TOPICS)
# helpers with no rule differentiated in reverse mode through their source, as forward mode
# differentiates every one (checked against forward over reverse: tests/test_trust.py)
_REVERSED_THROUGH_SOURCE = frozenset({norms.dnorm})


class ReverseMode(Contributions, ForwardSweep, Taping, BackwardSweep, BackwardCalls,
                  BackwardStores, AdjointState, Transform):
    """Builds the forward and backward statement lists of one function."""

    def __init__(self, plan, ctx):
        super().__init__(plan, ctx)
        self.definitions = {target_of(s)[0]: s for s in self.plan.layout.simple if target_of(s)[0]}
        self.adjoints: dict[str, str] = {}
        self.tape = None
        self.records: dict = {}      # id(stmt) -> {var: backward name}
        self.contrib_cache: dict = {}
        self.shape_sources: dict[str, str] = {}  # (see Contributions.shape_source)
        # adjoints held as a scalar standing for a uniform array -> a name holding, in the
        # backward pass, a value of the array's shape
        self.uniform: dict[str, str] = {}
        # adjoints that may hold the scalar 0.0 standing for a zero array (set where a branch or
        # loop merges states): rules that are not elementwise skip their contributions then
        self.maybe_zero: set = set()
        # adjoints of arrays that may hold the Python float 0.0 all the same: a number's adjoint
        # may be 0.0 by its arithmetic (2 * x at x = 0), which the helpers take for the zero of
        # any shape and pass on; such a sum is no array to update in place (seed 1299598)
        self.zero_passed: set = set()
        self.never_zero: set = set()  # (the seed of grad, 1.0)
        # adjoints that may hold exact zeros where np.where did not pick their value: a vjp there
        # is 0 (``where_nonzero``), not 0 * inf = NaN (sqrt of the entries not picked: < 0)
        self.masked: set = set()
        self.masking = False  # (the statement being reversed passes on such zeros)
        # lists appended to / popped
        self.resized = {m[0] for m in map(list_method, self.plan.layout.simple) if m}
        self.refuse_traced_helpers()

    def refuse_traced_helpers(self):
        """Gradient code differentiated in reverse (reverse over reverse) goes through its helpers'
        reverse rules; a helper without one is an error here (forward mode may trace it instead)."""
        shared = getattr(self.ctx.parsed.fn, "__adcompiler_shared_writes__", False)
        for s in self.plan.layout.simple:
            plan = self.plan.plans[id(s)]
            rule = plan.rule.fn if plan.kind == "rule" else None
            write = isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript)
            if self.ctx.generated and (shared and (write or rule is runtime.in_place)
                                       or rule is runtime.synced):
                # (the first-order code follows writes into arrays other names share; its
                # analysis of gradient code does not, and gave wrong Hessians: seeds 384034,
                # 401872)
                raise self.loc.error("reverse mode over gradient code that writes into an array "
                                     "other names share is not supported", s,
                                     hint="differentiate gradient code in forward mode: "
                                          "ad.hessian(f) (mode='forward')")
            if plan.kind in ("call", "checkpoint") \
                    and getattr(plan.fn, "__module__", None) in _TOPIC_MODULES \
                    and plan.fn not in _REVERSED_THROUGH_SOURCE \
                    and target_of(s)[0] in self.plan.active:
                raise self.loc.error("there is no reverse-mode rule for adcompiler's helper %r"
                                     % plan.fn.__name__, s,
                                     hint="differentiate gradient code in forward mode: "
                                          "ad.hessian(f) (mode='forward')")

    def adj(self, var: str) -> str:
        """The adjoint name of ``var``: ``dx`` for ``x`` (renamed on collision)."""
        if var not in self.adjoints:
            self.adjoints[var] = self.ctx.namer.fresh("d" + var)
        return self.adjoints[var]

    def helper(self, name_: str) -> str:
        return self.ctx.helper(name_)
