"""The public API: grad, value_and_grad, vjp, jvp, jacobian, hessian, source and normalize,
each in its module of this package (``caches`` owns every cache of generated functions and
``clear_cache``). Importing the package installs the hooks through which the layers below reach
the API at run time."""
from __future__ import annotations

from .. import hooks
from .caches import STATS, clear_cache
from .gradients import grad, gradient_jvp, gradient_vjp, normalize, source, value_and_grad
from .jacobians import hessian, jacobian
from .pullbacks import vjp
from .tangents import jvp

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "source", "normalize",
           "clear_cache", "STATS"]

hooks.install(grad=grad, gradient_vjp=gradient_vjp, gradient_jvp=gradient_jvp,
              clear_cache=clear_cache)
