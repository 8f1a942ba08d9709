"""autograd.tracer: ``primitive`` as in autograd.extend; values are never boxed."""
from .extend import primitive  # noqa: F401


def getval(x):
    return x


def isbox(x):
    return False
