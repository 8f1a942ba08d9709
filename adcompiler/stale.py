"""Is the source read for a function the source it was compiled from? ``inspect.getsource``
reads the file as it is now: edited after the module was imported, it shows code that is not
running, and its derivative would be the derivative of another function. The text is compiled
again in the scopes the function was defined in (its qualified name gives the classes and
functions around it; its free variables are bound in an enclosing function) and compared with the
function's code object, line numbers aside. When that reconstruction is not possible or does not
match, the comparison is repeated instruction by instruction with the differences a scope makes
normalised away (a global, local or closure variable is a variable; a name mangled in a class
is its name)."""
from __future__ import annotations
import __future__

import ast
import dis
import re
import textwrap
import types
import weakref

from .errors import AdError

_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_FUTURE_FLAGS &= ~0x10  # (nested_scopes: the same bit as CO_NESTED, and always on)

REIMPORT = ("re-import the module (importlib.reload(module)) or re-run the cell that defines it, "
            "then call ad.grad again")
# code object -> source it matched
_CHECKED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def check(fn: types.FunctionType, text: str) -> None:
    """Raise an ``AdError`` when ``text`` (the source found for ``fn``, as indented in its file)
    does not compile to ``fn``'s code."""
    code = fn.__code__
    if _CHECKED.get(code) == text:
        return
    scoped, depth = _in_scopes(fn, text)
    rewrite = _assertion_rewriter(fn)
    compiled = [(tree, at)
                for tree, at in ((_compile(scoped, code, rewrite), depth),
                                 (_compile(textwrap.dedent(text), code, rewrite), 1))
                if tree is not None]
    if not compiled:
        return  # (cannot be compiled out of its context: nothing to compare with)
    at = None if code.co_name == "<lambda>" else True  # (a def: the one the text starts with)
    found = [list(_candidates(tree, code.co_name, depth if at else None))
             for tree, depth in compiled]
    if any(_same(c, code) for c in found[0]) or any(
        _normalized(c) == _normalized(code) for cs in found for c in cs
    ):
        _CHECKED[code] = text
        return
    raise AdError(
        "the source of %s in %s changed after it was imported: the code in the file is "
        "not the code "
        "that runs, and its derivative would be another function's"
        % (fn.__qualname__, code.co_filename),
        function=fn.__qualname__,
        filename=code.co_filename,
        lineno=code.co_firstlineno,
        hint=REIMPORT,
    )


def _in_scopes(fn, text: str) -> tuple[str | None, int]:
    """``text`` under ``class C:`` / ``def outer():`` lines for the scopes around ``fn`` (as its
    qualified name tells), an enclosing function binding its free variables (None when its
    indentation leaves no room for them), and the depth of ``fn``'s code in the result."""
    code = fn.__code__
    parts = getattr(code, "co_qualname", fn.__qualname__).split(".")[:-1]
    scopes = []
    while parts:
        name = parts.pop(0)
        if parts and parts[0] == "<locals>":
            parts.pop(0)
            scopes.append(("def", "scope%d_" % len(scopes)))
        else:
            scopes.append(("class", name))
    classes = any(kind == "class" for kind, _ in scopes)
    free = [v for v in code.co_freevars if v != "__class__" or not classes]
    if free and not any(kind == "def" for kind, _ in scopes):
        scopes.insert(0, ("def", "scope_"))
    imports = "".join("import %s\n" % n for n in _modules_used(code, fn.__globals__))
    if not scopes:
        return imports + text, 1
    indent = text[:len(text) - len(text.lstrip(" \t"))]
    if len(indent) < len(scopes) or not all(name.isidentifier() for _, name in scopes):
        return None, 0
    innermost = max(i for i, (kind, _) in enumerate(scopes) if kind == "def") if free else None
    lines = []
    # (each header indented by one more character of the text's indentation)
    for i, (kind, name) in enumerate(scopes):
        lines.append("%s%s %s%s:" % (indent[:i], kind, name, "()" if kind == "def" else ""))
        if i == innermost:
            lines.append("%s%s = None" % (indent if i + 1 == len(scopes) else indent[:i + 1],
                                          " = ".join(free)))
    return imports + "\n".join(lines) + "\n" + text, len(scopes) + 1


def _modules_used(code, namespace: dict) -> list[str]:
    """Global names of modules the code reads: imported, as far as the compiler is concerned
    (``np.sum(x)`` compiles to an attribute load then a call for an imported ``np``, to a method
    call otherwise)."""
    names, todo = set(), [code]
    while todo:
        c = todo.pop()
        names.update(n for n in c.co_names if isinstance(namespace.get(n), types.ModuleType))
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return sorted(names)


