"""A one-dimensional GAN trained by alternating updates, with ``ad.stop_gradient``.

The generator maps noise z ~ N(0, 1) to ``mu + exp(log_sigma) * z``; the discriminator's
log-odds that x is real are quadratic in x (the exact form for two Gaussians). Each player's
loss involves the other's parameters, which it must treat as constants:

- the generator's loss wraps the discriminator's parameters in ``ad.stop_gradient``;
- the discriminator's loss wraps the generated samples in ``ad.stop_gradient``.

The gradient w.r.t. the stopped parameters is exactly zero (although the loss's value depends
on them: finite differences are not zero), the other gradient matches finite differences, and a
single objective holding both losses gives both players' updates in one call. Training then
moves the generated distribution to the data's N(3, 0.5^2).

Run: python examples/gan_stop_gradient.py (ADCOMPILER_EXAMPLES_FAST=1: fewer steps)
"""
import os
import time

import numpy as np

import adcompiler as ad

FAST = os.environ.get("ADCOMPILER_EXAMPLES_FAST", "") not in ("", "0")
REAL_MEAN, REAL_STD = 3.0, 0.5


def generate(gen, z):
    return gen[0] + np.exp(gen[1]) * z


def discriminate(disc, x):
    """Log-odds that ``x`` is a real sample."""
    return disc[0] + disc[1] * x + disc[2] * x ** 2


def generator_loss(gen, disc, z):
    """Non-saturating generator loss: -log D(G(z)), the discriminator held fixed."""
    fake = generate(gen, z)
    return np.mean(np.logaddexp(0.0, -discriminate(ad.stop_gradient(disc), fake)))


def discriminator_loss(disc, gen, z, real, decay=0.01):
    """Cross-entropy of telling real from generated samples (which are held fixed), with a
    small weight decay that damps the players' rotation around the equilibrium."""
    fake = ad.stop_gradient(generate(gen, z))
    return (np.mean(np.logaddexp(0.0, -discriminate(disc, real)))
            + np.mean(np.logaddexp(0.0, discriminate(disc, fake))) + decay * np.sum(disc ** 2))


def both_losses(gen, disc, z, real):
    """One objective whose gradient w.r.t. ``gen`` is the generator's and w.r.t. ``disc`` the
    discriminator's: each term stops the other player's gradient."""
    return generator_loss(gen, disc, z) + discriminator_loss(disc, gen, z, real)


def central_differences(f, args, position, eps=1e-6):
    x = args[position]
    out = np.zeros_like(x)
    for i in range(x.size):
        up, down = list(args), list(args)
        up[position], down[position] = x.copy(), x.copy()
        up[position][i] += eps
        down[position][i] -= eps
        out[i] = (f(*up) - f(*down)) / (2 * eps)
    return out


class Adam:
    def __init__(self, size, rate, beta1=0.5, beta2=0.999, eps=1e-8):
        self.m, self.v, self.t = np.zeros(size), np.zeros(size), 0
        self.rate, self.beta1, self.beta2, self.eps = rate, beta1, beta2, eps

    def step(self, params, gradient):
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * gradient
        self.v = self.beta2 * self.v + (1 - self.beta2) * gradient ** 2
        m_hat, v_hat = self.m / (1 - self.beta1 ** self.t), self.v / (1 - self.beta2 ** self.t)
        return params - self.rate * m_hat / (np.sqrt(v_hat) + self.eps)


def check_player(title, loss, args, names):
    """The gradient of ``loss`` w.r.t. its first argument (the player it trains) against finite
    differences, and w.r.t. its second (the other player, stopped): zero, though finite
    differences are not. Returns the first."""
    trained, stopped = ad.grad(loss, wrt=(0, 1))(*args)
    numeric = [central_differences(loss, args, k) for k in (0, 1)]
    print(title + ":")
    print("  d/d %s: adcompiler" % names[0], trained, " finite differences", numeric[0])
    print("  d/d %s: adcompiler" % names[1], stopped, "(stopped)  finite differences", numeric[1])
    np.testing.assert_allclose(trained, numeric[0], rtol=1e-6, atol=1e-9)
    assert np.all(stopped == 0.0) and np.max(np.abs(numeric[1])) > 1e-2
    return trained


def check_gradients(rng):
    gen, disc = np.array([0.5, -0.3]), np.array([0.2, 0.4, -0.1])
    z, real = rng.randn(64), REAL_MEAN + REAL_STD * rng.randn(64)
    np.set_printoptions(precision=6, suppress=True)

    check_player("generator loss", generator_loss, (gen, disc, z), ("gen ", "disc"))
    d_disc = check_player("discriminator loss", discriminator_loss, (disc, gen, z, real),
                          ("disc", "gen "))

    both_gen, both_disc = ad.grad(both_losses, wrt=(0, 1))(gen, disc, z, real)
    np.testing.assert_allclose(both_gen, ad.grad(generator_loss)(gen, disc, z), rtol=1e-12)
    np.testing.assert_allclose(both_disc, d_disc, rtol=1e-12)
    print("one objective with both losses: its gradient is (generator's, discriminator's)")
    print("the generated generator gradient returns a zero for the stopped argument:")
    code = ad.source(generator_loss, wrt=(0, 1), args=(gen, disc, z)).splitlines()
    print("\n".join(line for line in code if "stop_gradient" in line or "return" in line))


def train(rng):
    steps, rate = (400, 0.02) if FAST else (1500, 0.01)
    gen, disc = np.zeros(2), np.zeros(3)
    gen_optimizer, disc_optimizer = Adam(2, rate), Adam(3, 0.05)
    d_step, g_step = ad.grad(discriminator_loss), ad.grad(generator_loss)
    batch = 512
    start = time.perf_counter()
    print("\ntraining (3 discriminator steps per generator step, batches of %d):" % batch)
    for step in range(steps + 1):
        if step % (steps // 5) == 0:
            print("  step %4d  generated N(%.3f, %.3f^2)  discriminator log-odds "
                  "%+.3f %+.3f x %+.3f x^2" % ((step, gen[0], np.exp(gen[1])) + tuple(disc)))
        if step == steps:
            break
        for _ in range(3):
            z, real = rng.randn(batch), REAL_MEAN + REAL_STD * rng.randn(batch)
            disc = disc_optimizer.step(disc, d_step(disc, gen, z, real))
        gen = gen_optimizer.step(gen, g_step(gen, disc, rng.randn(batch)))
    print("  %d steps in %.2f s; data: N(%.1f, %.1f^2)"
          % (steps, time.perf_counter() - start, REAL_MEAN, REAL_STD))
    assert abs(gen[0] - REAL_MEAN) < 0.15 and abs(np.exp(gen[1]) - REAL_STD) < 0.15, gen


def main():
    rng = np.random.RandomState(0)
    check_gradients(rng)
    train(rng)


if __name__ == "__main__":
    main()
