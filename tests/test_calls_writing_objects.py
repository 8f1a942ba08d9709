"""What a called method writes into and what ``+=`` changes, as realistic programs written by
others showed it (a checkpoint loader looping over its neurons, ``setattr`` in
``load_state_dict``, ``loss, dx = f(x); loss += reg``, ``H = H.copy(); H *= W`` in a helper,
``**params`` forwarded, a helper looping over a dict's keys, a reading method's result
appended to a history list). Each is differentiated against finite differences in every mode,
or refused where the derivative could not follow a write; never a silent wrong value."""
import copy

import numpy as np
import pytest
from conftest import check_all_modes, check_like_plain

import adcompiler as ad


class Neuron:
    def __init__(self):
        self.w = np.zeros(2)


class Net:
    def __init__(self):
        self.neurons = [Neuron(), Neuron()]

    def load(self, flat):
        k = 0
        for n in self.neurons:
            n.w = flat[k:k + 2]
            k += 2

    def load_items(self, flat):
        for i, n in enumerate(self.neurons):
            n.w = flat[2 * i:2 * i + 2]


def loaded(flat):
    net = Net()
    net.load(flat)
    return sum(np.sum(n.w * np.array([1.0, 2.0])) ** 2 for n in net.neurons)


def loaded_by_enumerate(flat):
    net = Net()
    net.load_items(flat)
    return sum(np.sum(n.w) ** 2 for n in net.neurons)


def test_a_method_storing_into_the_objects_of_a_list_it_holds_is_never_silently_wrong():
    # (the loop's stores were once unseen: the method ran as written, the gradient was 0)
    flat = np.array([0.5, -0.3, 0.1, 0.4])
    for fn in (loaded, loaded_by_enumerate):
        try:
            g = ad.grad(fn)(flat)
        except ad.AdError as e:
            assert "n.w" in str(e) or "neurons" in str(e) or "load" in str(e)
            continue
        eps = 1e-6
        want = [(fn(flat + eps * e) - fn(flat - eps * e)) / (2 * eps) for e in np.eye(4)]
        np.testing.assert_allclose(g, want, rtol=1e-6)


class Cell:
    def __init__(self):
        self.w = np.zeros(2)

    def load(self, v):
        setattr(self, "w", v)


def set_by_setattr(w):
    c = Cell()
    c.load(w)
    return np.sum(c.w ** 2)


def test_setattr_in_a_method():
    check_all_modes(set_by_setattr, [np.array([1.0, 2.0])])


def softmax_loss(x):
    return np.sum(np.exp(x)), x.copy()


def model_loss(W):
    loss, dx = softmax_loss(W)
    loss += 0.5 * np.sum(W ** 2)
    return loss, dx


def fused(W):
    return model_loss(W)[0]


def accumulated(b):
    out = []
    for v in [1.0, 2.0]:
        acc = 0.0
        acc += b * v
        out.append(acc)
    return sum(out)


def entry_updated(x, xs):
    a = xs[0]
    a += x
    return np.sum(a) + np.sum(xs[0] ** 2)


def test_an_augmented_assignment_to_a_value_of_unknown_kind():
    check_all_modes(fused, [np.array([0.3, -0.2])])
    check_all_modes(accumulated, [0.3])
    # (an array there: += changes the list's entry in place, refused when it runs)
    with pytest.raises(ad.AdError, match="changes 'a' in place, and 'xs' may be the same array"):
        ad.grad(entry_updated)(np.array([1.0, 2.0]), [np.array([0.5, 0.3])])


def update(W, H):
    H = H.copy()
    H *= W
    return W, H


def updated(W, H):
    _, G = update(W, H)
    return np.sum(G ** 2)


def update_view(W, H):
    H = H.T
    H *= W
    return W, H


def updated_view(W, H):
    _, G = update_view(W, H)
    return np.sum(G ** 2) + np.sum(H)


def test_a_helper_updating_a_copy_of_its_argument_in_place():
    W, H = np.array([0.5, 0.7]), np.array([1.0, 2.0])
    check_all_modes(updated, [W, H], wrt=(0, 1))
    H0 = H.copy()
    ad.grad(updated, wrt=(0, 1))(W, H)
    np.testing.assert_array_equal(H, H0)
    # (a view is no copy: the write changes the caller's H, read afterwards, which the
    # derivative follows)
    check_all_modes(updated_view, [W, H], wrt=(0, 1))


