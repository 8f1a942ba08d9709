"""Classes of programs that once reached a raw exception (in the compiler or in generated code)
instead of a gradient or an ``AdError``: iterating over sets, dicts and iterators by position,
unpacking an iterator, a namedtuple read by field and by position, a function returning the closure
it defines, a list grown by concatenation in a loop, a number's adjoint that is 0.0 reaching an
update of an array's slice. Each is checked in every mode against finite
differences, or refused with an ``AdError`` at its line."""
import collections
import typing

import numpy as np
import pytest
from conftest import check_all_modes, fd_grad

import adcompiler as ad

FIXED = {0, 2}
EDGES = {(0, 1), (1, 2)}
WEIGHTS = {0: 2.0, 2: 1.0}  # (iterated: its int keys, never its values)
EDGE_LIST = [(0, 1), (1, 2)]


# -- loops over sets, dicts and iterators ---------------------------------------------------------

def zeroes_a_module_level_set(x):  # realistic program p108
    y = x * 1.0
    for i in FIXED:
        y[i] = 0.0
    return np.sum(y ** 2)


def sums_over_a_set_argument(x, idx):
    s = 0.0
    for i in idx:
        s = s + x[i] ** 2
    return s


def pairs_of_a_set_of_tuples(x):
    s = 0.0
    for i, j in EDGES:
        s = s + (x[i] - x[j]) ** 2
    return s


def over_set_displays_and_operators(x):
    s = 0.0
    for i in {2, 0} | {1}:
        s = s + np.exp(x[i]) * i
    for n, i in enumerate(set([0, 1, 1])):
        s = s + n * x[i] ** 3
    return s


def over_a_set_comprehension_in_a_loop(x):
    s = 0.0
    for k in range(2):
        idx = {i % 2 for i in range(4)}
        for i in idx:
            if i > 0:
                s = s + x[i] * x[i + 1] * k
            else:
                s = s + x[i] ** 2
    return s


def over_a_module_level_dict(x):
    s = 0.0
    for k in WEIGHTS:
        s = s + x[k] ** 2
    return s


def over_views_and_set_methods(x):
    s = 0.0
    for k, v in WEIGHTS.items():
        s = s + v * x[k] ** 2
    for i in FIXED.union({1}):
        if i == 2:
            break
        s = s + x[i] ** 3
    return s


def _zero_at(y, ids):  # (writes into y: inlined)
    for i in ids:
        y[i] = 0.0


def _squares_at(x, ids):  # (its own generated code)
    t = 0.0
    for i in ids:
        t = t + x[i] ** 2
    return t


def _squares_at_a_local_set(x):
    ids = {2, 0}
    t = 0.0
    for i in ids:
        t = t + x[i] ** 2
    return t


def through_helpers(x):
    y = x * 1.0
    _zero_at(y, FIXED)
    return np.sum(y ** 2) + _squares_at(x, FIXED) + _squares_at(x, WEIGHTS) \
        + _squares_at_a_local_set(x)


@pytest.mark.parametrize("fn, args", [
    (zeroes_a_module_level_set, ()),
    (sums_over_a_set_argument, ({0, 2},)),
    (sums_over_a_set_argument, (frozenset({1, 2}),)),
    (sums_over_a_set_argument, ({0: "a", 2: "b"},)),
    (pairs_of_a_set_of_tuples, ()),
    (over_set_displays_and_operators, ()),
    (over_a_set_comprehension_in_a_loop, ()),
    (over_a_module_level_dict, ()),
    (over_views_and_set_methods, ()),
    (through_helpers, ()),
], ids=lambda v: getattr(v, "__name__", None) or type(v).__name__)
def test_a_loop_over_a_set_or_dict_iterates_as_python_does(fn, args):
    check_all_modes(fn, (np.array([1.0, 2.0, 3.0]),) + args)


class Config:
    def __init__(self):
        self.fixed = {0, 2}


def over_an_attribute(x, config):
    s = 0.0
    for i in config.fixed:
        s = s + x[i] ** 2
    return s


def test_a_loop_over_a_value_of_no_known_kind_refuses_a_set_when_it_runs():
    # (an attribute may hold anything: the loop reads it by position, as Python reads a list or
    # array the loop updates, and checks when it runs that it is one)
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ad.AdError, match=r"(?s)the loop over config.fixed reads it by position.*"
                                         r"a set when the loop runs.*line \d+.*list\(config.fixed"):
        ad.grad(over_an_attribute)(x, Config())
    config = Config()
    config.fixed = [0, 2]
    np.testing.assert_allclose(ad.grad(over_an_attribute)(x, config), [2.0, 0.0, 6.0])


# -- unpacking an iterator ------------------------------------------------------------------------

def unpacks_zip_of_pairs(x, edges):  # realistic program p142
    src, dst = zip(*edges)
    return np.sum((x[list(src)] - x[list(dst)]) ** 2)


