"""Objects as people write them: methods that store values on ``self`` (a cached input, a hidden
state, a counter, lazy initialisation), layers whose ``forward`` caches its input, module-level
objects. The forward computation inside a gradient has the plain call's side effects; a derivative
is exact where the compiler follows the stored value, and an AdError where it cannot."""
import numpy as np
import pytest
from conftest import check_all_modes, fd_grad, module_from_source

import adcompiler as ad

SOURCE = '''
import numpy as np


class Layer:
    def __init__(self, w):
        self.w = w
        self.last_input = None
        self.calls = 0

    def loss(self, x):
        self.last_input = x
        return np.sum(np.tanh(self.w * x))

    def forward(self, x):
        self.X = x
        self.calls += 1
        self.out = np.tanh(self.w * x)
        return self.out

    def squared(self, x):
        self.h = np.tanh(self.w * x)
        return np.sum(self.h ** 2)


class Net:
    def __init__(self):
        self.fc1 = Layer(np.array([0.5, -1.0, 0.3]))
        self.fc2 = Layer(np.array([1.5, 0.3, -0.7]))

    def loss(self, x):
        h = self.fc1.forward(x)
        o = self.fc2.forward(h)
        return np.sum(o ** 2) + 0.1 * np.sum(self.fc1.w ** 2)

    def rnn(self, xs):
        self.state = np.zeros(3)
        for x in xs:
            self.state = np.tanh(self.fc1.w * x + self.state)
        return np.sum(self.state ** 2)

    def reads_back(self, x):
        h = self.fc1.forward(x)
        return np.sum(self.fc1.out ** 2) + np.sum(h)

    def for_effect(self, x):
        self.fc1.forward(x)
        return np.sum(self.fc1.out ** 2)

    def stores_in_a_layer(self, x):
        self.fc1.cache = x * 2.0
        return np.sum(x ** 2)


class Buffer:
    def __init__(self):
        self.buf = np.zeros(3)

    def write_into_attribute_array(self, x):
        self.buf[0] = np.sum(x)
        return np.sum(self.buf * 2.0)

    def new_array_then_write(self, x):
        self.buf = np.zeros(3)
        self.buf[0] = np.sum(x)
        return np.sum(self.buf * 2.0)


def store_then_read(layer, x):
    layer.h = x * 2.0
    return np.sum(layer.h ** 2)


def callee_stores_then_read(layer, x):
    return layer.squared(x) + np.sum(layer.h)


def lazy(layer, x):
    if not hasattr(layer, "scale"):
        layer.scale = 2.0
    return np.sum(layer.scale * x ** 2)


def in_place_attribute(layer, x):
    layer.w += x
    return np.sum(layer.w ** 2)


class Dense:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        self.X = x  # (cached for a hand-written backward pass)
        return np.tanh(x @ self.W)


class Scale:
    def __init__(self, s):
        self.s = s

    def __call__(self, z):
        return self.s * z


class Activation:
    def __init__(self, fn):
        self.fn = fn  # (np.tanh, or an object with __call__)

    def forward(self, x, power=1):
        self.X = x
        return self.fn(x) ** power


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x


def through_layers(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2)


def through_layers_by_keyword(layers, x):
    for layer in layers:
        x = layer.forward(x, power=2)
    return np.sum(x)


def through_a_network(net, x):
    return np.sum(net.forward(x) ** 2)


def reads_a_cached_input(layers, x):
    total = 0.0
    for layer in layers:
        total = total + np.sum(layer.forward(x)) + np.sum(layer.X ** 2)
    return total


def made_layer(W, x):
    layer = Dense(W)  # (made here from a differentiated value: its __init__ inlined)
    return np.sum(layer.forward(x) ** 2)


def made_network(W1, W2, x):
    net = Sequential([Dense(W1), Activation(np.tanh), Dense(W2)])
    return np.sum(net.forward(x) ** 2)


def made_in_a_loop(Ws, x):
    layers = []
    for W in Ws:
        layers.append(Dense(W))
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2)


def made_under_two_names(W, x):
    layer = Dense(W)
    alias = layer
    return np.sum(alias.forward(x)) + np.sum(layer.W ** 2)


def stored_into_after_handed_on(W1, W2, x):
    layer = Dense(W1)
    layers = [layer]
    layer.W = W2  # (the list holds the object: a store now changes what it holds)
    return np.sum(layers[0].forward(x))


class Oscillator:
    def __init__(self, x, v):
        self.x, self.v = x, v


def oscillate(k, x0):
    osc = Oscillator(x0.copy(), np.zeros_like(x0))
    for _ in range(4):
        osc.v -= 0.1 * k * osc.x  # (the array osc.v holds, changed in place)
        osc.x += 0.1 * osc.v
    return np.sum(osc.x ** 2)


def oscillate_given(osc, k):
    for _ in range(3):
        osc.v -= 0.1 * k * osc.x
        osc.x += 0.1 * osc.v
    return np.sum(osc.x ** 2) + np.sum(osc.v)


class Running:
    def __init__(self):
        self.running_mean = np.zeros(2)


def running_statistics(x, bn):
    bn.running_mean *= 0.9
    bn.running_mean += 0.1 * x
    return np.sum(x ** 2) + np.sum(bn.running_mean * x)


class Counter:
    def __init__(self):
        self.n = 0


COUNTER = Counter()
NET = Net()


def counted(x):
    COUNTER.n += 1
    return NET.loss(x)


class BatchNorm:
    def __init__(self, dim, training=True):
        self.momentum = 0.1
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)
        self.training = training
        self.batches = 0

    def __call__(self, x, gamma):
        if self.training:
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * mean
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * var
            self.batches += 1
        else:
            mean, var = self.running_mean, self.running_var
        return gamma * (x - mean) / np.sqrt(var + 1e-5)


def normalised_layer(W, gamma, bn, X):
    return np.mean(np.tanh(bn(X @ W, gamma)) ** 2)


def trained_then_evaluated(W, gamma, bn, Xs, T):
    out = 0.0
    for X in Xs:
        out = out + np.mean(np.tanh(bn(X @ W, gamma)) ** 2)
    bn.training = False
    return out + np.mean((bn(T @ W, gamma) - 0.5) ** 2)



class StatefulCell:
    def __init__(self, size):
        self.size = size
        self.h = None
        self.calls = 0

    def reset(self):
        self.h = np.zeros(self.size)

    def __call__(self, x, Wx, Wh):
        if self.h is None:
            self.reset()
        self.h = np.tanh(Wx @ x + Wh @ self.h)
        self.calls += 1
        return self.h


def stateful_rnn(Wx, Wh, xs):
    cell = StatefulCell(Wh.shape[0])
    total = 0.0
    for x in xs:
        total = total + np.sum(cell(x, Wx, Wh) ** 2)
    return total + cell.calls


def stateful_rnn_given(Wx, cell, Wh, xs):
    total = 0.0
    for x in xs:
        total = total + np.sum(cell(x, Wx, Wh) ** 2)
    return total

'''


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return module_from_source(tmp_path_factory.mktemp("objects"), "objects_as_written", SOURCE)


