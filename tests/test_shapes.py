"""Shapes, dtypes and ownership resolved at generation time (adcompiler/shapes.py), and the
argument kinds that make them known (which array arguments share a shape). Every case checks the
gradients against finite differences, and that a call with other shapes gets other code."""
import numpy as np
import pytest
from conftest import assert_grad
from test_fusion import xent

import adcompiler as ad


def sin_sum(w, b):
    return np.sum(np.sin(w * 3 + b))


def plain_sum(x, y):
    return np.sum(x + y)


def weighted(x, y):
    return np.sum(x * y)


def loop(x, y, n):
    total = 0.0
    for i in range(n):
        x = np.tanh(x * y + 0.1 * i)
        total = total + np.sum(x * x)
    return total


def body(src):
    return src.split("\n", 1)[1]


def test_equal_shapes_need_no_helpers(rng):
    w, b = rng.randn(25), rng.randn(25)
    src = ad.source(sin_sum, wrt=(0, 1), args=(w, b))
    for helper in ("unbroadcast", "cast_like", "distinct"):
        assert helper not in src, src
    dw, db = assert_grad(sin_sum, (w, b), wrt=(0, 1))
    assert dw is not db


@pytest.mark.parametrize("shapes", [((25,), (1,)), ((1,), (25,)), ((4, 3), (4, 1)), ((4, 1), (1, 3)), ((3,), (4, 3))])
def test_other_shapes_after_equal_ones_get_their_own_code(rng, shapes):
    grad = ad.grad(sin_sum, wrt=(0, 1))
    same = rng.randn(*shapes[0]), rng.randn(*shapes[0])
    grad(*same)  # code for equal shapes first, then the same ranks with other shapes
    args = rng.randn(*shapes[0]), rng.randn(*shapes[1])
    got = grad(*args)
    want = assert_grad(sin_sum, args, wrt=(0, 1))
    for g, v, a in zip(got, want, args):
        np.testing.assert_allclose(g, v)
        assert g.shape == a.shape
    assert "unbroadcast" in ad.source(sin_sum, wrt=(0, 1), args=args)


def test_one_array_for_two_gradients_is_returned_twice_as_two(rng):
    x, y = rng.randn(5), rng.randn(5)
    dx, dy = ad.grad(plain_sum, wrt=(0, 1))(x, y)
    assert dx is not dy and not np.shares_memory(dx, dy)
    np.testing.assert_allclose(dx, np.ones(5))
    dx[0] = 7.0
    assert dy[0] == 1.0


def test_a_gradient_is_never_the_callers_array(rng):
    x, y = rng.randn(6), rng.randn(6)
    dx = ad.grad(weighted)(x, y)
    np.testing.assert_allclose(dx, y)
    assert dx is not y and not np.shares_memory(dx, y)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32), (np.float32, np.float32)])
def test_dtypes_follow_the_argument(rng, dtypes):
    x, y = rng.randn(6).astype(dtypes[0]), rng.randn(6).astype(dtypes[1])
    dx, dy = ad.grad(weighted, wrt=(0, 1))(x, y)
    assert dx.dtype == x.dtype and dy.dtype == y.dtype
    logits, onehot = rng.randn(5, 4).astype(dtypes[0]), np.eye(4)[rng.randint(0, 4, 5)].astype(dtypes[1])
    g = ad.grad(xent)(logits, onehot)
    assert g.dtype == logits.dtype
    want = ad.grad(xent)(logits.astype(float), onehot.astype(float))
    np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)


def test_softmax_reads_like_the_hand_written_gradient(rng):
    logits, onehot = rng.randn(8, 5), np.eye(5)[rng.randint(0, 5, 8)]
    src = ad.source(xent, args=(logits, onehot))
    for helper in ("unbroadcast", "cast_like", "expand_like", "shape_of", "unreduce"):
        assert helper not in src, src
    assert_grad(xent, (logits, onehot))
    assert_grad(xent, (logits, rng.rand(8, 5)))
    assert_grad(xent, (logits, onehot[:1]), wrt=(0, 1))  # targets broadcast: other code, still right
    # (the rows' axis is known: the logits' adjoint has their shape, the targets' is summed)
    assert "unbroadcast" not in ad.source(xent, args=(logits, onehot[:1]))
    assert "unbroadcast" in ad.source(xent, wrt=(0, 1), args=(logits, onehot[:1]))


