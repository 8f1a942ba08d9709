"""Differentiate a function, print the gradient and the code adcompiler generated for it.

    python examples/quickstart.py
"""
import numpy as np

import adcompiler as ad


def f(x, y):
    return x * (x + y) ** 2


def loss(w, b, x, y):
    pred = np.tanh(x @ w + b)
    return np.mean((pred - y) ** 2)


def logsumexp(a):
    largest = a[0]
    for i in range(1, len(a)):
        if a[i] > largest:
            largest = a[i]
    total = 0.0
    for i in range(len(a)):
        total += np.exp(a[i] - largest)
    return np.log(total) + largest


if __name__ == "__main__":
    df = ad.grad(f, wrt=(0, 1))
    print("grad of x * (x + y) ** 2 at (3, -1):", df(3.0, -1.0), "(expected (16.0, 12.0))")
    print()
    print(ad.source(f, wrt=(0, 1)))

    rng = np.random.RandomState(0)
    w, b, x, y = rng.randn(3, 2), np.zeros(2), rng.randn(5, 3), rng.randn(5, 2)
    dw, db = ad.grad(loss, wrt=("w", "b"))(w, b, x, y)
    print("d loss / d w:\n", dw)
    print("d loss / d b:", db)
    print()
    a = np.array([1.0, 2.0, 3.0, 4.0])
    print("grad of logsumexp (a loop with a running max):", ad.grad(logsumexp)(a))
    print("softmax(a) for comparison:                     ", np.exp(a) / np.sum(np.exp(a)))
    print()
    print(ad.source(logsumexp))