RECEIVER = 2


def wave(c):
    u = np.ones(4)
    trace = []
    for _ in range(3):
        u_next = c * u
        u_next *= 0.5
        trace.append(u_next[RECEIVER])
        u = u_next
    return sum(trace)


def test_an_element_read_through_a_module_constant_is_a_copy():
    check_all_modes(wave, [np.array([1.0, 0.5, 0.7, 0.6])])


def model(t, *, a, b):
    return a * t + b


def residuals(data, **params):
    return [y - model(t, **params) for t, y in data]


def forwarded(params):
    return sum(r * r for r in residuals([(1.0, 2.0), (2.0, 3.0)], **params))


def test_keyword_arguments_forwarded_twice():
    params = {"a": 1.5, "b": 0.2}
    g = ad.grad(forwarded)(params)
    eps = 1e-6
    for key in params:
        hi, lo = dict(params), dict(params)
        hi[key] += eps
        lo[key] -= eps
        assert g[key] == pytest.approx((forwarded(hi) - forwarded(lo)) / (2 * eps), rel=1e-6)


def sum_sq(p):
    t = 0.0
    for k in p:
        t += p[k] ** 2
    return t


def through_helper(p):
    return sum_sq(p) * 2.0


def test_a_dict_argument_passed_to_a_helper_iterating_its_keys():
    g = ad.grad(through_helper)({"a": 0.4, "b": 0.3})
    assert g == pytest.approx({"a": 1.6, "b": 1.2})


class Chain:
    def __init__(self, k):
        self.k = k
        self.x = np.ones(2)

    def step(self, dt):
        self.x = self.x - dt * self.k * self.x

    def tip(self):
        return self.x[-1]

    def itself(self):
        return self


def history_of_tips(k):
    c = Chain(k)
    history = []
    for _ in range(3):
        c.step(0.1)
        history.append(c.tip())
    return sum(history)


def history_of_objects(k):
    c = Chain(k)
    history = []
    for _ in range(2):
        history.append(c.itself())
        c.step(0.1)
    return sum(np.sum(h.x) for h in history)


def test_a_reading_methods_result_is_no_other_name_for_the_object():
    check_all_modes(history_of_tips, [np.array([1.0, 2.0])])
    # a method returning the object itself is one: refused ("reached under another name") until
    # session 27, when the attributes' derivatives were kept by object identity
    check_all_modes(history_of_objects, [np.array([1.0, 2.0])], second_order=False)


class Body:
    def __init__(self, pos, vel):
        self.pos, self.vel = pos, vel

    def advance(self, k):
        self.vel = self.vel - k * self.pos
        self.pos = self.pos + 0.1 * self.vel


def advanced(k, body):
    for _ in range(3):
        body.advance(k)
    return np.sum(body.pos ** 2)


def test_a_hessian_of_a_function_changing_an_object_argument():
    # (each run of the gradient code gets its own copy of the object: every column of the
    # Hessian starts from the same state)
    body = Body(np.array([1.0, 2.0]), np.array([0.5, -0.3]))
    check_all_modes(advanced, [np.array([1.3, 0.7]), body])
    before = copy.deepcopy(body)
    ad.hessian(advanced)(np.array([1.3, 0.7]), body)
    np.testing.assert_array_equal(body.pos, before.pos)


class Scaled:
    def __init__(self, w):
        self.w = w

    def __call__(self, x, training=True):
        return x * self.w if training else x


def called_with_a_keyword(w, x):
    layers = [Scaled(w), Scaled(np.array([2.0, 0.5]))]
    for layer in layers:
        x = layer(x, training=True)
    return np.sum(x ** 2)


def test_an_object_with_call_called_with_a_keyword():
    check_all_modes(called_with_a_keyword, [np.array([1.0, 2.0]), np.array([0.5, 0.1])],
                    wrt=(0, 1))


class Denoiser:
    def __init__(self, W, rng):
        self.W = W
        self.rng = rng

    def cost(self, x):
        noisy = self.rng.binomial(1, 0.75, size=x.shape) * x
        return np.sum(np.tanh(noisy @ self.W))