X3 = np.array([0.3, -0.8, 1.1])


def test_a_method_caching_its_input(m):
    w = np.array([0.5, -1.0, 2.0])
    layer = m.Layer(w)
    g = ad.grad(layer.loss)(X3.copy())
    np.testing.assert_allclose(g, w * (1 - np.tanh(w * X3) ** 2), rtol=1e-12)
    assert np.array_equal(layer.last_input, X3)
    check_all_modes(layer.loss, [X3])


def test_layers_caching_their_inputs(m):
    """A network's loss calling layers whose forward stores X, out and a call count on self."""
    net, plain = m.Net(), m.Net()
    check_all_modes(net.loss, [X3])
    value, grad = ad.value_and_grad(net.loss)(X3.copy())
    assert value == plain.loss(X3)
    assert np.array_equal(net.fc1.X, plain.fc1.X) and np.array_equal(net.fc2.out, plain.fc2.out)
    np.testing.assert_allclose(grad, fd_grad(plain.loss, [X3], 0), rtol=1e-6)


def test_hidden_state_on_self(m):
    net = m.Net()
    check_all_modes(net.rnn, [np.array([0.3, -0.5, 0.8])])
    check_all_modes(m.store_then_read, [m.Layer(np.ones(3)), X3], wrt=1)
    check_all_modes(net.fc1.squared, [X3])


def test_lazy_initialisation_and_counters(m):
    check_all_modes(m.lazy, [m.Layer(np.ones(3)), X3], wrt=1)
    before = m.COUNTER.n
    ad.grad(m.counted)(X3.copy())
    assert m.COUNTER.n == before + 1  # (one forward computation, as one plain call)
    check_all_modes(m.counted, [X3])


@pytest.mark.parametrize("name, words", [
    ("reads_back", [".out", "called function", "line"]),
    ("for_effect", ["forward", "for its effect", "line"]),
])
def test_stored_values_the_derivative_cannot_follow_are_refused(m, name, words):
    with pytest.raises(ad.AdError) as info:
        ad.grad(getattr(m.Net(), name))(X3.copy())
    for w in words:
        assert w in str(info.value), str(info.value)


def test_a_method_storing_into_its_object_read_afterwards_is_inlined(m):
    # (layer.squared(x) sets layer.h, read afterwards: refused before methods of object
    # arguments that write into them were inlined)
    check_all_modes(m.callee_stores_then_read, [m.Layer(np.ones(3)), X3], wrt=1)
    layer = m.Layer(np.ones(3))
    ad.grad(m.callee_stores_then_read, wrt=1)(layer, X3.copy())
    np.testing.assert_allclose(layer.h, np.tanh(X3))  # (the side effect, as the plain call's)
    # (layer.w += x: the caller's array changed in place, and differentiated; it was refused)
    layer, plain = m.Layer(np.ones(3)), m.Layer(np.ones(3))
    held = layer.w
    g = ad.grad(m.in_place_attribute, wrt=1)(layer, X3.copy())
    m.in_place_attribute(plain, X3.copy())
    np.testing.assert_allclose(g, 2 * (1.0 + X3))
    np.testing.assert_array_equal(held, plain.w)
    check_all_modes(m.in_place_attribute, [m.Layer(np.ones(3)), X3], wrt=1)


