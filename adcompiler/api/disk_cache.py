"""The opt-in disk cache of generated code (``ADCOMPILER_CACHE_DIR``): the compiler's builders are
answered from a JSON file holding the key, the generated source and a recipe for each object it
binds (a constant, an import, the live function's global or closure variable). Stored only when
the key is complete and every object has a recipe. Unset, nothing here touches the disk."""
from __future__ import annotations

import builtins
import functools
import hashlib
import importlib
import inspect
import json
import linecache
import marshal
import os
import sys
import sysconfig
import tempfile
import types

import numpy as np

from .. import custom, hooks, rules
from ..codegen import compile_functions
from ..compiler import Compiled, Split
from ..errors import GENERATED, AdError, AdTypeError, Location
from ..parse import LIBRARY_ROOTS, unwrap
from ..runtime.checks import Refusal

ENV = "ADCOMPILER_CACHE_DIR"
STATS = {"loaded": 0, "stored": 0, "built": 0}  # (built: builds with the cache on that it missed)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB = sysconfig.get_paths()["stdlib"] + os.sep
_LIBRARIES = LIBRARY_ROOTS | {"adcompiler"}  # (never traced into, but through rules; or ours)
_ERRORS = {"AdError": AdError, "AdTypeError": AdTypeError}
_NAMES = {"__builtins__": {}, "nan": np.nan, "inf": np.inf, "Ellipsis": ...}  # (in reprs)
_Incomplete = LookupError  # (a value the key or a recipe cannot describe: the build is not cached)


