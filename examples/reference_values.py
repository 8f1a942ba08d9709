"""Reproduce the reference values of the lecture material (SPEC section 7).

    python examples/reference_values.py
"""
import numpy as np

import adcompiler as ad

T_C = np.array([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
T_U = np.array([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def seed_xy(x, y):
    return x * (x + y) ** 2


def seed_three(x1, x2, x3):
    return 6 * (x1 + x2 ** 2 * x3)


def seed_poly(x):
    return 2 * x ** 3 - 6 * x ** 2 + x + 1


def seed_bowl(x, y):
    return 2 * x ** 2 + 3 * y ** 2


def seed_scalar(x1, x2):
    return x1 * (x1 + x2)


def squares(x):
    return x ** 2


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(params, t_u, t_c):
    t_p = model(t_u, params[0], params[1])
    return np.mean((t_p - t_c) ** 2)


def sin_sum(w, b):
    return np.sum(np.sin(w * 3 + b))


def main():
    print("x*(x+y)**2 at (3,-1):        ", ad.grad(seed_xy, wrt=(0, 1))(3.0, -1.0))
    print("6(x1+x2^2 x3) at (1,2,3):    ", ad.grad(seed_three, wrt=(0, 1, 2))(1.0, 2.0, 3.0))
    print("2x^3-6x^2+x+1 at 2:          ", ad.grad(seed_poly)(2.0))
    print("2x^2+3y^2 at (4,5):          ", ad.grad(seed_bowl, wrt=(0, 1))(4.0, 5.0))
    print("x1*(x1+x2) at (2,3):         ", ad.grad(seed_scalar, wrt=(0, 1))(2.0, 3.0))
    x = np.array([1.0, 2.0, 3.0])
    out, pullback = ad.vjp(squares, x)
    print("e = x**2, e.backward(v):     ", pullback(np.array([-5.0, 2.0, 6.0]))[0], "= 2x * v")
    print("regression gradient at (1,0):", ad.grad(loss_fn)(np.array([1.0, 0.0]), T_U, T_C))
    dloss = ad.grad(loss_fn)
    params = np.array([1.0, 0.0])
    t_un = 0.1 * T_U
    for _ in range(5000):
        params = params - 1e-2 * dloss(params, t_un, T_C)
    print("after 5000 steps:            ", params, "loss %.6f" % loss_fn(params, t_un, T_C))
    w = np.linspace(0, 2 * np.pi, 25)
    print("d sum(sin(3w+b)) / dw [:4]:  ", ad.grad(sin_sum)(w, w.copy())[:4], "= 3 cos(4w)")
    print("hessian of 2x^2+3y^2 in x:   ", ad.hessian(seed_bowl)(4.0, 5.0))
    print("second derivative of poly:   ", ad.grad(ad.grad(seed_poly))(2.0))


if __name__ == "__main__":
    main()