@pytest.mark.parametrize("name", ["write_into_attribute_array", "new_array_then_write"])
def test_a_write_into_an_array_held_by_self_is_refused(m, name):
    """``self.buf[0] = v`` in a method writes into the array the object holds: a located AdError
    (the gradient was silently 0: reads of ``self.buf`` were constants)."""
    with pytest.raises(ad.AdError, match="may be a view of .*'self'"):
        ad.grad(getattr(m.Buffer(), name))(X3.copy())


RNG = np.random.default_rng(7)
W1, W2, XS = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=(5, 3))


def _layers(m, W1, s, W2):
    return [m.Dense(W1), m.Activation(np.tanh), m.Activation(m.Scale(s)), m.Dense(W2)]


def _object_fd(f, build, params, x):
    """Finite differences of ``f(build(*params), x)`` in each array of ``params``."""
    out = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for i in np.ndindex(np.shape(p)):
            hi = [q.copy() for q in params]
            lo = [q.copy() for q in params]
            hi[k][i] += 1e-6
            lo[k][i] -= 1e-6
            g[i] = (f(build(*hi), x) - f(build(*lo), x)) / 2e-6
        out.append(g)
    return out


def test_a_loop_over_layers_calls_each_forward_with_gradients_into_the_layers(m):
    """``for layer in layers: x = layer.forward(x)``: each layer's class is known when the loop
    runs; its method is differentiated with the layer as its first argument, so the gradient
    reaches what the method reads of it (a weight, an attribute holding a callable object),
    whether the layers are an argument or a network's attribute. (The layer was the callable
    ``layer.forward``: an AdError when it held a differentiated value.)"""
    params = [W1, np.array(1.5), W2]
    build = lambda *p: _layers(m, *p)  # noqa: E731
    grads = ad.grad(m.through_layers)(build(*params), XS.copy())
    want = _object_fd(m.through_layers, build, params, XS)
    np.testing.assert_allclose(grads[0].W, want[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grads[2].fn.s, want[1], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grads[3].W, want[2], rtol=1e-6, atol=1e-8)
    check_all_modes(lambda x: m.through_layers(build(*params), x), [XS])
    net = m.Sequential([m.Dense(W1), m.Dense(W2)])
    grad = ad.grad(m.through_a_network)(net, XS.copy())
    want = _object_fd(m.through_a_network, lambda a, b: m.Sequential([m.Dense(a), m.Dense(b)]),
                      [W1, W2], XS)
    for layer, w in zip(grad.layers, want):
        np.testing.assert_allclose(layer.W, w, rtol=1e-6, atol=1e-8)
    layers = build(*params)
    ad.grad(m.through_layers, wrt=1)(layers, XS.copy())
    np.testing.assert_array_equal(layers[0].X, XS)  # (the forward pass's side effect)


def test_a_method_of_a_layer_known_when_it_runs_takes_keywords(m):
    build = lambda a, b: [m.Activation(m.Scale(a)), m.Activation(m.Scale(b))]  # noqa: E731
    params = [np.array(0.7), np.array(1.3)]
    grads = ad.grad(m.through_layers_by_keyword)(build(*params), XS.copy())
    want = _object_fd(m.through_layers_by_keyword, build, params, XS)
    np.testing.assert_allclose([grads[0].fn.s, grads[1].fn.s], want, rtol=1e-6)
    check_all_modes(lambda x: m.through_layers_by_keyword(build(*params), x), [XS])


def test_a_value_a_layer_cached_read_afterwards(m):
    """A list of layers of one class: ``layer.forward(x)`` is inlined on each entry and the
    cached ``layer.X`` followed (see ``planning/entries.py``); layers of several classes run
    their own ``forward``, and reading what it cached is refused."""
    x = XS[:, :3].copy()
    grad = ad.grad(m.reads_a_cached_input, wrt=1)([m.Dense(W1)], x)
    eps = 1e-6
    want = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[idx] = eps
        want[idx] = (m.reads_a_cached_input([m.Dense(W1)], x + step)
                     - m.reads_a_cached_input([m.Dense(W1)], x - step)) / (2 * eps)
    np.testing.assert_allclose(grad, want, rtol=1e-6, atol=1e-8)
    mixed = [m.Dense(W1), m.Activation(np.tanh)]
    with pytest.raises(ad.AdError, match="reading layer.X, which a called function set"):
        ad.grad(m.reads_a_cached_input, wrt=1)(mixed, x)


def test_objects_made_inside_the_function_from_differentiated_values(m):
    """``layer = Dense(W)``, ``Sequential([Dense(W1), ...])``, objects made in a loop: the class's
    ``__init__`` is inlined (the object is made by ``new_object``), so the attributes it stores
    are this function's, followed by the derivative through later reads and method calls."""
    W3 = RNG.normal(size=(3, 3))
    check_all_modes(m.made_layer, [W1, XS])
    check_all_modes(m.made_layer, [W1, XS], wrt=1)
    for wrt in (0, 1, 2):
        check_all_modes(m.made_network, [W1, W2, XS], wrt=wrt)
    check_all_modes(m.made_under_two_names, [W3, XS])
    grads = ad.grad(m.made_in_a_loop)([W1, W2], XS.copy())
    for k, w in enumerate([W1, W2]):
        def loss(v, k=k):
            return m.made_in_a_loop([v if j == k else u for j, u in enumerate([W1, W2])], XS)
        np.testing.assert_allclose(grads[k], fd_grad(loss, [w], 0), rtol=1e-6, atol=1e-8)
    source = ad.source(m.made_layer)
    assert "new_object(Dense)" in source and "layer.W = W\n" in source, source


def test_a_store_into_a_layer_of_the_method_object_is_followed(m):
    # refused until session 27 ("'self.fc1' is not an argument"): the layer's attributes are
    # followed by identity; the stored value does not reach the result, the side effect stays
    net = m.Net()
    np.testing.assert_allclose(ad.grad(net.stores_in_a_layer)(X3.copy()), 2 * X3)
    np.testing.assert_allclose(net.fc1.cache, 2 * X3)
    check_all_modes(m.Net().stores_in_a_layer, [X3], second_order=False)


def test_a_store_into_an_object_made_here_after_it_was_handed_on(m):
    # refused ("also reached under another name") until session 27: the list's entry is the
    # object stored into, followed by identity, its method inlined
    check_all_modes(m.stored_into_after_handed_on, [W1, RNG.normal(size=(3, 4)), XS],
                    wrt=(0, 1), second_order=False)


def test_an_attribute_updated_in_place(m):
    """``osc.v -= ...`` changes the array ``osc.v`` holds in place, as the plain call does (the
    caller's object sees it), and the derivative follows it: no other name holds that array, and
    no other attribute of the object does either (checked when it runs)."""
    x0 = np.array([0.5, -0.3])
    check_all_modes(m.oscillate, [1.5, x0])
    check_all_modes(m.oscillate, [1.5, x0], wrt=1)
    k = 1.5
    g = ad.grad(m.oscillate_given, wrt=1)(m.Oscillator(x0.copy(), np.zeros(2)), k)
    want = (m.oscillate_given(m.Oscillator(x0.copy(), np.zeros(2)), k + 1e-6)
            - m.oscillate_given(m.Oscillator(x0.copy(), np.zeros(2)), k - 1e-6)) / 2e-6
    assert g == pytest.approx(want, rel=1e-6)
    plain, mine = m.Oscillator(x0.copy(), np.zeros(2)), m.Oscillator(x0.copy(), np.zeros(2))
    held = mine.v  # (the caller's array: changed in place, as by the plain call)
    m.oscillate_given(plain, k)
    ad.value_and_grad(m.oscillate_given, wrt=1)(mine, k)
    np.testing.assert_array_equal(mine.x, plain.x)
    np.testing.assert_array_equal(held, plain.v)
    bn_plain, bn = m.Running(), m.Running()
    x = np.array([1.0, 2.0])
    check_all_modes(m.running_statistics, [x, m.Running()])
    m.running_statistics(x, bn_plain)
    ad.grad(m.running_statistics)(x, bn)
    np.testing.assert_array_equal(bn.running_mean, bn_plain.running_mean)


def test_an_attribute_updated_in_place_that_another_attribute_holds_is_refused(m):
    x0 = np.array([0.5, -0.3])
    with pytest.raises(ad.AdError, match="another attribute of the object holds the same array"):
        ad.grad(m.oscillate_given, wrt=1)(m.Oscillator(x0, x0), 1.5)


@pytest.mark.parametrize("training", [True, False])
def test_a_batch_norm_layer_updating_its_running_statistics_in_place(m, training):
    """``self.running_mean += ...`` in the training arm, ``mean = self.running_mean`` in the
    other: the name bound in the other arm does not hold the array when the update runs (it was
    refused as an alias). The layer's statistics change as the plain call changes them."""
    rng = np.random.default_rng(46)
    W, gamma, X = rng.normal(size=(3, 4)), np.linspace(0.5, 1.5, 4), rng.normal(size=(6, 3))
    for wrt in (0, 1):  # (in training, the output does not read the statistics it updates)
        check_all_modes(m.normalised_layer, [W, gamma, m.BatchNorm(4, training), X], wrt=wrt)
    plain, mine = m.BatchNorm(4, training), m.BatchNorm(4, training)
    mean = mine.running_mean
    want = m.normalised_layer(W, gamma, plain, X)
    value, _ = ad.value_and_grad(m.normalised_layer, wrt=(0, 1))(W, gamma, mine, X)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(mean, plain.running_mean)  # (the same array, changed in place)
    np.testing.assert_array_equal(mine.running_var, plain.running_var)
    assert mine.batches == plain.batches


def test_a_batch_norm_layer_trained_on_batches_in_a_loop_then_evaluated(m):
    """The running statistics updated in place once per batch, then read in evaluation: each
    update's temporaries, bound again next pass before they are read, do not hold the array
    when the next update runs (they were taken for aliases, and the update refused)."""
    rng = np.random.default_rng(48)
    W, gamma = rng.normal(size=(3, 4)), np.linspace(0.5, 1.5, 4)
    Xs, T = [rng.normal(size=(6, 3)) for _ in range(3)], rng.normal(size=(5, 3))
    for wrt in (0, 1):
        check_all_modes(m.trained_then_evaluated, [W, gamma, m.BatchNorm(4), Xs, T], wrt=wrt)
    plain, mine = m.BatchNorm(4), m.BatchNorm(4)
    mean = mine.running_mean
    want = m.trained_then_evaluated(W, gamma, plain, Xs, T)
    value, _ = ad.value_and_grad(m.trained_then_evaluated, wrt=(0, 1))(W, gamma, mine, Xs, T)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(mean, plain.running_mean)  # (the same array, changed in place)
    np.testing.assert_array_equal(mine.running_var, plain.running_var)
    assert (mine.batches, mine.training) == (plain.batches, plain.training) == (3, False)


def test_an_object_called_keeps_its_state_across_calls(m):
    """``cell(x)``, whose ``__call__`` reads and sets ``self.h``: inlined where it is called (it
    was a subroutine, and reading what its previous call left in the object was refused)."""
    rng = np.random.default_rng(47)
    Wx, Wh, xs = rng.normal(size=(3, 2)) * 0.5, rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(4, 2))
    check_all_modes(m.stateful_rnn, [Wx, Wh, xs])
    check_all_modes(m.stateful_rnn, [Wx, Wh, xs], wrt=1)
    plain, mine = m.StatefulCell(3), m.StatefulCell(3)
    want = m.stateful_rnn_given(Wx, plain, Wh, xs)
    value, grad = ad.value_and_grad(m.stateful_rnn_given)(Wx, mine, Wh, xs)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(mine.h, plain.h)
    assert mine.calls == plain.calls == 4
    fd = fd_grad(lambda W: m.stateful_rnn_given(W, m.StatefulCell(3), Wh, xs), [Wx], 0)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


