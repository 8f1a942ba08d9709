"""Calls as people write them: arguments unpacked into a call (``f(*params)``, ``f(**opts)``),
``functools.partial`` made inside the function, objects constructed inside it, methods of objects
held in attributes. Each in every mode against finite differences (``check_all_modes``)."""
import numpy as np
import pytest
from conftest import check_all_modes, module_from_source

import adcompiler as ad

SOURCE = '''
import functools
import numpy as np


def model(t_u, w, b):
    return w * t_u + b


def power_sum(x, scale=1.0, power=2):
    return np.sum(scale * x ** power)


def star_array(params, t_u, t_c):
    t_p = model(t_u, *params)
    return np.mean((t_p - t_c) ** 2)


def star_tuple(x, w):
    pair = (w, 0.5 * w)
    return np.sum(model(x, *pair) ** 2)


def star_list_of_arrays(x):
    parts = [x, np.sin(x)]
    return np.sum(model(*parts, 2.0) ** 2)


def star_rows(W, x):
    return np.sum(np.tanh(model(x, *W)))


def double_star(x, s):
    opts = {"scale": s, "power": 3}
    return power_sum(x, **opts)


def keywords_and_both(x, s):
    return power_sum(x, scale=s, power=3) + power_sum(*(x,), **{"scale": s * s})


def partial_of_user_function(x):
    cube = functools.partial(power_sum, power=3)
    return cube(x) + cube(x, scale=0.5)


def partial_of_numpy(x):
    total = functools.partial(np.sum, axis=0)
    return np.sum(total(np.sin(x)) ** 2)


TRAPEZOID = getattr(np, "trapezoid", None) or np.trapz  # (NumPy 1.x: trapz)


def partial_given_defaulted_parameters_by_position(x):
    # (trapezoid(y, x=None, dx=1.0, axis=-1): x given by position to the partial)
    area = functools.partial(TRAPEZOID, axis=0)
    return area(np.sin(x), np.cumsum(x ** 2))


class Affine:
    def __init__(self, w, b):
        self.w = w
        self.b = b

    def __call__(self, x):
        return self.w * x + self.b

    def squared(self, x):
        return self(x) ** 2


def object_built_inside(x):
    layer = Affine(2.0, 0.5)
    return np.sum(layer(x) ** 2 + layer.squared(x))


def object_built_from_wrt(x):
    layer = Affine(x, 0.5)
    return np.sum(layer(x) * layer.squared(x))


class Guarded:
    def __init__(self, w):
        try:  # (an __init__ that is not inlined)
            self.w = float(w[0])
        except TypeError:
            self.w = w

    def __call__(self, x):
        return self.w * x


def opaque_object_built_from_wrt(x):
    layer = Guarded(x)
    return np.sum(layer(x))


class QuadraticCost:
    @staticmethod
    def fn(a, y):
        return 0.5 * np.sum((a - y) ** 2)


class ELU:
    def __init__(self, alpha):
        self.alpha = alpha

    def fn(self, z):
        return np.where(z > 0, z, self.alpha * (np.exp(z) - 1))


class Network:
    def __init__(self, w):
        self.w = w
        self.cost = QuadraticCost
        self.act = ELU(1.5)

    def total_cost(self, x, y):
        a = self.act.fn(self.w * x)
        return self.cost.fn(a, y)


def network_cost(x, net, y):
    return net.total_cost(x, y)


def apply(f, x):
    return f(x)


def lambdas_in_a_list(x):
    fns = [lambda u, k=k: u * k for k in (1.0, 2.0, 0.5)]
    return sum(fn(np.sum(np.sin(x))) for fn in fns)


def lambdas_in_a_dict(x):
    acts = {"tanh": lambda z: np.tanh(z), "relu": lambda z: np.maximum(z, 0.0)}
    return np.sum(acts["tanh"](x) + acts["relu"](x))


def lambda_passed_on(x):
    return np.sum(apply(lambda z: z ** 2, x))


def lambda_with_a_differentiated_default(x, w):
    fns = [lambda u, w=w: u * w]
    return np.sum(fns[0](x))


def scaled_square(x, *, scale, power=2):
    return np.sum(scale * x ** power)


def collects_keywords(x, **opts):
    return np.sum(opts["scale"] * np.sin(x) * opts.get("shift", 1.0))


def keyword_arguments(x, s):
    return scaled_square(x, scale=s) + collects_keywords(x, scale=s * s, shift=s)


def dict_call(x, s):
    d = dict(a=x, b=np.sin(x) * s)
    return np.sum(d["a"] * d["b"])


def unpacked_into_numpy(x, y):
    args = (x, y)
    return np.sum(np.arctan2(*args) ** 2)


def keywords_unpacked_into_numpy(x):
    opts = {"axis": 0}
    return np.sum(np.cumsum(x, **opts) ** 2)


def symmetrized(fun):
    def symmetrized_fun(*args, **kwargs):
        args = list(args)
        args[1] = 0.5 * (args[1] + args[1].T)
        return fun(*args, **kwargs)
    return symmetrized_fun


QUADRATIC = symmetrized(np.dot)


def through_a_symmetrizing_wrapper(v, a):
    return np.sum(QUADRATIC(v, a) ** 2)


def lambda_reading_a_variable(x):
    s = np.sum(x)
    fns = [lambda u: u * s]
    return np.sum(fns[0](x))

def rbf(x1, x2, gamma, scale=1.0):
    return scale * np.exp(-gamma * np.sum((x1 - x2) ** 2))


KERNELS = {"rbf": rbf}


def gram(kernel, A, B):
    return np.array([[kernel(a, b) for b in B] for a in A])


def partial_of_a_differentiated_value(g):
    X = np.array([[0.5, -1.0], [0.2, 0.3], [1.5, 0.1]])
    k = functools.partial(KERNELS["rbf"], gamma=np.exp(g))  # (a function chosen at run time)
    return np.sum(gram(k, X, X)) + k(X[0], X[1], scale=g)


def partial_keeps_the_values_it_was_given(g):
    x = np.array([0.5, -1.0])
    k = functools.partial(rbf, x, gamma=g)
    g = g * 3.0  # (k still holds the value g had)
    return k(x * g) + k(x, gamma=g)


def partial_of_a_nested_def(g):
    def weighted(x1, x2, w):
        return np.sum(x1 * x2) * w
    k = functools.partial(weighted, w=g)
    X = np.array([[0.5, -1.0], [0.2, 0.3]])
    return np.sum(gram(k, X * g, X))


def partial_stored_as_a_value(x):
    cube = functools.partial(power_sum, power=3)
    fns = [cube, power_sum]
    return sum(f(x) for f in fns)


def chosen_in_branches(W, activation):
    X = np.array([[0.5, -1.0, 0.3], [0.2, 0.3, -0.4]])
    if activation == "relu":
        act = lambda z: np.maximum(z, 0.0)
    elif activation == "softplus":
        def act(z):
            return np.log1p(np.exp(z))
    else:
        act = np.tanh
    h = X
    for _ in range(2):
        h = act(h @ W)
    return np.sum(h ** 2)


def chosen_then_passed_on(g, kind):
    X = np.array([[0.5, -1.0], [0.2, 0.3], [1.5, 0.1]])
    if kind == 0:
        k = functools.partial(rbf, gamma=g)
    else:
        k = np.dot
    return np.sum(gram(k, X * g, X))


def chosen_in_every_pass(g):
    x = np.array([0.5, -1.0, 2.0])
    total = 0.0
    for i in range(3):
        if i % 2 == 0:
            f = lambda z: z * g
        else:
            f = lambda z: z ** 2 * g
        total = total + np.sum(f(x))
    return total


def redefined_in_a_loop(g):
    f = lambda z: z * g
    total = 0.0
    for _ in range(3):
        total = total + f(g)
        f = lambda z: z * g * 2.0
    return total



def apply_twice(f, x):
    return f(f(x))


def chosen_by_nested_ifs_applied_twice(g, a, b):
    x = np.array([0.3, -0.2, 0.5])
    if a > 0:
        if b > 0:
            f = lambda z: z * g
        else:
            f = lambda z: z ** 2 * g
    else:
        f = np.sin
    return np.sum(apply_twice(f, x * g))



def partial_of_a_def_redefined_after(g):
    x = np.array([0.3, -0.5])

    def h(z, w):
        return z * w
    k = functools.partial(h, w=g)

    def h(z, w):  # (k holds the first h)
        return z * w * 100.0
    return np.sum(k(x)) + np.sum(h(x, g))

'''


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return module_from_source(tmp_path_factory.mktemp("calls"), "calls_as_written", SOURCE)


