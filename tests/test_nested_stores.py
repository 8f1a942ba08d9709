"""Stores into a container an object or another container holds (``net.params['W1'] = W1``,
``state['m'][k] = v``, ``self.states[:, t] = h``), differentiated as the store into the name the
container is read into followed by the store putting it back (the same object at run time, as in
the plain call), against finite differences in every mode with the plain call's side effects;
and the aliasing that makes them wrong refused: another name or argument for the inner object."""
import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad

W = np.array([[0.5, -0.2], [0.3, 0.4]])
X = np.array([[0.5, -0.3], [0.1, 0.2], [0.7, -0.1]])
V2 = np.array([0.5, -0.5])


class Recurrent:
    def __init__(self, W, steps):
        self.W = W
        self.states = np.zeros((2, steps))

    def run(self, x):
        h = np.zeros(2)
        for t in range(x.shape[0]):
            h = np.tanh(self.W @ h + x[t])
            self.states[:, t] = h  # (a buffer on self, written a column at a time)
        return np.sum(self.states ** 2)


def recurrent_made_here(W, x):
    return Recurrent(W, x.shape[0]).run(x)


def recurrent_argument(x, cell):
    return cell.run(x)


class Momentum:
    def __init__(self, lr=0.1, mu=0.5):
        self.lr, self.mu = lr, mu
        self.velocity = {}

    def step(self, params, grads):
        for k in params:
            if k not in self.velocity:
                self.velocity[k] = np.zeros_like(params[k])
            self.velocity[k] = self.mu * self.velocity[k] - self.lr * grads[k]
            params[k] = params[k] + self.velocity[k]


def unrolled_optimiser(w, b):
    params = {"w": w * 1.0, "b": b}
    opt = Momentum()
    for _ in range(3):
        grads = {"w": params["w"] * params["b"], "b": np.sum(params["w"] ** 2)}
        opt.step(params, grads)
    return np.sum(params["w"] ** 2) + params["b"]


def adam_state(w):
    state = {"m": {}, "v": {}}
    for k in range(3):
        g = np.sin(w * (k + 1))
        state["m"]["w"] = 0.9 * state["m"].get("w", 0.0) + 0.1 * g
        state["v"]["w"] = 0.99 * state["v"].get("w", 0.0) + 0.01 * g ** 2
        w = w - 0.1 * state["m"]["w"] / (np.sqrt(state["v"]["w"]) + 1e-3)
    return np.sum(w ** 2)


def accumulated(w):
    state = {"m": {"w": 1.0}}
    for _ in range(3):
        state["m"]["w"] += w * state["m"]["w"]
    return np.sum(state["m"]["w"])


def list_in_a_dict(w):
    d = {"h": [0.0, 0.0]}
    d["h"][1] = w[0] * 3
    d["h"][0] = d["h"][1] * w[1]
    return d["h"][0] + d["h"][1]


class TwoLayer:
    def __init__(self):
        self.params = {"W1": np.eye(2), "W2": np.ones((2, 1))}

    def loss(self, X):
        hidden = np.tanh(X @ self.params["W1"])
        return np.sum((hidden @ self.params["W2"]) ** 2)


def sets_the_params_of_an_argument(W1, net, X):  # (cs231n's gradient check)
    net.params["W1"] = W1
    return net.loss(X)


@pytest.mark.parametrize("fn, args, wrt", [
    (recurrent_made_here, [W, X], 0),
    (recurrent_made_here, [W, X], 1),
    (unrolled_optimiser, [V2, 0.3], (0, 1)),
    (adam_state, [V2], 0),
    (accumulated, [V2], 0),
    (list_in_a_dict, [V2], 0),
])
def test_stores_into_held_containers(fn, args, wrt):
    check_like_plain(fn, args, wrt=wrt)


def test_a_buffer_of_an_object_argument_is_written_as_by_the_plain_call():
    cell, plain = Recurrent(W, 3), Recurrent(W, 3)
    want = recurrent_argument(X, plain)
    value, g = ad.value_and_grad(recurrent_argument)(X, cell)
    assert value == pytest.approx(want)
    np.testing.assert_array_equal(cell.states, plain.states)
    # (second order: see recurrent_made_here; a function that writes a value depending on x into
    # an object it is given leaves it unfollowed for its caller, which refuses reading it)
    check_all_modes(lambda x: recurrent_argument(x, Recurrent(W, 3)), [X], second_order=False)


def test_the_params_of_an_argument_are_set_as_by_the_plain_call():
    net, plain = TwoLayer(), TwoLayer()
    held, W1 = net.params, np.array([[0.3, -0.4], [0.2, 0.1]])
    want = sets_the_params_of_an_argument(W1, plain, X)
    value, g = ad.value_and_grad(sets_the_params_of_an_argument)(W1, net, X)
    assert value == pytest.approx(want)
    assert net.params is held and net.params["W1"] is W1  # (the caller's dict, changed in place)
    check_all_modes(lambda w: sets_the_params_of_an_argument(w, TwoLayer(), X), [W1])


# -- another name for the inner object: the write is seen through it, which the derivative does
#    not follow ----------------------------------------------------------------------------------

def read_before(w):
    state = {"m": {"w": 0.0}}
    m = state["m"]
    state["m"]["w"] = w * 2
    return np.sum(m["w"] ** 2)


def two_holders(w):
    inner = {"w": 0.0}
    a = {"m": inner}
    b = {"m": inner}
    a["m"]["w"] = w * 2
    return np.sum(b["m"]["w"] ** 2)


@pytest.mark.parametrize("fn", [read_before, two_holders])
def test_another_name_for_the_inner_container_is_refused(fn):
    with pytest.raises(ad.AdError, match="writing into"):
        ad.grad(fn)(V2)


