"""Pass 5 (forward): forward mode. Each statement of the three-address form is followed by the
statement computing its tangent (``dx`` is the tangent of ``x``); control flow is kept as is, so
loops, branches, subroutines and subscript assignment work as in the primal. ``ForwardMode`` (in
``mode``) gathers the modules that do each job: ``statements`` (the tangent of each kind of
simple statement), ``rule_tangents`` (the tangents of derivative rules and of user rules),
``elements`` (reads and writes of elements, displays, in-place updates), ``calls`` (calls of
functions with generated tangent code), ``control`` (blocks, branches and loops) and
``tangent_state`` (which tangents are live, owned or maybe zero); ``jvp_function`` frames the
jvp function around that body.

A zero tangent is the scalar ``0.0`` and is never materialised unless control flow needs it.
Tangent rules come from the same tables as reverse mode: elementwise entries derive their
tangent from their vjp templates, linear entries apply the function to the tangent, others give
``jvp`` explicitly (``t_<arg>``: tangent of ``<arg>``).
"""
from .mode import ForwardMode
from .rule_tangents import sum_terms

__all__ = ["ForwardMode", "sum_terms"]