PROPERTIES = '''
import numpy as np


class Norm:
    def __init__(self, g, b):
        self.g, self.b = g, b

    @property
    def gain(self):  # (a stored attribute read through an accessor)
        return self.g

    @property
    def scale(self):  # (computed from what is stored)
        return np.exp(self.g) + self.b

    @scale.setter
    def scale(self, v):
        self.g = np.log(v - self.b)

    def __call__(self, x):
        return self.gain * (x - np.mean(x)) + self.scale


def through_getters(layer, x):
    return np.sum(layer(x) ** 2)


def through_a_setter(layer, x):
    layer.scale = layer.scale * (1.0 + x ** 2)
    return np.sum(layer(x) ** 2)


def made_here(g, b, x):
    layer = Norm(g, b)
    return np.sum(layer(x) ** 2) + np.sum(layer.scale)


class Doubling:
    def __init__(self, g):
        object.__setattr__(self, "g", g)

    def __setattr__(self, attr, v):  # (runs on every store: the derivative does not follow it)
        object.__setattr__(self, attr, 2.0 * v)


def stores_through_setattr(obj, x):
    if x[0] > 100.0:
        obj.g = 3.0 * x
    return np.sum(obj.g * x)


def set_on_one_made_here(g, x):
    layer = Norm(g * 0.5, 0.25)
    layer.scale = x ** 2 + 1.0
    return np.sum(layer.g * layer.gain)
'''


