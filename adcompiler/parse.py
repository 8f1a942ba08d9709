"""Pass 1: find a function's source and parse it into a ``gast`` FunctionDef."""
from __future__ import annotations

import builtins
import inspect
import linecache
import re
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field

import gast

from . import stale
from .errors import AdError, Location


@dataclass
class Parsed:
    """A parsed user function and everything later passes need to know about where it lives."""

    fn: types.FunctionType
    tree: gast.FunctionDef
    loc: Location
    globals: dict
    cells: dict = field(default_factory=dict)  # closure variable name -> cell

    @property
    def name(self) -> str:
        return self.fn.__name__


def unwrap(fn):
    """The callable behind staticmethod/classmethod objects and ``functools.wraps`` chains (a
    bound method stays bound: its instance is part of it)."""
    while True:
        if isinstance(fn, (staticmethod, classmethod)):
            fn = fn.__func__
        elif isinstance(fn, types.MethodType):
            return fn
        elif getattr(fn, "__adcompiler_derived__", False):
            return fn  # grad(f) is not f: its generated code is what gets differentiated
        elif hasattr(fn, "__wrapped__") and (
            _forwards(fn) if isinstance(fn, types.FunctionType)
            else not isinstance(inspect.getattr_static(type(fn), "__call__", None),
                                types.FunctionType)  # (lru_cache's; not a class of the user's)
        ):
            fn = fn.__wrapped__
        else:
            return fn