def denoised(W, x):
    return Denoiser(W, np.random.RandomState(0)).cost(x)


def test_a_random_generator_held_by_an_object_with_differentiated_weights():
    check_all_modes(denoised, [np.ones((3, 2)) * 0.3, np.array([0.5, 0.1, 0.2])])


class Block:
    def __init__(self, W):
        self.W = W

    def __call__(self, x):
        return np.tanh(x @ self.W)


class Stack:
    def __init__(self, Ws):
        self.blocks = [Block(W * 0.5) for W in Ws]


class Grown:
    def __init__(self, Ws):
        self.blocks = []
        for W in Ws:
            self.blocks.append(Block(W))


def stacked(W, x):
    net = Stack([W, 2 * W])
    for b in net.blocks:
        x = b(x)
    grown = Grown([W * 0.7])
    for b in grown.blocks:
        x = b(x)
    return np.sum(x) + np.sum(W ** 2)


def test_a_list_of_layers_built_in_init():
    check_all_modes(stacked, [np.array([[1.0, 0.5], [0.2, 1.0]]) * 0.3, np.array([1.0, 2.0])])


def loss_and_clipped_grads(w):
    dw = w * 3
    db = w * 1
    for dparam in [dw, db]:
        np.clip(dparam, -1, 1, out=dparam)
    return np.sum(w ** 2), dw, db


def clipped(w):
    loss, dw, db = loss_and_clipped_grads(w)
    return loss + np.sum(dw) + 0.5 * np.sum(db)


def test_arrays_written_through_a_list_then_returned_in_a_tuple():
    check_all_modes(clipped, [np.array([0.1, 0.5, -0.45])])


def aliased_in_a_branch(y):
    if y.shape[0] > 2:
        u = y
    u[1] += 2.0
    y[:-1] += y[1:]
    return np.sum(u)


def test_a_write_seen_through_a_name_bound_in_a_branch_is_refused():
    # (campaign seed 1366753: after the first write's sync, y was taken for a new array, and
    # the second write into y was not followed through u, bound only in the branch)
    with pytest.raises(ad.AdError, match="writing into 'y' changes 'u'"):
        ad.grad(aliased_in_a_branch)(np.array([0.3, -0.2, 0.5]))


class Pendulum:
    def __init__(self, x):
        self.x = x
        self.v = 0.0

    def kinetic(self):
        return 0.5 * self.v ** 2

    def potential(self):
        return 0.5 * self.x ** 2

    def energy(self):
        return self.kinetic() + self.potential()

    def step(self, dt):
        self.v += -self.x * dt
        self.x += self.v * dt


def energy_drift(x0):
    p = Pendulum(x0)
    e0 = p.energy()
    for _ in range(3):
        p.step(0.1)
    return p.energy() - e0


def test_a_method_calling_other_methods_returns_no_object():
    # (self.kinetic() + self.potential() was taken for a value that may be the object itself,
    # refusing the stores of step that follow)
    check_all_modes(energy_drift, [0.8])


def simulate(k, n=5, dt=0.1, euler=False):
    x = np.zeros(n + 1)
    x[0] = 1.0

    def accel(xi):
        return -k * xi

    for i in range(n):
        if euler:
            x[i + 1] = x[i] + dt * accel(x[i])
        else:
            x[i + 1] = x[i] + 0.5 * dt * accel(x[i])
    return x


def simulated(k):
    return np.sum(simulate(k) ** 2)


def test_a_helper_left_with_its_default_arguments():
    # (n=5 left out: np.zeros(n + 1) is 1-D, x[i] an element, not a view of x)
    check_all_modes(simulated, [1.5])


class GaussianMixture:
    def log_resp(self, logits):
        from scipy.special import logsumexp
        return logits - logsumexp(logits)


MIXTURE = GaussianMixture()


def through_logsumexp(logits):
    return np.sum(MIXTURE.log_resp(logits) ** 2)


def test_scipy_logsumexp_through_a_module_level_object():
    pytest.importorskip("scipy")
    # (its source's `shape = np.asarray(a.shape); shape[axis] = 1` was taken for a write into a)
    check_all_modes(through_logsumexp, [np.array([0.3, -1.2, 0.8])])


