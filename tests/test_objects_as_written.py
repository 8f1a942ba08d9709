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


class Counter:
    def __init__(self):
        self.n = 0


COUNTER = Counter()
NET = Net()


def counted(x):
    COUNTER.n += 1
    return NET.loss(x)
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
    ("stores_in_a_layer", ["cache", "not an argument", "line"]),
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
    with pytest.raises(ad.AdError, match="in place"):
        ad.grad(m.in_place_attribute, wrt=1)(m.Layer(np.ones(3)), X3.copy())


@pytest.mark.parametrize("name", ["write_into_attribute_array", "new_array_then_write"])
def test_a_write_into_an_array_held_by_self_is_refused(m, name):
    """``self.buf[0] = v`` in a method writes into the array the object holds: a located AdError
    (the gradient was silently 0: reads of ``self.buf`` were constants)."""
    with pytest.raises(ad.AdError, match="may be a view of .*'self'"):
        ad.grad(getattr(m.Buffer(), name))(X3.copy())