T_U = np.array([35.7, 55.9, 58.2, 81.9])
T_C = np.array([0.5, 14.0, 15.0, 28.0])
X3 = np.array([0.5, -1.2, 2.0])


def test_lecture_regression_with_star_params(m):
    """The lecture's model(t_u, *params): gradient (4517.2969, 82.6) on the full data set."""
    t_c = np.array([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
    t_u = np.array([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])
    grad = ad.grad(m.star_array)(np.array([1.0, 0.0]), t_u, t_c)
    np.testing.assert_allclose(grad, [4517.2969, 82.6], rtol=1e-6)
    check_all_modes(m.star_array, [np.array([0.01, 0.3]), T_U * 0.1, T_C])


@pytest.mark.parametrize("name, args, wrt", [
    ("star_tuple", [X3, 0.7], 1),
    ("star_tuple", [X3, 0.7], 0),
    ("star_list_of_arrays", [X3], 0),
    ("star_rows", [np.array([[0.3, -0.5, 1.0], [0.2, 0.1, -0.4]]), X3], 0),
    ("double_star", [X3, 1.5], 0),
    ("double_star", [X3, 1.5], 1),
    ("keywords_and_both", [X3, 1.5], 0),
    ("keywords_and_both", [X3, 1.5], 1),
    # (unpacked into functions with rules: applied when the call runs)
    ("unpacked_into_numpy", [X3, X3[::-1] + 0.5], 0),
    ("unpacked_into_numpy", [X3, X3[::-1] + 0.5], 1),
    ("keywords_unpacked_into_numpy", [np.array([[0.3, -0.5], [1.0, 0.2], [0.1, -0.4]])], 0),
    ("through_a_symmetrizing_wrapper", [X3, np.arange(9.0).reshape(3, 3) / 5], 0),
    ("through_a_symmetrizing_wrapper", [X3, np.arange(9.0).reshape(3, 3) / 5], 1),
])
def test_unpacked_arguments(m, name, args, wrt):
    check_all_modes(getattr(m, name), args, wrt=wrt)


def test_unpacked_call_source_reads_plainly(m):
    source = ad.source(m.star_array)
    assert "call_forward((2,), unpacked(model, ('', '*')), t_u, params)" in source, source


@pytest.mark.parametrize("name", ["partial_of_user_function", "partial_of_numpy",
                                  "partial_given_defaulted_parameters_by_position",
                                  "object_built_inside"])
def test_callables_made_inside_the_function(m, name):
    check_all_modes(getattr(m, name), [X3])


def test_object_built_from_differentiated_values(m):
    # (its __init__ is inlined: what it stores is this function's attribute stores; refused
    # before, "objects created inside the differentiated function are not traced")
    check_all_modes(m.object_built_from_wrt, [X3])
    with pytest.raises(ad.AdError) as info:
        ad.grad(m.opaque_object_built_from_wrt)(X3)
    text = str(info.value)
    assert "Guarded" in text and "created inside" in text and "line" in text, text


def test_methods_of_objects_held_in_attributes(m):
    """self.cost.fn(a, y) (a staticmethod of a class in an attribute) and self.act.fn(z) (a method
    of an object in an attribute)."""
    net = m.Network(np.array([0.5, -1.0, 2.0]))
    y = np.array([0.1, 0.2, -0.3])
    check_all_modes(lambda x: m.network_cost(x, net, y), [X3])


@pytest.mark.parametrize("name", ["lambdas_in_a_list", "lambdas_in_a_dict", "lambda_passed_on"])
def test_lambdas_used_as_values(m, name):
    """A lambda in a list, a dict or passed to a function is called through its own source."""
    if name == "lambdas_in_a_dict" and not hasattr(m.apply.__code__, "co_positions"):
        pytest.skip("two lambdas on one line are told apart by column from Python 3.11")
    check_all_modes(getattr(m, name), [X3])


@pytest.mark.parametrize("name, args, words", [
    ("lambda_with_a_differentiated_default", [X3, 0.7], ["default values depend on w", "line"]),
])
def test_lambdas_whose_values_would_be_lost_are_refused(m, name, args, words):
    with pytest.raises(ad.AdError) as info:
        ad.grad(getattr(m, name), wrt=len(args) - 1)(*args)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_a_lambda_reading_a_variable_holds_its_value(m):
    check_all_modes(m.lambda_reading_a_variable, [X3])


@pytest.mark.parametrize("wrt", [0, 1])
def test_keyword_only_and_double_star_parameters_carry_gradients(m, wrt):
    check_all_modes(m.keyword_arguments, [X3, 1.3], wrt=wrt)
    check_all_modes(m.dict_call, [X3, 1.3], wrt=wrt)


@pytest.mark.parametrize("name", ["partial_of_a_differentiated_value",
                                  "partial_keeps_the_values_it_was_given",
                                  "partial_of_a_nested_def", "chosen_in_every_pass",
                                  "partial_of_a_def_redefined_after"])
def test_partials_made_of_differentiated_values(m, name):
    """A partial made inside the function is a local function: inlined where it is called or
    passed on, with the values its arguments had when it was made."""
    check_all_modes(getattr(m, name), [0.7])


def test_a_partial_stored_as_a_value(m):
    check_all_modes(m.partial_stored_as_a_value, [X3])


@pytest.mark.parametrize("activation", ["relu", "softplus", "tanh"])
def test_a_local_function_chosen_by_a_branch(m, activation):
    """The arms of an if bound `act` to different functions: calls after it were all of the last
    one bound (a silent wrong gradient); they now call the one the arm that ran bound."""
    W = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.7], [-0.4, 0.2, 0.6]])
    check_all_modes(lambda W: m.chosen_in_branches(W, activation), [W])