def writes_one_reads_other(d, p, w):
    d["W1"] = w * 2
    return np.sum(p["W1"] ** 2)


def writes_array_reads_other(a, b, w):
    a[0] = w[0] * 2
    return np.sum(b ** 2)


def params_of_one_read_through_other(net, p, w):
    net.params["W1"] = w * 2
    return np.sum(p["W1"] ** 2)


def test_arguments_that_are_the_same_object_as_one_written_are_refused():
    d = {"W1": np.zeros(2)}
    a = np.zeros(3)
    net = TwoLayer()
    for fn, args in [(writes_one_reads_other, (d, d, V2)), (writes_array_reads_other, (a, a[1:], V2)),
                     (params_of_one_read_through_other, (net, net.params, V2))]:
        for run in (lambda: ad.grad(fn, wrt=2)(*args),
                    lambda: ad.jvp(fn, args, (None, None, np.ones(2)))):
            with pytest.raises(ad.AdError, match="same object or share memory"):
                run()
    # (separate objects: differentiated)
    g = ad.grad(writes_one_reads_other, wrt=2)({"W1": np.zeros(2)}, {"W1": np.ones(2)}, V2)
    np.testing.assert_array_equal(g, np.zeros(2))


def init_state(w):
    state = {"t": 0}
    state["m"] = np.zeros_like(w)
    return state


def adam_like_step(w, state):
    state["t"] += 1
    t = state["t"]
    state["m"] = 0.9 * state["m"] + 0.1 * w
    return w - 0.1 * state["m"] / t


def counter_in_a_state_dict(w):  # (realistic trial 6's p303: a dict a helper made)
    state = init_state(w)
    for _ in range(3):
        w = adam_like_step(w, state)
    return np.sum(w ** 2) + state["t"]


def test_a_counter_in_a_state_dict_made_by_a_helper():
    check_like_plain(counter_in_a_state_dict, [V2])


def test_disjoint_views_given_as_two_arguments_are_differentiated():
    x = np.zeros((2, 2))
    g = ad.grad(writes_array_reads_other, wrt=2)(x[:, 0], x[:, 1], V2)
    np.testing.assert_array_equal(g, [0.0, 0.0])  # (b is the other column: 0 throughout)
    y = np.zeros(4)
    with pytest.raises(ad.AdError, match="share memory"):
        ad.grad(writes_array_reads_other, wrt=2)(y[:3], y[::2], V2)  # (they share y[0], y[2])


# -- an array read from a list or dict, then changed in place: the entry is stored again right
#    after (planning/syncs.py's restore), so the container's later reads follow the change ------

def entry_updated_in_place(w):
    hs = [w * 2, w * 3]
    h = hs[0]
    h += w ** 2
    return np.sum(hs[0] * hs[1])


def entries_updated_by_key(w):
    d = {"a": w * 1.0, "b": w * 2.0}
    for k in ("a", "b"):
        x = d[k]
        x *= w
    return np.sum(d["a"] + d["b"] ** 2)


def entry_of_a_copy_updated(w):
    d = {"a": w * 1.0}
    e = dict(d)
    x = d["a"]
    x *= 2.0
    return np.sum(e["a"] ** 2)


@pytest.mark.parametrize("fn", [entry_updated_in_place, entries_updated_by_key])
def test_entries_updated_in_place(fn):
    check_like_plain(fn, [V2])


def test_an_entry_updated_in_place_seen_through_a_copy_is_refused():
    with pytest.raises(ad.AdError, match="in place"):
        ad.grad(entry_of_a_copy_updated)(V2)


def sgd_on_a_params_dict(W, b):
    params = {"W": W * 1.0, "b": b * 1.0}
    for _ in range(3):
        Wp = params["W"]
        Wp *= 0.9  # (the array params holds, in place; bp below is another entry)
        bp = params["b"]
        bp -= 0.1 * np.sum(Wp)
    return np.sum(params["W"] ** 2) + np.sum(params["b"])


def test_entries_of_one_dict_updated_in_place_in_a_loop():
    check_like_plain(sgd_on_a_params_dict, [V2, np.array([0.1, 0.2])], wrt=(0, 1))


def momentum_update(p, g, state, lr):
    state["t"] += 1
    t = state["t"]
    for k in p:
        state["m"][k] = 0.9 * state["m"][k] + g[k]
        p[k] = p[k] - lr * state["m"][k] / (1 - 0.9 ** t)


def bias_corrected_momentum(w0):  # (trial 7's p402: a raw TypeError in the backward pass)
    p = {"w": w0 * 1.0, "b": np.array(0.0)}
    state = {"m": {k: np.zeros_like(v) for k, v in p.items()}, "t": 0}
    for _ in range(2):
        g = {"w": p["w"] * 2.0, "b": p["b"] + np.sum(p["w"])}
        momentum_update(p, g, state, 0.1)
    return np.sum(p["w"] ** 2) + p["b"] ** 2


def test_a_counter_and_an_inner_dict_of_a_state_updated_by_a_helper():
    check_like_plain(bias_corrected_momentum, [V2])


def _copied_each_pass(w):
    params = {"w": w}
    p = params
    for _ in range(2):
        p = dict(p)
        p["w"] = p["w"] * 0.5 + 1.0
    return np.sum(p["w"] ** 2) + np.sum(params["w"] * w)


def test_a_dict_copied_at_the_start_of_each_pass_is_not_the_original():
    # trial 8: p = params, then p = dict(p) in the loop: the store is into the copy
    w = np.array([1.0, 2.0])
    check_all_modes(_copied_each_pass, [w])
    assert ad.value_and_grad(_copied_each_pass)(w)[0] == pytest.approx(_copied_each_pass(w))
