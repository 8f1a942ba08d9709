"""A user module of helpers that copy their inputs, then update the copies in place (they never
write into the caller's arrays), and one that writes into a list's entries after copying it."""


def leapfrog(q, p, grad_u, eps, n_steps):
    q = q.copy()
    p = p.copy()
    p -= 0.5 * eps * grad_u(q)
    for i in range(n_steps):
        q += eps * p
        if i != n_steps - 1:
            p -= eps * grad_u(q)
    p -= 0.5 * eps * grad_u(q)
    return q, -p


def damp(x, c):
    x = x.copy()
    x *= c
    return x


def scale_first(xs, c):
    xs = xs.copy()  # (a list: its entries are the caller's arrays)
    xs[0] *= c
    return xs
