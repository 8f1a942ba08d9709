"""``autograd.numpy`` and ``autograd.numpy.linalg`` for the stand-in: NumPy's modules, every
attribute the same object, with the few public functions autograd's wrappers add to them:
``make_diagonal`` (a primitive of autograd's numpy_wrapper, with its rules: the adjoint is
``np.diagonal``, the tangent the function of the tangent), and linalg's ``T`` (the transpose of
the last two axes) and ``_dot`` (the batched matrix product), which autograd's tests call.

The functions adcompiler differentiates through (``T``, ``_dot``, the rules) are defined from
source text here: the stand-in's own modules count as a library's, which adcompiler never traces
into."""
import types

import numpy

import adcompiler as ad
from adcompiler.parse import define

_SOURCE = '''
def T(x):
    return np.swapaxes(x, -1, -2)


def _dot(a, b):
    return np.einsum("...ij,...jk->...ik", a, b)


def make_diagonal_vjp(g, ans, D, offset=0, axis1=0, axis2=1):
    return (np.diagonal(g, offset, axis1, axis2),)


def make_diagonal_jvp(ans, args, tangents):
    # (a tangent rule is given no keywords: the one layout make_diagonal supports)
    return make_diagonal(tangents[0], 0, -1, -2)
'''


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """autograd's ``np.make_diagonal``: arrays whose last two axes hold ``D``'s last axis on
    their diagonal (only offset=0, axis1=-1, axis2=-2, as in autograd)."""
    if not (offset == 0 and axis1 == -1 and axis2 == -2):
        raise NotImplementedError("Currently make_diagonal only supports offset=0, axis1=-1, "
                                  "axis2=-2")
    D = numpy.asarray(D)
    return D[..., None] * numpy.eye(D.shape[-1])


_namespace = {"np": numpy, "make_diagonal": make_diagonal}
define(_SOURCE, "T", _namespace, "<autograd stand-in>")
_defined = {name: _namespace[name] for name in ("T", "_dot", "make_diagonal_vjp",
                                                 "make_diagonal_jvp")}
ad.defvjp(make_diagonal, _defined["make_diagonal_vjp"])
ad.defjvp(make_diagonal, _defined["make_diagonal_jvp"])


def _like(module, name, extra):
    """A module named ``name`` holding every attribute of ``module`` and the ``extra`` ones."""
    made = types.ModuleType(name, module.__doc__)
    made.__dict__.update({k: v for k, v in vars(module).items()
                          if not (k.startswith("__") and k.endswith("__"))})
    made.__dict__.update(extra)
    made.__getattr__ = lambda attr: getattr(module, attr)  # (NumPy's lazily loaded attributes)
    return made


linalg = _like(numpy.linalg, "autograd.numpy.linalg",
               {"T": _defined["T"], "_dot": _defined["_dot"]})
numpy_module = _like(numpy, "autograd.numpy", {"make_diagonal": make_diagonal, "linalg": linalg})
