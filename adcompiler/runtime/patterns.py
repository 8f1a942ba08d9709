"""Helpers for Python's structural constructs as the normal form spells them: a ``match``
statement's sequence and mapping patterns (``normalize.matches``), the number of tuples
``zip(*rows)`` makes (``normalize.loops``), the check that ``d.setdefault(k, v)``, spelled
out as a dict's (``normalize.dicts``), is a dict's, and what a ``with`` statement's context
manager gives and whether it let its block run to the end (``normalize.statements``). They
compute no derivative."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._base import _effectful


@_effectful
def check_dict(value, refusal):
    """Raise ``refusal`` (naming the type) unless ``value`` is a dict."""
    if value.__class__ is not dict:
        raise refusal(type(value).__name__)


def zip_length(rows):
    """How many tuples ``zip(*rows)`` makes: the length of the shortest row (0 for no rows)."""
    return min(map(len, rows), default=0)


def match_sequence(subject, count, star):
    """Whether a sequence pattern of ``count`` entries (at least, with a ``*rest``: ``star``)
    matches ``subject`` as ``match`` decides: a sequence, not a string, of that length."""
    if isinstance(subject, (str, bytes, bytearray)) or not isinstance(subject, Sequence):
        return False
    return len(subject) >= count if star else len(subject) == count


def match_mapping(subject, keys):
    """Whether a mapping pattern with ``keys`` matches ``subject``: a mapping holding them."""
    return isinstance(subject, Mapping) and all(k in subject for k in keys)


def context_value(value, manager):
    """``value``, what ``with manager as value`` bound: its rule refuses a ``manager`` that
    depends on the differentiated arguments (what its ``__enter__`` returns is not
    differentiated)."""
    return value


@_effectful
def check_block_done(done, refusal):
    """Raise ``refusal`` unless the block of a ``with`` ran to its end (``done``): its context
    manager may have suppressed an exception, and the statements after it did not run."""
    if not done:
        raise refusal()
