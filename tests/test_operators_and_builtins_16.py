"""Trial 16's refusals of ordinary code: ``itertools.islice`` and ``itertools.starmap``, ``sum``
of objects through ``__radd__``, loops over an object through its ``__iter__``, operators of
the user's classes (``|`` through ``__or__``, an ``__add__`` that picks how to read its operand
with ``isinstance``, ``@``), each against finite differences in every mode; and the builtins
still refused (``collections.deque``, ``vars(obj)``, partials kept in a list, ``next()`` on a
generator), each with an AdError naming the construct and a fix."""
import collections
import functools
import itertools

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad


def sliced_pairs(x):
    return sum(a * b for a, b in zip(x, itertools.islice(x, 1, None)))


def sliced_bounds(x):
    n = 2
    return sum(v ** 3 for v in itertools.islice((x * 2).tolist(), n)) \
        + sum(itertools.islice(x, 0, 3, 2))


def starred_lambda(x):
    return sum(itertools.starmap(lambda a, b: a * b, zip(x, x[::-1])))


def mul3(a, b, c=1.0):
    return a * b * c


def starred_function(x):
    pts = [(x[0], x[1]), (x[1], x[2], 2.0)]
    return sum(v for v in itertools.starmap(mul3, pts)) \
        + max(itertools.starmap(pow, [(x[0], 2), (x[2], 3)]))


@pytest.mark.parametrize("fn", [sliced_pairs, sliced_bounds, starred_lambda, starred_function])
def test_islice_and_starmap(fn):
    check_all_modes(fn, [np.array([0.3, 1.2, 0.5])])


def sliced_count(x):
    return sum(k * x[0] for k in itertools.islice(itertools.count(), 3))


def test_islice_of_an_endless_iterator_is_refused():
    with pytest.raises(ad.AdError, match=r"endless iterator, itertools.count"):
        ad.grad(sliced_count)(np.array([1.0, 2.0]))


class W:
    def __init__(self, a):
        self.a = a

    def __add__(self, o):
        return W(self.a + o.a)

    def __radd__(self, o):
        return self if o == 0 else W(o + self.a)

    def __mul__(self, k):
        return W(self.a * k)


def summed_list(x):
    vs = [W(x[:2] * k) for k in (1.0, 2.0, 3.0)]
    return np.sum(sum(vs).a ** 2)


def summed_generator(x):
    t = sum(W(x[:2] * k) for k in (1.0, 2.0, 3.0))
    return np.sum(t.a ** 2)


def summed_from_start(x):
    vs = [W(x[:2]), W(x[1:])]
    t = sum([v * 2.0 for v in vs], W(np.zeros(2)))
    return np.sum(t.a ** 2)


class P:
    def __init__(self, a):
        self.a = a

    def __add__(self, o):
        return P(self.a * o.a)


def added_in_a_loop(x):
    vs = [P(x[:2] * k) for k in (1.0, 2.0, 3.0)]
    total = P(np.ones(2))
    for v in vs:
        total = total + v
    return np.sum(total.a)


@pytest.mark.parametrize("fn", [summed_list, summed_generator, summed_from_start])
def test_sum_of_objects_through_radd_is_refused_with_a_loop_as_the_fix(fn):
    # (sum's rule adds the entries' values, but Python runs the class's __add__/__radd__,
    # which may compute anything: a silent wrong gradient before, a refusal now)
    x = np.array([0.3, 1.2, 0.4])[:3 if fn is summed_from_start else 2]
    with pytest.raises(ad.AdError, match=r"sum\(\) of objects of your class W runs its __add__"):
        ad.grad(fn)(x)
    with pytest.raises(ad.AdError, match=r"total = W\(...\); for v in vs"):
        ad.jvp(fn, (x,), (np.ones_like(x),))


def test_objects_added_in_a_loop():
    check_all_modes(added_in_a_loop, [np.array([0.3, 1.2])])


class Poly:
    def __init__(self, c):
        self.c = c

    def __iter__(self):
        return iter(self.c)


class Gen:
    def __init__(self, c):
        self.c = c

    def __iter__(self):
        yield from self.c


class Pair:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def __iter__(self):
        return iter((self.a, self.b))


class Reversed:
    def __init__(self, c):
        self.c = c

    def __iter__(self):
        return iter(self.c[::-1])


def loop_over_object(x):
    p = Poly([x[0], x[1] * 2, x[2]])
    s = 0.0
    for v in p:
        s = s + v * v
    return s


