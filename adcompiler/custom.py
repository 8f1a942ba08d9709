"""User control over differentiation: stop_gradient (and custom rules, hooks, checkpoints)."""
from __future__ import annotations

from typing import Any


def stop_gradient(x: Any) -> Any:
    """Identity in value; no gradient flows through it (like ``detach``)."""
    return x
