"""Subroutines, closures, nested defs, lambdas, comprehensions, containers, objects, builtins and
subscript assignment, each against finite differences."""
import collections
import functools
import typing

import numpy as np
import pytest
from conftest import assert_grad, check_all_modes, check_like_plain, fd_grad
from userpkg import layers

import adcompiler as ad

W_GLOBAL = np.array([[0.5, -0.2], [0.1, 0.3]])


def helper(u, v):
    return u * np.cos(v)


def calls_helper(x):
    return helper(x, x * 2.0) + helper(3.0, x)


def with_defaults(x, k=2.0, *, shift=0.5):
    return (x + shift) ** k


def calls_with_keywords(x):
    return with_defaults(x) + with_defaults(x, 3.0) + with_defaults(x, k=1.5, shift=0.1)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def uses_power(x):
    return power(x, 4) + power(x * 2.0, 1)


def pair(x):
    return x * 2.0, np.sin(x)


def unpacks_pair(x):
    a, b = pair(x)
    return a * b


def other_module(x, w):
    return np.sum(layers.dense(x, w) + layers.dense(x, w, b=0.3))


def make_closure(w):
    def f(x):
        return np.sum(np.tanh(W_GLOBAL @ x) * w)
    return f


def nested_def(x, w):
    def layer(h, scale=2.0):
        z = h * w + scale
        return np.tanh(z)
    sq = lambda t: t * t
    a = layer(x)
    b = layer(a, 0.5)
    return np.sum(sq(b) + x)


def nested_early_return(x):
    def clipped(v):
        if v > 1.0:
            return 1.0 + 0.1 * v
        return v * v
    return clipped(x) * clipped(x * 0.5)


def comprehensions(xs):
    return sum(x * x for x in xs) + np.sum([np.sin(v) for v in xs if v > 0])


def stacked(x):
    rows = [x[i] * i for i in range(len(x))]
    return np.sum(np.stack(rows) ** 2)


def nested_comprehension(x):
    return sum(a * b for a in x for b in x if a > b)


def dict_comprehension(x, scales):
    parts = {name: x * s for name, s in scales.items() if s > 0}
    return np.sum(parts["a"] * parts["b"] ** 2)


def even_part(x, n):
    return x if n == 0 else odd_part(np.sin(x) * 1.5, n - 1)


def odd_part(x, n):
    return x * 2.0 if n == 0 else even_part(x ** 2 + 0.1, n - 1)


def mutually_recursive(x):
    return np.sum(even_part(x, 5)) + np.sum(odd_part(x, 2))


class Params:
    def __init__(self, w, b):
        self.w = w
        self.b = b
        self.name = "params"


def attribute_reads(params, x):
    return np.sum(np.tanh(params.w * x + params.b) ** 2) + params.b * params.b


def dict_params(p, x):
    return np.sum(p["w"] * x) + p["b"] ** 2


def dict_loop(params, x):
    total = 0.0
    for name, p in params.items():
        total = total + np.sum(np.tanh(p * x))
    for p in params.values():
        total = total + np.sum(p ** 2)
    return total


def tuple_params(p, x):
    w, b = p
    return np.sum(w * x) + b ** 2


def builtins_used(x, y):
    n = len([x, y])
    return max(x, y) * min(x * 2.0, y) + max([x, y, 0.5]) + abs(x - y) * float(n)


def total(scale, *parts):
    acc = 0.0
    for p in parts:
        acc = acc + np.sum(p * p) * scale
    return acc


def uses_varargs(x, y):
    return total(2.0, x, y * 3.0, x) + total(x[0], y)


def collect_states(x):
    hs = []
    h = x
    for i in range(3):
        h = np.tanh(h * 1.5 + 0.1)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def subscript_forms(x):
    y = np.zeros(6)
    y[0] = x[0]
    y[1:3] = x[1:3] * 2.0
    y[::2] += x[3:6]
    y[[4, 5]] = x[[0, 0]] * x[2]
    y[-1] *= x[1]
    return np.sum(y * y)


def matrix_fill(x):
    n = x.shape[0]
    m = np.zeros((n, n))
    for i in range(n):
        m[i, :] = x * x[i]
        m[:, i] += x[i]
    m[m > 0.5] = 0.5
    return np.sum(m * m)


def fancy_repeated(x):
    idx = np.array([0, 0, 2])
    return np.sum(x[idx] ** 2)


def boolean_mask(x):
    return np.sum(x[x > 0] ** 3)


def indexing_reads(x):
    return np.sum(x[..., 0] * x[:, None, 1]) + x[-1, -1] * np.sum(x[1:, ::2])


def compounds(x, y, n):
    if n == 0:
        return x * y
    return compounds(x, x * y, n - 1)   # y depends on x in the recursive calls only


def starts_compounding(x):
    return compounds(x, 2.0, 3)


def test_recursion_whose_calls_differ_in_activity():
    assert_grad(starts_compounding, [1.3])
    assert ad.grad(starts_compounding)(1.3) == pytest.approx(8 * 1.3 ** 3, rel=1e-12)
    assert ad.hessian(starts_compounding)(1.3) == pytest.approx(24 * 1.3 ** 2, rel=1e-12)
    assert ad.hessian(starts_compounding, mode="reverse")(1.3) == pytest.approx(24 * 1.3 ** 2, rel=1e-12)
    out, pullback = ad.vjp(starts_compounding, 1.3)
    assert pullback(1.0)[0] == pytest.approx(8 * 1.3 ** 3, rel=1e-12)


def test_subroutines():
    assert_grad(calls_helper, [0.7])
    assert_grad(calls_with_keywords, [0.8])
    assert_grad(uses_power, [1.3])
    assert ad.grad(power)(2.0, 5) == pytest.approx(5 * 2.0 ** 4)
    assert_grad(unpacks_pair, [0.4])
    rng = np.random.RandomState(0)
    assert_grad(other_module, [rng.randn(3, 2), rng.randn(2, 4)], wrt=(0, 1))


def test_closures_nested_defs_lambdas():
    f = make_closure(np.array([1.0, -2.0]))
    assert_grad(f, [np.array([0.3, 0.8])])
    assert_grad(nested_def, [np.array([0.3, -0.2]), 0.7], wrt=(0, 1))
    for x in (2.5, 0.5, 1.6):  # both branches, away from the jump at v == 1
        assert_grad(nested_early_return, [x])
    g = ad.grad(lambda x, y: x * np.sin(y) + y)
    assert g(0.5, 2.0) == pytest.approx(np.sin(2.0))


def appends_in_a_branch(x):
    kept = []
    for k in range(len(x)):
        v = x[k] * 2.0
        if k % 2 == 0:
            kept.append(v)     # the branch holds no assignment, only the append
    return sum(kept) + np.sum(np.array(kept) ** 2)


def test_comprehensions_and_lists():
    x = np.array([0.3, -0.7, 1.1, 0.5])
    assert_grad(appends_in_a_branch, [x])
    assert ad.jvp(appends_in_a_branch, (x,), (np.ones(4),))[1] == pytest.approx(
        float(np.sum(ad.grad(appends_in_a_branch)(x))), rel=1e-12)
    assert_grad(comprehensions, [np.array([0.3, -0.2, 1.5])])
    assert_grad(stacked, [np.array([0.3, -0.2, 1.5])])
    assert_grad(nested_comprehension, [np.array([0.3, -0.2, 1.5])])
    assert_grad(collect_states, [np.array([0.3, -0.2])])
    assert_grad(dict_comprehension, [np.array([0.3, -0.2, 1.5]), {"a": 2.0, "b": 0.5, "c": -1.0}], wrt=(0,))


def test_mutual_recursion_in_every_mode():
    x = np.array([0.3, -0.7])
    assert_grad(mutually_recursive, [x])
    _, t = ad.jvp(mutually_recursive, (x,), (np.array([1.0, -2.0]),))
    assert t == pytest.approx(float(ad.grad(mutually_recursive)(x) @ np.array([1.0, -2.0])), rel=1e-12)
    g = ad.grad(mutually_recursive)
    hessian = np.array([fd_grad(lambda v: g(v)[i], [x], 0) for i in range(2)])
    np.testing.assert_allclose(ad.hessian(mutually_recursive)(x), hessian, rtol=1e-5)


