"""The Jacobian of an ODE's right-hand side for a stiff solver.

Robertson's chemical kinetics problem is a classic stiff system: implicit solvers (BDF, Radau)
need the Jacobian of the right-hand side at every Newton step. adcompiler's forward-mode
Jacobian replaces the hand-derived one; the solution and the number of steps match.
Run: python examples/stiff_ode.py (needs SciPy)
"""
import numpy as np
from scipy.integrate import solve_ivp

import adcompiler as ad


def robertson(t, y, k1=0.04, k2=3e7, k3=1e4):
    a, b, c = y[0], y[1], y[2]
    return np.array([-k1 * a + k3 * b * c,
                     k1 * a - k3 * b * c - k2 * b ** 2,
                     k2 * b ** 2])


jacobian_of_y = ad.jacobian(robertson, wrt=1, mode="forward")


def hand_written_jacobian(t, y, k1=0.04, k2=3e7, k3=1e4):
    a, b, c = y
    return np.array([[-k1, k3 * c, k3 * b],
                     [k1, -k3 * c - 2 * k2 * b, -k3 * b],
                     [0.0, 2 * k2 * b, 0.0]])


def main():
    y0 = np.array([1.0, 0.0, 0.0])
    probe = np.array([0.7, 2e-5, 0.3])
    np.testing.assert_allclose(jacobian_of_y(0.0, probe), hand_written_jacobian(0.0, probe),
                               rtol=1e-12, atol=1e-12)
    runs = {}
    for label, jac in (("adcompiler", jacobian_of_y), ("by hand", hand_written_jacobian)):
        runs[label] = solve_ivp(robertson, (0.0, 1e5), y0, method="BDF", jac=jac,
                                rtol=1e-8, atol=1e-10)
    for label, sol in runs.items():
        print("%-10s: y(1e5) = %s, %d steps, %d Jacobian evaluations"
              % (label, np.array2string(sol.y[:, -1], precision=6), sol.t.size, sol.njev))
    np.testing.assert_allclose(runs["adcompiler"].y[:, -1], runs["by hand"].y[:, -1], rtol=1e-6)
    print("mass is conserved: sum(y) = %.12f" % runs["adcompiler"].y[:, -1].sum())


if __name__ == "__main__":
    main()
