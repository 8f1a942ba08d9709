"""Forces from an energy: a Lennard-Jones cluster integrated with velocity Verlet.

The force on each atom is minus the gradient of the potential energy; adcompiler generates that
gradient from the energy function below, and the integrator conserves the total energy to the
accuracy of the time step. Run: python examples/force_field.py
"""
import numpy as np

import adcompiler as ad


def lennard_jones(positions, epsilon=1.0, sigma=1.0):
    """Total pair energy 4 eps ((s/r)^12 - (s/r)^6) over all pairs i < j."""
    n = positions.shape[0]
    energy = 0.0
    for i in range(n - 1):
        delta = positions[i + 1:] - positions[i]
        r2 = np.sum(delta ** 2, axis=1)
        inv6 = (sigma ** 2 / r2) ** 3
        energy += np.sum(4.0 * epsilon * (inv6 ** 2 - inv6))
    return energy


energy_gradient = ad.grad(lennard_jones)


def forces(positions):
    return -energy_gradient(positions)


def velocity_verlet(positions, velocities, dt, steps, mass=1.0):
    """Integrate and return the total energy at each step."""
    f = forces(positions)
    totals = []
    for _ in range(steps):
        velocities = velocities + 0.5 * dt * f / mass
        positions = positions + dt * velocities
        f = forces(positions)
        velocities = velocities + 0.5 * dt * f / mass
        totals.append(lennard_jones(positions) + 0.5 * mass * np.sum(velocities ** 2))
    return positions, np.array(totals)


def main():
    rng = np.random.RandomState(0)
    # a small cluster near the pair minimum distance 2^(1/6)
    grid = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)], float)
    positions = 1.12 * grid + 0.02 * rng.randn(8, 3)
    velocities = 0.05 * rng.randn(8, 3)
    # the gradient against central differences of the energy
    eps, i = 1e-6, (3, 1)
    moved_up, moved_down = positions.copy(), positions.copy()
    moved_up[i] += eps
    moved_down[i] -= eps
    numeric = (lennard_jones(moved_up) - lennard_jones(moved_down)) / (2 * eps)
    assert abs(energy_gradient(positions)[i] - numeric) < 1e-5 * max(1.0, abs(numeric))
    print("net force on the cluster (zero by Newton's third law):",
          np.round(forces(positions).sum(axis=0), 12))
    _, totals = velocity_verlet(positions, velocities, dt=0.002, steps=500)
    drift = abs(totals[-1] - totals[0]) / abs(totals[0])
    print("total energy: %.6f -> %.6f (relative drift %.1e over 500 steps)"
          % (totals[0], totals[-1], drift))
    assert drift < 1e-3
    print("\nthe generated gradient (first lines):")
    print("\n".join(ad.source(lennard_jones, args=(positions,)).splitlines()[:12]))


if __name__ == "__main__":
    main()