@pytest.mark.parametrize("kind", [0, 1])
def test_a_local_function_chosen_by_a_branch_and_passed_on(m, kind):
    check_all_modes(lambda g: m.chosen_then_passed_on(g, kind), [0.7])


def test_a_local_function_redefined_in_a_loop_is_refused(m):
    with pytest.raises(ad.AdError, match="defined again inside a loop") as info:
        ad.grad(m.redefined_in_a_loop)(0.7)
    assert info.value.lineno is not None


@pytest.mark.parametrize("a, b", [(1, 1), (1, -1), (-1, 1)])
def test_a_local_function_chosen_by_nested_ifs_and_called_on_its_own_result(m, a, b):
    # (f(f(x)) inside the inlined helper: the inner call was left to the arm of the outer one,
    # where the name no longer chose: a NameError in generated code)
    check_all_modes(lambda g: m.chosen_by_nested_ifs_applied_twice(g, a, b), [0.7])


# -- a module-level function called through a local name (trial p002) ---------------------------

def oscillator_rhs(y, p):
    return np.concatenate([y[1:], -p["k"] * y[:1]])


def euler_through_a_name(p, y0):
    f = oscillator_rhs  # (the call f(y, p) is oscillator_rhs's: its result is a new array)
    y = y0.copy()
    a = f(y, p)[1:]
    for _ in range(3):
        y[:1] += 0.1 * a
        a = f(y, p)[1:]
    return np.sum(y ** 2) + np.sum(a)


def test_a_function_called_through_a_local_name_is_that_function(rng):
    y0 = rng.randn(2)
    check_all_modes(lambda k, y: euler_through_a_name({"k": k}, y), (2.0, y0), wrt=(0, 1))
