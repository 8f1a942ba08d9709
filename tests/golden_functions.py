"""Canonical functions whose generated code is kept as golden files in tests/golden/."""
import numpy as np


def seed_xy(x, y):
    return x * (x + y) ** 2


def softmax_xent(x, label):
    e_x = np.exp(x - np.max(x))
    p = e_x / np.sum(e_x, axis=0)
    return -np.log(p[label])


def loop_power(x, n):
    y = 1.0
    for i in range(n):
        y = y * x
    return y


def branchy(x):
    if x > 0:
        y = x * 3.0
    elif x > -1:
        y = x * x
    else:
        y = -x
    return y


def build_in_place(x):
    y = np.zeros(3)
    y[:2] = x
    y[2] = x[0] * y[0]
    return np.sum(y * y)


def layers(x, w1, w2):
    h = x
    for k in range(2):
        w = w1 if k == 0 else w2
        z = h @ w
        if k == 0:
            h = np.maximum(z, 0.0) * z
        else:
            h = np.tanh(z) + z
    return np.sum(h * h)


def write_through_a_view(A):
    t = A[0:2]
    A[0] = A[1] * 2.0        # (changes t too: t is bound again after the write)
    return np.sum(t * t) + np.sum(A)


def guarded_division(x, y):
    try:
        ratio = x / y
        if not np.all(np.isfinite(ratio)):
            raise FloatingPointError("division by zero")
    except FloatingPointError as error:
        raise ValueError("y has a zero entry") from error
    return np.sum(ratio * x)


class Particle:
    def __init__(self, pos, vel):
        self.pos = pos
        self.vel = vel

    def step(self, force, dt):
        self.vel = self.vel + force * dt
        self.pos = self.pos + self.vel * dt


def particles_step(k, particles):
    for p in particles:
        p.step(-k * p.pos, 0.1)
    return sum(np.sum(p.pos ** 2) for p in particles)


PARTICLES = (1.3, [Particle(np.array([1.0, 2.0]), np.zeros(2)),
                   Particle(np.array([0.5, -1.0]), np.zeros(2))])


class Bead:
    def __init__(self, x):
        self.x = x
        self.force = 0.0


def pull(bead, f):
    bead.force = bead.force + f


def shared_beads(x):
    beads = [Bead(x[0]), Bead(x[1])]
    for a, b in [(beads[0], beads[1])]:
        f = b.x - a.x
        pull(a, f)
        pull(b, -f)
    return sum(bead.force * bead.x for bead in beads)


CASES = {
    "shared_beads.reverse": (shared_beads, dict(args=(np.array([0.3, 1.2]),))),
    "shared_beads.forward": (shared_beads, dict(mode="forward", args=(np.array([0.3, 1.2]),))),
    "layers.reverse": (layers, dict(wrt=(0, 1, 2))),
    "seed_xy.reverse": (seed_xy, dict(wrt=(0, 1))),
    "seed_xy.forward": (seed_xy, dict(wrt=(0, 1), mode="forward")),
    "seed_xy.split": (seed_xy, dict(wrt=(0, 1), mode="split")),
    "softmax_xent.reverse": (softmax_xent, dict()),
    "loop_power.reverse": (loop_power, dict()),
    "branchy.reverse": (branchy, dict()),
    "build_in_place.reverse": (build_in_place, dict()),
    "write_through_a_view.reverse": (write_through_a_view, dict()),
    "write_through_a_view.forward": (write_through_a_view, dict(mode="forward")),
    "guarded_division.reverse": (guarded_division, dict(wrt=(0, 1))),
    "guarded_division.forward": (guarded_division, dict(wrt=(0, 1), mode="forward")),
    "particles_step.reverse": (particles_step, dict(args=PARTICLES)),
}
