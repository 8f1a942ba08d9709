"""``Facts``: what the optimiser may know about the names in gradient code (callees, argument
shapes, ranks, the names generated code binds), given by the compiler for the rewrites that
need them (``gradient_code``, and ``shapes`` and ``inplace`` after them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gast


@dataclass
class Facts:
    """What the optimiser may know about the names in gradient code."""

    # helper name -> positions of arguments read for their shape only
    positions: Callable[[], dict]
    # the operands whose broadcast shape is the call's (a ufunc's: all), else None
    shape_operands: Callable[[gast.Call], "list | None"]
    reduction_method: Callable[[gast.Call], "str | None"]  # np.sum(x, ...) -> "sum" (x.sum(...))
    arg_shape: Callable[[str], "tuple | None"]  # parameter -> (its axes, dtype) (see shapes.py)
    callee: Callable[[gast.Call], object]       # the object a call calls
    rank: Callable[[str], "int | None"]   # rank of a name holding a number or an ndarray, else None
    python_number: Callable[[str], bool]  # whether a name holds a Python number
    stand_in: Callable[[], str]           # the name of ``runtime.shape_of``
    builtin: Callable[[str], str]         # the name of a builtin
    bind: Callable[[str, object], str]    # (preferred name, object) -> the name generated code uses
    tape: "str | None" = None             # the name of the tape of the backward pass
