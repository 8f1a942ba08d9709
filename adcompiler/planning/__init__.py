"""Pass 4b: planning. For every simple statement of the three-address form: which derivative
rule applies and how its parameters bind to the statement's operands (or which user function it
calls), plus the analyses both modes need (activity, scalar kinds). Shared by reverse and
forward mode. ``Planner`` (in ``planner``) gathers the modules that do each job: ``kinds``,
``aliasing``, ``calls`` and ``binding``, ``objects``, ``activity``, ``runtime_checks``; ``Plan``
(in ``plan``) is what they make."""
from .plan import Plan
from .planner import Planner

__all__ = ["Plan", "Planner"]