def test_structured_parameters():
    x = np.array([1.0, 2.0])
    p = Params(np.array([0.5, -0.3]), 0.2)
    g = ad.grad(attribute_reads)(p, x)
    assert isinstance(g, Params) and g.name == "params"
    np.testing.assert_allclose(g.w, fd_grad(lambda w: attribute_reads(Params(w, 0.2), x), [p.w], 0), rtol=1e-6)
    assert g.b == pytest.approx(fd_grad(lambda b: attribute_reads(Params(p.w, b), x), [0.2], 0), rel=1e-6)
    NT = collections.namedtuple("NT", "w b")
    g = ad.grad(attribute_reads)(NT(p.w, 0.2), x)
    assert isinstance(g, NT)
    gd = ad.grad(dict_params)({"w": np.array([1.0, 2.0]), "b": 3.0}, np.array([0.5, 0.25]))
    assert set(gd) == {"w", "b"} and gd["b"] == 6.0
    np.testing.assert_allclose(gd["w"], [0.5, 0.25])
    params = {"w": np.array([0.3, -1.0]), "v": np.array([0.7, 0.2])}
    gd = ad.grad(dict_loop)(params, np.array([0.5, 2.0]))
    for k in params:
        bumped = lambda q: dict_loop(dict(params, **{k: q}), np.array([0.5, 2.0]))
        np.testing.assert_allclose(gd[k], fd_grad(bumped, [params[k]], 0), rtol=1e-6)
    gt = ad.grad(tuple_params)((np.array([1.0, 2.0]), 3.0), np.array([0.5, 0.25]))
    assert isinstance(gt, tuple) and gt[1] == 6.0
    gl = ad.grad(tuple_params)([np.array([1.0, 2.0]), 3.0], np.array([0.5, 0.25]))
    assert isinstance(gl, list) and gl[1] == 6.0


def test_builtins_and_varargs():
    for x, y in ((0.3, 0.9), (1.3, 0.2)):
        assert_grad(builtins_used, [x, y], wrt=(0, 1))
    assert_grad(uses_varargs, [np.array([0.5, -1.0]), np.array([2.0, 0.1])], wrt=(0, 1))


def test_subscript_assignment(rng):
    x = rng.randn(6)
    before = x.copy()
    assert_grad(subscript_forms, [x])
    np.testing.assert_array_equal(x, before)
    assert_grad(matrix_fill, [rng.rand(4)])
    assert_grad(fancy_repeated, [rng.randn(3)])
    assert_grad(boolean_mask, [np.array([0.5, -1.0, 2.0, -0.1])])
    assert_grad(indexing_reads, [rng.randn(3, 4)])


class Model:
    def __init__(self, w):
        self.w = w

    def predict(self, x):
        return np.tanh(self.w * x)

    def loss(self, x, scale=1.0):
        return np.sum(self.predict(x) ** 2) * scale

    def predict_sum(self, x):
        return np.sum(np.tanh(self.w * x))

    @staticmethod
    def square(x):
        return x * x


def test_methods(rng):
    m = Model(rng.randn(3))
    x = rng.randn(3)
    assert_grad(m.loss, [x])
    np.testing.assert_allclose(ad.grad(m.loss)(x, scale=2.0), 2 * ad.grad(m.loss)(x))
    assert ad.grad(Model.square)(3.0) == 6.0
    dw = ad.grad(Model.predict_sum, wrt=1)(m, x)  # the unbound function: self is an argument
    np.testing.assert_allclose(dw, ad.grad(m.predict_sum)(x))
    assert "def dloss(x, scale" in ad.source(m.loss), "a bound method's gradient takes its visible arguments"


class Net:
    def __init__(self, w1, w2):
        self.w1, self.w2 = w1, w2

    def predict(self, x):
        h = np.tanh(x @ self.w1)
        return h @ self.w2

    @staticmethod
    def act(z):
        return np.maximum(z, 0.0)


def net_loss(model, x, y):
    p = model.predict(x)
    return np.mean((model.act(p) - y) ** 2) + np.mean(p ** 2)