def unique_in_a_branch(x):
    if np.sum(x) > 0:
        y = np.unique(x)
    else:
        y = x * 2.0
    return np.sum(y)


def test_an_operand_without_a_derivative_in_a_branch_not_taken():
    # (np.unique has no derivative: refused where it runs with a value depending on wrt, never
    # for a branch not taken)
    check_all_modes(unique_in_a_branch, [np.array([-1.0, -2.0])])
    with pytest.raises(ad.AdError, match="np.unique has no derivative"):
        ad.grad(unique_in_a_branch)(np.array([1.0, 2.0]))


def wasserstein_like(u, v):
    all_values = np.concatenate((u, v))
    all_values.sort()
    deltas = np.diff(all_values)
    return np.sum(deltas ** 2) + all_values[0]


def sorted_through_a_view(x):
    y = x * 2.0
    tail = y[1:]
    y.sort()
    return np.sum(tail * np.arange(3.0)) + y[0]


def sorted_list(x):
    values = [x[0], x[1], x[2]]
    values.sort()
    return values[0] * 2.0 + values[2]


def test_sort_in_place():
    # (scipy's wasserstein_distance style: an array sorted in place, x[...] = np.sort(x); a view
    # of it sees the sort; a list's sort is sorted())
    check_all_modes(wasserstein_like, [np.array([0.3, 1.2, -0.5]), np.array([0.9, -1.1])],
                    wrt=(0, 1))
    check_all_modes(sorted_through_a_view, [np.array([0.3, 1.2, -0.5, 0.7])])
    check_all_modes(sorted_list, [np.array([0.3, 1.2, -0.5])])
    x = np.array([0.3, 1.2, -0.5, 0.7])
    ad.grad(sorted_through_a_view)(x)
    np.testing.assert_array_equal(x, [0.3, 1.2, -0.5, 0.7])  # (y was a new array)


def history_in_a_dict(w):
    log = {"hist": [w], "n": 1}
    log["hist"].append(np.tanh(w) * 2.0)  # (the list the dict holds, changed in place)
    first, last = log["hist"][0], log["hist"][-1]
    return np.sum(first * last) + log["n"]


def history_in_a_dict_argument(w, state):
    state["hist"].append(w ** 2)
    state["steps"] += 1
    return np.sum(np.stack(state["hist"]) ** 2)


def one_list_in_two_entries(w):
    shared = [w]
    log = {"a": shared, "b": shared}
    log["a"].append(w * 3.0)
    return np.sum(log["b"][-1])


def test_a_list_held_by_a_dict_entry_appended_to_and_read_again():
    # campaign seeds 1375149, 1374626: d['hist'].append(v) then d['hist'][k] was refused
    w = np.array([0.3, -0.5, 0.8])
    check_all_modes(history_in_a_dict, [w])
    check_like_plain(history_in_a_dict_argument, [w, {"hist": [np.ones(3)], "steps": 0}])
    with pytest.raises(ad.AdError, match="another entry of 'log' too"):
        ad.grad(one_list_in_two_entries)(w)


class Dense:
    def __init__(self):
        self.W = np.zeros(2)

    def set(self, w):
        self.W = w


class Loader:
    def __init__(self):
        self.d = Dense()
        self.layers = [Dense(), Dense()]
        self.W = np.zeros(2)

    def load(self, w):
        self.d.set(w)  # (a method of an attribute's object, whose class is not known here)

    def load_all(self, w):
        for layer in self.layers:
            layer.set(w)

    def load_self(self, w):
        self._set(w * 2.0)

    def _set(self, w):
        self.W = w


_POINTS = np.array([0.5, -1.0])


def through_own_method(w, net):
    net.load_self(w)
    return np.sum(np.tanh(_POINTS * net.W))


def through_attribute_method(w, net):
    net.load(w)
    return np.sum(np.tanh(_POINTS * net.d.W))


def through_entries_methods(w, net):
    net.load_all(w)
    return np.sum(np.tanh(_POINTS * net.layers[1].W))