@pytest.fixture(scope="module")
def props(tmp_path_factory):
    return module_from_source(tmp_path_factory.mktemp("props"), "properties_as_written", PROPERTIES)


G3, B3 = np.array([0.2, -0.4, 0.7]), np.array([0.5, 1.0, -0.2])


@pytest.mark.parametrize("fn", ["through_getters", "through_a_setter"])
def test_properties_of_an_object_argument_are_differentiated_through_their_code(props, fn):
    """``@property`` getters (``self.gain``, a computed ``self.scale``) and a setter (which
    stores what it computes on the object), read and written on an object argument: exact
    gradients w.r.t. the object's attributes and the other argument, and the object left as the
    plain call leaves it."""
    fn = getattr(props, fn)
    grad = ad.grad(fn, wrt=(0, 1))(props.Norm(G3.copy(), B3.copy()), X3.copy())
    for attr in ("g", "b"):
        def loss(v, attr=attr):
            layer = props.Norm(G3.copy(), B3.copy())
            setattr(layer, attr, v)
            return fn(layer, X3.copy())
        np.testing.assert_allclose(vars(grad[0])[attr], fd_grad(loss, [getattr(props.Norm(G3, B3), attr)], 0),
                                   rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad[1], fd_grad(lambda x: fn(props.Norm(G3.copy(), B3.copy()), x), [X3], 0),
                               rtol=1e-6, atol=1e-8)
    plain, mine = props.Norm(G3.copy(), B3.copy()), props.Norm(G3.copy(), B3.copy())
    want = fn(plain, X3.copy())
    value, _ = ad.value_and_grad(fn)(mine, X3.copy())
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_array_equal(mine.g, plain.g)
    _, tangent = ad.jvp(fn, (props.Norm(G3.copy(), B3.copy()), X3.copy()),
                        (props.Norm(np.ones(3), np.zeros(3)), np.zeros(3)))
    def along(t):
        return fn(props.Norm(G3 + t, B3.copy()), X3.copy())
    assert tangent == pytest.approx((along(1e-6) - along(-1e-6)) / 2e-6, rel=1e-6)


