import numpy as np
import pytest


def fd_grad(f, args, i, eps=1e-6):
    """Central finite differences of scalar ``f`` w.r.t. positional argument ``i`` (float64)."""
    x = np.array(args[i], dtype=float)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        a = list(args)
        a[i] = hi if x.shape else float(hi)
        b = list(args)
        b[i] = lo if x.shape else float(lo)
        g[idx] = (np.sum(f(*a)) - np.sum(f(*b))) / (2 * eps)
    return g if x.shape else float(g)


def assert_grad(f, args, wrt=0, rtol=1e-5, atol=1e-6):
    """The generated gradient of ``f`` matches finite differences for every ``wrt`` position."""
    import adcompiler as ad
    many = isinstance(wrt, tuple)
    got = ad.grad(f, wrt=wrt)(*args)
    for pos, g in zip(wrt if many else (wrt,), got if many else (got,)):
        want = fd_grad(f, args, pos)
        np.testing.assert_allclose(np.asarray(g, dtype=float), want, rtol=rtol, atol=atol,
                                   err_msg="d/d(arg %d) of %s at %r" % (pos, f.__name__, args))
        if isinstance(args[pos], np.ndarray):
            assert isinstance(g, np.ndarray) and g.shape == args[pos].shape and g.dtype == args[pos].dtype
        elif isinstance(args[pos], float):
            assert isinstance(g, float), type(g)
    return got


@pytest.fixture
def rng():
    return np.random.RandomState(0)