def generator_over_object(x):
    g = Gen([x[0], x[1] * 2, x[2]])
    total = sum(v * v for v in g)
    poly = Poly([x[0], x[2] ** 2])
    for i, v in enumerate(poly):
        total += (i + 1) * v
    return total


def loop_over_object_argument(x, tr):
    out = 0.0
    for v in tr:
        out += v * x[0] ** 2
    return out


def test_loops_over_objects_through_their_iter():
    x = np.array([0.3, 1.2, 0.5])
    check_all_modes(loop_over_object, [x])
    check_all_modes(generator_over_object, [x])
    check_all_modes(loop_over_object_argument, [x, Poly([1.0, x[1]])])


def loop_over_reversed(x):
    r = Reversed([x[0], x[1]])
    pair = Pair(x[0], x[1])
    return sum(v * v for v in r) + sum(v for v in pair)


def test_a_loop_over_another_iter_is_refused():
    with pytest.raises(ad.AdError, match=r"iterating over an object of your class \(its __iter__\)"):
        ad.grad(loop_over_reversed)(np.array([1.0, 2.0]))


class V:
    def __init__(self, a):
        self.a = a

    def __add__(self, o):
        return V(self.a + (o.a if isinstance(o, V) else o))

    def __rmul__(self, s):
        return V(s * self.a)

    def dot(self, o):
        return np.dot(self.a, o.a)


class Z:
    def __init__(self, z):
        self.z = z

    def __add__(self, o):
        return Z(self.z + o.z)

    def __or__(self, o):
        return Z(1.0 / (1.0 / self.z + 1.0 / o.z))


class Mat:
    def __init__(self, m):
        self.m = m

    def __matmul__(self, o):
        return Mat(self.m @ o.m)

    def trace(self):
        return np.trace(self.m)


def isinstance_dispatch(x):
    u = V(x[:2])
    w = V(x[2:])
    z = u + w
    y = 2.0 * z + 1.5
    return z.dot(y)


def parallel_impedance(x):
    tot = (Z(x[0]) | Z(x[1])) + Z(x[2])
    return tot.z ** 2


def matrix_product(x):
    a = Mat(x.reshape(2, 2))
    b = Mat(np.sin(x).reshape(2, 2))
    c = a @ b
    return c.trace()


@pytest.mark.parametrize("fn", [isinstance_dispatch, parallel_impedance, matrix_product])
def test_operators_of_user_classes(fn):
    check_all_modes(fn, [np.array([0.3, 1.2, 0.5, 0.7])[:3 if fn is parallel_impedance else 4]])


def bounded_buffer(x):
    d = collections.deque(maxlen=2)
    for v in x:
        d.append(v * 2)
    return d[0] * d[-1]


class M:
    def __init__(self, w):
        self.w = w
        self.b = 2.0


def attributes_by_vars(x):
    m = M(x)
    return sum(np.sum(v ** 2) for v in vars(m).values())


def affine(v, a, b=0.0):
    return a * v + b


def partials_in_a_list(x):
    fs = [functools.partial(affine, a=x[0]), functools.partial(affine, b=x[1], a=2.0)]
    v = x[2]
    for f in fs:
        v = f(v)
    return v ** 2


def next_of_a_generator(x):
    g = (v * v for v in x)
    first = next(g)
    return first * 10 + sum(g)


@pytest.mark.parametrize("fn, match", [
    (bounded_buffer, r"collections.deque: a deque is not differentiated(.|\n)*buf = buf\[-n:\]"),
    (attributes_by_vars, r"vars: the dict of an object's attributes(.|\n)*by name"),
    (partials_in_a_list, r"functools.partial: a partial is differentiated when it is bound "
                         r"(.|\n)*line 2\d\d"),
    (next_of_a_generator, r"'g' holds a generator(.|\n)*make a list")])
def test_builtins_still_refused_name_the_construct_and_a_fix(fn, match):
    with pytest.raises(ad.AdError, match=match):
        ad.grad(fn)(np.array([0.3, 1.2, 0.5]))


def test_the_refused_builtins_are_fine_on_values_not_depending_on_wrt():
    def f(x):
        d = collections.deque([1.0, 2.0], maxlen=2)
        return x[0] * d[-1] + len(vars(M(1.0)))
    assert ad.grad(f)(np.array([0.5, 1.0]))[0] == 2.0
