"""vjp, jvp, jacobian (both modes), hessian, higher order, custom rules, hooks and checkpoints,
compared with finite differences and with each other."""
import numpy as np
import pytest
from conftest import assert_grad, fd_grad

import adcompiler as ad


def vector_fn(x, w):
    y = np.tanh(w @ x) * x[0]
    return np.concatenate([y, x ** 2])


def loop_vector(x, n):
    out = np.zeros(3)
    h = x
    for i in range(n):
        h = np.sin(h) * 1.1 + x
        if h[0] > 0:
            out[i % 3] += np.sum(h)
        else:
            out[i % 3] -= h[1]
    return out * x[0]


def helper(u, v):
    return u * np.exp(-v)


def with_helper(x):
    y = np.zeros(2)
    y[0] = helper(x[0], x[1])
    y[1] = helper(x[1] * 2.0, x[0])
    return y


def scalar_loop(x, n):
    y = x
    i = 0
    while i < n:
        y = y * np.cos(y) + x * 0.5
        i += 1
    return y


def quad(x):
    return np.sum(x ** 3) + x[0] * x[1] ** 2


def fd_jacobian(f, args, pos, eps=1e-6):
    x = np.array(args[pos], dtype=float)
    cols = []
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        a, b = list(args), list(args)
        a[pos], b[pos] = hi, lo
        cols.append((np.asarray(f(*a)) - np.asarray(f(*b))) / (2 * eps))
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(*args)) + x.shape)


CASES = [
    (vector_fn, lambda r: [r.randn(3), r.randn(3, 3)]),
    (loop_vector, lambda r: [r.randn(2), 5]),
    (with_helper, lambda r: [r.randn(2)]),
]


@pytest.mark.parametrize("fn, make", CASES)
def test_vjp_jacobian_jvp_agree(fn, make):
    args = make(np.random.RandomState(3))
    want = fd_jacobian(fn, args, 0)
    jr = ad.jacobian(fn)(*args)
    jf = ad.jacobian(fn, mode="forward")(*args)
    np.testing.assert_allclose(jr, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
    out, pullback = ad.vjp(fn, *args)
    x = args[0]
    for k in range(out.size):
        e = np.zeros(out.shape)
        e.flat[k] = 1.0
        np.testing.assert_allclose(pullback(e)[0], jr.reshape(out.size, -1)[k].reshape(x.shape), atol=1e-12)
    for k in range(x.size):
        t = [np.zeros_like(a, dtype=float) if isinstance(a, np.ndarray) else 0.0 for a in args]
        t[0].flat[k] = 1.0
        o, tangent = ad.jvp(fn, args, t)
        np.testing.assert_allclose(o, out)
        np.testing.assert_allclose(tangent, jr.reshape(out.size, -1)[:, k].reshape(out.shape), atol=1e-12)


def test_vjp_weighted_and_repeatable():
    x = np.array([1.0, 2.0, 3.0])
    out, pullback = ad.vjp(lambda v: v ** 2, x)
    first = pullback(np.array([-5.0, 2.0, 6.0]))[0]
    second = pullback(np.array([-5.0, 2.0, 6.0]))[0]
    np.testing.assert_allclose(first, 2 * x * np.array([-5.0, 2.0, 6.0]))
    np.testing.assert_array_equal(first, second)
    out, pullback = ad.vjp(loop_vector, np.array([0.3, -0.4]), 4)
    a = pullback(np.ones(3))
    b = pullback(np.ones(3))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] is None, "an int argument has no cotangent"


def scaled_sum_of_squares(x):
    return np.sin(x) * sum_of_squares(x, x * 2.0)   # the callee keeps a tape of its own


def test_pullback_through_a_subroutine_with_a_tape_runs_again():
    x = np.array([0.3, 0.5])
    out, pullback = ad.vjp(scaled_sum_of_squares, x)
    first, second = pullback(np.array([1.0, -2.0]))[0], pullback(np.array([1.0, -2.0]))[0]
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, np.array([1.0, -2.0]) @ ad.jacobian(scaled_sum_of_squares)(x), rtol=1e-12)


