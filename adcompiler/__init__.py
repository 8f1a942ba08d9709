"""adcompiler: source-to-source automatic differentiation for Python and NumPy.

    import adcompiler as ad
    dfdx = ad.grad(f)          # generated, readable Python; ad.source(f) prints it
"""
from .api import (
    check_grads,
    elementwise_grad,
    export,
    grad,
    graph,
    hessian,
    hvp,
    jacobian,
    jvp,
    linearize,
    normalize,
    source,
    value_and_grad,
    vjp,
    vmap,
)
from .custom import checkpoint, defjvp, defvjp, insert_grad_of, stop_gradient
from .errors import AdError, AdTypeError

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "source", "normalize",
           "hvp", "linearize", "elementwise_grad", "vmap", "check_grads", "graph", "export",
           "stop_gradient",
           "defvjp", "defjvp", "insert_grad_of", "checkpoint", "AdError", "AdTypeError"]
__version__ = "0.1.0"