def test_methods_of_object_arguments(rng):
    m = Net(rng.randn(3, 4) * 0.5, rng.randn(4) * 0.5)
    x, y = rng.randn(5, 3), rng.randn(5)
    g = ad.grad(net_loss)(m, x, y)
    assert isinstance(g, Net)
    for attr in ("w1", "w2"):
        def f(w, attr=attr):
            other = Net(m.w1, m.w2)
            setattr(other, attr, w)
            return net_loss(other, x, y)
        np.testing.assert_allclose(getattr(g, attr), fd_grad(f, [getattr(m, attr)], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ad.grad(net_loss, wrt=1)(m, x, y), fd_grad(lambda v: net_loss(m, v, y), [x], 0),
                               rtol=1e-6, atol=1e-9)
    tm = Net(rng.randn(3, 4), rng.randn(4))
    _, t = ad.jvp(net_loss, (m, x, y), (tm, np.zeros_like(x), np.zeros(5)))
    eps = 1e-6
    fd = (net_loss(Net(m.w1 + eps * tm.w1, m.w2 + eps * tm.w2), x, y)
          - net_loss(Net(m.w1 - eps * tm.w1, m.w2 - eps * tm.w2), x, y)) / (2 * eps)
    assert float(t) == pytest.approx(fd, rel=1e-6)



class Layer:
    """A callable module (as in PyTorch): ``layer(x)`` runs ``__call__``."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x):
        return np.tanh(x @ self.w + self.b)


def calls_a_module(layer, x):
    return np.sum(layer(x) ** 2)


def test_calling_an_object_argument(rng):
    layer, x = Layer(rng.randn(3, 2), rng.randn(2)), rng.randn(4, 3)
    g = ad.grad(calls_a_module)(layer, x)
    assert isinstance(g, Layer)
    np.testing.assert_allclose(g.w, fd_grad(lambda w: calls_a_module(Layer(w, layer.b), x), [layer.w], 0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g.b, fd_grad(lambda b: calls_a_module(Layer(layer.w, b), x), [layer.b], 0),
                               rtol=1e-6, atol=1e-9)
    assert_grad(calls_a_module, [layer, x], wrt=(1,))
    _, t = ad.jvp(calls_a_module, (layer, x), (Layer(np.zeros((3, 2)), np.zeros(2)), np.ones((4, 3))))
    assert float(t) == pytest.approx(float(np.sum(ad.grad(calls_a_module, wrt=1)(layer, x))), rel=1e-9)


ENCODER = Layer(np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.4]]), np.array([0.1, -0.3]))
DECODER = Layer(np.array([[1.2, -0.4, 0.3], [0.2, 0.5, -0.7]]), np.array([0.0, 0.2, -0.1]))


def calls_module_level_objects(x):
    return np.sum(DECODER(ENCODER(x)) ** 2)


def test_calling_module_level_callable_objects(rng):
    x = rng.randn(4, 3)
    assert_grad(calls_module_level_objects, [x])
    source = ad.source(calls_module_level_objects)
    assert "Layer_call_forward(" in source and "__call__" not in source
    H = ad.hessian(calls_module_level_objects)(x[0])
    g = ad.grad(calls_module_level_objects)
    eps = 1e-6
    fd = np.stack([(g(x[0] + eps * e) - g(x[0] - eps * e)) / (2 * eps) for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-8)


def builds_a_module(w, b, x):
    layer = Layer(w, b)
    return np.sum(layer(x))


def test_an_object_created_inside_from_differentiated_values(rng):
    # (Layer's __init__ is inlined, w, b stored as attributes of an object made here; it was
    # refused: "objects created inside the differentiated function are not traced")
    w, b, x = rng.randn(3, 2), rng.randn(2), rng.randn(4, 3)
    assert_grad(builds_a_module, [w, b, x])
    for wrt in (0, 1, 2):
        check_all_modes(builds_a_module, [w, b, x], wrt=wrt)

def test_loop_over_dict_keys():
    import realistic_programs as progs
    params = {"a": np.array([0.5, -1.0]), "b": np.array([2.0, 0.3])}
    x = np.array([0.7, 1.1])
    g = ad.grad(progs.dict_keys_loop)(params, x)
    for k in params:
        np.testing.assert_allclose(g[k], fd_grad(lambda q: progs.dict_keys_loop(dict(params, **{k: q}), x),
                                                 [params[k]], 0), rtol=1e-6)


def writes_through_alias(x):
    h = x
    h[0] = 1.0
    return np.sum(h * x)


def reads_a_row_then_writes_it(a, m):
    z = np.zeros((3, 4)) + a
    z[1] = z[1] * m      # z[1] is a view: its old value must be kept for the backward pass
    z[:, 0] += 1.0
    return np.sum(z * z)


def test_views_and_aliases(rng):
    # (h is x: the write changes the caller's array, and the derivative follows it)
    check_like_plain(writes_through_alias, [np.array([0.5, 2.0, -1.0])])
    assert_grad(reads_a_row_then_writes_it, [rng.randn(3, 4), 0.7], wrt=(0, 1))


def sorts_in_place(x):
    y = x * 2.0
    y.sort()
    return np.sum(y * np.arange(3.0))


def partitions_in_place(x):
    y = x * 2.0
    y.partition(1)
    return np.sum(y * np.arange(3.0))


def adds_at(x):
    out = np.zeros(3)
    np.add.at(out, np.array([0, 0, 2]), x)
    return np.sum(out ** 2)


def updates_a_dict(x):
    d = {"a": x}
    d.update({"a": x * 2.0})
    return np.sum(d["a"] ** 2)


def logs(x):
    print("x is", x)
    return np.sum(x ** 2)


def test_add_at_is_differentiated():
    """np.add.at(out, i, x) changes out in place, repeated indices adding up (scatter_add)."""
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_allclose(ad.grad(adds_at)(x), [2 * 4.0, 2 * 4.0, 2 * 2.0])


def test_dict_update_is_differentiated():  # (entry by entry: see test_objects_and_containers_trust)
    check_all_modes(updates_a_dict, [np.array([3.0, 1.0, 2.0])])


def test_an_array_sorted_in_place():  # (as y[...] = np.sort(y))
    check_all_modes(sorts_in_place, [np.array([3.0, 1.0, 2.0])])


@pytest.mark.parametrize("fn, call", [(partitions_in_place, "y.partition")])
def test_calls_that_change_values_in_place_are_errors(fn, call):
    """A call whose result is discarded may change an array in place; that change is not
    differentiated, so the compiler refuses rather than give a silently wrong gradient."""
    with pytest.raises(ad.AdError, match=r"the call %s\(\.\.\.\) discards its result" % call.replace(".", r"\.")):
        ad.grad(fn)(np.array([3.0, 1.0, 2.0]))
    with pytest.raises(ad.AdError, match="discards its result"):
        ad.jvp(fn, (np.array([3.0, 1.0, 2.0]),), (np.ones(3),))
    np.testing.assert_allclose(ad.grad(logs)(np.array([3.0, 1.0])), [6.0, 2.0])  # print is fine



class Dense:
    def __init__(self, w):
        self.w = w


class Stack:
    """A model whose method calls its other methods and reads a nested layer's attributes."""

    def __init__(self, w, b, head):
        self.w, self.b, self.head = w, b, head

    def act(self, z):
        return np.tanh(z)

    def features(self, x):
        return self.act(x @ self.w + self.b)

    def loss(self, x):
        return np.sum(self.features(x) @ self.head.w)


def stack_loss(model, x):
    return model.loss(x)


def test_methods_calling_methods_and_nested_objects(rng):
    model = Stack(rng.randn(3, 4), rng.randn(4), Dense(rng.randn(4, 2)))
    x = rng.randn(5, 3)
    g = ad.grad(stack_loss)(model, x)
    assert isinstance(g, Stack) and isinstance(g.head, Dense)
    np.testing.assert_allclose(g.head.w, fd_grad(lambda w: stack_loss(Stack(model.w, model.b, Dense(w)), x),
                                                 [model.head.w], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g.w, fd_grad(lambda w: stack_loss(Stack(w, model.b, model.head), x), [model.w], 0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(g.b, fd_grad(lambda b: stack_loss(Stack(model.w, b, model.head), x), [model.b], 0),
                               rtol=1e-6, atol=1e-9)
    tangent = Stack(np.ones((3, 4)), np.ones(4), Dense(np.ones((4, 2))))
    _, t = ad.jvp(stack_loss, (model, x), (tangent, None))   # None: the zero tangent of x
    assert float(t) == pytest.approx(float(np.sum(g.w) + np.sum(g.b) + np.sum(g.head.w)), rel=1e-9)
    _, t = ad.jvp(stack_loss, (model, x), (None, np.ones_like(x)))   # and of the model
    assert float(t) == pytest.approx(float(np.sum(ad.grad(stack_loss, wrt=1)(model, x))), rel=1e-9)


Pair = collections.namedtuple("Pair", ["w", "b"])
cube = lambda v: v * v * v  # noqa: E731  (a module-level lambda called as a function)


def namedtuple_and_lambda(p, x):
    return np.sum(np.tanh(x @ p.w + p.b)) + np.sum(cube(x))


def sum_with_start(x):
    return sum((v ** 2 for v in x), 1.0)


def copies_then_writes(u, k):
    for _ in range(5):
        u = u.copy()
        u[1:-1] = u[1:-1] + k * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u ** 2)


def test_namedtuples_lambdas_sum_start_and_copies_in_loops(rng):
    p, x = Pair(rng.randn(3, 2), rng.randn(2)), rng.randn(4, 3)
    assert_grad(namedtuple_and_lambda, [p, x], wrt=(1,))
    g = ad.grad(namedtuple_and_lambda)(p, x)
    tangent = Pair(rng.randn(3, 2), rng.randn(2))
    _, t = ad.jvp(namedtuple_and_lambda, (p, x), (tangent, None))
    assert float(t) == pytest.approx(float(np.sum(g.w * tangent.w) + np.sum(g.b * tangent.b)), rel=1e-9)
    v = rng.randn(3)
    assert_grad(sum_with_start, [v])
    assert ad.jvp(sum_with_start, (v,), (np.ones(3),))[1] == pytest.approx(float(np.sum(2 * v)))
    assert_grad(copies_then_writes, [rng.randn(7), 0.2])


def assignment_expression(x):
    if (total := np.sum(x ** 2)) > 1.0:
        return total * 2.0
    return total + (m := np.max(x)) * m


def test_assignment_expressions(rng):
    assert_grad(assignment_expression, [np.array([0.3, -1.2, 0.5])])
    assert_grad(assignment_expression, [np.array([0.3, -0.2, 0.5])])


def scaled_sum(x, *, s=2.0):
    return np.sum(x) * s


def keyword_only_helper(x, *, scale=1.0):
    return np.sum(x * scale)


def passes_a_differentiable_keyword_only_argument(x, s):
    return keyword_only_helper(x, scale=s) ** 2


def test_keyword_only_parameters():
    x = np.ones(3)
    np.testing.assert_allclose(ad.grad(scaled_sum)(x, s=3.0), [3.0, 3.0, 3.0])  # passed on, not the default
    np.testing.assert_allclose(ad.grad(scaled_sum)(x), [2.0, 2.0, 2.0])
    value, g = ad.value_and_grad(scaled_sum)(x, s=5.0)
    assert value == 15.0 and np.allclose(g, 5.0)
    np.testing.assert_allclose(ad.grad(passes_a_differentiable_keyword_only_argument)(x, 2.0), 2 * 6.0 * 2.0)
    g = ad.grad(passes_a_differentiable_keyword_only_argument, wrt=1)(x, 2.0)  # (a keyword-only parameter of
    assert g == pytest.approx(2 * 6.0 * 3.0)                                    # a callee carries a gradient)


def imports_inside(x):
    import math as m

    import numpy.linalg
    from numpy import tanh
    return m.exp(0.5) * np.sum(tanh(x)) + numpy.linalg.norm(x)


def test_imports_inside_the_function(rng):
    assert_grad(imports_inside, [rng.randn(3)])
    _, t = ad.jvp(imports_inside, (np.array([0.1, 0.2]),), (np.ones(2),))
    assert t == pytest.approx(float(np.sum(ad.grad(imports_inside)(np.array([0.1, 0.2])))), rel=1e-12)


class WithProperty:
    scale = 2.0  # a class constant: read through self, it gets no gradient (nothing to store it in)

    def __init__(self, w):
        self.w = w

    @property
    def doubled(self):
        return self.w * 2.0


def reads_a_property(m, x):
    return np.sum(m.doubled * x)


def reads_a_class_constant(m, x):
    return np.sum(m.w * m.scale * x)


def reads_a_property_of_an_element(ms, x):
    return np.sum(ms[0].doubled * x)


def test_property_gradients_are_not_silently_dropped():
    """A property of an object argument is differentiated through its getter, and so is one of
    the entries of a list of objects of one class; one of an object whose class is not known
    where the code is generated is refused when its gradient is needed."""
    m, x = WithProperty(np.ones(3)), np.arange(3.0)
    np.testing.assert_allclose(ad.grad(reads_a_property)(m, x).w, 2.0 * x)
    np.testing.assert_allclose(ad.grad(reads_a_property_of_an_element)([m], x)[0].w, 2.0 * x)
    with pytest.raises(ad.AdError, match=r"reading .doubled runs code of its class .a property"):
        ad.grad(reads_a_property_of_an_element)([m, 1.0], x)
    np.testing.assert_allclose(ad.grad(reads_a_property_of_an_element, wrt=1)([m], x), 2.0)
    np.testing.assert_allclose(ad.grad(reads_a_property, wrt=1)(m, x), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(ad.grad(reads_a_class_constant)(m, x).w, [0.0, 2.0, 4.0])


def adds_in_place_through_an_alias(x):
    h = x
    h += 1.0          # NumPy writes into x too
    return np.sum(x * h)


def adds_in_place_to_list_elements(x):
    rows = [x, x * 2.0]
    for r in rows:
        r += 1.0      # writes into the list's arrays
    return np.sum(rows[0])


def adds_in_place_to_its_own_arrays(x, s):
    h = x.copy()
    h += 1.0
    h *= x
    total = 0.0
    total += s        # a float: rebinding, as in Python
    return np.sum(h) * total


def test_in_place_updates_of_aliased_arrays():
    """``h += 1`` writes into x (h is x): followed; an array a list holds, read from it: followed
    too (the entry is stored again after the write: planning/syncs.py's restore), the caller's
    ``x`` (``rows[0]``) changed as by the plain call."""
    x = np.array([1.0, 2.0])
    check_like_plain(adds_in_place_through_an_alias, [x])
    check_like_plain(adds_in_place_to_list_elements, [x])
    assert_grad(adds_in_place_to_its_own_arrays, [x, 1.5])


def starred_unpacking(x):
    first, *middle, last = x
    head, *tail = middle
    return first * last + sum(v ** 2 for v in tail) + head


def test_starred_unpacking():
    x = np.array([0.5, 1.0, 2.0, -1.0, 0.3])
    assert_grad(starred_unpacking, [x])
    _, t = ad.jvp(starred_unpacking, (x,), (np.ones(5),))
    assert t == pytest.approx(float(np.sum(ad.grad(starred_unpacking)(x))), rel=1e-12)


def copies_then_scales_in_place(x):
    y = x.copy()
    y[0] = 5.0
    y *= 2.0
    y[1:] += x[:-1]      # a view of y made after the in-place update: no alias
    return np.sum(y ** 2)


def test_view_made_after_an_in_place_update_is_no_alias():
    assert_grad(copies_then_scales_in_place, [np.array([0.5, -1.0, 2.0, 0.3])])


def mean_and_spread(v):
    return v * 2.0, v ** 2


def list_sum_and_max(x):
    outs = []
    for i in range(3):
        outs.append(np.mean(x * i))
    return sum(outs) + max(outs)


def tuple_result_summed_and_indexed(x):
    pair = mean_and_spread(x)
    return pair[0] * pair[1] + sum(pair) + max(pair)


def concatenates_and_repeats(x, y):
    both = [x, y * x] + [np.sin(y)]
    twice = (x * y,) * 2
    thrice = 3 * [y]
    return sum(both) * sum(twice) + sum(thrice) + max(both + [y])


def dict_values_as_list(x):
    d = {"a": x, "b": 2.0 * x}
    lst = list(d.values())
    return sum(lst) + max(lst) + d["a"] * lst[1]


@pytest.mark.parametrize("fn, args", [
    (list_sum_and_max, [np.array([0.5, 1.0, -0.2])]),
    (tuple_result_summed_and_indexed, [1.3]),
    (concatenates_and_repeats, [0.7, 1.9]),
    (dict_values_as_list, [1.2]),
])
def test_adjoints_of_lists_and_tuples_add_entry_by_entry(fn, args):
    """Two uses of one list (``sum(xs) + max(xs)``, ``xs + ys``) add their adjoints element by
    element; ``+`` on lists concatenates and ``*`` repeats them."""
    wrt = tuple(range(len(args)))
    grads = assert_grad(fn, args, wrt=wrt)
    tangents = [np.ones_like(a) if isinstance(a, np.ndarray) else 1.0 for a in args]
    _, t = ad.jvp(fn, tuple(args), tuple(tangents))
    assert t == pytest.approx(sum(float(np.sum(g)) for g in grads), rel=1e-10)
    if not isinstance(args[0], np.ndarray):
        H = ad.hessian(fn, wrt=0)(*args)
        g = ad.grad(fn, wrt=0)
        eps = 1e-6
        fd = (g(args[0] + eps, *args[1:]) - g(args[0] - eps, *args[1:])) / (2 * eps)
        assert H == pytest.approx(fd, rel=1e-5, abs=1e-7)


SCALE = 3.0


def declares_a_global_it_reads(x):
    global SCALE
    rng = np.random.RandomState(0)
    noise = rng.normal(0.0, 0.1, size=x.shape) + np.random.normal(0.0, 1.0, size=x.shape) * 0.0
    return np.sum((x * SCALE + noise) ** 2)


def assigns_a_global(x):
    global SCALE
    SCALE = x * 2.0
    return SCALE


def test_global_declarations_and_random_noise_with_keywords():
    x = np.array([0.5, -1.0])
    g = ad.grad(declares_a_global_it_reads)(x)
    noise = np.random.RandomState(0).normal(0.0, 0.1, size=2)
    np.testing.assert_allclose(g, 2 * (3.0 * x + noise) * 3.0, rtol=1e-12)
    with pytest.raises(ad.AdError, match="stored in a global or nonlocal variable"):
        ad.grad(assigns_a_global)(1.0)
    assert SCALE == 3.0  # (refused before it ran)


def carries_state_in_a_dict(x, w):
    state = {"h": np.zeros(3), "total": 0.0}
    for _ in range(3):
        state["h"] = np.tanh(w @ state["h"] + x)     # the first tangent of state["h"] is zero
        state["total"] = state["total"] + np.sum(state["h"])
    return state["total"]


def test_state_dict_in_forward_mode(rng):
    x, w = rng.randn(3), rng.randn(3, 3) * 0.5
    g = assert_grad(carries_state_in_a_dict, [x, w], wrt=(0, 1))
    tx, tw = rng.randn(3), rng.randn(3, 3)
    _, t = ad.jvp(carries_state_in_a_dict, (x, w), (tx, tw))
    assert t == pytest.approx(float(np.sum(g[0] * tx) + np.sum(g[1] * tw)), rel=1e-10)


class Sequential:
    """Layers kept in a list and called in a loop, as in a PyTorch ``Sequential``."""

    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def relu_like(z):
    return np.maximum(z, 0.0) + 0.1 * z


ACTIVATIONS = {"tanh": np.tanh, "relu_like": relu_like}
STACK = Sequential([Layer(np.array([[0.5, -1.0], [0.3, 0.8], [-0.2, 0.4]]), np.array([0.1, -0.3])),
               Layer(np.array([[1.2, -0.4], [0.2, 0.5]]), np.array([0.0, 0.2]))])


def through_a_list_of_layers(x):
    return np.sum(STACK.forward(x) ** 2)


def through_layers_argument(stack, x):
    return np.sum(stack.forward(x) ** 2)


def activation_by_name(x, name):
    h = ACTIVATIONS[name](x * 1.5)
    return np.sum(h ** 2)


def test_callables_chosen_at_run_time(rng):
    """``layer(x)`` over a list of layers and ``ACTIVATIONS[name](x)`` are differentiated when
    called: through the callable's source or its rule, in every mode."""
    x = rng.randn(4, 3)
    assert_grad(through_a_list_of_layers, [x])
    assert "call_forward((1,), layer, x)" in ad.source(Sequential.forward, args=(STACK, x), wrt=1)
    assert_grad(through_layers_argument, [STACK, x], wrt=(1,))
    for name in ACTIVATIONS:
        assert_grad(activation_by_name, [x[0], name])
    t = rng.randn(4, 3)
    _, tangent = ad.jvp(through_a_list_of_layers, (x,), (t,))
    assert tangent == pytest.approx(float(np.sum(ad.grad(through_a_list_of_layers)(x) * t)), rel=1e-10)
    g = ad.grad(through_a_list_of_layers)
    H = ad.hessian(through_a_list_of_layers)(x[0])
    eps = 1e-6
    fd = np.stack([(g(x[0] + eps * e) - g(x[0] - eps * e)) / (2 * eps) for e in np.eye(3)], axis=-1)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-8)
    for name in ACTIVATIONS:  # (batched Hessians once dropped the tangent of the chosen call: zeros)
        g = ad.grad(activation_by_name)
        fd = np.stack([(g(x[0] + eps * e, name) - g(x[0] - eps * e, name)) / (2 * eps) for e in np.eye(3)], axis=-1)
        np.testing.assert_allclose(ad.hessian(activation_by_name)(x[0], name), fd, rtol=1e-5, atol=1e-8)
    out, pullback = ad.vjp(through_a_list_of_layers, x)
    np.testing.assert_array_equal(pullback(1.0)[0], pullback(1.0)[0])
    g = ad.grad(through_layers_argument)(STACK, x)           # w.r.t. the model: into each layer
    assert isinstance(g, Sequential) and all(isinstance(layer, Layer) for layer in g.layers)
    for k, layer in enumerate(STACK.layers):
        def with_w(w, k=k):
            layers = list(STACK.layers)
            layers[k] = Layer(w, layers[k].b)
            return through_layers_argument(Sequential(layers), x)
        np.testing.assert_allclose(g.layers[k].w, fd_grad(with_w, [layer.w], 0), rtol=1e-6, atol=1e-9)
    tangent = Sequential([Layer(np.ones_like(layer.w), np.zeros_like(layer.b)) for layer in STACK.layers])
    _, t = ad.jvp(through_layers_argument, (STACK, x), (tangent, None))
    assert t == pytest.approx(sum(float(np.sum(layer.w)) for layer in g.layers), rel=1e-9)


def timed(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)   # a timer or a log line around the call would go here
        return out
    return wrapper


def doubled(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args):
        return 2.0 * fn(*args)      # changes the result: differentiated as the wrapper it is
    return wrapper


@timed
def decorated_loss(x, scale=1.0):
    return np.sum(np.sin(x) ** 2) * scale


@doubled
def doubled_loss(x):
    return np.sum(x ** 2)


def sum_of_cubes(first, *rest):
    return first ** 2 + sum(np.sum(v ** 3) for v in rest)


def test_decorated_functions_and_top_level_star_args(rng):
    x = rng.randn(3)
    np.testing.assert_allclose(ad.grad(decorated_loss)(x, 2.0), 4.0 * np.sin(x) * np.cos(x), rtol=1e-12)
    np.testing.assert_allclose(ad.grad(doubled_loss)(x), 4.0 * x, rtol=1e-12)  # (fn(*args) in the wrapper)
    a, b = rng.randn(2), rng.randn(3)
    g = ad.grad(sum_of_cubes, wrt=(0, 1, 2))(0.7, a, b)
    assert g[0] == pytest.approx(1.4) and np.allclose(g[1], 3 * a ** 2) and np.allclose(g[2], 3 * b ** 2)
    out, pullback = ad.vjp(sum_of_cubes, 0.7, a, b)
    np.testing.assert_allclose(pullback(1.0)[2], 3 * b ** 2, rtol=1e-12)
    _, t = ad.jvp(sum_of_cubes, (0.7, a, b), (1.0, np.ones(2), np.ones(3)))
    assert t == pytest.approx(1.4 + np.sum(3 * a ** 2) + np.sum(3 * b ** 2), rel=1e-12)


class Block:
    def __init__(self, w, act):
        self.w, self.act = w, act

    def __call__(self, x):
        return ACTIVATIONS[self.act](x @ self.w)


class Skip:
    """A layer holding another one as an attribute, called as ``self.inner(x)``."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, x):
        return x + 0.5 * self.inner(x)


def through_nested_blocks(model, x):
    return np.sum(model.forward(x) ** 2)


def test_layers_holding_layers(rng):
    model = Sequential([Block(rng.randn(3, 3) * 0.5, "tanh"), Skip(Block(rng.randn(3, 3) * 0.5, "relu_like")),
                        Block(rng.randn(3, 2) * 0.5, "tanh")])
    x = rng.randn(4, 3)
    assert_grad(through_nested_blocks, [model, x], wrt=(1,))
    g = ad.grad(through_nested_blocks)(model, x)
    inner = model.layers[1].inner

    def with_inner_w(w):
        return through_nested_blocks(Sequential([model.layers[0], Skip(Block(w, "relu_like")), model.layers[2]]), x)
    np.testing.assert_allclose(g.layers[1].inner.w, fd_grad(with_inner_w, [inner.w], 0), rtol=1e-6, atol=1e-9)
    tangent = Sequential([Block(np.zeros((3, 3)), "tanh"), Skip(Block(np.ones((3, 3)), "relu_like")),
                          Block(np.zeros((3, 2)), "tanh")])
    _, t = ad.jvp(through_nested_blocks, (model, x), (tangent, None))
    assert t == pytest.approx(float(np.sum(g.layers[1].inner.w)), rel=1e-9)


class Activated:
    def __init__(self, w, act):
        self.w, self.act = w, act

    def __call__(self, x):
        return self.act(x @ self.w)     # a function held by the layer: it carries no gradient


def test_layers_holding_their_activation_function(rng):
    model = Sequential([Activated(rng.randn(3, 3) * 0.5, np.tanh), Activated(rng.randn(3, 2) * 0.5, relu_like)])
    x = rng.randn(4, 3)
    g = ad.grad(through_nested_blocks)(model, x)
    for k in range(2):
        def with_w(w, k=k):
            layers = list(model.layers)
            layers[k] = Activated(w, layers[k].act)
            return through_nested_blocks(Sequential(layers), x)
        np.testing.assert_allclose(g.layers[k].w, fd_grad(with_w, [model.layers[k].w], 0), rtol=1e-6, atol=1e-9)
    tangent = Sequential([Activated(np.ones((3, 3)), np.tanh), Activated(np.zeros((3, 2)), relu_like)])
    _, t = ad.jvp(through_nested_blocks, (model, x), (tangent, None))
    assert t == pytest.approx(float(np.sum(g.layers[0].w)), rel=1e-9)


def keeps_a_nested_function(x):
    def scaled(z):
        return z * x
    return sum(f(2.0) for f in [scaled, np.sin])


def test_nested_function_used_as_a_value_holds_what_it_reads():
    check_all_modes(keeps_a_nested_function, [1.5])


def picks_positive_entries(x):
    idx = np.where(x > 0)[0]          # the one-argument form: indices, no gradient of its own
    return np.sum(x[idx] ** 2) + np.sum(np.where(x > 0, x, 0.0))


def test_where_with_one_argument(rng):
    assert_grad(picks_positive_entries, [rng.randn(6)])


def maps_and_reduces(x, y):
    import functools
    squares = map(lambda v: v * v, x)
    pairs = list(map(lambda a, b: a * b + np.sin(a), x, y))
    product = functools.reduce(lambda a, b: a * b, x, 1.0)
    running = functools.reduce(lambda a, b: a + b ** 2, y)
    return sum(squares) + np.sum(np.array(pairs)) + product * running + sum(map(np.cos, x))


def test_map_and_functools_reduce_with_lambdas(rng):
    x, y = rng.randn(3), rng.randn(3)
    g = assert_grad(maps_and_reduces, [x, y], wrt=(0, 1))
    _, t = ad.jvp(maps_and_reduces, (x, y), (np.ones(3), np.ones(3)))
    assert t == pytest.approx(float(np.sum(g[0]) + np.sum(g[1])), rel=1e-10)


def weighted_by_rank(x):
    pairs = sorted(zip(x, range(len(x))), key=lambda p: p[1], reverse=True)
    return sum(p[0] ** 2 * (i + 1) for i, p in enumerate(pairs))


def largest_magnitude(xs):
    best = max(xs, key=lambda v: abs(v))
    return best * 2.0 + min(xs[0], xs[1] * 3.0, key=abs)


def sorted_rows_by_norm(X):
    rows = sorted(X, key=np.linalg.norm)
    return sum(np.sum(r ** 2) * (k + 1) for k, r in enumerate(rows))


def test_key_functions_pick_items(rng):
    """``sorted``/``max``/``min`` with ``key=``: the keys choose the order (no gradient flows
    through a key), the gradient goes to the items chosen."""
    x = rng.randn(5)
    assert_grad(weighted_by_rank, [x])
    got = ad.grad(largest_magnitude)([0.3, -1.2, 0.8])
    assert got == [1.0, 2.0, 0.0]   # max picks -1.2 (times 2); min(|0.3|, |-3.6|) picks xs[0]
    X = rng.randn(4, 3)
    assert_grad(sorted_rows_by_norm, [X])
    _, t = ad.jvp(sorted_rows_by_norm, (X,), (np.ones_like(X),))
    assert t == pytest.approx(float(np.sum(ad.grad(sorted_rows_by_norm)(X))), rel=1e-10)
    np.testing.assert_allclose(ad.hessian(weighted_by_rank)(x), np.diag(2.0 * np.arange(5, 0, -1)), atol=1e-12)


def merged_settings(x, defaults):
    settings = {**defaults, 'w': x * 2.0, 'b': np.sin(x)}  # ('b' replaces the default's b)
    layer = {'a': x ** 2, **settings}
    return np.sum(layer['w'] * layer['a'] + layer['b'] * layer['c'])


def dict_of_a_dict_and_pairs(x, defaults):
    merged = dict(defaults, w=x * 3.0)
    pairs = dict([('u', x), ('v', np.cos(x)), ('u', x ** 3)])  # (the last 'u' is kept)
    return np.sum(merged['w'] * merged['c'] + pairs['u'] * pairs['v'])


@pytest.mark.parametrize("fn", [merged_settings, dict_of_a_dict_and_pairs])
def test_dicts_merged_with_double_star_and_dict_calls(fn):
    """``{**a, 'k': v}`` and ``dict(a, k=v)`` / ``dict(pairs)``: a key's gradient goes to the
    value kept; a replaced value gets none (they were refused)."""
    x = np.array([0.3, -1.2, 0.7])
    defaults = {'b': 5.0, 'c': x * 0.0 + 2.0}
    check_all_modes(fn, [x, defaults], wrt=0)


def test_the_gradient_of_a_dict_merged_with_double_star_has_its_structure():
    def merged(d, extra):
        both = {**d, **extra}
        return both['p'] * 2.0 + both['q'] ** 2
    g = ad.grad(merged, wrt=(0, 1))({'p': 1.0, 'q': 3.0}, {'q': 4.0})
    assert g == ({'p': 2.0, 'q': 0.0}, {'q': 8.0})


# try/except: the body is differentiated on the path where nothing is raised; a handler that ends
# by raising runs as written (the same exception as the plain call), one that would let the
# function go on raises an AdError where it runs
def checked_product(x, y):
    try:
        shape = np.broadcast_shapes(np.shape(x), np.shape(y))
        z = x * y
    except ValueError as e:
        raise ValueError("incompatible shapes %s and %s" % (np.shape(x), np.shape(y))) from e
    else:
        z = z + np.sin(x)
    return np.sum(np.broadcast_to(z, shape) ** 2)


def jittered_cholesky(a):
    k = a @ a.T
    try:
        low = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        low = np.linalg.cholesky(k + 1e-3 * np.eye(len(k)))
    return np.sum(low * low)


def returns_inside_try(x, steps):
    total = 0.0
    for i in range(steps):
        try:
            total = total + np.sum(np.tanh(x * (i + 1)))
            if total > 100.0:
                return total
        except FloatingPointError:
            raise
    return total * 2.0


CLEAN_UPS = []


def cleans_up(x):
    try:
        y = np.log(x) * 2.0
        if np.any(y > 5.0):
            raise ValueError("too large")
    except ValueError:
        CLEAN_UPS.append("handler")
        raise
    finally:
        CLEAN_UPS.append("finally")
        scale = 0.5
    return np.sum(y) * scale


def returns_in_finally(x):
    try:
        x = x * 2.0
    finally:
        return np.sum(x)


def test_try_except_is_differentiated_on_the_path_taken():
    x, y = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, -0.2])
    check_all_modes(checked_product, [x, y], wrt=(0, 1))
    with pytest.raises(ValueError, match="incompatible shapes") as info:
        ad.grad(checked_product)(x, np.ones(4))
    assert isinstance(info.value.__cause__, ValueError)  # (as the plain call raises it)
    check_all_modes(returns_inside_try, [x, 3])
    assert "try:" in ad.source(checked_product)


def test_a_handler_that_goes_on_is_differentiated_where_it_runs():
    a = np.array([[1.0, 0.2], [0.3, 1.5]])
    check_all_modes(jittered_cholesky, [a])  # (the handler does not run)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])  # (it runs: as if the function were this)
    jittered = lambda a: np.sum(np.linalg.cholesky(a @ a.T + 1e-3 * np.eye(2)) ** 2)  # noqa
    np.testing.assert_allclose(ad.grad(jittered_cholesky)(singular),
                               fd_grad(jittered, [singular], 0), rtol=1e-5)
    _, tangent = ad.jvp(jittered_cholesky, (singular,), (np.ones((2, 2)),))
    np.testing.assert_allclose(tangent, np.sum(fd_grad(jittered, [singular], 0)), rtol=1e-5)


def test_try_finally_runs_its_block_on_both_paths():
    x = np.array([0.5, 2.0])
    CLEAN_UPS.clear()
    check_like_plain(cleans_up, [x])
    assert set(CLEAN_UPS) == {"finally"}
    CLEAN_UPS.clear()
    with pytest.raises(ValueError, match="too large"):
        ad.grad(cleans_up)(x * 100.0)
    assert CLEAN_UPS == ["handler", "finally"]  # (as the plain call runs them)
    with pytest.raises(ad.AdError, match="in a 'finally' block"):
        ad.grad(returns_in_finally)(x)


def nested_with_every_kind_of_parameter(x, w):
    def layer(h, *extra, scale=1.0, **opts):
        out = np.tanh(h * scale)
        for e in extra:
            out = out + e
        return out * opts.get("gain", 1.0)
    return np.sum(layer(x, w, x * 2.0, scale=0.5, gain=3.0) ** 2) + np.sum(layer(w))


def nested_called_with_unpacking(x):
    def inner(*parts):
        return sum(parts)
    pieces = (x, x * 2.0)
    return np.sum(inner(*pieces))


def test_nested_functions_with_varargs_keyword_only_and_kwargs():
    x, w = np.array([0.3, -0.4]), np.array([1.0, 0.5])
    check_all_modes(nested_with_every_kind_of_parameter, [x, w], wrt=(0, 1))
    with pytest.raises(ad.AdError, match=r"\*args or \*\*kwargs unpacked"):
        ad.grad(nested_called_with_unpacking)(x)


# (lambdas in a list display spread over lines: the first line alone does not parse)
_LAMBDAS = [lambda x, y: np.sum(x < y) + 0.0,
            lambda x, y: np.sum(np.sin(x) * y),
            lambda x, y: np.sum(x * y ** 2)]
_TWO_ON_A_LINE = [lambda x: x ** 2, lambda x: x ** 3]


def test_lambdas_of_a_display_spread_over_lines():
    x, y = np.array([0.5, 1.5]), np.array([1.0, -1.0])
    np.testing.assert_array_equal(ad.grad(_LAMBDAS[0])(x, y), np.zeros(2))
    np.testing.assert_allclose(ad.grad(_LAMBDAS[1], wrt=(0, 1))(x, y)[0], np.cos(x) * y)
    np.testing.assert_allclose(ad.grad(_LAMBDAS[1], wrt=1)(x, y), np.sin(x))
    np.testing.assert_allclose(ad.grad(_LAMBDAS[2], wrt=1)(x, y), 2 * x * y)
    if not hasattr(_TWO_ON_A_LINE[0].__code__, "co_positions"):  # (Python 3.10: no columns)
        with pytest.raises(ad.AdError, match="could not isolate the lambda's source"):
            ad.grad(_TWO_ON_A_LINE[0])(1.5)
        return
    assert ad.grad(_TWO_ON_A_LINE[0])(1.5) == pytest.approx(3.0)
    assert ad.grad(_TWO_ON_A_LINE[1])(1.5) == pytest.approx(6.75)


def _set_up_then_stepped(u0, c):
    u = u0.copy()
    u[1:] = c * u0[1:]  # (u is the copy here: the loop's u = u_next comes after)
    for n in range(3):
        u_next = np.zeros_like(u)
        u_next[1:] = u[1:] + c * u[:-1]  # (a new array each pass: u holds the last pass's)
        u_next[0] = u[0]
        u = u_next
    return np.sum(u ** 2)


def _rotating_buffers(u0, c):
    u_prev = u0.copy()
    u = 2.0 * u0
    for n in range(3):
        u_next = np.zeros_like(u)
        u_next[1:-1] = 2 * u[1:-1] - u_prev[1:-1] + c * (u[2:] - 2 * u[1:-1] + u[:-2])
        u_prev, u = u, u_next
    return u, np.sum(u_prev)


def _simulated(u0, c):
    u, last = _rotating_buffers(u0, c)
    return np.sum(u ** 2) + last


def test_a_write_into_a_new_array_of_a_name_a_loop_rebinds_later():
    # found by the realistic-program trial (p103, a leapfrog wave solver): a write into a copy
    # made before a loop that later binds the name to another new array, and buffers rotated
    # in a helper returning a tuple, were refused as views of each other
    u0 = np.array([0.3, 1.2, -0.4, 0.8, 0.1])
    check_all_modes(_set_up_then_stepped, [u0, 0.7])
    check_all_modes(_set_up_then_stepped, [u0, 0.7], wrt=1)
    check_all_modes(_simulated, [u0, 0.3])
    check_all_modes(_simulated, [u0, 0.3], wrt=1)


def _extended(x, W):
    feats = [x]
    feats.extend([np.sin(x), x ** 2])
    feats.extend(W)  # (the rows of W, views)
    feats.extend(feats[:1])  # (a copy of the items is taken first)
    total = 0.0
    for v in feats:
        total = total + np.sum(v * np.arange(1, 4))
    return total + len(feats)


def test_a_list_extended():
    """``lst.extend(items)`` is ``lst.append(item)`` for each item (it was refused as a call that
    may change a value in place)."""
    x, W = np.array([0.3, -0.5, 0.8]), np.array([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]])
    check_all_modes(_extended, [x, W], wrt=(0, 1))


# -- global and nonlocal variables the function assigns -----------------------------------------

EVALUATIONS = 0
BEST_SEEN = None


def make_counted_objective(X):
    n_calls = 0
    weight = 1.0

    def objective(w):
        nonlocal n_calls, weight
        n_calls += 1
        if n_calls > 2:  # (read back after the write: the new value)
            weight = 2.0
        return weight * np.sum(np.tanh(X @ w) ** 2)

    def calls():
        return n_calls
    return objective, calls


def counted_globally(w):
    global EVALUATIONS
    EVALUATIONS = EVALUATIONS + 1
    return np.sum(w ** 2) * EVALUATIONS


def remembers_the_loss(w):
    global BEST_SEEN
    loss = np.sum(w ** 2)
    BEST_SEEN = loss
    return loss


def binds_a_global_by_unpacking(w):
    global EVALUATIONS
    EVALUATIONS, k = 0, 2.0
    return np.sum(w) * k


def test_global_and_nonlocal_counters_change_as_in_the_plain_call(rng):
    """``nonlocal n; n += 1`` in an objective (optimisers count evaluations) and ``global``:
    every call of ``grad``, ``value_and_grad`` and ``jvp`` changes them once, as the plain call
    does, and the derivative reads the values they hold then."""
    global EVALUATIONS
    X, w = rng.randn(3, 2), rng.randn(2)
    plain, plain_calls = make_counted_objective(X)
    objective, calls = make_counted_objective(X)
    for k in range(4):
        want_value = plain(w)
        fd = fd_grad(lambda v: make_counted_objective(X)[0](v) * (2.0 if k >= 2 else 1.0), [w], 0)
        value, grad = ad.value_and_grad(objective)(w)
        assert value == pytest.approx(want_value, rel=1e-12)
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
        assert calls() == plain_calls() == k + 1
    _, tangent = ad.jvp(objective, (w,), (np.ones(2),))
    assert calls() == 5
    assert tangent == pytest.approx(float(np.sum(ad.grad(objective)(w))), rel=1e-12)
    EVALUATIONS = 0
    np.testing.assert_allclose(ad.grad(counted_globally)(w), 2.0 * w)
    np.testing.assert_allclose(ad.grad(counted_globally)(w), 4.0 * w)
    assert EVALUATIONS == 2
    assert "set_outer(n_calls_ref, outer_value(n_calls_ref) + 1)" in ad.source(objective)


def test_a_global_given_a_value_that_depends_on_wrt_is_refused():
    w = np.array([0.5, -1.0])
    with pytest.raises(ad.AdError, match="stored in a global or nonlocal variable") as info:
        ad.grad(remembers_the_loss)(w)
    assert "BEST_SEEN = loss" in str(info.value)
    with pytest.raises(ad.AdError, match="binding of the global or nonlocal variable 'EVALUATIONS'"):
        ad.grad(binds_a_global_by_unpacking)(w)


# -- list methods that reorder or insert: spelled with pop and append --------------------------

def sorts_a_list_in_place(x):
    vals = [float(v) for v in x]
    vals.sort()
    return vals[0] * 1.5 + vals[-1] * 2.0 + vals[1] ** 2


def sorts_by_key_descending(x):
    vals = [x[0] * 2.0, x[1], x[2] ** 2]
    vals.sort(key=abs, reverse=True)
    return vals[0] * 3.0 + vals[1] - vals[2]


def reverses_a_list(x):
    vals = [x[0], 2.0 * x[1]]
    vals.reverse()
    return vals[0] * 3.0 + vals[1] * x[2]


def inserts_and_sorts_in_a_loop(x):
    vals = []
    for i in range(3):
        vals.insert(0, x[i] ** 2)
        vals.sort()
    vals.insert(1, np.sin(x[0]))
    return vals[0] + 2.0 * vals[1] + 3.0 * vals[2] + 4.0 * vals[3]


def reverses_a_list_another_name_reads(x):
    vals = [x[0], x[1] * 2.0]
    held = vals
    vals.reverse()
    return held[0] * 3.0 + vals[1]


@pytest.mark.parametrize("fn", [sorts_a_list_in_place, sorts_by_key_descending, reverses_a_list,
                                inserts_and_sorts_in_a_loop])
def test_list_sort_reverse_and_insert(fn):
    check_all_modes(fn, [np.array([0.7, -1.3, 2.1])])


def test_list_methods_keep_the_list_and_its_aliases():
    """The list stays the same object (popped and refilled), so a list argument is changed as
    by the plain call, and another name holding it that is read afterwards is refused."""
    def sorted_argument(vals, x):
        vals.append(x[0] * 3.0)
        vals.sort(reverse=True)
        return vals[0] * 2.0 + vals[1]
    plain, mine = [1.0, 0.5], [1.0, 0.5]
    x = np.array([0.7, -1.3])
    sorted_argument(plain, x)
    np.testing.assert_allclose(ad.grad(sorted_argument, wrt=1)(mine, x), [6.0, 0.0])
    assert mine == plain
    with pytest.raises(ad.AdError, match="changing the list 'vals' changes 'held' too"):
        ad.grad(reverses_a_list_another_name_reads)(x)


def backward_over_zipped_pairs(ws, xs):
    acc = 0.0
    for w, x in reversed(list(zip(ws, xs))):
        acc = 0.5 * acc + w * x
    pairs = tuple(enumerate(ws))
    return acc + sum(i * w for i, w in pairs)


def outer_products_by_nested_comprehension(v):
    M = [[v[i] * v[j] for j in range(len(v))] for i in range(len(v))]
    rows = M
    return sum(sum(row) ** 2 for row in rows) + M[0][1]


def test_lists_made_from_zip_and_nested_comprehensions():
    """``list(zip(...))``/``tuple(enumerate(...))`` as values (made as a loop over them makes
    them), and a list of lists from a nested comprehension read row by row (each row a new
    list: appending to the next one does not change those already held)."""
    ws, xs = [1.0, 2.0, -0.5], [3.0, 4.0, 0.25]
    grads = ad.grad(backward_over_zipped_pairs, wrt=(0, 1))(ws, xs)
    for pos, g in enumerate(grads):
        want = fd_grad(lambda *a: backward_over_zipped_pairs(list(a[0]), list(a[1])),
                       [np.array(ws), np.array(xs)], pos)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-9)
    check_all_modes(outer_products_by_nested_comprehension, [np.array([0.5, 2.0, -1.0])])


def running_values(r):
    import itertools
    import operator
    wealth = list(itertools.accumulate(r, lambda w, ret: w * (1.0 + ret), initial=1.0))
    sums = np.array(list(itertools.accumulate(r)))
    peaks = list(itertools.accumulate(r * 2.0, max))
    products = [p for p in itertools.accumulate(r + 2.0, operator.mul)]
    return np.log(wealth[-1]) + np.sum(sums ** 2) + peaks[-1] * peaks[1] + products[-1]


def test_itertools_accumulate():
    check_all_modes(running_values, [np.array([0.1, -0.05, 0.2, 0.3])])
    assert ad.grad(lambda_free_accumulate_of_nothing)(np.zeros(0)).shape == (0,)


def lambda_free_accumulate_of_nothing(r):
    import itertools
    return sum(itertools.accumulate(r), 0.0) + np.sum(r)


# -- tables as lists of lists, written an entry at a time ---------------------------------------

def soft_alignment(x, y, gamma=0.5):
    n, m = len(x), len(y)
    R = [[1e10] * (m + 1) for _ in range(n + 1)]
    R[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            a, b, c = R[i - 1][j], R[i][j - 1], R[i - 1][j - 1]
            low = min(a, b, c)
            soft = low - gamma * np.log(np.exp(-(a - low) / gamma) + np.exp(-(b - low) / gamma)
                                        + np.exp(-(c - low) / gamma))
            R[i][j] = (x[i - 1] - y[j - 1]) ** 2 + soft
    return R[n][m]


def table_built_by_appends(x):
    T = []
    for _ in range(len(x)):
        T.append([0.0, 1.0])
    for i in range(len(T)):
        T[i][0] += x[i] ** 2
        T[i][1] *= T[i][0] * x[(i + 1) % len(x)]
    return sum(T[i][1] for i in range(len(T))) + T[-1][0]


def rows_repeated(x):
    R = [[0.0] * 2] * 2  # (one row, twice: a store changes "both")
    R[0][0] = x[0]
    return R[1][0]


@pytest.mark.parametrize("fn,args,wrt", [
    (soft_alignment, (np.array([0.3, 1.2, -0.4]), np.array([0.1, 0.9, 0.2, -0.5])), 0),
    (soft_alignment, (np.array([0.3, 1.2, -0.4]), np.array([0.1, 0.9, 0.2, -0.5])), 1),
    (table_built_by_appends, (np.array([0.5, -1.2, 0.8]),), 0)])
def test_a_table_of_lists_written_an_entry_at_a_time(fn, args, wrt):
    """``R[i][j] = v`` into a list of lists (soft-DTW, edit distances): a new row stored whole,
    checked where it runs to be a row of its own; repeated rows are refused there."""
    check_all_modes(fn, list(args), wrt=wrt)


def test_a_table_with_repeated_rows_is_refused_where_it_is_written():
    with pytest.raises(ad.AdError, match="a list that other rows of the table are too"):
        ad.grad(rows_repeated)(np.array([0.5, 1.0]))


def zipped_strictly(ws, xs):
    return sum(w * x for w, x in zip(ws, xs, strict=True)) + sum(
        w for w, _ in zip(ws, xs, strict=False))


def test_zip_strict():
    ws, xs = [1.0, 2.0], [3.0, 4.0]
    assert ad.grad(zipped_strictly, wrt=(0, 1))(ws, xs) == ([4.0, 5.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="zip\\(\\) argument 2 is shorter than argument 1"):
        ad.grad(zipped_strictly)(ws, xs[:1])
    with pytest.raises(ValueError, match="zip\\(\\) argument 2 is shorter than argument 1"):
        zipped_strictly(ws, xs[:1])


LOGGED = []


def logs_with_format(x):
    s = np.sum(x ** 2)
    msg = "loss {:.3f}".format(s)  # noqa: F841  (unused: a string method changes nothing)
    if s > 100.0:
        LOGGED.append("big {}".format(s))
    return s


def parses_a_formatted_number(x):
    return float("{:.6f}".format(np.sum(x)))


def test_string_methods_on_differentiated_values():
    x = np.array([1.0, 2.0])
    check_all_modes(logs_with_format, [x])
    LOGGED.clear()
    ad.grad(logs_with_format)(x * 10.0)
    assert LOGGED == ["big 500.0"]
    with pytest.raises(ad.AdError, match="a string has no derivative"):
        ad.grad(parses_a_formatted_number)(x)


def _weighted(p, a, scale=1.0):
    return scale * np.sum(p * a)


def chooses_a_partial(p, a, robust):
    g = functools.partial(_weighted, scale=2.0) if robust else functools.partial(_weighted)
    h = (lambda v: v * 3.0) if robust else np.sin
    return g(p, a) + np.sum(h(p))


@pytest.mark.parametrize("robust", [True, False])
def test_a_conditional_expression_choosing_partials_or_lambdas(robust):
    # trial 9: the temporary the arms bound to a partial was read but never bound (NameError)
    p, a = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    check_all_modes(chooses_a_partial, [p, a, robust], wrt=(0, 1))


def _vocabulary(tokens):
    counts = {w: tokens.count(w) for w in tokens}
    return {w: i for i, w in enumerate(sorted(counts))}, counts


def embeds_in_frequency_order(E):
    w2i, counts = _vocabulary(["the", "cat", "sat", "the"])
    order = sorted(w2i, key=w2i.get)
    return np.sum(E * np.array([counts[w] for w in order], dtype=float))


def test_sorted_with_a_key_over_a_dict_a_function_returned():
    # trial 9: the keyed sort read the dict by position (a refusal): it sorts its keys
    check_all_modes(embeds_in_frequency_order, [np.array([1.0, 2.0, 3.0])])


Fields = collections.namedtuple("Fields", ["a", "b"])
FIELDS0 = Fields(1.0, 2.0)


def pair_unpacked(th):
    p = Fields(*th)
    q = Fields._make(th * 2.0)
    r = FIELDS0._replace(b=th[0])
    d = Fields(th[1], th[0])._asdict()
    e = q._asdict()
    return p.a * p.b ** 2 + q.b * r.a * r.b + d["a"] * np.sin(d["b"]) + e["a"] ** 2


def test_namedtuples_made_from_a_sequence_replaced_and_as_dicts():
    # found by trial 12 (p939): P(*theta), P._make(theta), ._replace of a module-level
    # instance and ._asdict() were refused
    check_all_modes(pair_unpacked, [np.array([1.5, 2.0])])


Prior = collections.namedtuple("Prior", "mean sd")
PRIORS = Fields(a=Prior(1.0, 2.0), b=Prior(-0.5, 0.5))


def log_prior(p):
    lp = 0.0
    for name, value in p._asdict().items():  # (p: an argument, its class known when it runs)
        prior = getattr(PRIORS, name)
        lp = lp - 0.5 * ((value - prior.mean) / prior.sd) ** 2
    return lp


def posterior_of_fields(theta):
    p = Fields(*theta)
    spread = sum(getattr(p, name) ** 2 for name in p._fields)  # (p depends on theta)
    return log_prior(p._replace(b=np.exp(p.b))) + p.a * p.b + spread


def test_a_namedtuple_argument_as_a_dict_and_attributes_read_by_name():
    # found by trial 12 (p939): p._asdict() of a namedtuple argument, getattr(PRIORS, name) of a
    # name known when it runs, and a field named like an array method (prior.mean)
    check_all_modes(posterior_of_fields, [np.array([0.7, -0.2])])


class Normal(typing.NamedTuple):
    loc: float
    log_scale: float

    def rsample(self, eps):
        return self.loc + np.exp(self.log_scale) * eps


def sampled(p):
    q = Normal(p[0], p[1])
    r = q._replace(loc=q.loc * 2.0)
    return q.rsample(0.3) ** 2 + r.rsample(-0.2) * sum(q)


def test_methods_of_a_typed_namedtuple_and_its_fields_summed():
    # found by trial 13 (p1038): a method of a typing.NamedTuple recursed through the calls chosen
    # at run time (a RecursionError), and sum(q) beside q._replace(...) met adjoints by position
    # with no fields' names (a TypeError)
    check_all_modes(sampled, [np.array([1.0, -0.5])])


def flattened_in_key_order(p):
    params = {"W": np.outer(p, p), "b": p * 2.0, "a": np.sin(p)}
    flat = np.concatenate([v.ravel() for k, v in sorted(params.items())])
    keys = sorted(params.keys())
    return np.sum(flat * np.arange(1.0, flat.size + 1.0)) + len(keys)


def test_a_dict_of_parameters_flattened_in_key_order():
    # found by trial 13: sorted(params.items()) was refused (dict_items)
    check_all_modes(flattened_in_key_order, [np.array([0.3, -0.7])])


class Scaled(typing.NamedTuple):
    loc: float
    log_scale: float

    @property
    def scale(self):
        return np.exp(self.log_scale)

    def rsample(self, eps):
        return self.loc + self.scale * eps


def sampled_through_a_property(p):
    q = Scaled(p[0], p[1])
    return q.rsample(0.3) ** 2


def test_a_property_of_a_namedtuple_read_in_its_method():
    # trial 13 (p1038): the property's value reached the method's result without its derivative
    # (the namedtuple's adjoint holds its fields only), silently; then refused where it was read;
    # now the method is told the namedtuple's class, and the property's getter is called
    check_all_modes(sampled_through_a_property, [np.array([1.0, -0.5])])


NAMED = ["k", "theta", "sigma"]


def named_by_zip(theta):
    p = dict(zip(NAMED, theta))  # (a flat parameter vector named, scipy.optimize style)
    return p["k"] * p["theta"] + p["sigma"] ** 2


def keyed_by_enumerate(w):
    d = dict(enumerate(w * 2))
    return d[0] * d[2] + d[1]


def sorted_pairs(w):
    pairs = sorted(zip(w, [3.0, 1.0, 2.0]))
    return pairs[0][0] * 2 + pairs[2][0] * pairs[2][1] + sum(i * v for i, (v, _) in
                                                             sorted(enumerate(pairs)))


@pytest.mark.parametrize("fn", [named_by_zip, keyed_by_enumerate, sorted_pairs])
def test_dict_and_sorted_of_zip_and_enumerate(fn):
    # trial 14: "cannot differentiate 'zip' (<class 'zip'>)"
    check_all_modes(fn, [np.array([0.4, -0.3, 0.8])])