def test_jvp_through_loops_branches_subroutines():
    for x in (0.3, 1.7):
        out, t = ad.jvp(scalar_loop, (x, 4), (1.0, 0))
        assert t == pytest.approx(fd_grad(scalar_loop, [x, 4], 0), rel=1e-6)
    assert ad.jvp(lambda x, y: x * (x + y) ** 2, (3.0, -1.0), (1.0, 0.0)) == (12.0, 16.0)



def matrix_power(a):
    b = np.eye(a.shape[0])
    for _ in range(3):
        b = b @ a                # the tangent of b enters the loop as 0.0
    return np.sum(np.reshape(b, (-1,)) ** 2)


def tuple_parameters(params, x):
    w, b = params
    return np.sum(np.tanh(w @ x + b))


def test_jvp_of_arrays_made_in_loops_and_of_structured_arguments():
    rng = np.random.RandomState(3)
    a, ta = rng.randn(3, 3), rng.randn(3, 3)
    _, t = ad.jvp(matrix_power, (a,), (ta,))
    assert t == pytest.approx(float(np.sum(fd_grad(matrix_power, [a], 0) * ta)), rel=1e-6)
    params, x = (rng.randn(4, 3), rng.randn(4)), rng.randn(3)
    tangent = (rng.randn(4, 3), rng.randn(4))
    _, t = ad.jvp(tuple_parameters, (params, x), (tangent, np.zeros(3)))
    g = ad.grad(tuple_parameters)(params, x)
    assert t == pytest.approx(float(np.sum(g[0] * tangent[0]) + np.sum(g[1] * tangent[1])), rel=1e-9)
    with pytest.raises(ad.AdError, match="tangent of argument 0 has shape"):
        ad.jvp(tuple_parameters, (params, x), ((tangent[0],), np.zeros(3)))


def least_squares(w, x):
    return np.sum((x @ w) ** 2) + np.sum(np.dot(x, w) * np.sin(w[0]))


def rnn_hidden(w, xs):
    h = np.zeros(w.shape[0])
    for x in xs:
        h = np.tanh(w @ h + x)
    return np.sum(h ** 2)


def polynomial(x, c):
    s = 0.0
    for i in range(len(c)):
        s = s + c[i] * x ** i     # x ** 0 at x = 0: the base's adjoint must be 0, not 0 * inf
    return np.sum(s)


def bilinear_einsum(x, a):
    return np.einsum("i,ij,j->", x, a, np.tanh(x)) + np.sum(np.polyval(x, a))


def dict_network(p, x):
    h = np.tanh(p["w1"] @ x + p["b1"])
    return float(p["w2"] @ h)


def signal_fit(x, w, q, fp):
    smooth = np.convolve(x, w, "same")
    curve = np.interp(q, np.array([-1.0, 0.0, 1.5]), fp)
    return np.sum(smooth ** 2) + np.sum(curve ** 3) + np.sum(np.append(x, w) ** 3)


def sum_of_squares(*xs):
    total = 0.0
    for v in xs:
        total = total + np.sum(v ** 2)   # pushes v and v ** 2; the backward pops v ** 2 for its shape only
    return total


def calls_varargs(x, y):
    return sum_of_squares(x, y, x * y)


def linear_adjoint_helpers(a):
    w, _ = np.linalg.eigh(a + a.T)
    return (np.sum(np.diag(a) ** 3) + np.sum(np.take(a, [0, 2, 2]) ** 2) + np.sum(np.cumsum(a, axis=1) ** 2)
            + np.sum(np.sort(a, axis=0)[0] ** 3) + np.sum(w ** 2))


