"""adcompiler: source-to-source automatic differentiation for Python and NumPy.

    import adcompiler as ad
    dfdx = ad.grad(f)          # generated, readable Python; ad.source(f) prints it
"""
from .api import grad, hessian, jacobian, jvp, normalize, source, value_and_grad, vjp
from .custom import checkpoint, defjvp, defvjp, insert_grad_of, stop_gradient
from .errors import AdError

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "source", "normalize",
           "stop_gradient",
           "defvjp", "defjvp", "insert_grad_of", "checkpoint", "AdError"]
__version__ = "0.1.0"
