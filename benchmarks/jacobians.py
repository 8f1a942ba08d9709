"""Batched Jacobians and Hessians against one jvp per column / one backward pass per row.
Run from the repository root:

    python benchmarks/jacobians.py
"""
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import adcompiler as ad  # noqa: E402
from adcompiler import api  # noqa: E402


def elementwise(x, w):
    return np.sin(x) * w + x[0] * np.exp(-x) + np.maximum(x, 0.1) ** 2


def energy(x, w):
    return np.sum(np.sin(x) * x ** 3 * w) + np.sum(x * w) ** 2 + np.mean(np.exp(-x))


def best(fn, number):
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def unbatched(name, fn):
    """Call ``fn`` with the batched path of the API switched off (``name``: its function, in
    ``adcompiler.api.tangents`` or ``adcompiler.api.jacobians``)."""
    module = api.tangents if hasattr(api.tangents, name) else api.jacobians
    saved = getattr(module, name)
    setattr(module, name, lambda *args: None)
    try:
        return fn()
    finally:
        setattr(module, name, saved)


def main(n=100):
    rng = np.random.RandomState(0)
    x, w = rng.randn(n), rng.randn(n)
    rows = []
    for label, make, name, f in [("jacobian, forward",
                                  lambda: ad.jacobian(elementwise, mode="forward"),
                                  "_batched_jacobian", elementwise),
                                 ("jacobian, reverse", lambda: ad.jacobian(elementwise),
                                  "_batched_reverse_jacobian",
                                  elementwise),
                                 ("hessian", lambda: ad.hessian(energy), "_batched_jacobian",
                                  energy)]:
        jac = make()
        assert np.allclose(jac(x, w), unbatched(name, lambda: jac(x, w)), rtol=1e-10, atol=1e-12)
        rows.append((label, best(lambda: jac(x, w), 20),
                     unbatched(name, lambda: best(lambda: jac(x, w), 3))))
    print("| %d inputs | batched | one jvp per column / backward per row | speed-up |" % n)
    print("|---|---|---|---|")
    for label, fast, slow in rows:
        print("| %s | %.3f ms | %.3f ms | %.1fx |" % (label, fast * 1e3, slow * 1e3, slow / fast))
    reverse = ad.hessian(energy, mode="reverse")
    assert np.allclose(reverse(x, w), ad.hessian(energy)(x, w), rtol=1e-10, atol=1e-12)
    print("\nhessian, reverse over reverse (one backward pass per row): %.3f ms"
          % (best(lambda: reverse(x, w), 3) * 1e3))


if __name__ == "__main__":
    main()