def fd_hessian(f, args, pos, eps=1e-5):
    g = ad.grad(f, wrt=pos)
    x = args[pos]

    def at(v):
        return g(*[v if i == pos else a for i, a in enumerate(args)])
    if np.ndim(x) == 0:
        return (at(x + eps) - at(x - eps)) / (2 * eps)
    out = np.zeros(x.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        out[(...,) + idx] = (at(x + e) - at(x - e)) / (2 * eps)
    return out


def smoothed_series(x, alpha, history):
    s = x[0]
    out = list(history) + [s]    # x[0] does not depend on alpha: the list's tangent starts as zeros
    for v in x[1:]:
        s = alpha * v + (1 - alpha) * s
        out.append(s)
    return np.var(np.array(out))


def logsumexp_along(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.sum(np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis)))


def logsumexp_both_axes(x):
    return logsumexp_along(x, 1) + logsumexp_along(x, 0)   # the axis travels through the saved tuple


def running_counts(x, w):
    acc = {}
    for i in range(4):
        key = "odd" if i % 2 else "even"
        acc[key] = acc.get(key, 0.0) + w * x[i] ** 2
    return acc["even"] * acc["odd"]


def bilinear_dot_outer(x, y):
    return x.T.dot(y).sum() + np.einsum('ij->', np.outer(x, y)) + np.sum(np.dot(x, y) * x ** 2)


HESSIAN_CASES = [
    (bilinear_dot_outer, lambda r: [r.randn(3), r.randn(3)], (0, 1)),
    (smoothed_series, lambda r: [r.randn(5), 0.3, [0.5]], (0, 1)),
    (logsumexp_both_axes, lambda r: [r.randn(3, 4)], (0,)),
    (running_counts, lambda r: [r.randn(4), 0.8], (0, 1)),
    (least_squares, lambda r: [r.randn(3), r.randn(4, 3)], (0, 1)),
    (rnn_hidden, lambda r: [r.randn(3, 3) * 0.5, r.randn(4, 3)], (0, 1)),
    (polynomial, lambda r: [np.array([0.0, -1.0, 0.5]), np.array([1.0, 2.0, 3.0, -1.0])], (0, 1)),
    (polynomial, lambda r: [0.0, np.array([1.0, 2.0, 3.0])], (0,)),
    (bilinear_einsum, lambda r: [r.randn(3), r.randn(3, 3)], (0, 1)),
    (dict_network, lambda r: [{"w1": r.randn(4, 3), "b1": r.randn(4), "w2": r.randn(4)}, r.randn(3)], (1,)),
    (signal_fit, lambda r: [r.randn(6), r.randn(3), r.rand(4) - 0.5, r.randn(3)], (0, 1, 2, 3)),
    (calls_varargs, lambda r: [r.randn(2), r.randn(2)], (0, 1)),
    (linear_adjoint_helpers, lambda r: [r.randn(3, 3)], (0,)),
]


@pytest.mark.parametrize("fn, make, positions", HESSIAN_CASES, ids=[c[0].__name__ for c in HESSIAN_CASES])
def test_hessians_match_finite_differences_of_the_gradient(fn, make, positions):
    """Forward mode over generated gradient code: products (the adjoint of one operand reads the
    other operand, not its own), loops with a tape, integer exponents popped from the tape."""
    args = make(np.random.RandomState(5))
    for pos in positions:
        np.testing.assert_allclose(ad.hessian(fn, wrt=pos)(*args), fd_hessian(fn, args, pos), rtol=1e-5, atol=1e-6)

def python_builtins_over_entries(x):
    return sum(x) * min(x) + max(x) ** 2 + sum(v * v for v in sorted(x)[:2]) + sum([x[0] * x[1], x[2]]) ** 2


def shaping_helpers(x):
    a = np.outer(x, x)
    return (np.trace(a) * np.sum(np.diff(x) ** 2) + np.sum(np.sort(x) * np.arange(3.0)) + np.sum(np.tile(x, 2) ** 3)
            + np.sum(np.concatenate([x, x ** 2]) ** 2) + np.sum(np.stack([x, np.sin(x)]) ** 2)
            + np.sum(np.roll(x, 1) * x) + np.sum(np.diag(a) * np.cumsum(x)) + np.sum(np.repeat(x, 2) * np.take(x, [0, 0, 1, 1, 2, 2])))


