"""End to end: realistic programs, every gradient against central finite differences."""
import numpy as np
import pytest

import adcompiler as ad
import realistic_programs as progs
from conftest import assert_grad, fd_grad

rng = np.random.RandomState(0)
X = rng.randn(8, 3)
Y = (rng.rand(8) > 0.5).astype(float)

CASES = [
    (progs.logistic_loss, [rng.randn(3), 0.1, X, Y], (0, 1)),
    (progs.kmeans_loss, [rng.randn(3, 3), X], (0,)),
    (progs.heat, [rng.rand(12), 0.2], (0, 1)),
    (progs.pair_energy, [np.array([[0.0, 0.0], [1.5, 0.2], [0.3, 1.6], [1.7, 1.8]]) + 0.1 * rng.randn(4, 2)], (0,)),
    (progs.gauss_nll, [rng.randn(3), rng.randn(3, 3) * 0.5, rng.randn(3)], (0, 1)),
    (progs.pendulum, [0.5, 0.0, 9.81], (0, 1, 2)),
    (progs.converge, [rng.rand(4)], (0,)),
    (progs.attention, [rng.randn(4, 3), rng.randn(5, 3), rng.randn(5, 2)], (0, 1, 2)),
    (progs.printing, [1.5], (0,)),
]


@pytest.mark.parametrize("fn, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_program(fn, args, wrt):
    assert_grad(fn, args, wrt=wrt, rtol=1e-4)


def test_network_with_branches_in_a_loop():
    """A branch inside a loop whose adjoint flows to the previous iteration (once dropped by
    dead-code elimination)."""
    params = {"W0": rng.randn(3, 4) * 0.5, "b0": rng.randn(4) * 0.1, "W1": rng.randn(4, 2) * 0.5,
              "b1": np.zeros(2)}
    g = ad.grad(progs.net)(params, X, Y)
    for k in params:
        np.testing.assert_allclose(g[k], fd_grad(lambda q: progs.net(dict(params, **{k: q}), X, Y),
                                                 [params[k]], 0), rtol=1e-5, atol=1e-7)
