"""User control over differentiation: stop_gradient, custom rules (defvjp/defjvp), gradient
hooks (insert_grad_of) and checkpoints."""
from __future__ import annotations

import functools
from typing import Any, Callable

from . import hooks
from .parse import unwrap

USER_VJPS: dict = {}
USER_JVPS: dict = {}
# forward rules of adcompiler's own functions that generated code calls (gradient_vjp, ...):
# apart from the user's, which a user (or a test) may clear
BUILTIN_JVPS: dict = {}


def stop_gradient(x: Any) -> Any:
    """Identity in value; no gradient flows through it (like ``detach``)."""
    return x


def _invalidate():
    if hooks.clear_cache is not None:
        hooks.clear_cache()


def defvjp(fn: Callable, rule: Callable) -> None:
    """Register a reverse rule for ``fn``: ``rule(g, ans, *args, **kwargs)`` returns one cotangent
    per positional argument (None: not differentiable). Generated code calls the rule by name and
    no longer traces into ``fn``."""
    USER_VJPS[_key(fn)] = rule
    _invalidate()


def defjvp(fn: Callable, rule: Callable) -> None:
    """Register a forward rule for ``fn``: ``rule(ans, args, tangents)`` returns the output tangent
    (``tangents`` holds 0.0 for arguments without one)."""
    USER_JVPS[_key(fn)] = rule
    _invalidate()


def user_rules(fn) -> tuple:
    """(reverse rule, forward rule) registered for ``fn`` (None for one not registered)."""
    try:
        key = _key(fn)
        return USER_VJPS.get(key), USER_JVPS.get(key) or BUILTIN_JVPS.get(key)
    except TypeError:  # (an unhashable callable: np.poly1d)
        return None, None


def _key(fn):
    return unwrap(fn)


class insert_grad_of:
    """``with ad.insert_grad_of(x) as dx: ...`` runs its block in the backward pass, where ``dx``
    is the adjoint of ``x`` accumulated from the code after the block; the block may reassign
    ``dx``. Outside differentiated code the block runs as plain Python with ``dx = None``."""

    def __init__(self, x: Any):
        self.x = x

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class _Checkpointed:
    """A function whose calls store only their inputs; the backward pass recomputes the rest."""

    def __init__(self, fn: Callable):
        self.fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)


def checkpoint(fn: Callable) -> Callable:
    """Mark ``fn`` so that calls to it inside differentiated code keep only their arguments on the
    tape and recompute intermediates in the backward pass (memory for time)."""
    return _Checkpointed(fn)