def sums_of_squares_twice(x):
    return np.sum(np.sin(x) * sum_of_squares(x, x * 2.0)) + sum_of_squares(np.tanh(x))


def appends_then_picks(x):
    best = x[0]
    kept = []
    for k in range(len(x)):
        best = max(best, x[k] * 1.5)
        if k % 2 == 0:
            kept.append(best * x[k])
    return sum(kept) + np.sum(np.array(kept) ** 2) * best


# gradient code whose helpers have no reverse rule of their own (polyval, append, sort, ...)
NO_REVERSE_OVER_REVERSE = ("bilinear_einsum", "signal_fit", "linear_adjoint_helpers", "bilinear_dot_outer")
REVERSE_OVER_REVERSE_CASES = [c for c in HESSIAN_CASES if c[0].__name__ not in NO_REVERSE_OVER_REVERSE] + [
    (sums_of_squares_twice, lambda r: [r.randn(3)], (0,)),
    (appends_then_picks, lambda r: [r.randn(4)], (0,)),
    (shaping_helpers, lambda r: [r.randn(3)], (0,)),
    (python_builtins_over_entries, lambda r: [r.randn(4)], (0,)),
]


@pytest.mark.parametrize("fn, make, positions", REVERSE_OVER_REVERSE_CASES,
                         ids=[c[0].__name__ for c in REVERSE_OVER_REVERSE_CASES])