def test_properties_of_an_object_made_here(props):
    for wrt in (0, 1, 2):
        check_all_modes(props.made_here, [G3, B3, X3], wrt=wrt)
    check_all_modes(props.set_on_one_made_here, [G3, X3], wrt=1)


def test_a_store_that_runs_code_of_the_class_is_refused_where_it_runs(props):
    grad = ad.grad(props.stores_through_setattr, wrt=1)(props.Doubling(G3.copy()), X3.copy())
    np.testing.assert_array_equal(grad, G3)  # (the branch is not taken)
    with pytest.raises(ad.AdError, match=r"runs code of its class \(a descriptor or __setattr__\)"):
        ad.grad(props.stores_through_setattr, wrt=1)(props.Doubling(G3.copy()), X3 + 200.0)


class Padded:
    def __init__(self, w, pad, stride):
        self.w, self.pad, self.stride = w, pad, stride  # (ints beside the weights)

    def forward(self, x):
        xp = np.pad(x, (self.pad, self.pad))
        return np.convolve(xp, self.w, mode="valid")[::self.stride]


def through_a_padded_layer(layer, x):
    return np.sum(layer.forward(x) ** 2)


def test_an_int_attribute_given_to_a_parameter_without_a_derivative():
    """``np.pad(x, (self.pad, self.pad))`` in a method of a differentiated layer: the widths are
    ints (checked where the call runs), not values whose derivative would be lost."""
    w, x = np.array([0.5, 1.0, -0.5]), np.array([1.0, 2.0, 3.0, -1.0])
    grad = ad.grad(through_a_padded_layer, wrt=(0, 1))(Padded(w.copy(), 1, 2), x.copy())
    np.testing.assert_allclose(grad[0].w, fd_grad(
        lambda v: through_a_padded_layer(Padded(v, 1, 2), x), [w], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad[1], fd_grad(
        lambda v: through_a_padded_layer(Padded(w, 1, 2), v), [x], 0), rtol=1e-6, atol=1e-8)
    with pytest.raises(ad.AdError, match="np.pad has no derivative w.r.t. its argument 'pad_width'"):
        ad.grad(through_a_padded_layer)(Padded(w.copy(), 1.5, 2), x.copy())


class Generating:
    def __init__(self, W, b, layers=()):
        self.W, self.b, self.layers = W, b, list(layers)

    def parameters(self):  # (a generator, as PyTorch-like frameworks write it)
        yield self.W
        yield self.b
        for layer in self.layers:
            yield from layer.parameters()

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return np.tanh(x @ self.W + self.b)


def penalised_by_generator(model, x):
    penalty = 0.0
    for p in model.parameters():
        penalty = penalty + np.sum(p ** 2)
    return np.sum(model.forward(x) ** 2) + 0.1 * penalty


def test_a_generator_of_parameters_is_iterated_as_the_list_it_yields():
    rng = np.random.default_rng(48)
    W, b, V, c, x = (rng.normal(size=s) for s in ((3, 2), (2,), (3, 3), (3,), (4, 3)))
    grad = ad.grad(penalised_by_generator, wrt=(0, 1))(
        Generating(W, b, [Generating(V, c)]), x.copy())

    def along(name, inner=False):
        def loss(v):
            outer_W, outer_b, inner_W = W, b, V
            if inner:
                inner_W = v
            elif name == "W":
                outer_W = v
            else:
                outer_b = v
            return penalised_by_generator(Generating(outer_W, outer_b, [Generating(inner_W, c)]),
                                          x)
        return loss
    np.testing.assert_allclose(grad[0].W, fd_grad(along("W"), [W], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad[0].b, fd_grad(along("b"), [b], 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad[0].layers[0].W, fd_grad(along("W", True), [V], 0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad[1], fd_grad(
        lambda v: penalised_by_generator(Generating(W, b, [Generating(V, c)]), v), [x], 0),
        rtol=1e-6, atol=1e-8)


class DictBatchNorm:
    """Running statistics in a dict attribute, updated in training mode, read in eval mode."""

    def __init__(self, d):
        self.running = {"mean": np.zeros(d), "var": np.ones(d)}
        self.training = True

    def forward(self, x):
        if self.training:
            mu, var = x.mean(axis=0), x.var(axis=0)
            self.running["mean"] = 0.9 * self.running["mean"] + 0.1 * mu
            self.running["var"] = 0.9 * self.running["var"] + 0.1 * var
        else:
            mu, var = self.running["mean"], self.running["var"]
        return (x - mu) / np.sqrt(var + 1e-5)


def normalised_cubes(x, bn):
    return np.sum(bn.forward(x) ** 3)


def test_running_statistics_in_a_dict_attribute():
    x = np.array([[0.0, 1.0], [2.0, 3.5], [4.0, 5.0]])
    for training in (True, False):
        plain, inside = DictBatchNorm(2), DictBatchNorm(2)
        plain.training = inside.training = training
        value, _ = ad.value_and_grad(normalised_cubes)(x, inside)
        assert value == pytest.approx(normalised_cubes(x, plain))
        for key in ("mean", "var"):  # (updated as by the plain call)
            np.testing.assert_allclose(inside.running[key], plain.running[key])
        check_all_modes(normalised_cubes, [x, _fresh_norm(training)])
    bn = DictBatchNorm(2)
    bn.running = [np.zeros(2)]  # (not a dict: refused where it is read)
    with pytest.raises(ad.AdError, match="differentiated as a dict.*it is a list"):
        ad.grad(normalised_cubes)(x, bn)


def _fresh_norm(training):
    bn = DictBatchNorm(2)
    bn.training = training
    return bn


class MomentumSGD:
    """An optimiser made inside the loss: its velocities in a dict attribute, made on first use
    with setdefault."""

    def __init__(self, lr=0.1, beta=0.9):
        self.lr, self.beta = lr, beta
        self.v = {}

    def step(self, params, grads):
        for k in params:
            v = self.v.setdefault(k, np.zeros_like(params[k]))
            v = self.beta * v + grads[k]
            self.v[k] = v
            params[k] = params[k] - self.lr * v
        return params


def unrolled_training(w, x):
    params = {"w": w}
    opt = MomentumSGD(lr=0.2)
    for _ in range(3):
        grads = {"w": 2.0 * params["w"] * x}
        params = opt.step(params, grads)
    return np.sum(params["w"] ** 2 * x)


def counts_with_setdefault(x, keys):
    seen = {}
    for k, v in zip(keys, x):
        total = seen.setdefault(k, 0.0)
        seen[k] = total + v * v
    return sum(t * t for t in seen.values())


def test_setdefault_of_dicts_made_here_and_held_by_objects():
    check_all_modes(unrolled_training, [np.array([0.5, -1.0]), np.array([1.5, 0.3])])
    check_all_modes(counts_with_setdefault, [np.array([0.5, -1.0, 2.0]), ["a", "b", "a"]])


class _Estimator:
    """scikit-learn's idiom: fit returns self, results in attributes and properties."""

    def __init__(self, k=2):
        self.k = k

    def fit(self, x):
        self.s_ = x * 2.0
        return self

    @property
    def energy_(self):
        return self.s_ ** 2


class _NoInit:
    """_Estimator's methods, without an ``__init__``."""
    fit = _Estimator.fit
    energy_ = _Estimator.energy_


def _fitted_property(x):
    model = _Estimator(k=2).fit(x)
    return np.sum(model.energy_)


def _fitted_without_init(x):
    return np.sum(_NoInit().fit(x).energy_)


def test_a_property_of_the_object_fit_returns():
    # trial 9: the property read on `model = Est().fit(x)` was a plain attribute read whose
    # derivative reached nothing (a silent zero gradient)
    x = np.array([1.0, 2.0])
    check_all_modes(_fitted_property, [x])
    np.testing.assert_allclose(ad.grad(_fitted_property)(x), 8.0 * x)
    # an object of a class without __init__ is made here too: its property is called
    check_all_modes(_fitted_without_init, [x])
    np.testing.assert_allclose(ad.grad(_fitted_without_init)(x), 8.0 * x)


class _NaiveBayes:
    def __init__(self, eps=1e-9):
        self.eps = eps

    def fit(self, X, y):
        self.theta_ = X.mean(axis=0)
        self.prior_ = np.array([np.sum(y == c) / len(y) for c in (0, 1)])  # (no derivative)
        return self

    def score(self, X):
        out = 0.0
        for i in range(2):
            out = out + np.log(self.prior_[i]) + np.sum(X * self.theta_)
        return out


def _naive_bayes_score(X, y, Xt):
    return _NaiveBayes().fit(X, y).score(Xt)


def test_an_entry_of_an_attribute_without_a_tangent_in_forward_mode():
    # trial 9: forward mode indexed the attribute's tangent, the 0.0 standing for an array
    X, y, Xt = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]), np.array([[0.5, 0.1]])
    check_all_modes(_naive_bayes_score, [X, y, Xt], wrt=(0, 2))


class _LoggingFitter:
    def __init__(self, n_iter=3):
        self.n_iter = n_iter

    def fit(self, x):
        self.history_ = []
        c = 0.0
        for it in range(self.n_iter):
            c = 0.5 * (c + np.mean(x))
            self.history_.append(f"iter {it}: c={c:.3f}")  # (a log line: no derivative)
        self.center_ = c
        return self

    def score(self, x):
        return np.sum((x - self.center_) ** 2)


def _fitted_and_scored(x):
    m = _LoggingFitter().fit(x)
    return m.score(x)


def test_log_lines_appended_to_a_list_attribute_during_fit():
    # trial 9: the append of a string into a list the object holds was refused as a change
    # other names see (a number held beside it was taken for the list too)
    check_all_modes(_fitted_and_scored, [np.array([1.0, 2.0, 4.0])])


class _Regressor:
    def __init__(self, alpha):
        self.alpha = alpha

    def get_params(self):
        return dict(vars(self))

    def predict(self, x):
        return self.alpha * x


def _params_read_and_dropped(alpha, x):
    model = _Regressor(alpha)
    model.get_params()  # (its result unused: it changes nothing)
    return np.sum(model.predict(x) ** 2)


def test_a_method_of_an_object_made_here_that_changes_nothing_with_its_result_unused():
    # trial 9: refused as a call that may change what is read afterwards
    check_all_modes(_params_read_and_dropped, [1.5, np.array([0.5, -1.0])], wrt=(0, 1))


class FilledLinear:
    def __init__(self, W, b):
        self.params = {}
        self.params["W"] = W  # (a dict attribute filled one key at a time, cs231n style)
        self.params["b"] = b


def layers_in_a_display(th):
    layers = [FilledLinear(th[:2] * 1.0, th[2:] * 1.0), FilledLinear(th[1:3] * 2.0, th[:1])]
    out = 0.0
    for layer in layers:
        out = out + np.sum(layer.params["W"] ** 2) + np.sum(np.sin(layer.params["b"]))
    return out


def test_layers_made_in_a_list_display_whose_init_fills_a_dict():
    # found by trial 12: the dict read back from the attribute after the first store was taken
    # for a name seeing the store (it was bound after it): "writing into 't4' changes 't5'"
    check_all_modes(layers_in_a_display, [np.array([1.0, 2.0, 3.0])])


# -- an optimiser's state dict read into a name, its entries stored (trial p031) -----------------

class MomentumState:
    def __init__(self, lr):
        self.lr = lr
        self.state = {"m": 0.0, "t": 0}

    def step(self, w, g):
        s = self.state  # (the object's dict itself: s['m'] = ... stores into it)
        s["t"] += 1
        s["m"] = 0.9 * s["m"] + g
        return w - self.lr * s["m"] / (1 - 0.9 ** s["t"])


class PairedState(MomentumState):
    def step(self, w, g):
        s, lr = self.state, self.lr  # (both read at once)
        s["t"] += 1
        s["m"] = 0.8 * s["m"] + g
        return w - lr * s["m"]


def descend_with_state(w0, lr):
    opt = MomentumState(lr)
    w = w0
    for _ in range(3):
        w = opt.step(w, 2 * w + np.sin(w))
    return np.sum(w ** 2) + np.sum(opt.state["m"])


def descend_with_paired_state(w0, lr):
    opt = PairedState(lr)
    w = w0
    for _ in range(3):
        w = opt.step(w, 2 * w + np.sin(w))
    return np.sum(w ** 2) + np.sum(opt.state["m"])


class ResettingState(MomentumState):
    def reset(self):
        self.state = {"m": 0.0, "t": 0}

    def step(self, w, g):
        s = self.state
        self.reset()  # (a method of the user's between: s is the old dict, not read again)
        s["m"] = g
        return w - self.lr * (s["m"] + self.state["m"])


def descend_resetting(w0, lr):
    opt = ResettingState(lr)
    return np.sum(opt.step(w0, 2 * w0) ** 2)


def test_an_optimisers_state_dict_through_a_name(rng):
    check_all_modes(descend_with_state, (rng.randn(3), 0.1), wrt=(0, 1))
    check_all_modes(descend_with_state, (0.7, 0.2), wrt=(0, 1))
    check_all_modes(descend_with_paired_state, (rng.randn(3), 0.1), wrt=(0, 1))
    w = rng.randn(3)
    try:
        got = ad.grad(descend_resetting)(w, 0.1)
    except ad.AdError:
        return  # (refused: never the new dict's entry for the old one's)
    np.testing.assert_allclose(got, fd_grad(descend_resetting, (w, 0.1), 0), rtol=1e-6)