@functools.lru_cache(maxsize=1)
def package_hash() -> str:
    """A hash of adcompiler's own sources (a development edit changes what code is generated)."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(_PACKAGE):  # (top-down, sorted: a stable order)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            with open(os.path.join(root, name), "rb") as fh:
                digest.update(("%s/%s\0" % (root[len(_PACKAGE):], name)).encode() + fh.read())
    return digest.hexdigest()


def _users(obj) -> bool:
    """Whether ``obj`` is known by its source (the user's; a package the compiler traces into),
    not by name and version (adcompiler's, the standard library's, ``parse.LIBRARY_ROOTS``')."""
    module = obj if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
    module = sys.modules.get(module) if isinstance(module, str) else module
    if not isinstance(module, types.ModuleType) or module.__name__ == "__main__":
        return True
    path = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", ())), None)
    return module.__name__.partition(".")[0] not in _LIBRARIES and path is not None and \
        not (path.startswith(_STDLIB) and "-packages" not in path)


def _named(obj):
    """["import", module, name] when ``obj`` (not the user's) is an imported module's attribute."""
    try:
        recipe = ["import", obj.__name__, ""] if isinstance(obj, types.ModuleType) else \
            ["import", obj.__module__, getattr(obj, "__qualname__", None) or obj.__name__]
        return None if _users(obj) or _value(recipe, None, None) is not obj else recipe
    except Exception:  # (an instance: it has no name; or not found by its name)
        return None


def _constant(value):
    """A JSON form of a number, string, None, NumPy scalar, dtype, small array or tuple of them."""
    cls = value.__class__
    if value is None or value is Ellipsis or cls in (bool, int, float, complex, str):
        text = repr(value)
        return ["py", text] if value != value or eval(text, _NAMES) == value else None
    if cls is tuple:
        parts = [_constant(v) for v in value]
        return None if None in parts else ["tuple", parts]
    if cls is np.dtype and value.kind in "biufc":
        return ["dtype", value.str]
    if (cls is np.ndarray or isinstance(value, np.generic)) and value.dtype.kind in "biufc" \
            and value.size <= 4096:
        return ["array", value.dtype.str, list(value.shape), value.tobytes().hex(),
                cls is np.ndarray and value.flags.writeable, cls is np.ndarray]
    return None


def _value(recipe, fn, cells):
    """The object ``recipe`` stands for in this process, for ``fn`` (None: import nothing)."""
    tag, *rest = recipe
    if tag in ("py", "tuple", "dtype"):
        return eval(rest[0], _NAMES) if tag == "py" else np.dtype(rest[0]) if tag == "dtype" \
            else tuple(_value(r, fn, cells) for r in rest[0])
    if tag == "array":
        array = np.frombuffer(bytes.fromhex(rest[2]), dtype=rest[0]).reshape(rest[1]).copy()
        array.flags.writeable = rest[3]
        return array if rest[4] else array[()]
    if tag == "global":  # (the user's objects: the live function's, which its key describes)
        return fn.__globals__[rest[0]] if rest[0] in fn.__globals__ else getattr(builtins, rest[0])
    if tag == "cell":
        return cells[rest[0]].cell_contents
    if tag == "import":
        module = sys.modules[rest[0]] if fn is None else importlib.import_module(rest[0])
        return functools.reduce(getattr, rest[1].split(".") if rest[1] else (), module)
    # (a refusal: an error the compiler prepared, which the code raises when a check fails)
    return Refusal(_ERRORS[rest[0]](rest[1], **rest[2]))


def _recipe(obj, fn, cells):
    """How another process rebuilds ``obj``, bound by code generated for ``fn``."""
    made = _constant(obj) or _named(obj)
    if made is not None:
        return made
    if obj.__class__ is Refusal and obj.error.__class__.__name__ in _ERRORS:
        e = obj.error
        fields = {a: getattr(e, a) for a in ("function", "filename", "lineno", "col", "hint")}
        if e.__class__(e.message, **fields).args == e.args:  # (nothing else in it)
            return ["refusal", e.__class__.__name__, e.message, fields]
    found = [["global", n] for n in sorted(_names(fn.__code__))
             if fn.__globals__.get(n, getattr(builtins, n, None)) is obj]
    found += [["cell", n] for n, c in sorted(cells.items()) if c.cell_contents is obj]
    return found[0]  # (an IndexError when there is none: not stored)


def _names(code) -> set:
    """The global (and attribute) names ``code`` and the code nested in it read."""
    return set(code.co_names).union(*(_names(c) for c in code.co_consts
                                      if isinstance(c, types.CodeType)))


def _fingerprint(value, seen: dict, names=frozenset()):
    """What decides the code generated for a function reading ``value``: constants, installed
    packages' and adcompiler's objects by name (and version), the user's functions and classes by
    their file, code and what they read (of a user's module: its attributes among ``names``)."""
    made = _constant(value)
    if made is not None:
        return made
    if id(value) in seen:  # (a recursion, or a value met again: named once)
        return ["seen", seen[id(value)][0]]
    seen[id(value)] = (len(seen), value)  # (kept alive: its id is not reused meanwhile)
    again, named = functools.partial(_fingerprint, seen=seen, names=names), _named(value)
    if named is not None:  # (its package's version: stdlib's is Python's)
        top = sys.modules.get(named[1].partition(".")[0])
        return named + [str(getattr(top, "__version__", ""))]
    if isinstance(value, types.ModuleType):
        return ["module", value.__name__, {n: again(getattr(value, n)) for n in sorted(names)
                                           if hasattr(value, n)}]
    if isinstance(value, types.FunctionType):
        return _function(value, seen)
    if isinstance(value, type):  # (the user's class: its file, bases and what its body binds;
        # Python's and a dataclass's additions follow from its source)
        module = sys.modules[value.__module__]
        return ["class", value.__qualname__, _file(module.__file__, module.__dict__),
                [again(b) for b in value.__bases__], [[n, again(v)] for n, v in sorted(
                    vars(value).items()) if not n.startswith("__") or isinstance(
                        v, types.FunctionType) and not v.__code__.co_filename.startswith("<")]]
    if value.__class__ is np.ndarray and value.dtype.kind in "biufc":
        return ["ndarray", value.dtype.str, value.shape,
                hashlib.sha256(np.ascontiguousarray(value).data).hexdigest()]
    if value.__class__ in (tuple, list, dict) and len(value) <= 1000:
        items = value.items() if value.__class__ is dict else enumerate(value)
        return [value.__class__.__name__, [[again(k), again(v)] for k, v in items]]
    if value.__class__ in (staticmethod, classmethod, property, functools.partial):
        return [again(getattr(value, a, None)) for a in ("__func__", "fget", "fset", "fdel",
                                                         "func", "args", "keywords")]
    raise _Incomplete(type(value).__name__)


def _file(filename, module_globals) -> str:
    """A hash of the file the compiler reads a function's source from (read again when it
    changed, as the compiler does; a file edited after the import no longer matches the code)."""
    linecache.checkcache(filename)  # (none: the compiler refuses the function, nothing is stored)
    text = "".join(linecache.getlines(filename, module_globals))
    return hashlib.sha256(text.encode()).hexdigest()


def _function(fn, seen):
    """A user function: its file, code, defaults, attributes, closure and the globals it reads."""
    code, names = fn.__code__, _names(fn.__code__)
    if code.co_filename.startswith("<"):  # (made by exec, or adcompiler's: no file to check)
        raise _Incomplete("no file")
    env = {n: _fingerprint(fn.__globals__[n], seen, names) if n in fn.__globals__
           else ["builtin", hasattr(builtins, n)] for n in sorted(names)}
    cells = [_fingerprint(c.cell_contents, seen, names) for c in fn.__closure__ or ()]
    return ["function", fn.__module__, fn.__qualname__, _file(code.co_filename, fn.__globals__),
            hashlib.sha256(marshal.dumps(code)).hexdigest(), _fingerprint(fn.__defaults__, seen),
            _fingerprint(fn.__kwdefaults__, seen), _fingerprint(dict(fn.__dict__), seen), cells,
            env]


def key_of(builder, args, kwargs) -> str | None:
    """The cache key (JSON text) of ``builder(*args, **kwargs)``, or None when it cannot be made
    complete: a method (its instance decides the code), code made by exec or by adcompiler, an
    empty cell, a value read that cannot be fingerprinted, a user's rule registered."""
    try:
        bound = inspect.signature(builder).bind(*args, **kwargs)
        bound.apply_defaults()
        options = dict(bound.arguments)
        fn = unwrap(options.pop("fn"))
        if custom.USER_VJPS or custom.USER_JVPS or rules.USER_RULES or \
                not isinstance(fn, types.FunctionType):
            return None
        seen, names = {}, _names(fn.__code__)  # (a module passed as an argument: names read)
        return json.dumps({
            "adcompiler": getattr(sys.modules["adcompiler"], "__version__", ""),
            "package": package_hash(), "python": "%d.%d" % sys.version_info[:2],
            "numpy": np.__version__.partition(".")[0], "builder": builder.__name__,
            "function": _fingerprint(fn, seen),
            "options": {k: _fingerprint(tuple(v) if isinstance(v, list) else v, seen, names)
                        for k, v in options.items()}}, sort_keys=True)
    except Exception:  # (_Incomplete, or a value that fails when looked at: not cached)
        return None


def _entry(key, result, fn) -> dict:
    """The stored form of a build's ``result`` (_Incomplete when it cannot be rebuilt)."""
    fns = [result.fn] if isinstance(result, Compiled) else [result.forward, result.backward]
    filename, names = fns[0].__code__.co_filename, [f.__name__ for f in fns]
    if {f.__code__.co_filename for f in fns} != {filename} or "<adcompiler:" not in filename:
        raise _Incomplete("not one compilation")
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    bindings, attributes = {}, []
    for f in fns:
        for n, cell in zip(f.__code__.co_freevars, f.__closure__ or ()):
            if n not in names and cells.get(n) is not cell:  # (siblings, the user's cells: live)
                bindings[n] = _recipe(cell.cell_contents, fn, cells)
        extra = {k: None if k == "__adcompiler_primal__" and v is fn else v
                 for k, v in f.__dict__.items()}  # (the primal: the live function)
        if f.__defaults__ is not fn.__defaults__ or f.__kwdefaults__ is not fn.__kwdefaults__ \
                or any(v.__class__ not in (bool, int, str, type(None)) for v in extra.values()):
            raise _Incomplete("attributes")
        attributes.append(extra)
    loc, lines = GENERATED.get(filename, (None, {}))
    return {"key": key, "kind": type(result).__name__, "source": result.source, "names": names,
            "label": filename[len("<adcompiler:"):filename.rindex(":")], "bindings": bindings,
            "attributes": attributes, "lines": sorted([k, list(v)] for k, v in lines.items()),
            "location": loc and [getattr(loc, a) for a in Location.__slots__]}


def _rebuild(entry, fn):
    """The result ``entry`` stores, compiled for the live ``fn`` as the compiler compiles it."""
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    bindings = {n: _value(r, fn, cells) for n, r in entry["bindings"].items()}
    names = entry["names"]
    fns = compile_functions(entry["source"], names, types.SimpleNamespace(fn=fn, cells=cells),
                            bindings, entry["label"])
    if entry["location"]:  # (errors raised by the code name the user's lines)
        GENERATED[fns[names[0]].__code__.co_filename] = (
            Location(*entry["location"]), {k: tuple(v) for k, v in entry["lines"]})
    for name, extra in zip(names, entry["attributes"]):
        f = fns[name]
        f.__defaults__, f.__kwdefaults__ = fn.__defaults__, fn.__kwdefaults__
        f.__dict__.update({k: fn if k == "__adcompiler_primal__" else v for k, v in extra.items()})
    return Compiled(fns[names[0]], entry["source"], names[0]) if entry["kind"] == "Compiled" \
        else Split(fns[names[0]], fns[names[1]], entry["source"])


def build(builder, args, kwargs):
    """``builder(*args, **kwargs)`` (a compiler builder), answered from ``$ADCOMPILER_CACHE_DIR``
    when that is set and holds the build's key, else built and, when it can be, stored there."""
    directory = os.environ.get(ENV)
    key = key_of(builder, args, kwargs) if directory else None
    if key is None:
        return builder(*args, **kwargs)
    fn = unwrap(args[0] if args else kwargs["fn"])
    path = os.path.join(directory, hashlib.sha256(key.encode()).hexdigest() + ".json")
    try:
        with open(path, encoding="utf-8") as fh:
            entry = json.load(fh)
        result = _rebuild(entry, fn) if entry["key"] == key else None  # (never another key's)
    except Exception:  # (no file, or a truncated or damaged one: regenerated, never an error)
        result = None
    if result is not None:
        STATS["loaded"] += 1
        return result
    result = builder(*args, **kwargs)
    STATS["built"] += 1
    temporary = path + ".none"
    try:  # (_Incomplete: code holding what cannot be rebuilt is not stored; nor on a full disk)
        entry = _entry(key, result, fn)
        # (atomic: a temporary file in the same directory, then os.replace; two processes
        # writing at once each replace the file whole, and one of them stays)
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
        os.replace(temporary, path)
        STATS["stored"] += 1
    except Exception:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return result


hooks.install(disk_cache=build)