def test_reverse_over_reverse_hessians(fn, make, positions):
    """hessian(mode="reverse") runs reverse mode over the generated gradient code: its tape pops,
    in-place adjoint updates and helper calls are differentiated in reverse."""
    args = make(np.random.RandomState(5))
    for pos in positions:
        H = ad.hessian(fn, wrt=pos, mode="reverse")(*args)
        np.testing.assert_allclose(H, ad.hessian(fn, wrt=pos)(*args), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(H, fd_hessian(fn, args, pos), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", NO_REVERSE_OVER_REVERSE)
def test_reverse_over_reverse_without_a_rule_is_an_error(case):
    fn, make, positions = [c for c in HESSIAN_CASES if c[0].__name__ == case][0]
    args = make(np.random.RandomState(5))
    with pytest.raises(ad.AdError, match="no reverse-mode rule for"):
        ad.hessian(fn, wrt=positions[0], mode="reverse")(*args)


def test_hessian_blocks_for_several_arguments():
    args = [np.array([0.3, -0.7, 1.1]), np.random.RandomState(0).randn(4, 3)]
    for mode in ("forward", "reverse"):
        H = ad.hessian(least_squares, wrt=(0, 1), mode=mode)(*args)
        assert [[b.shape for b in row] for row in H] == [[(3, 3), (3, 4, 3)], [(4, 3, 3), (4, 3, 4, 3)]]
        np.testing.assert_allclose(H[0][0], fd_hessian(least_squares, args, 0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(H[1][1], fd_hessian(least_squares, args, 1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(H[0][1], np.moveaxis(H[1][0], -1, 0), rtol=1e-9)
    with pytest.raises(ad.AdError, match="unknown hessian mode"):
        ad.hessian(least_squares, mode="sideways")


def test_hessians_and_higher_order():
    rng = np.random.RandomState(1)
    x = rng.randn(3)
    H = ad.hessian(quad)(x)
    want = np.diag(6 * x)
    want[0, 1] += 2 * x[1]
    want[1, 0] += 2 * x[1]
    want[1, 1] += 2 * x[0]
    np.testing.assert_allclose(H, want, rtol=1e-10)
    # second derivative through a loop: forward mode runs through the gradient's tape
    d2 = ad.grad(ad.grad(scalar_loop))(0.4, 3)
    g = ad.grad(scalar_loop)
    assert d2 == pytest.approx((g(0.4 + 1e-5, 3) - g(0.4 - 1e-5, 3)) / 2e-5, rel=1e-6)
    d3 = ad.grad(ad.grad(ad.grad(lambda t: t ** 4)))(1.5)
    assert d3 == pytest.approx(24 * 1.5)
    v = rng.randn(3)
    _, hvp = ad.jvp(ad.grad(quad), (x,), (v,))
    np.testing.assert_allclose(hvp, want @ v, rtol=1e-10)


def softplus(x):
    return np.log1p(np.exp(x))


def uses_softplus(x):
    return np.sum(softplus(x) * x)


def test_custom_rules_are_called_by_name():
    calls = []

    def softplus_vjp(g, ans, x):
        calls.append("vjp")
        return (g / (1.0 + np.exp(-x)),)

    def softplus_jvp(ans, args, tangents):
        calls.append("jvp")
        return tangents[0] / (1.0 + np.exp(-args[0]))
    ad.defvjp(softplus, softplus_vjp)
    ad.defjvp(softplus, softplus_jvp)
    try:
        x = np.array([0.3, -1.2])
        assert_grad(uses_softplus, [x])
        assert "softplus_vjp(" in ad.source(uses_softplus)
        _, t = ad.jvp(uses_softplus, (x,), (np.ones(2),))
        assert t == pytest.approx(np.sum(fd_grad(uses_softplus, [x], 0)), rel=1e-6)
        assert "vjp" in calls and "jvp" in calls
        # the rule is called by name, so forward mode differentiates it again: a Hessian
        np.testing.assert_allclose(ad.hessian(uses_softplus)(x), fd_hessian(uses_softplus, [x], 0), rtol=1e-5,
                                   atol=1e-7)
    finally:  # (only this test's rules: other modules register theirs when imported)
        from adcompiler import custom
        custom.USER_VJPS.pop(softplus, None)
        custom.USER_JVPS.pop(softplus, None)
        ad.api.clear_cache()


def hooked(a):
    b = a * a
    with ad.insert_grad_of(a) as g:
        g = g * 0.9
    c = b * a
    return c


def clipped_rnn(w, xs):
    h = 0.0
    for t in range(len(xs)):
        h = np.tanh(w * h + xs[t])
        with ad.insert_grad_of(h) as dh:
            dh = np.clip(dh, -0.01, 0.01)
    return h * 10.0


def unclipped_rnn(w, xs):
    h = 0.0
    for t in range(len(xs)):
        h = np.tanh(w * h + xs[t])
    return h * 10.0


def test_stop_gradient_and_hooks():
    assert ad.grad(lambda x: x * ad.stop_gradient(x))(3.0) == 3.0
    assert ad.grad(hooked)(2.0) == pytest.approx(2.9 * 2.0 ** 2)
    xs = np.array([0.5, -0.3, 0.8])
    clipped = ad.grad(clipped_rnn)(0.7, xs)
    free = ad.grad(unclipped_rnn)(0.7, xs)
    assert abs(clipped) < abs(free)
    assert "clip" in ad.source(clipped_rnn)


def cell(h, x, w):
    return np.tanh(w @ h + x)


remat_cell = ad.checkpoint(cell)


def rnn_checkpointed(w, xs):
    h = np.zeros(w.shape[0])
    for t in range(xs.shape[0]):
        h = remat_cell(h, xs[t], w)
    return np.sum(h * h)


def rnn_plain(w, xs):
    h = np.zeros(w.shape[0])
    for t in range(xs.shape[0]):
        h = cell(h, xs[t], w)
    return np.sum(h * h)


def test_checkpoint_recomputes_and_matches():
    rng = np.random.RandomState(2)
    w, xs = rng.randn(4, 4) * 0.5, rng.randn(6, 4)
    np.testing.assert_allclose(ad.grad(rnn_checkpointed)(w, xs), ad.grad(rnn_plain)(w, xs), rtol=1e-12)
    src = ad.source(rnn_checkpointed)
    assert "cell_forward(" in src.split("reversed")[1], "the forward of the cell runs again in the backward pass"
    assert_grad(rnn_checkpointed, [w, xs])


def energy(x, y):
    return np.sum(np.sin(x * y)) + np.sum(x ** 2 * y)


def looped(x):
    s = 0.0
    for i in range(len(x)):
        s = s + np.tanh(x[i] * s + x[i])
    return s


d_looped = ad.grad(looped)


def gradient_penalty(x):
    return np.sum(d_looped(x) ** 2) + np.sum(x)


def force_loss(x, y):
    force = ad.grad(energy, wrt=0)
    return np.sum(force(x, y) * y)


def test_differentiating_through_gradient_calls():
    """Reverse mode through a call of a gradient: its vjps are Hessian-vector products."""
    x = np.array([0.3, 0.5, -0.2])
    y = np.array([1.0, -0.5, 2.0])
    assert_grad(gradient_penalty, [x])
    assert_grad(force_loss, [x, y], wrt=(0, 1))
    assert "gradient_vjp(" in ad.source(gradient_penalty)
    _, t = ad.jvp(force_loss, (x, y), (np.ones(3), np.zeros(3)))
    assert float(t) == pytest.approx(np.sum(fd_grad(force_loss, [x, y], 0)), rel=1e-6)


def tuple_outputs(x):
    return x ** 2, np.sum(x)


class Scaled:
    def __init__(self, s):
        self.s = s

    @ad.grad
    def dsquare(self, x):
        return x * x * self.s


def test_vjp_of_structured_outputs_and_method_decorator():
    x = np.array([0.3, -0.7, 1.1])
    out, pullback = ad.vjp(tuple_outputs, x)
    np.testing.assert_allclose(pullback((np.ones(3), 2.0))[0], 2 * x + 2.0)
    with pytest.raises(ad.AdError):
        pullback((np.ones(3),))
    assert Scaled(2.0).dsquare(3.0) == 12.0
    assert Scaled(0.5).dsquare(3.0) == 3.0



def bat_elementwise(x, w):
    return np.sin(x) * w + x[0] * np.exp(-x) + np.maximum(x, 0.1) ** 2


def bat_broadcast(x, m):
    return np.tanh(m * x[None, :] + x[:, None])


def bat_reductions(m):
    return np.sum(m ** 2, axis=0) + np.mean(m, axis=1, keepdims=True).sum() + m.sum(axis=-1)[0] + np.sum(m)


def bat_products(x, a, b):
    return np.tanh(a @ x) + b @ (a @ x) * np.dot(x, x) + a @ ((a.T @ a) @ x) + x @ a.T


def bat_indexing(x):
    y = x[1:] * x[:-1]
    z = x[::2] + x[-1]
    return y[:2] * z[1] + z[0] * x[2:4]


def bat_shapes(m):
    flat = m.reshape(-1) * np.ravel(m.T)
    return np.reshape(flat, (3, 2)).T @ np.transpose(m) + m.reshape(2, 3).sum(axis=1)


def bat_fancy_indexing(x):
    return x[np.array([0, 0, 2])] + x[x > 0].sum()   # index ranks unknown: one jvp per column


def bat_loop(x):
    h = x
    for i in range(3):
        if h[0] > 0:
            h = np.tanh(h * 1.5) + h[i] * 0.1
        else:
            h = h * h
    return h


def bat_branches(x):
    h = x[0] * 2.0               # a scalar here, an array in the first branch
    if x[1] > 0:
        h = x * 3.0
        out = h * 2.0
    else:
        out = h * x              # still the scalar: its rank must not come from the other branch
    return out


def bat_unbatchable(x):
    out = np.zeros(3)
    out[1:] = x[:2] * 2.0      # a store: one jvp per column
    return out + np.sort(x)


BATCH_CASES = [
    (bat_elementwise, lambda r: [r.randn(4), r.randn(4)], True),
    (bat_broadcast, lambda r: [r.randn(3), r.randn(3, 3)], True),
    (bat_reductions, lambda r: [r.randn(3, 4)], True),
    (bat_products, lambda r: [r.randn(3), r.randn(2, 3), r.randn(2, 2)], True),
    (bat_indexing, lambda r: [r.randn(5)], True),
    (bat_loop, lambda r: [r.randn(3)], True),
    (bat_loop, lambda r: [-np.abs(r.randn(3))], True),
    (bat_shapes, lambda r: [r.randn(2, 3)], True),
    # (h's rank differs by branch: two variables, each of its own rank, batched)
    (bat_branches, lambda r: [np.array([0.5, 1.0, -0.3])], True),
    (bat_branches, lambda r: [np.array([0.5, -1.0, -0.3])], True),
    (bat_unbatchable, lambda r: [r.randn(3)], False),
    (bat_fancy_indexing, lambda r: [r.randn(4)], False),
]


@pytest.mark.parametrize("fn, make, batched", BATCH_CASES, ids=[c[0].__name__ for c in BATCH_CASES])
def test_forward_jacobians_run_on_a_batch_of_tangents(fn, make, batched):
    """jacobian(mode="forward") runs the tangent code once on all one-hot tangents when the
    function allows it (one jvp per column otherwise); both agree with reverse mode and with
    finite differences."""
    from adcompiler import api, arguments
    args = make(np.random.RandomState(8))
    for pos, a in enumerate(args):
        forward = ad.jacobian(fn, wrt=pos, mode="forward")(*args)
        np.testing.assert_allclose(forward, ad.jacobian(fn, wrt=pos)(*args), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(forward, fd_jacobian(fn, args, pos), rtol=1e-5, atol=1e-7)
        used = api.caches._BATCHED.get(fn, {}).get((pos, tuple(map(arguments.kind_of, args))))
        assert (used is not None) == batched


def smooth_energy(x, w):
    return np.sum(np.sin(x) * x ** 3 * w) + np.sum(x * w) ** 2 + np.mean(np.exp(-x))


def test_hessians_run_on_a_batch_of_tangents_over_the_gradient_code():
    """A Hessian is the forward Jacobian of the generated gradient; the gradient's runtime helpers
    (cast_like, unbroadcast, unreduce, ...) have batched tangents, so it is one run too."""
    from adcompiler import api
    r = np.random.RandomState(9)
    x, w = r.randn(5), r.randn(5)
    before = sum(1 for t in api.caches._BATCHED.values() for v in t.values() if v is not None)
    for pos in (0, 1):
        np.testing.assert_allclose(ad.hessian(smooth_energy, wrt=pos)(x, w), fd_hessian(smooth_energy, [x, w], pos),
                                   rtol=1e-5, atol=1e-6)
    assert sum(1 for t in api.caches._BATCHED.values() for v in t.values() if v is not None) >= before + 2


def weighted_energy(x, y):
    return np.sum(np.sin(x) * x ** 2 * y)


def test_jacobian_and_vjp_of_a_gradient():
    """``ad.jacobian(ad.grad(f))`` (reverse mode, the default) and ``ad.vjp(ad.grad(f), ...)`` are
    forward mode over the generated gradient: a Hessian and Hessian-vector products."""
    x, y = np.array([0.3, -1.2, 0.7]), np.array([1.0, 2.0, 0.5])
    h = ad.jacobian(ad.grad(weighted_energy))(x, y)
    np.testing.assert_allclose(h, fd_hessian(weighted_energy, [x, y], 0), rtol=1e-5, atol=1e-7)
    out, pullback = ad.vjp(ad.grad(weighted_energy), x, y)
    np.testing.assert_allclose(out, ad.grad(weighted_energy)(x, y))
    v = np.array([1.0, -2.0, 0.5])
    gx, gy = pullback(v)
    np.testing.assert_allclose(gx, h @ v, rtol=1e-10)
    np.testing.assert_allclose(gy, fd_grad(lambda b: float(ad.grad(weighted_energy)(x, b) @ v), [y], 0), rtol=1e-6)
    with pytest.raises(ad.AdError, match="cotangent has shape"):
        pullback(np.ones(2))
