"""Classes of programs that once reached a raw exception (in the compiler or in generated code)
instead of a gradient or an ``AdError``: iterating over sets, dicts and iterators by position,
unpacking an iterator. Each is checked in every mode against finite differences, or refused with an
``AdError`` at its line."""
import numpy as np
import pytest
from conftest import check_all_modes

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
        s = s + a * b ** 2 + m * p + n * q + x[first] * np.sum(x[rest])
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


def test_unpacking_zip_of_differentiated_values_is_refused_at_its_line():
    with pytest.raises(ad.AdError, match=r"(?s)cannot differentiate 'zip'.*line \d+"):
        ad.grad(unpacks_zip_of_differentiated_pairs)(np.array([1.0, 2.0, 3.0]))
