"""autograd.test_util on adcompiler: check_grads(fun, modes, order)(*args) checks the
derivatives w.r.t. ``argnum`` (default 0) against central differences."""
import itertools

import numpy

import adcompiler as ad
from adcompiler.parse import define

TOL = 1e-6
RTOL = 1e-6


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def check_equivalent(x, y):
    x, y = numpy.asarray(x), numpy.asarray(y)
    assert x.shape == y.shape, "shape mismatch: %s vs %s" % (x.shape, y.shape)
    assert numpy.allclose(x, y, rtol=1e-5, atol=1e-6), "value mismatch:\n%s\n%s" % (x, y)


def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2):
    positions = (argnum,) if isinstance(argnum, int) else tuple(argnum)

    def checked(*args, **kwargs):
        params = ", ".join("a%d" % i for i in positions)
        call = ", ".join("a%d" % i if i in positions else "args[%d]" % i
                         for i in range(len(args)))
        keywords = "".join(", %s=kwargs[%r]" % (k, k) for k in kwargs)
        source = "def checked_function(%s):\n    return fun(%s%s)\n" % (params, call, keywords)
        of_positions = define(source, "checked_function",
                              {"fun": fun, "args": args, "kwargs": kwargs},
                              "<check_grads of %s>" % getattr(fun, "__name__", "f"))
        ad.check_grads(of_positions, [args[i] for i in positions], order=order, modes=modes,
                       rtol=1e-5, atol=1e-6)
    return checked


def combo_check(fun, *args, **kwargs):
    def combos(*arg_lists, **kwarg_lists):
        keyed = [[(k, x) for x in xs] for k, xs in kwarg_lists.items()]
        for chosen in itertools.product(*arg_lists):
            for chosen_kwargs in itertools.product(*keyed):
                check_grads(fun, *args, **kwargs)(*chosen, **dict(chosen_kwargs))
    return combos


def check_vjp(f, x):
    check_grads(f, modes=["rev"], order=1)(x)


def check_jvp(f, x):
    check_grads(f, modes=["fwd"], order=1)(x)
