"""End to end: realistic programs, every gradient against central finite differences."""
import numpy as np
import pytest
import realistic_programs as progs
from conftest import assert_grad, check_all_modes, fd_grad

import adcompiler as ad

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
    (progs.p1, [rng.randn(3), 0.7], (0, 1)),
    (progs.p1, [-np.abs(rng.randn(3)), 0.7], (0, 1)),
    (progs.p2, [rng.randn(3, 3)], (0,)),
    (progs.p2, [np.array([[0.5, -0.3], [2.0, 0.4]])], (0,)),
    (progs.p3, [rng.rand(3)], (0,)),
    (progs.p3, [np.array([6.0, 5.5])], (0,)),
    (progs.p4, [rng.randn(4), 0.8], (0, 1)),
    (progs.p5, [np.array([0.3, -0.5, 0.9, 0.1, 1.2, -0.2])], (0,)),
    (progs.p6, [rng.randn(3, 3), rng.randn(3)], (0, 1)),
    (progs.p7, [0.4, 0.9], (0, 1)),
    (progs.q1, [rng.randn(4)], (0,)),
    (progs.q2, [np.array([-0.5, 0.3, 1.7])], (0,)),
    (progs.q3, [rng.randn(4)], (0,)),
    (progs.q4, [rng.randn(3)], (0,)),
    (progs.q5, [rng.randn(3)], (0,)),
    (progs.q6, [rng.randn(5)], (0,)),
    (progs.q7, [rng.randn(4)], (0,)),
    (progs.q8, [rng.randn(3)], (0,)),
    (progs.r1, [rng.randn(3)], (0,)),
    (progs.r3, [rng.randn(4)], (0,)),
    (progs.safe_log_ratio, [np.array([0.5, 1.2, 2.0]), np.array([1.0, -2.0, 0.7])], (0, 1)),
    (progs.wave_leapfrog, [1.0 + 0.2 * np.sin(3 * progs.WAVE_XS), 0.5], (0, 1)),
    (progs.rnn_training_loss, [rng.randn(4, 4) * 0.5, rng.randn(4, 4) * 0.5, rng.randn(4) * 0.1],
     (0, 1, 2)),
]


@pytest.mark.parametrize("fn, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_program(fn, args, wrt):
    assert_grad(fn, args, wrt=wrt, rtol=1e-4)


@pytest.mark.parametrize("fn, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_program_forward_mode(fn, args, wrt):
    r = np.random.RandomState(7)
    tangents = [(r.randn(*np.shape(a)) if np.ndim(a) else float(r.randn())) if i in wrt else
                (np.zeros_like(a) if np.ndim(a) else 0.0) for i, a in enumerate(args)]
    _, t = ad.jvp(fn, args, tangents)
    eps = 1e-6
    hi = fn(*[a + eps * d for a, d in zip(args, tangents)])
    lo = fn(*[a - eps * d for a, d in zip(args, tangents)])
    assert float(t) == pytest.approx((hi - lo) / (2 * eps), rel=1e-4, abs=1e-6)


def test_network_with_branches_in_a_loop():
    """A branch inside a loop whose adjoint flows to the previous iteration (once dropped by
    dead-code elimination)."""
    params = {"W0": rng.randn(3, 4) * 0.5, "b0": rng.randn(4) * 0.1, "W1": rng.randn(4, 2) * 0.5,
              "b1": np.zeros(2)}
    g = ad.grad(progs.net)(params, X, Y)
    for k in params:
        np.testing.assert_allclose(g[k], fd_grad(lambda q: progs.net(dict(params, **{k: q}), X, Y),
                                                 [params[k]], 0), rtol=1e-5, atol=1e-7)


def test_raise_in_differentiated_code_still_raises():
    with pytest.raises(ValueError, match="must be a vector"):
        ad.grad(progs.r1)(np.ones((2, 2)))


def test_programs_using_scipy_special():
    sp = pytest.importorskip("scipy.special")
    import realistic_programs as progs
    r = np.random.RandomState(3)
    w, x, y = r.randn(3), r.randn(6, 3), (r.rand(6) > 0.5).astype(float)
    assert_grad(progs.logistic_expit, [w, x, y], wrt=(0, 1), rtol=1e-5)
    logits, labels = r.randn(4, 3), np.array([0, 2, 1, 1])
    assert_grad(progs.scipy_cross_entropy, [logits, labels], wrt=(0,), rtol=1e-5)
    _, t = ad.jvp(progs.scipy_cross_entropy, (logits, labels), (np.ones_like(logits), None))
    assert t == pytest.approx(float(np.sum(ad.grad(progs.scipy_cross_entropy)(logits, labels))), abs=1e-12)
    assert sp is not None


def test_gaussian_process_likelihood_with_scipy_cholesky():
    pytest.importorskip("scipy.linalg")
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "examples" / "gaussian_process.py"
    spec = importlib.util.spec_from_file_location("gaussian_process", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    r = np.random.RandomState(5)
    X, y = r.randn(6, 2), r.randn(6)
    log_params = np.array([0.2, -0.1, -1.0])
    assert_grad(example.negative_log_likelihood, [log_params, X, y], wrt=(0, 1, 2), rtol=1e-5)
    check_all_modes(example.negative_log_likelihood, [log_params, X, y], wrt=0)
