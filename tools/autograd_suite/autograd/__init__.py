"""A stand-in for HIPS autograd's public API, built on adcompiler, used only to run autograd's
own test suite against adcompiler (``python tools/autograd_suite/run.py``). Not part of the
package: it maps each autograd entry point onto the adcompiler transform that means the same,
and makes ``autograd.numpy`` / ``autograd.scipy.*`` the plain NumPy / SciPy modules (with the few
functions autograd adds to NumPy: ``namespaces``), since
adcompiler differentiates ordinary NumPy code."""
import builtins
import sys

import numpy

import adcompiler as ad

from . import namespaces  # noqa: E402  (autograd.numpy: NumPy and autograd's additions)

for _name, _module in [("numpy", namespaces.numpy_module), ("numpy.random", numpy.random),
                       ("numpy.linalg", namespaces.linalg), ("numpy.fft", numpy.fft)]:
    sys.modules["autograd." + _name] = _module
numpy_module = numpy
globals()["numpy"] = namespaces.numpy_module

try:
    import scipy.integrate
    import scipy.linalg
    import scipy.signal
    import scipy.special
    import scipy.stats
    _SCIPY = {"scipy": scipy, "scipy.special": scipy.special, "scipy.stats": scipy.stats,
              "scipy.linalg": scipy.linalg, "scipy.signal": scipy.signal,
              "scipy.integrate": scipy.integrate, "scipy.misc": scipy.special}
    for _dist in ("norm", "t", "gamma", "beta", "chi2", "poisson", "multivariate_normal",
                  "dirichlet", "expon", "laplace", "cauchy", "logistic"):
        _SCIPY["scipy.stats." + _dist] = getattr(scipy.stats, _dist)
    for _name, _module in _SCIPY.items():
        sys.modules["autograd." + _name] = _module
except ImportError:  # the SciPy tests skip themselves
    pass


def _subvals(args, pairs):
    args = list(args)
    for i, v in pairs:
        args[i] = v
    return tuple(args)


def _unary(transform):
    """autograd's unary_to_nary: ``op(fun, argnum)(*args, **kwargs)`` applies the unary ``op``
    to ``fun`` as a function of ``args[argnum]`` (an int or a tuple of positions)."""
    def nary(fun, argnum=0, *op_args, **op_kwargs):
        def applied(*args, **kwargs):
            if isinstance(argnum, int):
                return transform(fun, args, kwargs, (argnum,), True, *op_args, **op_kwargs)
            return transform(fun, args, kwargs, tuple(argnum), False, *op_args, **op_kwargs)
        applied.__name__ = "%s_of_%s" % (transform.__name__, getattr(fun, "__name__", "f"))
        return applied
    return nary


def _bound(fun, kwargs):
    return (lambda *a: fun(*a, **kwargs)) if kwargs else fun


def _argnum(argnum):
    return argnum if isinstance(argnum, int) else tuple(argnum)


def _with_argnum(transform):
    """autograd's ``op(fun, argnum)`` as adcompiler's ``transform(fun, wrt=argnum)``."""
    return lambda fun, argnum=0: transform(fun, wrt=_argnum(argnum))


grad = _with_argnum(ad.grad)


def holomorphic_grad(fun, argnum=0):
    return ad.grad(fun, wrt=_argnum(argnum), holomorphic=True)


value_and_grad = _with_argnum(ad.value_and_grad)
jacobian = _with_argnum(ad.jacobian)
hessian = _with_argnum(ad.hessian)


def _wrt(positions, single):
    return positions[0] if single else positions


@_unary
def grad_and_aux(fun, args, kwargs, positions, single):
    (value, aux), g = ad.value_and_grad(_bound(fun, kwargs), wrt=_wrt(positions, single),
                                        has_aux=True)(*args)
    return g, aux


def elementwise_grad(fun, argnum=0):
    return ad.elementwise_grad(fun, wrt=argnum)


deriv = grad


@_unary
def make_vjp(fun, args, kwargs, positions, single):
    out, pullback = ad.vjp(_bound(fun, kwargs), *args, wrt=_wrt(positions, single))
    return pullback, out


@_unary
def make_jvp(fun, args, kwargs, positions, single):
    def jvp_of(vector):
        tangents = [None] * len(args)
        for i, v in zip(positions, (vector,) if single else vector):
            tangents[i] = v
        return ad.jvp(_bound(fun, kwargs), args, tangents)
    return jvp_of


@_unary
def make_hvp(fun, args, kwargs, positions, single):
    gradient = ad.grad(_bound(fun, kwargs), wrt=_wrt(positions, single))

    def hvp_of(vector):
        tangents = [None] * len(args)
        tangents[positions[0]] = vector
        return ad.jvp(gradient, args, tangents)[1]
    return hvp_of, fun(*args, **kwargs)


def hessian_tensor_product(fun, argnum=0):
    def product(*args):
        args, vector = args[:-1], args[-1]
        return make_hvp(fun, argnum)(*args)[0](vector)
    return product


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    """autograd's: the Jacobian of ``tensordot(tensor, fun(*args), ndim(tensor))`` (the tensor
    given after the arguments; its axes are the first ones of ``fun``'s result), one pullback
    of ``tensor`` times a unit tensor per index of the result's other axes."""
    def product(*args):
        args, tensor = args[:-1], numpy.asarray(args[-1])
        pullback, out = make_vjp(fun, argnum)(*args)
        rest = numpy.shape(out)[tensor.ndim:]
        rows = []
        for index in numpy.ndindex(*rest):
            unit = numpy.zeros(rest)
            unit[index] = 1.0
            rows.append(pullback(numpy.multiply.outer(tensor, unit)))
        return numpy.reshape(rows, rest + numpy.shape(rows[0]))
    return product


vector_jacobian_product = tensor_jacobian_product


def grad_named(fun, argname):
    import inspect
    position = list(inspect.signature(fun).parameters).index(argname)
    return grad(fun, position)


def multigrad_dict(fun):
    import inspect
    names = list(inspect.signature(fun).parameters)

    def gradients(*args):
        values = ad.grad(fun, wrt=tuple(range(len(args))))(*args)
        return dict(zip(names, values))
    return gradients


def make_ggnvp(f, g=lambda x: 1. / 2 * numpy.sum(x ** 2, axis=-1), f_argnum=0):
    def ggnvp_maker(*args):
        out, f_vjp = ad.vjp(f, *args, wrt=f_argnum)
        f_jvp = make_jvp(f, f_argnum)(*args)
        g_hvp, _ = make_hvp(g)(out)

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)[1]))
        return ggnvp
    return ggnvp_maker


checkpoint = ad.checkpoint
isinstance = builtins.isinstance
type = builtins.type
tuple = builtins.tuple
list = builtins.list
dict = builtins.dict
