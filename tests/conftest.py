import copy
import importlib.util
import textwrap

import numpy as np
import pytest

import adcompiler as ad


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


def _copies(args):
    return [copy.deepcopy(a) for a in args]


def check_like_plain(fn, args, wrt=0, second_order=True):
    """For ``fn`` that may write into its arguments: the value of ``value_and_grad`` and the
    arguments after the call are the plain call's, and every mode matches finite differences."""
    plain_args, inside = _copies(args), _copies(args)
    want = fn(*plain_args)
    value, _ = ad.value_and_grad(fn, wrt=wrt)(*inside)
    assert value == pytest.approx(want, rel=1e-12, abs=1e-12)
    for a, b in zip(plain_args, inside):
        np.testing.assert_equal(b, a)   # (the same side effects on the caller's data)
    check_all_modes(fn, args, wrt, second_order)


def check_all_modes(fn, args, wrt=0, second_order=True, rtol=1e-5, atol=1e-6):
    """Reverse and forward mode against central finite differences in float64, float32 in
    float32 out (to float32 precision), and the Hessian against finite differences of the
    gradient. Every call gets copies of the array arguments (``fn`` may write into them)."""
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    plain = lambda *a: fn(*_copies(a))  # noqa: E731
    grads = ad.grad(fn, wrt=positions)(*_copies(args))
    for pos, g in zip(positions, grads):
        np.testing.assert_allclose(np.asarray(g, dtype=float), fd_grad(plain, args, pos), rtol=rtol, atol=atol)
    rng = np.random.RandomState(3)
    tangents = [rng.randn(*np.shape(a)) if np.ndim(a) else float(rng.randn()) for a in args]
    tangents = [t if i in positions else None for i, t in enumerate(tangents)]  # (held fixed)
    _, t = ad.jvp(fn, _copies(args), tangents)
    eps = 1e-6
    hi = fn(*[a + eps * t_ if i in positions else a for i, (a, t_) in enumerate(zip(_copies(args), tangents))])
    lo = fn(*[a - eps * t_ if i in positions else a for i, (a, t_) in enumerate(zip(_copies(args), tangents))])
    assert float(t) == pytest.approx(float((hi - lo) / (2 * eps)), rel=rtol, abs=atol)
    if any(np.ndim(args[p]) for p in positions):
        args32 = [np.asarray(a, np.float32) if i in positions and np.ndim(a) else a for i, a in enumerate(args)]
        for pos, g32, g in zip(positions, ad.grad(fn, wrt=positions)(*_copies(args32)), grads):
            if np.ndim(args[pos]):
                assert g32.dtype == np.float32
                np.testing.assert_allclose(g32, g, rtol=2e-3, atol=2e-4)
    if second_order:
        pos = positions[0]
        hessian = ad.hessian(fn, wrt=pos)(*_copies(args))
        gradient = lambda *a: ad.grad(fn, wrt=pos)(*_copies(a))  # noqa: E731
        want = np.stack([np.ravel(fd_grad(lambda *a, k=k: np.ravel(gradient(*a))[k], args, pos))
                         for k in range(max(1, np.size(args[pos])))])
        np.testing.assert_allclose(np.reshape(hessian, want.shape), want, rtol=1e-4, atol=1e-5)
        try:  # (reverse over reverse: the generated gradient differentiated again in reverse)
            hessian = ad.hessian(fn, wrt=pos, mode="reverse")(*_copies(args))
        except ad.AdError:
            return  # (a refusal, such as a helper with no reverse-mode rule, is a right answer)
        np.testing.assert_allclose(np.reshape(hessian, want.shape), want, rtol=1e-4, atol=1e-5)


def module_from_source(directory, name, source):
    """Import ``source`` as module ``name`` from a file in ``directory`` (adcompiler reads the
    source of what it differentiates, so test functions live in a real file)."""
    path = directory / (name + ".py")
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