def _assertion_rewriter(fn):
    """pytest's assert rewriting when ``fn``'s module was imported by pytest (a test file), whose
    ``assert`` statements then do not compile as written; else None."""
    loader = fn.__globals__.get("__loader__")
    if type(loader).__name__ != "AssertionRewritingHook":
        return None
    try:
        from _pytest.assertion.rewrite import rewrite_asserts
    except ImportError:
        return None
    return rewrite_asserts


def _compile(source: str | None, code, rewrite=None):
    flags = code.co_flags & _FUTURE_FLAGS
    if source is None:
        return None
    try:
        if rewrite is None:
            return compile(source, code.co_filename, "exec", flags=flags, dont_inherit=True)
        tree = ast.parse(source)
        rewrite(tree, source.encode(), code.co_filename)
        return compile(tree, code.co_filename, "exec", flags=flags, dont_inherit=True)
    except (SyntaxError, ValueError):
        return None


def _candidates(tree, name: str, depth: int | None):
    """The code objects named ``name`` in a compiled module, at ``depth`` (1: the module's own
    functions) or anywhere (None)."""
    todo = [(tree, 0)]
    while todo:
        c, at = todo.pop()
        if c.co_name == name and (at == depth if depth is not None else at):
            yield c
        todo.extend((k, at + 1) for k in c.co_consts if isinstance(k, types.CodeType))


def _same(a, b) -> bool:
    """The same code, line numbers aside."""
    return (a.co_code == b.co_code and a.co_names == b.co_names and a.co_varnames == b.co_varnames
            and a.co_freevars == b.co_freevars and a.co_cellvars == b.co_cellvars
            and a.co_argcount == b.co_argcount and a.co_posonlyargcount == b.co_posonlyargcount
            and a.co_kwonlyargcount == b.co_kwonlyargcount and len(a.co_consts) == len(b.co_consts)
            and all(_same_constant(x, y) for x, y in zip(a.co_consts, b.co_consts)))


def _same_constant(x, y) -> bool:
    if isinstance(x, types.CodeType):
        return isinstance(y, types.CodeType) and _same(x, y)
    if isinstance(x, tuple):
        return (
            type(y) is tuple
            and len(x) == len(y)
            and all(_same_constant(a, b) for a, b in zip(x, y))
        )
    return type(x) is type(y) and (x == y if isinstance(x, frozenset) else repr(x) == repr(y))


# instructions a scope adds or changes: dropped, or one family per kind of variable access
_SCOPE_ONLY = {"NOP", "RESUME", "CACHE", "EXTENDED_ARG", "COPY_FREE_VARS", "MAKE_CELL", "PUSH_NULL",
               "LOAD_CLOSURE"}
# (a method call on a module or not)
_SAME_AS = {"LOAD_METHOD": "LOAD_ATTR", "CALL_METHOD": "CALL_FUNCTION"}
_FAMILY = re.compile(
    r"^(LOAD|STORE|DELETE)_(FAST|GLOBAL|DEREF|NAME|CLASSDEREF|FAST_CHECK|FAST_AND_CLEAR)$"
)
_MANGLED = re.compile(r"^_[A-Za-z0-9_]*?[A-Za-z0-9]__(?=\w)")
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


def _normalized(code):
    """``code``'s instructions as (operation, argument) pairs, scope differences normalised away
    (nested code objects too); jump targets as instruction indices."""
    kept = [i for i in dis.get_instructions(code) if i.opname not in _SCOPE_ONLY]
    index = {i.offset: n for n, i in enumerate(kept)}
    out = []
    for n, i in enumerate(kept):
        family = _FAMILY.match(i.opname)
        op = family.group(1) if family else _SAME_AS.get(i.opname, i.opname)
        arg = i.argval
        if isinstance(arg, str) and (family or "ATTR" in op or "METHOD" in op):
            arg = _MANGLED.sub("__", arg)
        if i.opcode in _JUMPS:
            arg = index.get(arg, min((k for o, k in index.items() if o >= arg), default=len(kept)))
        elif isinstance(arg, types.CodeType):
            arg = _normalized(arg)
        elif (
            op == "LOAD_CONST"
            and n + 1 < len(kept)
            and kept[n + 1].opname == "MAKE_FUNCTION"
            and n
            and isinstance(kept[n - 1].argval, types.CodeType)
        ):
            arg = None  # (Python 3.10: the qualified name, which names the scopes around)
        elif op == "MAKE_FUNCTION" or (op == "BUILD_TUPLE" and n + 1 < len(kept)
                                       and isinstance(kept[n + 1].argval, types.CodeType)):
            arg = None  # (whether it makes a closure: the tuple of cells it captures)
            if op == "BUILD_TUPLE":
                continue
        else:
            arg = repr(arg)
        out.append((op, arg))
    return out