def test_loops_and_python_numbers(rng):
    for shapes in [((4,), (4,)), ((4,), (1,)), ((3, 4), (4,))]:
        x, y = rng.randn(*shapes[0]) * 0.5, rng.randn(*shapes[1]) * 0.5
        assert_grad(loop, (x, y, 3), wrt=(0, 1))
    assert_grad(loop, (rng.randn(4), 0.3, 2), wrt=(0, 1))


def test_the_cache_holds_each_shape_once_and_forgets_when_full(rng, monkeypatch):
    from adcompiler import api
    monkeypatch.setattr(api.derived, "_MAX_SHAPE_KEYS", 8)
    grad = ad.grad(sin_sum, wrt=(0, 1))
    before = api.STATS["generated"]
    for n in range(1, 40):
        w, b = rng.randn(n), rng.randn(n)
        np.testing.assert_allclose(grad(w, b)[1], np.cos(3 * w + b))
    # (one relation, equal lengths, twice: for a length 1, which broadcasts, and for the others)
    assert api.STATS["generated"] - before <= 2
    assert len(api.derived._as_derived(grad)._by_key) <= 8


# -- numbers combined with float arrays become 0-d array constants ------------------------------

def constants(x, y):
    h = np.maximum(x * 2 - 1, 0) + 0.5 / (1 + y * y)
    return np.sum(h * x / 3 - 0.25 * np.minimum(1.5, y)) + np.sum(np.hypot(x, 2.0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (3, 4)])
def test_constants_as_arrays_give_the_same_bits(rng, dtype, shape):
    x, y = rng.randn(*shape).astype(dtype), rng.randn(*shape).astype(dtype)
    tag = "f64" if dtype == np.float64 else "f32"
    src = ad.source(constants, wrt=(0, 1), args=(x, y))
    assert "t2 = x * %s_2\n    t2 -= %s_1" % (tag, tag) in src and "np.hypot(x, %s_2)" % tag in src, src
    for name in ("_0", "_0_5", "_3", "_0_25"):  # (the backward pass runs in the argument's precision)
        assert tag + name in src, src
    got = ad.grad(constants, wrt=(0, 1))(x, y)
    plain = ad.grad(constants, wrt=(0, 1), optimize=False)(x, y)  # (numbers stay numbers)
    assert "f64_" not in ad.source(constants, wrt=(0, 1), optimize=False, args=(x, y))
    for g, p in zip(got, plain):
        assert g.dtype == dtype and g.shape == shape
        np.testing.assert_array_equal(g, p)
    if dtype == np.float64:
        assert_grad(constants, (x, y), wrt=(0, 1))


def test_constants_only_beside_known_float_arrays(rng):
    def f(x, n, k):
        return np.sum(x * 2 ** 60) + n * 2.0 + np.sum(k * 3)
    x, k = rng.randn(4), np.arange(4)
    src = ad.source(f, wrt=0, args=(x, 1.5, k))
    assert "2 ** 60" in src or str(2 ** 60) in src  # (too large to be exact: NumPy converts it at run time)
    np.testing.assert_allclose(ad.grad(f)(x, 1.5, k), np.full(4, 2.0 ** 60))
    assert ad.grad(f, wrt=1)(x, 1.5, k) == 2.0 and isinstance(ad.grad(f, wrt=1)(x, 1.5, k), float)


