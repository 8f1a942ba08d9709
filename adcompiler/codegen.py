"""Pass 7: unparse generated trees with ``gast.unparse`` and compile them.

Generated functions run with the user's module globals (so module constants and helper
functions are looked up live, as in the original), the user's closure cells, and closure cells
for the objects the compiler binds (numpy, runtime helpers, derived functions). Their source is
registered with ``linecache`` so tracebacks and pdb show the generated lines.
"""
from __future__ import annotations

import ast
import itertools
import linecache
import re
import types

import gast

from .errors import GENERATED
from .ir import COMMENT, copy_tree, walk

_COMMENT_LINE = re.compile(r"^(\s*)%s\((.*)\)$" % COMMENT)
_serial = itertools.count(1)


def drop_orphan_comments(stmts):
    """Remove comments whose statements were optimised away."""
    out = []
    for i, s in enumerate(stmts):
        for field in ("body", "orelse"):
            if isinstance(getattr(s, field, None), list):
                setattr(s, field, drop_orphan_comments(getattr(s, field)))
        if _is_comment(s):
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            if nxt is None or _is_comment(nxt):
                continue
        out.append(s)
    return out


def _is_comment(s) -> bool:
    return isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
        and isinstance(s.value.func, gast.Name) and s.value.func.id == COMMENT


def _spelled(value):
    """An expression node that unparses to ``value`` wherever it stands, or None when the
    constant's own repr does: ``gast.unparse`` writes ``Constant(-2.0)`` as ``-2.0``, so
    ``(-2.0) ** 2`` would read back as ``-(2.0 ** 2)``, and ``inf``/``nan`` as undefined names."""
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        return None
    if isinstance(value, float) and value != value:
        return gast.BinOp(left=_spelled(float("inf")), op=gast.Mult(),
                          right=gast.Constant(value=0, kind=None))
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        huge = gast.Constant(value=1e999, kind=None)  # (unparses as 1e309, which reads back as inf)
        return huge if value > 0 else gast.UnaryOp(op=gast.USub(), operand=huge)
    if repr(value).startswith("-"):
        return gast.UnaryOp(op=gast.USub(), operand=_spelled(-value)
                            or gast.Constant(value=-value, kind=None))
    return None


def _spell_constants(tree) -> None:
    """Replace, in place, the constants whose repr is not valid source in every position."""
    for node in walk(tree):
        for field in node._fields:
            child = getattr(node, field, None)
            if child.__class__ is gast.Constant:
                new = _spelled(child.value)
                if new is not None:
                    setattr(node, field, new)
            elif child.__class__ is list:
                for i, item in enumerate(child):
                    if item.__class__ is gast.Constant:
                        new = _spelled(item.value)
                        if new is not None:
                            child[i] = new


def _no_empty_blocks(tree) -> None:
    """A block holding only comments (a loop whose statements were all optimised away) gets
    ``pass``: comments are not statements once unparsed."""
    for node in walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if (
                isinstance(block, list)
                and all(_is_comment(s) for s in block)
                and (block or field == "body")
            ):
                block.append(gast.Pass())


def wrap_try_regions(stmts, inside=None) -> list:
    """Generated statements that come from the body of a ``try`` (marked ``ad_try`` with its
    handlers by the normal form), wrapped in that ``try`` again: from the first to the last of a
    run of them in one block, with what generated code put between them (its tape, tangents),
    unless a block around them is (``inside``). The handlers raise, so where the boundaries fall
    changes nothing for the code after them."""
    def region(st):
        handlers = getattr(st, "ad_try", None)
        return None if handlers is inside else handlers

    out, k = [], 0
    for st in stmts:
        for field in ("body", "orelse"):
            if getattr(st, field, None):
                setattr(st, field, wrap_try_regions(getattr(st, field), region(st) or inside))
    while k < len(stmts):
        handlers = region(stmts[k])
        if handlers is None:
            out.append(stmts[k])
            k += 1
            continue
        last = max(j for j in range(k, len(stmts)) if region(stmts[j]) is handlers)
        wrapped = gast.Try(body=stmts[k:last + 1], handlers=copy_tree(handlers), orelse=[],
                           finalbody=[])
        out.append(gast.copy_location(wrapped, stmts[k]))
        k = last + 1
    return out


