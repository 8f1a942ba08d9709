"""Pass 4b: planning. For every simple statement of the three-address form: which derivative
rule applies and how its parameters bind to the statement's operands (or which user function it
calls), plus the analyses both modes need (activity, scalar kinds). Shared by reverse and
forward mode. ``plan_function`` (in ``planner``) runs the modules that do each job: ``kinds``,
``aliasing``, ``calls`` and ``binding``, ``objects``, ``activity``, and returns their findings as a
``FunctionPlan``; ``Plan`` (in ``plan``) is the plan of one statement; ``runtime_checks`` turns
plans into the checks generated code runs."""
from .plan import Plan
from .planner import FunctionPlan, plan_function
from .runtime_checks import RuntimeChecks

__all__ = ["FunctionPlan", "Plan", "RuntimeChecks", "plan_function"]
