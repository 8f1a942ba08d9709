"""The one exception type the compiler raises on purpose, with the user's location."""
from __future__ import annotations

import linecache
import re
import sys

# (complex values the compiler could not see when generating code: docs/complex.md)
COMPLEX_UNSUPPORTED = ("complex values where the code was generated for real ones are not "
                       "supported yet")
COMPLEX_HINT = ("make them visible (a complex argument, a complex literal, a dtype written in the "
                "code: docs/complex.md), or differentiate the real and imaginary parts as two "
                "real values")

# file name of generated code -> (its Location, {line: (the user's line, column) it came from})
GENERATED: dict = {}


class AdError(Exception):
    """An error the compiler raises on purpose: unsupported code or misuse of the API.

    The message names the function, the file and line (and column) of the construct, what is
    unsupported and what to do instead; ``str(err)`` shows the source line with a caret.
    """

    def __init__(self, message: str, *, function: str | None = None, filename: str | None = None,
                 lineno: int | None = None, col: int | None = None, hint: str | None = None):
        self.message = message
        self.function = function
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.hint = hint
        if filename is None:  # (raised by a runtime helper: at the statement it runs for)
            self._locate_in_generated_code()
        super().__init__(self._format())

    def _locate_in_generated_code(self):
        """Take the location of the innermost running generated statement made from a user's
        statement, if any."""
        frame = sys._getframe(1)  # (the code making the error: generated code itself, maybe)
        while frame is not None:
            made = GENERATED.get(frame.f_code.co_filename)
            at = made and made[1].get(frame.f_lineno)
            if at:
                loc, (line, col) = made[0], at
                self.function = self.function or loc.function
                self.filename, self.lineno = loc.filename, line + loc.line_offset
                self.col = col + loc.col_offset
                return
            frame = frame.f_back

    def _format(self) -> str:
        head = self.message
        if self.function:
            head = "in %s: %s" % (self.function, head)
        lines = [head]
        if self.filename and self.lineno:
            where = "%s, line %d" % (self.filename, self.lineno)
            if self.col is not None:
                where += ", column %d" % (self.col + 1)
            lines.append("  at " + where)
            text = linecache.getline(self.filename, self.lineno)
            if text.strip():
                stripped = text.rstrip("\n")
                indent = len(stripped) - len(stripped.lstrip())
                lines.append("    " + stripped.strip())
                if self.col is not None and self.col >= indent:
                    lines.append("    " + " " * (self.col - indent) + "^")
        if self.hint:
            lines.append("  fix: " + self.hint)
        return "\n".join(lines)


class AdTypeError(AdError, TypeError):
    """An AdError that is also a TypeError, as JAX and autograd raise one: a value of the wrong
    type for the transform (``grad`` of a function whose output is not a real scalar)."""


class Location:
    """Where a construct sits in the user's file; used to build AdErrors from any pass."""

    __slots__ = ("function", "filename", "line_offset", "col_offset", "renamed")

    def __init__(self, function: str, filename: str, line_offset: int, col_offset: int,
                 renamed=None):
        self.function = function
        self.filename = filename
        self.line_offset = line_offset
        self.col_offset = col_offset
        self.renamed = renamed or {}  # (names the compiler gave parts of a user's name: see webs)

    def renaming(self, renamed: dict) -> "Location":
        """This location, for code in which ``renamed`` (new name: the user's) were renamed."""
        return Location(self.function, self.filename, self.line_offset, self.col_offset,
                        {**self.renamed, **renamed})

    def error(self, message: str, node=None, hint: str | None = None) -> AdError:
        if self.renamed:  # (the user's names in what the user reads)
            pattern = re.compile(r"\b(%s)\b" % "|".join(map(re.escape, self.renamed)))
            message = pattern.sub(lambda m: self.renamed[m.group(1)], message)
            hint = hint and pattern.sub(lambda m: self.renamed[m.group(1)], hint)
        lineno = col = None
        if node is not None and getattr(node, "lineno", None) is not None:
            lineno = node.lineno + self.line_offset
            col = getattr(node, "col_offset", None)
            if col is not None:
                col += self.col_offset
        return AdError(message, function=self.function, filename=self.filename,
                       lineno=lineno, col=col, hint=hint)


def error_at(site, message: str, hint: str | None = None) -> AdError:
    """An AdError raised at run time by a rule's helper, located at the call it differentiates:
    ``site`` is (callee, function, file, line, column), as bound in generated code."""
    callee, function, filename, lineno, col = site
    return AdError("%s: %s" % (callee, message), function=function, filename=filename,
                   lineno=lineno, col=col,
                   hint=hint)