def to_source(tree) -> str:
    """Readable Python source: ``gast.unparse`` with comment markers turned into comments."""
    _spell_constants(tree)
    _no_empty_blocks(tree)
    for node in walk(tree):
        for attr in getattr(node, "_attributes", ()):
            if getattr(node, attr, None) is None and attr in ("lineno", "col_offset"):
                setattr(node, attr, 0)
    text = gast.unparse(tree)
    lines = []
    for line in text.splitlines():
        m = _COMMENT_LINE.match(line)
        if m:
            lines.append("%s# %s" % (m.group(1), ast.literal_eval(m.group(2))))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def user_lines(defs, source: str) -> dict:
    """{line of ``source``: (line, column) of the user's statement it was generated from, as
    ``located`` gave it} for ``source``, the text of the gast ``defs`` (comment markers made
    comments): the statements of both, in the same order, are the same."""
    made = [s for d in defs for s in _statements(d) if not (
        isinstance(s, gast.Expr) and isinstance(s.value, gast.Call)
        and isinstance(s.value.func, gast.Name) and s.value.func.id == COMMENT)]
    parsed = list(_statements(ast.parse(source)))[1:]
    lines = {}
    if len(made) != len(parsed):
        return lines
    for generated, text in zip(made, parsed):  # (outer statements first: inner ones override)
        if getattr(generated, "lineno", 0):
            for line in range(text.lineno, (text.end_lineno or text.lineno) + 1):
                lines[line] = (generated.lineno, generated.col_offset)
    return lines


def _statements(node):
    """``node`` and the statements in its blocks, in source order (gast's or ast's)."""
    yield node
    for field_ in ("body", "handlers", "orelse", "finalbody"):
        for inner in getattr(node, field_, None) or ():
            yield from _statements(inner)


def compile_functions(source: str, names: list[str], parsed, bindings: dict, label: str,
                      located=None) -> dict:
    """Compile ``source`` (one or more top-level defs) into functions that see the user's
    globals and closure cells (``parsed``) plus ``bindings`` (name -> object) as closure
    variables. ``located``: (the gast defs of ``source``, their ``Location``), for AdErrors
    raised while the code runs to name the user's line (see ``errors.GENERATED``)."""
    free = sorted(bindings)
    user_fn = parsed.fn
    user_cells = dict(parsed.cells)
    params = free + [n for n in sorted(user_cells) if n not in bindings]
    factory = "def __adcompiler_factory__(%s):\n" % ", ".join(params)
    body = "".join("    " + line + "\n" if line.strip() else "\n" for line in source.splitlines())
    factory_src = factory + body + "    return (%s,)\n" % ", ".join(names)
    filename = "<adcompiler:%s:%d>" % (label, next(_serial))
    code = compile(factory_src, filename, "exec")
    linecache.cache[filename] = (len(factory_src), None, factory_src.splitlines(True), filename)
    if located is not None:  # (the factory's first line comes before the source's)
        defs, loc = located
        GENERATED[filename] = (loc, {line + 1: at for line, at in user_lines(defs, source).items()})
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    cells = {n: types.CellType(v) for n, v in bindings.items()}
    cells.update({n: c for n, c in user_cells.items() if n not in bindings})
    globals_ = user_fn.__globals__ if user_fn is not None else {"__builtins__": __builtins__}
    siblings = {n: types.CellType() for n in names}
    cells.update(siblings)
    out = {}
    for inner in factory_code.co_consts:
        if isinstance(inner, types.CodeType) and inner.co_name in names:
            closure = tuple(cells[n] for n in inner.co_freevars)
            out[inner.co_name] = types.FunctionType(inner, globals_, inner.co_name, None, closure)
    for n, fn in out.items():
        siblings[n].cell_contents = fn  # generated functions may call each other
    return out