def unpacks_iterators(x):
    s = 0.0
    for k in range(2):
        if k > 0:
            i, j = zip(*EDGE_LIST)
            s = s + np.sum(x[list(i)]) * k
        a, b = reversed([x[0], x[1]])
        (m, p), (n, q) = enumerate([x[0], x[2]])
        first, *rest = iter([0, 1, 2])
        (u, v), (w,) = zip([0, 1], [2, 0]), zip([x[1]], [x[2]])  # (entries unpacked in turn)
        s = s + a * b ** 2 + m * p + n * q + x[first] * np.sum(x[rest]) \
            + x[u[1]] * x[v[0]] * w[0] * w[1]
    return s


def unpacks_a_set_and_a_dict(x):
    (i,) = {1}
    a, b = {0: 2, 2: 1}  # (the keys)
    return x[i] ** 3 + x[a] * x[b]


@pytest.mark.parametrize("fn, args", [
    (unpacks_zip_of_pairs, (EDGE_LIST,)),
    (unpacks_zip_of_pairs, ([(0, 2), (1, 0), (2, 1)],)),
    (unpacks_iterators, ()),
    (unpacks_a_set_and_a_dict, ()),
], ids=lambda v: getattr(v, "__name__", None) or type(v).__name__)
def test_unpacking_an_iterator_set_or_dict_takes_its_items(fn, args):
    check_all_modes(fn, (np.array([1.0, 2.0, 3.0]),) + args)


def unpacks_zip_of_differentiated_pairs(x):
    xs, ys = zip(*[(x[0], x[1]), (x[1], x[2])])
    return xs[0] * ys[1]


def transposes_ragged_rows(x):
    rows = [(x[0], x[1], 5.0), (x[2], x[0] * 2.0)]  # (zip stops at the shortest row)
    cols = list(zip(*rows))
    none = list(zip(*[]))
    total = 0.0
    for a, b in zip(*rows):
        total = total + a * b
    return cols[0][1] * cols[1][0] + len(cols) + len(none) + total


def test_unpacking_zip_of_differentiated_values_transposes_them():
    check_all_modes(unpacks_zip_of_differentiated_pairs, [np.array([1.0, 2.0, 3.0])])
    check_all_modes(transposes_ragged_rows, [np.array([1.0, 2.0, 3.0])])


def unpacks_an_argument(x, pair):
    a, b = pair
    first, *rest = x
    return np.sum(a * x + b) + first * len(rest)


@pytest.mark.parametrize("pair, x", [([1.0, 2.0, 3.0], [1.0, 2.0]), ((1.0,), [1.0, 2.0]),
                                     ([1.0, 2.0], [])])
def test_unpacking_the_wrong_number_of_values_raises_as_the_plain_call(pair, x):
    x = np.array(x)
    with pytest.raises(ValueError) as plain:
        unpacks_an_argument(x, pair)
    for run in (lambda: ad.grad(unpacks_an_argument)(x, pair),
                lambda: ad.jvp(unpacks_an_argument, (x, pair), (x, pair))):
        with pytest.raises(ValueError) as info:
            run()
        assert str(info.value) == str(plain.value)
    check_all_modes(unpacks_an_argument, [np.array([0.5, 1.5]), (0.3, 1.2)])


def test_unpacking_a_dict_argument_takes_its_keys():
    x, table = np.array([0.5, 1.5]), {2: 1.0, 1: 2.0}
    assert ad.value_and_grad(unpacks_an_argument)(x, table)[0] == unpacks_an_argument(x, table)
    check_all_modes(unpacks_an_argument, [x, table])


# -- a namedtuple read both by attribute and by position -----------------------------------------

Params = collections.namedtuple("Params", ["a", "b"])


class Typed(typing.NamedTuple):
    a: np.ndarray
    b: np.ndarray


def unpacks_and_reads_a_field(p):  # realistic program p131
    a, b = p
    return np.sum(a * b) + np.sum(p.b ** 2)


def indexes_then_reads_fields(p):
    first = p[0]
    return np.sum(first * p.b) + np.sum(p.a ** 2) + np.sum(np.sin(p[1]))


def _field_reader(p):
    return np.sum(p.a ** 2 * p.b)


def mixes_in_a_loop_and_a_helper(p):
    s = _field_reader(p)
    for k in range(2):
        if k == 0:
            w, c = p
            s = s + np.sum(w * c)
        else:
            s = s + np.sum(np.tanh(p.a))
    return s


def _flat(value):
    return np.concatenate([np.ravel(v) for v in value])


def _like(p, flat):
    return type(p)(*np.split(flat, len(p)))


@pytest.mark.parametrize("fn", [unpacks_and_reads_a_field, indexes_then_reads_fields,
                                mixes_in_a_loop_and_a_helper])
