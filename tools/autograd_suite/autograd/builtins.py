"""autograd.builtins: the plain Python containers (adcompiler differentiates them as they are)."""
from builtins import dict, isinstance, list, tuple, type  # noqa: F401