def _wrapper_tree(wrapper):
    """``(tree, forwarding)`` of a ``functools.wraps`` wrapper taking ``*args``:
    ``forwarding(node)`` says whether ``node`` is ``fn(*args, **kwargs)`` of the function it
    wraps; None without source or ``*args``."""
    try:
        # (not __wrapped__)
        tree = gast.parse(textwrap.dedent(inspect.getsource(wrapper.__code__))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    if not isinstance(tree, gast.FunctionDef) or tree.args.vararg is None:
        return None
    inner = {name for name, value in zip(wrapper.__code__.co_freevars, wrapper.__closure__ or ())
             if value.cell_contents is wrapper.__wrapped__}

    def forwarding(node):
        return (isinstance(node, gast.Call) and isinstance(node.func, gast.Name)
                and node.func.id in inner
                and len(node.args) == 1 and isinstance(node.args[0], gast.Starred)
                and isinstance(node.args[0].value, gast.Name)
                and node.args[0].value.id == tree.args.vararg.id
                and all(k.arg is None for k in node.keywords))
    return tree, forwarding


def _forwards(wrapper) -> bool:
    """Whether a ``functools.wraps`` wrapper only calls the wrapped function and returns what it
    returns (``return fn(*args, **kwargs)``, or ``out = fn(*args, **kwargs); return out``): then
    differentiating the wrapped function is differentiating it."""
    found = _wrapper_tree(wrapper)
    if found is None:
        return False
    tree, forwarding = found
    body = tree.body[1:] if tree.body and isinstance(tree.body[0], gast.Expr) \
        and isinstance(tree.body[0].value, gast.Constant) else tree.body  # (a docstring)
    if len(body) == 1:  # return fn(*args, **kwargs)
        return isinstance(body[0], gast.Return) and forwarding(body[0].value)
    # out = fn(*args, **kwargs); return out. Anything more (a counter, a log line, a keyword
    # set, an argument changed) is code of its own, which the plain call runs: the wrapper is
    # then differentiated as the function it is
    return len(body) == 2 and isinstance(body[0], gast.Assign) and forwarding(body[0].value) \
        and len(body[0].targets) == 1 and isinstance(body[0].targets[0], gast.Name) \
        and isinstance(body[1], gast.Return) and isinstance(body[1].value, gast.Name) \
        and body[1].value.id == body[0].targets[0].id


def passes_arguments_on(wrapper) -> bool:
    """Whether a wrapper reads its ``*args`` and ``**kwargs`` only to pass them on to the function
    it wraps (so a keyword given to it may as well be given by position)."""
    found = _wrapper_tree(wrapper)
    if found is None:
        return False
    tree, forwarding = found
    names = {a.id for a in (tree.args.vararg, tree.args.kwarg) if a is not None}
    passed = {id(part) for node in gast.walk(tree) if forwarding(node)
              for part in [node.args[0].value] + [k.value for k in node.keywords]}
    return all(id(n) in passed for n in gast.walk(tree)
               if isinstance(n, gast.Name) and n.id in names
               and not isinstance(n.ctx, gast.Param))


def parse_function(fn) -> Parsed:
    """Read ``fn``'s source lazily (works for module functions, methods, nested defs, scripts,
    notebooks) and return its gast tree; raise AdError when there is no source to read."""
    fn = unwrap(fn)
    bound = None
    if isinstance(fn, types.MethodType):  # parsed as its function, the instance a closure variable
        bound, fn = fn.__self__, fn.__func__
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
    if not isinstance(fn, types.FunctionType):
        raise AdError("%r is not a Python function, so it has no source to differentiate" % (fn,),
                      function=name, hint="register a rule for it with ad.defvjp / ad.defjvp")
    code = fn.__code__
    try:
        # (this function's own source, never its __wrapped__)
        lines, first = inspect.getsourcelines(code)
    except (OSError, TypeError) as exc:
        raise AdError("no source code is available (%s)" % exc, function=name,
                      filename=code.co_filename, lineno=code.co_firstlineno,
                      hint="define the function in a file or notebook cell (not with exec or a "
                           "plain REPL), or register a rule with ad.defvjp") from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _first_indent(text) - _first_indent(dedented)
    loc = Location(name, code.co_filename, max(first, 1) - 1, indent)
    if fn.__name__ == "<lambda>":
        tree, text = _lambda_tree(text, dedented, code, loc)
    else:
        try:
            module = gast.parse(dedented)
        except SyntaxError as exc:
            raise loc.error("could not parse the function's source (%s); was its file edited after "
                            "it was imported?" % exc.msg, hint=stale.REIMPORT) from None
        defs = [n for n in module.body if isinstance(n, (gast.FunctionDef, gast.AsyncFunctionDef))]
        if not defs:
            raise AdError("the source found for this function holds no 'def': its file changed "
                          "after it was "
                          "imported (the lines moved)", function=name, filename=code.co_filename,
                          lineno=code.co_firstlineno, hint=stale.REIMPORT)
        tree = defs[0]
        if isinstance(tree, gast.AsyncFunctionDef):
            raise loc.error("async functions cannot be differentiated", tree)
        tree.decorator_list = []
    if not code.co_filename.startswith("<adcompiler"):  # (generated code is never edited)
        stale.check(fn, text)
    cells = {}
    if fn.__closure__:
        cells = dict(zip(code.co_freevars, fn.__closure__))
    _as_in_class(tree, fn)
    if bound is not None:
        args = tree.args
        first = (args.posonlyargs or args.args)[0]
        if args.posonlyargs:
            args.posonlyargs = args.posonlyargs[1:]
        else:
            args.args = args.args[1:]
        cells[first.id] = types.CellType(bound)
    return Parsed(fn, tree, loc, fn.__globals__, cells)


def _as_in_class(tree, fn) -> None:
    """What Python does to a method's code because it is written in a class body, done to its
    tree (generated code is not in one): ``self.__w`` reads ``self._Model__w`` (name mangling),
    and ``super()`` is ``super(__class__, self)``."""
    parts = fn.__qualname__.split(".")[:-1]
    owner = parts[-1] if parts and parts[-1] != "<locals>" else None
    prefix = "_" + owner.lstrip("_") if owner and owner.strip("_") else None
    first = (tree.args.posonlyargs or tree.args.args or [None])[0]
    has_class = "__class__" in fn.__code__.co_freevars
    for node in gast.walk(tree):
        if (
            prefix
            and isinstance(node, gast.Attribute)
            and node.attr.startswith("__")
            and not node.attr.endswith("__")
        ):
            node.attr = prefix + node.attr
        elif (
            has_class
            and first is not None
            and isinstance(node, gast.Call)
            and isinstance(node.func, gast.Name)
            and node.func.id == "super"
            and not node.args
            and not node.keywords
        ):
            node.args = [gast.Name(id="__class__", ctx=gast.Load(), annotation=None,
                                   type_comment=None),
                         gast.Name(id=first.id, ctx=gast.Load(), annotation=None,
                                   type_comment=None)]


def _first_indent(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _lambda_expression(text: str):
    """(module, its text, column shift) of the expressions starting at each ``lambda`` of the first
    line of ``text``, for lines that do not parse alone (``fns = [lambda x: x + 1,``,
    ``key=lambda v: v[0])``): from each, the longest prefix that parses, padded so that its
    columns are the line's; None if none parses."""
    first_line = text.split("\n", 1)[0]
    bodies = []
    for match in re.finditer(r"\blambda\b", first_line):
        tail = text[match.start():].rstrip()
        for end in range(len(tail), max(len(tail) - 120, 0), -1):
            padded = "(" + " " * match.start() + tail[:end] + ")"
            try:
                module = gast.parse(padded)
            except SyntaxError:
                continue
            # (the lambda that starts there, not those after it in the display)
            bodies.extend(gast.Expr(value=n) for n in gast.walk(module)
                          if isinstance(n, gast.Lambda) and n.lineno == 1
                          and n.col_offset == match.start() + 1)
            break
    if not bodies:
        return None
    return gast.Module(body=bodies, type_ignores=[]), text, -1


def _lambda_tree(text: str, dedented: str, code, loc: Location) -> tuple[gast.FunctionDef, str]:
    """Turn the (single) lambda on the source line(s) into ``def <lambda>(...): return body``;
    also the text that parsed (``text``, else the line as an expression)."""
    shift = loc.col_offset  # (columns in the parsed text -> in the file)
    try:
        module = gast.parse(dedented)
    except SyntaxError:
        parsed = _lambda_expression(text)
        if parsed is None:
            raise loc.error("could not isolate the lambda's source",
                            hint="write the function with 'def'") from None
        module, text, shift = parsed
    lambdas = [n for n in gast.walk(module) if isinstance(n, gast.Lambda)]
    params = code.co_varnames[:code.co_argcount]
    lambdas = [n for n in lambdas if [a.id for a in n.args.args] == list(params)]
    first = code.co_firstlineno - loc.line_offset
    if len(lambdas) > 1 and shift >= 0:  # (the lambda's own line, in the text as parsed)
        lambdas = [n for n in lambdas if n.lineno == first] or lambdas
    # (Python 3.11+: the body's columns say which)
    if len(lambdas) > 1 and hasattr(code, "co_positions"):
        columns = [c for line, _, c, end in code.co_positions() if c is not None
                   and end is not None and end > c
                   and line == code.co_firstlineno]
        if columns:
            col = min(columns) - shift
            lambdas = [n for n in lambdas if n.body.lineno == first
                       and n.body.col_offset <= col < (n.body.end_col_offset or 0)]
    if len(lambdas) != 1:
        raise loc.error(
            "could not isolate the lambda's source (%d candidates on its line)" % len(lambdas),
            hint="write the function with 'def'",
        )
    lam = lambdas[0]
    ret = gast.Return(value=lam.body)
    gast.copy_location(ret, lam.body)
    fdef = gast.FunctionDef(name="lambda_", args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    gast.copy_location(fdef, lam)
    return fdef, text


BUILTINS = vars(builtins)


LIBRARY_ROOTS = {"numpy", "scipy", "math", "builtins", "functools", "itertools", "operator", "jax",
                 "jaxlib", "torch",
                 "autograd", "pandas", "sklearn", "dask", "cupy", "xarray", "tensorflow", "polars"}


# libraries whose Python functions are differentiated through their source, like the user's (their
# C functions, and every other library's functions, only through a rule)
TRACED_LIBRARIES = frozenset({"scipy"})


def traced_library_function(fn) -> bool:
    """A Python function of a library in ``TRACED_LIBRARIES`` (``scipy.optimize.rosen``); not a
    method of a library's object (``scipy.stats.norm.rvs``), whose state the compiler does not
    know."""
    return isinstance(fn, types.FunctionType) \
        and (getattr(fn, "__module__", None) or "").split(".")[0] in TRACED_LIBRARIES


def is_user_function(fn) -> bool:
    """A Python function (or method) of the user's: not a library's, not adcompiler's own."""
    inner = getattr(fn, "__func__", fn)
    return isinstance(inner, types.FunctionType) and not is_library_function(inner) \
        and (getattr(inner, "__module__", None) or "").split(".")[0] != "adcompiler"


def is_library_function(fn) -> bool:
    """A function of NumPy, another numerical library or the standard library: differentiated only
    through a rule, never traced into. (The user's own packages are traced, installed or not.)"""
    root = (getattr(fn, "__module__", None) or "").split(".")[0]
    if root in LIBRARY_ROOTS:
        return True
    stdlib = sysconfig.get_paths()["stdlib"]
    filename = fn.__code__.co_filename
    return (filename.startswith(stdlib + "/") and "-packages" not in filename) \
        or filename.startswith("<frozen ")  # (posixpath, os: the standard library's own)


def define(source: str, name: str, namespace: dict, filename: str) -> types.FunctionType:
    """The function ``name`` defined by ``source`` in ``namespace`` (its globals); the source is
    registered with ``linecache`` under ``filename``, so the compiler can read it back."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]
