"""``ad.graph``: the three-address form of a function (or, with ``backward=True``, its generated
gradient) as a graph in Graphviz's DOT language: a box per statement, labelled with its code and
its line in the user's file, an edge from each statement to those reading what it binds, loops
and branches as clusters. Rendered to SVG, PNG or PDF with the ``graphviz`` package or the
``dot`` program when either is installed; the DOT text needs neither."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Callable, Sequence

import gast

from .. import compiler
from ..callables import as_function
from ..errors import AdError
from ..ir import loads, target_of
from .derived import Wrt, _as_derived
from .gradients import source


def graph(fn: Callable, args: Sequence | None = None, wrt: Wrt | None = None,
          backward: bool = False, path: str | None = None) -> str:
    """The computation graph of ``fn`` as DOT text: its three-address form, or with ``backward``
    the gradient code ``ad.source(fn, wrt, args=args)`` shows (forward pass and adjoints). With
    ``path``, also written there: ``.dot`` as text, ``.svg``, ``.png`` or ``.pdf`` rendered by
    Graphviz (an AdError when it is not installed)."""
    name = getattr(fn, "__qualname__", "f")
    if backward:
        tree = gast.parse(source(fn, wrt=wrt, args=args)).body[0]
        offset = None
    else:
        derived = _as_derived(fn)
        tree, loc = compiler.normalized_tree(
            derived.fn if derived is not None else as_function(fn, "graph"))
        offset = loc.line_offset
    text = _Dot(tree, offset).text()
    if path is not None:
        _write(text, path, name)
    return text


class _Dot:
    """The DOT text of one function definition (``offset``: added to a statement's line to give
    the user's; None for generated code, whose lines are its own)."""

    def __init__(self, fdef, offset):
        self.fdef, self.offset = fdef, offset
        self.lines = []
        self.count = 0
        self.defined = {}  # name -> the node that last bound it
        self.reads = []  # (name, the node reading it, the node that had bound it then)

    def text(self) -> str:
        a = self.fdef.args
        for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if p is not None:
                self.defined[p.id] = self.node(p.id, "ellipse")
        self.block(self.fdef.body, "  ")
        head = ['digraph "%s" {' % _escape(self.fdef.name), "  rankdir=TB;",
                '  node [fontname="monospace", fontsize=10];']
        return "\n".join(head + self.lines + ["}"]) + "\n"

    def node(self, label, shape="box", indent="  ") -> str:
        self.count += 1
        node = "n%d" % self.count
        self.lines.append('%s%s [label="%s", shape=%s];' % (indent, node, _escape(label), shape))
        return node

    def block(self, stmts, indent):
        for s in stmts:
            if isinstance(s, (gast.For, gast.While, gast.If, gast.With, gast.Try)):
                self.compound(s, indent)
            else:
                self.simple(s, indent)

    def compound(self, s, indent):
        self.count += 1
        self.lines.append("%ssubgraph cluster_%d {" % (indent, self.count))
        if isinstance(s, gast.For):
            head = "for %s in %s" % (_code(s.target), _code(s.iter))
        elif isinstance(s, (gast.While, gast.If)):
            head = "%s %s" % ("while" if isinstance(s, gast.While) else "if", _code(s.test))
        elif isinstance(s, gast.With):
            head = "with %s" % ", ".join(_code(i.context_expr) for i in s.items)
        else:
            head = "try"
        self.lines.append('%s  label="%s"; style=dashed;' % (indent, _escape(
            head + self.where(s))))
        for n in loads(getattr(s, "test", None) or getattr(s, "iter", None) or gast.Pass()):
            self.edge(n, None, indent + "  ")
        if isinstance(s, gast.For):
            for n in {t.id for t in gast.walk(s.target) if isinstance(t, gast.Name)}:
                self.defined[n] = self.node(n, "ellipse", indent + "  ")
        before, first = dict(self.defined), len(self.reads)
        self.block(s.body, indent + "  ")
        if isinstance(s, (gast.For, gast.While)):  # (a value the last pass bound: dashed)
            for n, node, source_node in self.reads[first:]:
                if source_node == before.get(n) and self.defined.get(n) not in (None, source_node):
                    self.lines.append("%s  %s -> %s [style=dashed];" % (
                        indent, self.defined[n], node))
        for part in (getattr(s, "orelse", None), getattr(s, "finalbody", None)):
            if part:
                self.block(part, indent + "  ")
        for handler in getattr(s, "handlers", None) or ():
            self.block(handler.body, indent + "  ")
        self.lines.append("%s}" % indent)

    def simple(self, s, indent):
        if isinstance(s, gast.Pass):
            return
        node = self.node(_code(s) + self.where(s), "box", indent)
        for n in dict.fromkeys(loads(s)):
            self.edge(n, node, indent)
        bound, mutated = target_of(s) if isinstance(s, (gast.Assign, gast.AugAssign,
                                                        gast.Expr)) else (None, None)
        for n in (bound, mutated):
            if n:
                self.defined[n] = node

    def edge(self, name_, node, indent):
        source_node = self.defined.get(name_)
        if source_node is not None and node is not None and source_node != node:
            self.lines.append("%s%s -> %s;" % (indent, source_node, node))
            self.reads.append((name_, node, source_node))

    def where(self, s) -> str:
        line = getattr(s, "lineno", None)
        return "" if self.offset is None or not line else "  (line %d)" % (line + self.offset)


def _code(node) -> str:
    text = " ".join(gast.unparse(node).split())
    return text if len(text) <= 70 else text[:67] + "..."


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _write(text, path, name):
    """``text`` written to ``path``: DOT for ``.dot``, else rendered by Graphviz."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt in ("dot", "gv", ""):
        with open(path, "w") as fh:
            fh.write(text)
        return
    if fmt not in ("svg", "png", "pdf"):
        raise AdError("cannot write a graph as %r: use .dot, .svg, .png or .pdf" % path,
                      function=name)
    dot = shutil.which("dot")
    if dot is None:
        try:
            import graphviz
        except ImportError:
            raise AdError("rendering %s needs Graphviz: the dot program, or pip install graphviz "
                          "with the system's graphviz package" % path, function=name,
                          hint="write the DOT text instead (a .dot path) and render it elsewhere"
                          ) from None
        with open(path, "wb") as fh:
            fh.write(graphviz.Source(text).pipe(format=fmt))
        return
    subprocess.run([dot, "-T" + fmt, "-o", path], input=text.encode(), check=True)