@pytest.mark.parametrize("cls", [Params, Typed])
def test_a_namedtuple_read_by_field_and_by_position(fn, cls):
    p = cls(np.array([1.0, 2.0]), np.array([3.0, -4.0]))
    flat_fn = lambda v: fn(_like(p, v))  # noqa: E731
    grad = ad.grad(fn)(p)
    assert type(grad) is cls
    np.testing.assert_allclose(_flat(grad), fd_grad(flat_fn, [_flat(p)], 0), rtol=1e-6)
    direction = cls(np.array([0.5, -1.0]), np.array([2.0, 0.3]))
    _, tangent = ad.jvp(fn, (p,), (direction,))
    assert tangent == pytest.approx(_flat(grad) @ _flat(direction), rel=1e-9)
    gradient = lambda v: _flat(ad.grad(fn)(_like(p, v)))  # noqa: E731
    want = np.stack([fd_grad(lambda v, k=k: gradient(v)[k], [_flat(p)], 0) for k in range(4)])
    np.testing.assert_allclose(np.reshape(ad.hessian(fn)(p), (4, 4)), want, rtol=1e-5, atol=1e-6)


def test_a_jacobian_wrt_a_container_that_is_no_array_is_refused():
    ps = [Params(np.ones(2), np.ones(2))]
    with pytest.raises(ad.AdError, match=r"w\.r\.t\. 'ps', a list, is not supported: its entries "
                                         r"do not stack"):
        ad.hessian(_sum_of_fields)(ps)
    with pytest.raises(ad.AdError, match="a dict, is not supported"):
        ad.jacobian(_sum_of_fields)({"a": np.ones(2)})


def _sum_of_fields(ps):
    return sum(np.sum(p.a * p.b) for p in ps) if isinstance(ps, list) else np.sum(ps["a"])


def replaces_a_field(p):
    q = p._replace(a=p.a * 2.0)
    return np.sum(q.a * q.b)


def test_a_namedtuple_argument_replaced():
    # (the method, a library's, was dispatched to a caller that called it again, without end;
    # then refused at its line; the argument's kind names its class now: a new namedtuple made)
    p = Params(np.array([1.0, 2.0]), np.array([3.0, -4.0]))
    g = ad.grad(replaces_a_field)(p)
    np.testing.assert_allclose(g.a, 2.0 * p.b)
    np.testing.assert_allclose(g.b, 2.0 * p.a)
    _, t = ad.jvp(replaces_a_field, (p,), (Params(np.array([1.0, 0.5]), np.zeros(2)),))
    assert t == pytest.approx(2.0 * (p.b[0] + 0.5 * p.b[1]))


# -- a function returning a closure it defines ---------------------------------------------------

X_CLOSURE = np.array([0.3, -0.2])


def dense_def(W):
    def apply(v):
        return v * W
    return apply


def calls_a_returned_closure(W):  # realistic program p143
    return np.sum(dense_def(W)(X_CLOSURE))


def _returns_a_lambda(W):
    f = lambda v: v * W  # noqa: E731
    return f


def calls_a_returned_lambda(W):
    return np.sum(_returns_a_lambda(W)(X_CLOSURE))


def _returns_one_of_two(W, flag):
    def a(v):
        return v * W

    def b(v):
        return v + W
    return a if flag else b


def calls_a_chosen_closure(W):
    return np.sum(_returns_one_of_two(W, True)(X_CLOSURE))


@pytest.mark.parametrize("fn", [calls_a_returned_closure, calls_a_returned_lambda,
                                calls_a_chosen_closure])
def test_a_closure_returned_by_the_function_defining_it_holds_what_it_reads(fn):
    # (the generated code returned a function it never defined: NameError; then an AdError at
    # the return; now an object holding W, see normalize/closures.py)
    check_all_modes(fn, [np.array([1.0, 2.0])])


# -- a list grown by concatenation in a loop -----------------------------------------------------

def grows_a_list_by_concatenation(x, lead):  # realistic program p153
    coeffs = [lead]
    for i in range(1):
        new = coeffs + [0.0]
        new[1] = new[1] - x * coeffs[0]
        coeffs = new
    return coeffs[1]


def polynomial_from_roots(r):
    coeffs = [1.0]
    for k in range(len(r)):
        new = coeffs + [0.0]
        for j in range(1, len(new)):
            new[j] = new[j] - r[k] * coeffs[j - 1]
        coeffs = new
    return sum(c * c for c in coeffs)


def grows_a_list_of_arrays(x):
    rows = [x]
    for k in range(2):
        grown = rows + [rows[-1] * 2.0]
        grown[0] = grown[0] + 1.0
        rows = grown
    return np.sum(rows[0] * rows[-1])


