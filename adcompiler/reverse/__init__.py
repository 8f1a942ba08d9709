"""Pass 5: reverse mode. Turns the three-address form into a forward pass (the primal code plus
tape records) and a backward pass (adjoint statements in reverse order). ``ReverseMode`` (in
``mode``) gathers the modules that do each job: ``contributions`` (what each statement adds to
which adjoint: the rules instantiated), ``forward_sweep`` (the primal code with its records),
``taping`` (which values the backward pass reads that the forward pass must record, and the tape
pushes and pops), ``backward`` (the backward sweep over blocks, branches and loops),
``backward_calls`` and ``backward_stores`` (the backward statements of calls, and of reads and
writes of elements and attributes), ``adjoint_state`` (which adjoints are live, owned, uniform or
maybe zero, and the accumulation that keeps track of it).

Invariants of the generated backward pass
- the adjoint of ``x`` is ``dx``; a zero adjoint is never materialised unless control flow needs
  it, and then as the scalar ``0.0``;
- a value the backward pass reads is read directly when it cannot have changed since the
  statement that used it ran; otherwise the forward pass records it, in a fresh name outside loops
  or on the tape (a list, ``tape.append`` / ``tape.pop``) inside loops;
- in-place updates (``add_at``, ``take_adjoint``) only touch adjoint arrays the code owns.
"""
from .mode import ReverseMode

__all__ = ["ReverseMode"]