def test_constant_names_never_collide_and_stay_constant(rng):
    def f(x, f64_3):
        return np.sum(x * 3 + f64_3 * x)
    x = rng.randn(5)
    np.testing.assert_allclose(ad.grad(f)(x, 2.0), np.full(5, 5.0))
    src = ad.source(f, args=(x, 2.0))
    assert "f64_3_1" in src or "f64_3 * x" in src
    grad = ad.grad(f)
    grad(x, 2.0)
    from adcompiler.shapes import _CONSTANTS
    for _, array in _CONSTANTS.values():
        assert not array.flags.writeable


def test_code_with_array_constants_is_differentiated_again(rng):
    def f(x, y):
        return np.sum(np.sin(x * 3) * y / 2 + x * x * 0.5)
    x, y = rng.randn(4), rng.randn(4)
    assert "f64_3" in ad.source(f, args=(x, y))
    want = np.diag(-4.5 * np.sin(3 * x) * y + 1.0)
    np.testing.assert_allclose(ad.hessian(f)(x, y), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.hessian(f, mode="reverse")(x, y), want, rtol=1e-10, atol=1e-12)
    second = ad.grad(lambda x, y: np.sum(ad.grad(f)(x, y)))
    np.testing.assert_allclose(second(x, y), np.diag(want), rtol=1e-10, atol=1e-12)


def numpy_scalar(x):
    return np.sum(np.sin(np.cos(3.0)) * (2 / (1.5 + x ** 2)))  # (a NumPy float64 scalar: float32 x promoted)


def test_numpy_scalars_are_not_python_numbers(rng):
    x = rng.randn(5)
    for dtype in (np.float32, np.float64):
        got = ad.grad(numpy_scalar)(x.astype(dtype))
        assert got.dtype == dtype
        np.testing.assert_allclose(got, assert_grad(numpy_scalar, (x,)), rtol=1e-6)
    assert "cast_like" in ad.source(numpy_scalar, args=(x.astype(np.float32),))


SEEN_DTYPES = []


def float32_mlp(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    with ad.insert_grad_of(h) as dh:
        SEEN_DTYPES.append(getattr(dh, "dtype", None))  # (None when called plainly)
    logits = h @ W2
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(y * np.log(p)) / x.shape[0] + 0.1 * np.mean(W1 ** 2)


def test_float32_arguments_get_a_float32_backward_pass(rng):
    """A float32 program's adjoints are float32 (as NumPy arithmetic on its values would be), not
    float64 arrays grown from the Python-number seed: float32 matmuls in the backward pass."""
    args = [rng.randn(6, 5), rng.randn(5), rng.randn(5, 3), rng.randn(4, 6), np.eye(3)[[0, 2, 1, 1]]]
    for dtype in (np.float32, np.float64):
        del SEEN_DTYPES[:]
        got = ad.grad(float32_mlp, wrt=(0, 1, 2))(*[a.astype(dtype) for a in args])
        assert SEEN_DTYPES == [np.dtype(dtype)] and all(g.dtype == dtype for g in got)
        want = assert_grad(float32_mlp, args, wrt=(0, 1, 2))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-3 if dtype == np.float32 else 1e-7, atol=1e-4)
    mixed = [args[0].astype(np.float32), args[1], args[2].astype(np.float32), args[3], args[4]]  # (float64 inside)
    del SEEN_DTYPES[:]
    got = ad.grad(float32_mlp, wrt=(0, 1, 2))(*mixed)
    assert SEEN_DTYPES == [np.dtype(np.float64)] and [g.dtype for g in got] == [np.float32, np.float64, np.float32]


def over_reversed(x, ys, n):
    total = 0.0
    for y in reversed(ys):  # (arrays, not the ints of a range)
        total = total + np.sum(x * y * 2.0)
    for i in reversed(range(n)):
        total = total + np.sum(x * i)
    return total


def test_only_range_items_are_ints(rng):
    x, ys = rng.randn(4), [rng.randn(3, 4), rng.randn(3, 4)]
    got = ad.grad(over_reversed)(x, ys, 3)
    np.testing.assert_allclose(got, 2.0 * (ys[0] + ys[1]).sum(axis=0) + 3.0 * np.ones(4))
    assert got.shape == (4,)
