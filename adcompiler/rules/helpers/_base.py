"""What every helper module shares: the test for the scalar 0.0 that stands for a zero adjoint of
any structure, and the error a helper raises for a case its rule does not cover. It defines no
helper of generated code (the registry does not read it)."""
from __future__ import annotations

from ...errors import AdError

_float = float


def _zero(g):
    return g.__class__ is _float and not g


def _unsupported(message, hint):
    """The AdError a helper raises for a case its rule does not cover (seen only at run time)."""
    return AdError(message, hint=hint)
