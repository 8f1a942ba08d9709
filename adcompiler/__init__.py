"""adcompiler: source-to-source automatic differentiation for Python and NumPy.

    import adcompiler as ad
    dfdx = ad.grad(f)          # generated, readable Python; ad.source(f) prints it
"""
from .api import grad, normalize, source, value_and_grad
from .custom import stop_gradient
from .errors import AdError

__all__ = ["grad", "value_and_grad", "source", "normalize", "stop_gradient", "AdError"]
__version__ = "0.1.0"
