"""Objects of the user's classes with arithmetic operators, as people write small vector and
physics classes: ``c = a * 2.0 + b`` where each operator returns a new object, a name bound
again in a loop to such objects (``pos = pos + vel * dt``), and methods and attributes of the
objects the operators return; each against finite differences in every mode. A name that may
hold another value, or an operator that may return NotImplemented, is not taken for the
class's (refused where it runs). Namedtuples a function returns are read by field and position."""
import collections
from typing import NamedTuple

import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad


class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y)

    def __mul__(self, k):
        return type(self)(self.x * k, self.y * k)

    def __rmul__(self, k):
        return Vec(k * self.x, k * self.y)

    def __neg__(self):
        return self.__class__(-self.x, -self.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def norm(self):
        return np.sqrt(self.dot(self))

    def scaled(self, k):
        return type(self)(self.x * k, self.y * k)

    def itself(self):
        return self


def chained_operators(p):
    a = Vec(p[0], p[1])
    b = Vec(np.sin(p[1]), p[0] * p[1])
    c = 2.0 * a - b * 0.5 + (-a)
    d = c.scaled(1.5).itself()
    return d.norm() + c.dot(b) + d.x ** 2


def projectile(v0, drag):
    """Positions and velocities as vectors, bound again at each step of an Euler integration."""
    pos = Vec(0.0, 0.0)
    vel = Vec(v0[0], v0[1])
    gravity = Vec(0.0, -9.81)
    dt = 0.05
    for _ in range(20):
        acc = gravity - vel * (drag * vel.norm())
        vel = vel + acc * dt
        pos = pos + vel * dt
    return pos.x + 0.1 * pos.y ** 2


def test_operators_returning_new_objects_are_their_classes_methods():
    p = np.array([0.7, -0.4])
    check_all_modes(chained_operators, [p])
    assert "Vec_sub_forward" in ad.source(chained_operators)


def test_names_bound_again_in_a_loop_to_objects_of_one_class():
    check_all_modes(projectile, [np.array([3.0, 4.0]), 0.1], wrt=(0, 1))
    source = ad.source(projectile)
    assert "Vec_add_forward(pos" in source


class Lazy:
    def __init__(self, v):
        self.v = v

    def __add__(self, other):
        if not isinstance(other, Lazy):
            return NotImplemented
        return Lazy(self.v + other.v)


def maybe_number(x, flag):
    acc = Lazy(x)
    if flag:
        acc = x * 2.0  # (a number on this path: acc is not always a Lazy)
    acc = acc + Lazy(x)
    return np.sum(acc.v)


def test_a_name_that_may_hold_another_value_is_not_taken_for_the_class():
    x = np.array([0.5, 1.5])
    with pytest.raises(ad.AdError):
        ad.grad(maybe_number)(x, False)


class State:
    """The state of an oscillator, added and scaled as a whole by a Runge-Kutta step."""

    def __init__(self, q, p):
        self.q = q
        self.p = p

    def __add__(self, other):
        return State(self.q + other.q, self.p + other.p)

    def __mul__(self, h):
        return State(self.q * h, self.p * h)

    __rmul__ = __mul__


def derivative(s, k):
    return State(s.p, -k * s.q)


def rk4_energy(q0, p0, k):
    s = State(q0, p0)
    h = 0.1
    for _ in range(10):
        k1 = derivative(s, k)
        k2 = derivative(s + k1 * (h / 2), k)
        k3 = derivative(s + k2 * (h / 2), k)
        k4 = derivative(s + k3 * h, k)
        s = s + (k1 + 2 * k2 + 2 * k3 + k4) * (h / 6)
    return np.sum(s.q ** 2 + s.p ** 2 / k)


def test_a_runge_kutta_integration_of_a_state_class():
    q0, p0 = np.array([1.0, 0.3]), np.array([0.0, -0.5])
    check_all_modes(rk4_energy, [q0, p0, 2.0], wrt=(0, 1, 2))


Belief = collections.namedtuple("Belief", ["mean", "cov"])


class Moments(NamedTuple):
    mean: np.ndarray
    std: float


def predict(belief, a):
    return Belief(a * belief.mean, a * a * belief.cov)


def moments(x):
    return Moments(np.sin(x), 2.0)


def filtered(m, a):
    """A namedtuple made here, passed to a function that returns a new one, bound again."""
    b = Belief(m, np.eye(2))
    for _ in range(3):
        b = predict(b, a)
    return np.sum(b.mean ** 2) + np.trace(b.cov) * a


def summarised(x):
    """A namedtuple a function returns: read by field (``.mean``, like the array method) and by
    position."""
    p = moments(x)
    return np.sum(p.mean * p.std) + np.sum(p[0] ** 2)


def test_namedtuples_returned_by_functions_are_read_by_field_and_position():
    m = np.array([0.5, -1.0])
    check_all_modes(filtered, [m, 0.9], wrt=(0, 1))
    check_all_modes(summarised, [m])


def computed_number_times_object(drag, dt):
    vel = Vec(drag, 2.0)
    k1 = Vec(drag * drag, -dt)
    acc = Vec(0.0, -9.81) - drag * vel
    step = 0.5 * dt * k1
    return acc.x + acc.y + step.dot(vel)


def test_a_computed_number_times_an_object_is_its_reflected_method():
    check_all_modes(computed_number_times_object, [0.3, 0.1], wrt=(0, 1))
    with pytest.raises(ad.AdError, match=r"drag \* an object of class Vec .* but it is a ndarray"):
        ad.grad(computed_number_times_object)(np.array([0.3, 0.2]), 0.1)


def replaced_fields(x):
    p = moments(x)
    q = p._replace(std=p.std * np.sum(x))
    b = Belief(x, np.outer(x, x))
    c = b._replace(mean=b.mean * 2.0)
    return np.sum(q.mean * q.std) + np.sum(c.mean) + np.trace(c.cov)


def test_namedtuple_replace_makes_a_new_one_with_the_changes():
    check_all_modes(replaced_fields, [np.array([0.5, -1.0])])


def springs(x0, k):
    """Positions as vectors in a list, each updated with operators."""
    pos = [Vec(x0[0], 0.0), Vec(x0[1], 1.0), Vec(0.5, x0[0])]
    vel = [Vec(0.0, 0.0) for _ in range(3)]
    for _ in range(5):
        for i in range(3):
            j = (i + 1) % 3
            force = (pos[j] - pos[i]) * k
            vel[i] = vel[i] + force * 0.1
            pos[i] = pos[i] + vel[i] * 0.1
    return sum(p.dot(p) for p in pos)


def test_objects_in_lists_with_operators():
    check_all_modes(springs, [np.array([0.3, -0.8]), 1.7], wrt=(0, 1))


def spring_forces(ps, k):
    """A helper given a list of vectors made by its caller, making and returning another."""
    forces = [Vec(0.0, -0.1) for _ in ps]
    for i in range(len(ps) - 1):
        d = ps[i + 1] - ps[i]
        f = d * (k * (d.norm() - 0.3))
        forces[i] = forces[i] + f if i > 0 else forces[i]
        forces[i + 1] = forces[i + 1] - f
    return forces


def chain_of_masses(k, m):
    ps = [Vec(0.3 * i, -0.05 * i * m) for i in range(4)]
    vs = [Vec(0.0, 0.0) for _ in ps]
    for _ in range(5):
        forces = spring_forces(ps, k)
        vs = [v + f * (0.05 / m) for v, f in zip(vs, forces)]
        ps = [p + v * 0.05 for p, v in zip(ps, vs)]
    return sum(p.norm() for p in ps) + ps[-1].y ** 2


class Taxicab(Vec):
    def norm(self):
        return abs(self.x) + abs(self.y)


def _sum_of_norms(ps):
    return sum(p.norm() ** 2 for p in ps)


def _appended_another_class(ps):
    ps.append(Taxicab(1.0, 2.0))


def norms_after_a_helper_changed_the_list(k):
    ps = [Vec(k * i, 1.0) for i in range(3)]
    _appended_another_class(ps)
    return _sum_of_norms(ps)


def test_lists_of_objects_made_by_comprehensions_passed_to_and_returned_by_helpers():
    """``ps = [p + v * dt for p, v in zip(ps, vs)]``: the class of the entries a comprehension
    makes from entries of lists of that class (and an ``a if c else b`` of two), told to the
    helper the list is given, and learnt from the list a helper returns; both checked where the
    call runs. (The helper's operators were refused: taken for arithmetic on numbers.)"""
    check_all_modes(chain_of_masses, [30.0, 1.2], wrt=(0, 1))
    source = ad.grad(chain_of_masses).source
    assert "check_entry_classes((ps" in source and "check_entry_classes((forces" in source
    # (a helper that may change the list: its entries' class is not assumed, as it is not)
    check_all_modes(norms_after_a_helper_changed_the_list, [0.7])


class Boid:
    def __init__(self, pos, vel):
        self.pos, self.vel = pos, vel


def flock_step(boids, w, dt=0.1):
    """A helper given boids whose attributes hold vectors, making new boids."""
    moved = []
    for b in boids:
        vel = b.vel + dt * w[0] * b.pos
        moved.append(Boid(b.pos + dt * vel, vel))
    return moved


def flock(w):
    boids = [Boid(Vec(w[0], 0.0), Vec(1.0, 0.0)), Boid(Vec(1.0, w[1]), Vec(0.0, 1.0))]
    for _ in range(3):
        boids = flock_step(boids, w)
    spread = boids[0].pos - boids[1].pos
    return spread.norm() + boids[1].vel.x * w[1]


class SettlingBoid(Boid):
    def settle(self):
        self.pos = 2.0


def flock_settled(w):
    boids = [SettlingBoid(Vec(w[0], 0.0), Vec(1.0, 0.0)),
             SettlingBoid(Vec(1.0, w[1]), Vec(0.0, 1.0))]
    for b in boids:
        b.settle()   # (a number now: b.pos * 2.0 below is not Vec.__mul__)
    total = Vec(0.0, 0.0)
    for b in boids:
        total = total + Vec(b.pos * 2.0, w[0])
    return total.x + total.y


def test_attributes_of_objects_in_lists_holding_objects_of_one_class():
    """``b.pos + dt * b.vel`` of boids whose every ``pos`` and ``vel`` the function (or its caller,
    telling the helper) gave vectors: the vectors' operators, each read checked where it runs to
    be a vector (the operators were taken for arithmetic on numbers and refused)."""
    check_all_modes(flock, [np.array([0.7, -0.3])])
    assert "check_class(" in ad.grad(flock).source
    with pytest.raises(ad.AdError, match="b.pos is differentiated as an object of class Vec, "
                                         "as every SettlingBoid made here holds one there, but "
                                         "it is a float here"):
        ad.grad(flock_settled)(np.array([0.7, -0.3]))


class SlottedVec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        return SlottedVec(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return SlottedVec(self.x * k, self.y * k)

    __rmul__ = __mul__

    def norm2(self):
        return self.x ** 2 + self.y ** 2

    def push(self, k):
        self.x = self.x + k


def slotted_vectors(w):
    ps = [SlottedVec(w[0] * i, w[1]) for i in range(3)]
    total = SlottedVec(0.0, 0.0)
    for p in ps:
        total = total + 0.5 * p
    return total.norm2()


def slotted_argument_pushed(w, p):
    p.push(w[0])
    return p.x * w[1] + p.norm2()


def test_objects_of_a_class_with_slots():
    """A class with ``__slots__`` (small vector classes often have them): made here, its slots
    read and stored as plain attributes (it was refused: a descriptor's code, not followed)."""
    w = np.array([0.7, -0.3])
    check_all_modes(slotted_vectors, [w])
    check_all_modes(slotted_argument_pushed, [w, SlottedVec(1.5, 2.0)], second_order=False)
    plain, mine = SlottedVec(1.5, 2.0), SlottedVec(1.5, 2.0)
    want = slotted_argument_pushed(w, plain)
    value, _ = ad.value_and_grad(slotted_argument_pushed)(w, mine)
    assert value == pytest.approx(want) and (mine.x, mine.y) == (plain.x, plain.y)


class AffineLayer:
    __array_ufunc__ = None   # (NumPy defers X @ layer to the layer's __rmatmul__)

    def __init__(self, W, b):
        self.W, self.b = W, b

    def __rmatmul__(self, X):
        return X @ self.W + self.b


class SoftplusLayer:
    __array_ufunc__ = None

    def __rmatmul__(self, X):
        return np.logaddexp(0.0, X)


def layers_applied_with_matmul(W1, W2):
    X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    layers = [AffineLayer(W1, 0.1), SoftplusLayer(), AffineLayer(W2, -0.2)]
    h = X
    for layer in layers:
        h = h @ layer
    return np.sum(h ** 2)


def test_an_array_times_an_object_numpy_defers_to():
    """``h @ layer`` of a class setting ``__array_ufunc__ = None``: NumPy gives way, and Python
    runs ``layer.__rmatmul__(h)``, as the generated code does (it was refused: the reflected
    method taken for one Python runs for a number only)."""
    rng = np.random.default_rng(3)
    check_all_modes(layers_applied_with_matmul, [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))],
                    wrt=(0, 1))


# -- an object argument rebound by its class's operator in a helper (trial p020) -----------------

class Rotor:
    def __init__(self, w, x):
        self.w, self.x = w, x

    def __mul__(self, other):
        return Rotor(self.w * other.w - self.x * other.x, self.w * other.x + self.x * other.w)


def spin(q, angles):
    for a in angles:
        q = q * Rotor(np.cos(a), np.sin(a))  # (q: the caller's Rotor, then the products')
    return q


def spun(angles, scale):
    q = spin(Rotor(scale, 0.0), angles)
    return q.x + 0.5 * q.w ** 2


def test_an_object_argument_rebound_by_an_operator_of_its_class(rng):
    check_all_modes(spun, (rng.randn(3) * 0.5, 1.3), wrt=(0, 1))