@pytest.mark.parametrize("fn, args, wrt", [
    (grows_a_list_by_concatenation, (2.0, 0.6), (0, 1)),
    (polynomial_from_roots, (np.array([0.5, -1.2, 0.8]),), 0),
    (grows_a_list_of_arrays, (np.array([0.5, -1.2, 0.8]),), 0),
])
def test_a_list_grown_by_concatenation_in_a_loop(fn, args, wrt):
    # (its kind, a list, was lost in the loop: the concatenation was differentiated as a sum)
    check_all_modes(fn, args, wrt)


# -- a number's adjoint that is exactly 0.0 by its arithmetic -------------------------------------
# (2 * m at m = 0: the helpers take the Python float 0.0 for the zero of any shape and pass it on,
# so the adjoint of an array may be 0.0 where a slice of it is updated in place: seed 1299598)

def cancels_then_updates_a_slice(W):
    acc = W * 2.0
    upd = acc[:]
    upd[::2] /= 5.0
    upd -= upd
    return float(acc.max()) ** 2


def scales_then_updates_a_slice(W, c):
    acc = W * 2.0
    upd = acc[:]
    upd[::2] /= 5.0
    upd -= c * upd
    return float(acc.max()) ** 2


def updates_a_slice_in_a_loop(W, c):
    acc = W * 2.0
    upd = acc[:]
    for _ in range(2):
        upd[1:] *= 3.0
        upd -= c * upd
    return float(acc.max()) ** 2


AT_ZERO_MAX = -np.arange(12.0).reshape(3, 4) / 10  # (its max is 0: the seed adjoint is 0.0)
ELSEWHERE = np.arange(12.0).reshape(3, 4) / 10 - 0.35


@pytest.mark.parametrize("W", [AT_ZERO_MAX, ELSEWHERE], ids=["max-0", "max-nonzero"])
@pytest.mark.parametrize("fn,extra", [(cancels_then_updates_a_slice, ()),
                                      (scales_then_updates_a_slice, (0.25,)),
                                      (updates_a_slice_in_a_loop, (0.25,))])
def test_a_zero_adjoint_of_a_number_reaching_a_slice_update(fn, extra, W):
    args = (W.copy(),) + extra
    if fn is cancels_then_updates_a_slice:  # (zero everywhere: the function is constant)
        np.testing.assert_array_equal(ad.grad(fn)(*args), np.zeros_like(W))
        return
    check_all_modes(fn, args, wrt=0)


# -- np.ndindex loops and slice stores into lists (realistic trial 5) -----------------------------

def loops_over_ndindex(x):
    A = np.outer(x, x)
    s = 0.0
    for i, j in np.ndindex(A.shape):
        s += A[i, j] ** 2 / (1 + i + j)
    return s


def stores_a_slice_of_a_list(x):
    entries = [0.0, x[2], 1.0, 2.0]
    entries[1:3] = [x[0] ** 2, x[1]]
    entries[3:] = (x[2] * entries[1],)
    entries[:1] = [np.sin(x[1])]
    return entries[0] * entries[1] + entries[2] * entries[3]


@pytest.mark.parametrize("fn", [loops_over_ndindex, stores_a_slice_of_a_list])
def test_ndindex_loops_and_list_slice_stores(fn):
    check_all_modes(fn, [np.array([0.3, 1.7, -0.6])])


def test_a_loop_over_ndenumerate_is_refused_at_its_line():
    def over_ndenumerate(x):
        s = 0.0
        for (i,), v in np.ndenumerate(x):
            s += v * i
        return s
    with pytest.raises(ad.AdError, match="np.ndenumerate"):
        ad.grad(over_ndenumerate)(np.array([1.0, 2.0]))


def accumulates_in_a_defaultdict(x):
    totals = collections.defaultdict(float)
    for i, v in enumerate(x):
        totals[i % 2] += v * v
    return totals[0] + 2 * totals[1]


def accumulates_in_a_counter(x):
    totals = collections.Counter()
    for i, v in enumerate(x):
        totals[i % 2] += v * v
    return totals[0] + 2 * totals[1]


def test_an_opaque_container_filled_with_differentiated_values_is_refused_in_every_mode():
    # trial 8: reverse mode refused defaultdict(float); forward mode generated code that read
    # the tangent of a missing key (a KeyError). A defaultdict made here is now a dict whose
    # missing entries are stored where Python stores them; a Counter is still refused
    x = np.array([1.0, 2.0, 3.0])
    check_all_modes(accumulates_in_a_defaultdict, [x])
    for run in (lambda: ad.grad(accumulates_in_a_counter)(x),
                lambda: ad.jvp(accumulates_in_a_counter, (x,), (np.ones(3),))):
        with pytest.raises(ad.AdError, match="Counter") as info:
            run()
        assert "test_crash_classes.py" in str(info.value)