def test_a_method_calling_another_method_that_stores_an_attribute():
    # found by trial 12 (p911): a method passing a value on to a method that stores it in an
    # attribute (self._set(w), self.d.set(w)) was read as writing nothing: a silent zero gradient.
    # A method of self is differentiated; one of an attribute's object is refused
    w = np.array([1.0, 2.0])
    check_all_modes(lambda w: through_own_method(w, Loader()), [w])
    for fn in (through_attribute_method, through_entries_methods):
        with pytest.raises(ad.AdError, match=r"\(\.\.\.\) discards its result"):
            ad.grad(fn)(w, Loader())


class Weighted:
    def __init__(self):
        self.W = np.ones(2)

    def set_weights(self, ws):
        self.W = ws[0]


def with_a_default_model(th, m=Weighted()):
    m.set_weights([th])
    return np.sum(np.tanh(_POINTS * m.W) ** 2)


def test_a_model_given_as_a_default_argument_in_every_mode():
    # found by trial 12: jvp ran without the defaults (the model's class unknown: refused), and
    # the second call found the model holding the first call's th, which a store that only binds
    # m.W again cannot change
    th = np.array([1.0, 2.0])
    for _ in range(2):
        check_all_modes(with_a_default_model, [th])
        value, tangent = ad.jvp(with_a_default_model, (th,), (np.array([1.0, 0.0]),))
        assert tangent == pytest.approx(ad.grad(with_a_default_model)(th)[0], rel=1e-12)


class Cached:
    def __init__(self, W):
        self.W = W

    def __call__(self, x):
        self.out = np.tanh(x @ self.W)
        return self.out

    def penalty(self):
        return np.sum(self.out ** 2)


class Predictor:
    def __init__(self):
        self.w = np.zeros(2)

    def predict(self, X):
        return X @ self.w


class NoInit:
    def fit_transform(self, X):
        self.m = X.mean(axis=0)
        return X - self.m

    def transform(self, X):
        return X - self.m


class Fitted:
    def __init__(self):
        self.c = 1.0

    def fit(self, v):
        self.m = 2.0 * v
        return v

    def predict(self, k):
        return k * self.m * self.c


CACHED = Cached(np.array([[0.3, -0.7], [0.9, 0.2]]))
PREDICTOR = Predictor()
_DESIGN = np.array([[1.0, 2.0], [0.5, -1.0]])


def cached_then_penalty(x):
    y = CACHED(x)
    return np.sum(y) + CACHED.penalty()


def assigned_then_predicted(w):
    PREDICTOR.w = w  # (a module-level model: scipy.optimize objectives are written so)
    return np.sum(PREDICTOR.predict(_DESIGN) ** 2)


def fitted_without_init(X):
    s = NoInit()
    a = s.fit_transform(X)
    return np.sum(a ** 3) + np.sum(s.transform(_DESIGN) ** 3)


def fitted_in_a_list(w):
    models = [Fitted(), Fitted()]
    a = models[0].fit(w) + models[1].fit(2 * w)
    return a + sum(m.predict(3.0) for m in models)


def test_a_value_stored_by_one_call_and_read_by_a_later_method():
    # found by trial 13: a method storing a value in its object, read by a later method call
    # (a module-level layer's cache, a scaler without __init__, models in a list), lost the
    # derivative through the attribute, silently; a module-level model whose weights the
    # function assigns was given a gradient of 0. The model is now passed to its method as an
    # argument (differentiated); the others are refused where the later call runs, but for an
    # object made here
    check_all_modes(assigned_then_predicted, [np.array([0.3, -0.5])])
    np.testing.assert_allclose(ad.grad(assigned_then_predicted)(np.array([0.3, -0.5])),
                               [-0.75, -4.1], rtol=1e-12)
    # (a class without __init__: its object is made here, its methods inlined)
    check_all_modes(fitted_without_init, [np.array([[0.1, -0.4], [0.7, 0.2], [-1.2, 0.5]])])
    cases = [(cached_then_penalty, (np.array([0.5, -1.0]),), "penalty"),
             (fitted_in_a_list, (0.7,), "predict")]
    for fn, args, method in cases:
        for run in (lambda: ad.grad(fn)(*args),
                    lambda: ad.jvp(fn, args, tuple(np.ones_like(a) for a in args))):
            with pytest.raises(ad.AdError, match=r"calling \S*%s with an object holding a value"
                               % method):
                run()
