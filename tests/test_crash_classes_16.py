"""Classes of programs from realistic-program trial 16 that reached a raw exception (or ran out of
memory) instead of a gradient or an ``AdError``: a loop over an endless iterator ended by
``break`` (``itertools.count``, an endless generator), a user container class's
``__getitem__``/``__setitem__``, and ``max``/``sorted`` of objects of a ``@total_ordering`` class
in forward mode. Each is checked in every mode against finite differences, or refused with an
``AdError`` naming the construct and its line."""
import functools
import itertools
from itertools import count

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad

X = np.array([0.3, 0.5, 0.7])


# -- loops over endless iterators ------------------------------------------------------------------

def loop_over_count_with_break(x):  # realistic program 16, crash_infinite_iterator_with_break
    out = x[0]
    for i in itertools.count():
        out = out * x[1] + 1
        if i >= 3:
            break
    return out


def loop_over_a_float_count_ended_by_return(x):
    out = x[0]
    for t in count(0.5, 0.25):  # (Python's count adds the step: 0.5, 0.75, 1.0, 1.25)
        out = out * x[1] + t * x[2]
        if t > 1.2:
            return out
    return 0.0


def count_started_at_a_value_of_x(x):
    out = 0.0
    for t in count(x[0], step=x[1]):  # (start and step depend on x)
        out = out + t * x[2]
        if out > 1.0:
            break
    return out + t


def zip_with_a_count(x):
    return sum(a * i for a, i in zip(x, count(1))) + sum(a * i for i, a in zip(count(2, 3), x))


def endless_generator(x):
    v = x[0]
    while True:
        yield v
        v = v * x[1] + x[2]


def loop_over_an_endless_generator(x):  # realistic program 16
    out = 0.0
    for i, v in enumerate(endless_generator(x)):
        out = out + v
        if i == 4:
            break
    return out


def loop_over_cycle(x):
    out = 0.0
    for v in itertools.cycle([x[0], x[1]]):
        out = out + v
        if out > 3.0:
            break
    return out


def zip_of_counts_only(x):
    out = x[0]
    for i, j in zip(count(), count(1)):
        out = out * x[1]
        if i > 2:
            break
    return out


@pytest.mark.parametrize("fn", [loop_over_count_with_break, loop_over_a_float_count_ended_by_return,
                                count_started_at_a_value_of_x, zip_with_a_count])
def test_a_loop_over_itertools_count_is_a_counting_while_loop(fn):
    value, _ = ad.value_and_grad(fn)(X.copy())
    assert value == fn(X.copy())  # (the same values: a float count adds its step)
    check_all_modes(fn, [X])


@pytest.mark.parametrize("fn, what, line", [
    (loop_over_an_endless_generator, "the generator endless_generator, which yields in a "
                                     "'while True' loop it never leaves", "for i, v in enumerate"),
    (loop_over_cycle, r"itertools\.cycle\(\.\.\.\)", r"for v in itertools\.cycle"),
    (zip_of_counts_only, r"itertools\.count\(\.\.\.\)", r"for i, j in zip"),
])
def test_a_loop_over_another_endless_iterator_is_refused_before_listing_it(fn, what, line):
    for run in (lambda: ad.grad(fn)(X.copy()), lambda: ad.jvp(fn, (X.copy(),), (X.copy(),))):
        with pytest.raises(ad.AdError, match=r"(?s)in %s: going over an endless iterator, %s, "
                                             r"is not supported.*line \d+.*%s.*fix: write the "
                                             r"loop as a while loop" % (fn.__name__, what, line)):
            run()


def bounded_generator(x):
    v = x[0]
    while True:
        if v > 2.0:
            break
        yield v
        v = v * 2.0 + x[1]


def loop_over_a_generator_that_returns(x):
    return sum(v * x[2] for v in bounded_generator(x))


def test_a_generator_leaving_its_while_true_loop_is_still_differentiated():
    check_all_modes(loop_over_a_generator_that_returns, [X])


# -- a container class of the user's -----------------------------------------------------------------

class Box:
    def __init__(self, items):
        self.items = items

    def __getitem__(self, k):
        return self.items[k]

    def __setitem__(self, k, v):
        self.items[k] = v

    def __len__(self):
        return len(self.items)


def box_item_reads(x):
    b = Box([x[0], x[1], x[2]])
    return sum(b[i] for i in range(len(b))) * b[1]


def box_slice_read(x):
    b = Box(x * 1.0)
    return np.sum(b[1:3] ** 2) + np.sum(b[::2] * b[1])


def test_reading_items_of_a_user_container_runs_its_getitem_differentiated():
    check_all_modes(box_item_reads, [X])
    check_all_modes(box_slice_read, [X])  # (a slice: slice(1, 3, None) given to __getitem__)


def box_item_store(x):  # realistic program 16, crash_user_container_setitem_getitem
    b = Box([x[0], x[1], x[2]])
    b[1] = b[0] * b[2]
    b[0] += 1.0
    return sum(b[i] for i in range(len(b))) * b[1]


def box_slice_store(x):
    b = Box(x.copy())
    b[1:3] = b[1:3] * 2
    return np.sum(b.items ** 2)


def box_given_as_an_argument(x, b):
    b[0] = x[0] * 2.0
    b[1] += x[1]
    return b[0] * b[1]


def test_storing_into_an_item_of_a_user_container_runs_its_setitem_differentiated():
    # (b[k] = v and b[k] += v call Box.__setitem__ as Python does, inlined: the store into its
    # list is followed; they gave a raw UFuncTypeError)
    check_all_modes(box_item_store, [X])
    check_all_modes(box_slice_store, [X])
    for fn in (box_item_store, box_slice_store):
        assert ad.jvp(fn, (X.copy(),), (X.copy(),))[0] == pytest.approx(fn(X.copy()))
    b = Box([1.0, 2.0])
    grad = ad.grad(box_given_as_an_argument)(X.copy(), b)
    np.testing.assert_allclose(grad, [2.0 * (2.0 + X[1]), 2.0 * X[0], 0.0])
    assert b.items == [2.0 * X[0], 2.0 + X[1]]  # (the caller's object changed as by the plain call)


# -- max and sorted of objects of a @total_ordering class ----------------------------------------

@functools.total_ordering
class Item:
    def __init__(self, key, val):
        self.key, self.val = key, val

    def __lt__(self, other):
        return self.key < other.key

    def __eq__(self, other):
        return self.key == other.key


def sort_and_max_of_ordered_objects(x):  # realistic program 16
    items = [Item(x[i], x[i] * (i + 1)) for i in range(3)]
    items.sort()
    best = max(items)
    return items[0].val * 10 + best.val


def min_of_two_objects_with_equal_keys(x):
    a, b = Item(x[0] * 0.0 + 1.0, x[1] ** 2), Item(1.0, x[2] * 3.0)
    return min(a, b).val + max(b, a).val * x[0]  # (equal keys: Python returns the first given)


@pytest.mark.parametrize("fn", [sort_and_max_of_ordered_objects,
                                min_of_two_objects_with_equal_keys])
def test_max_of_objects_has_the_tangent_of_the_object_it_returns(fn):
    check_all_modes(fn, [np.array([0.3, 1.2, 0.5])])
