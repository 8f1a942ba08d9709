"""The public API: grad, value_and_grad, vjp, jvp, jacobian, hessian, source and normalize,
hvp, linearize, elementwise_grad, vmap, check_grads, graph and export, each in its module of
this package (``caches`` owns every cache of generated functions and ``clear_cache``).
Importing the package installs the hooks through which the layers below reach the API at run
time."""
from __future__ import annotations

from .. import hooks
from ..custom import BUILTIN_JVPS
from .caches import STATS, clear_cache
from .exports import export
from .gradients import (
    gradient_jvp,
    gradient_jvp_tangent,
    gradient_vjp,
    gradient_vjp_tangent,
    normalize,
    source,
)
from .graphs import graph
from .jacobians import hessian, jacobian
from .pullbacks import vjp
from .tangents import jvp
from .transforms import (
    check_grads,
    elementwise_grad,
    grad,
    hvp,
    linearize,
    value_and_grad,
    vmap,
)

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "source", "normalize",
           "hvp", "linearize", "elementwise_grad", "vmap", "check_grads", "graph", "export",
           "clear_cache",
           "STATS"]

hooks.install(grad=grad, gradient_vjp=gradient_vjp, gradient_jvp=gradient_jvp,
              clear_cache=clear_cache)
# (generated code calling them differentiated again in forward mode: third derivatives)
BUILTIN_JVPS[gradient_vjp] = gradient_vjp_tangent
BUILTIN_JVPS[gradient_jvp] = gradient_jvp_tangent
