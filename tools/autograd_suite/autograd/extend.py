"""autograd.extend on adcompiler: ``primitive`` marks a function, ``defvjp`` / ``defjvp``
register autograd-style rule makers as adcompiler custom rules."""
import functools

import adcompiler as ad


def primitive(fun):
    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        return fun(*args, **kwargs)
    return wrapped


def defvjp(fun, *makers, argnums=None):
    positions = list(argnums) if argnums is not None else list(range(len(makers)))

    def rule(g, ans, *args, **kwargs):
        cotangents = [None] * len(args)
        for position, maker in zip(positions, makers):
            if maker is not None and position < len(args):
                cotangents[position] = maker(ans, *args, **kwargs)(g)
        return tuple(cotangents)
    ad.defvjp(fun, rule)


def defjvp(fun, *makers, argnums=None):
    positions = list(argnums) if argnums is not None else list(range(len(makers)))

    def rule(ans, args, tangents):
        total = 0.0
        for position, maker in zip(positions, makers):
            if maker is not None and position < len(args) and tangents[position] is not None:
                total = total + maker(tangents[position], ans, *args)
        return total
    ad.defjvp(fun, rule)
