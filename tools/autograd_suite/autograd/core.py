"""autograd.core on adcompiler: ``make_vjp(fun, x)`` of a function of one argument."""
import adcompiler as ad


def make_vjp(fun, x):
    """(the pullback of ``fun`` at ``x``, ``fun(x)``), as autograd's core gives them."""
    out, pullback = ad.vjp(fun, x)

    def vjp(g):
        grads = pullback(g)
        return grads[0] if isinstance(grads, tuple) else grads
    return vjp, out


primitive_vjps: dict = {}  # (autograd's registry of rules: adcompiler keeps its own)
