"""Command line: ``adcompiler dump FILE.py:FUNC`` prints generated code, ``adcompiler check``
prints a gradient next to its finite-difference estimate."""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import sys

import numpy as np

from . import api
from .errors import AdError


class CliError(Exception):
    """Bad input on the command line: reported as one line, exit status 2."""


def load_function(spec: str):
    """The function named by ``FILE.py:FUNC`` (FUNC may be dotted: ``Class.method``)."""
    if ":" not in spec:
        raise CliError("expected FILE.py:FUNC, got %r" % spec)
    path, qualname = spec.rsplit(":", 1)
    if not os.path.isfile(path):
        raise CliError("no such file: %s" % path)
    module_name = "adcompiler_cli_" + os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # the user's module failed to import
        raise CliError("could not import %s: %s: %s" % (path, type(exc).__name__, exc)) from None
    obj = module
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise CliError("%s has no function %r" % (path, qualname))
        obj = getattr(obj, part)
    if not callable(obj):
        raise CliError("%s:%s is not a function" % (path, qualname))
    return obj


def _wrt(text):
    if text is None:
        return 0
    items = [int(w) if w.strip().lstrip("-").isdigit() else w.strip() for w in text.split(",")
             if w.strip()]
    return items[0] if len(items) == 1 else tuple(items)


def _parse_at(text: str) -> dict:
    values = {}
    for part in _split_top(text):
        if "=" not in part:
            raise CliError("--at expects name=value pairs, got %r" % part)
        key, value = part.split("=", 1)
        try:
            # numbers and lists only
            parsed = eval(value, {"np": np, "numpy": np, "__builtins__": {}})
        except Exception as exc:
            raise CliError("cannot read the value of %s: %s" % (key.strip(), exc)) from None
        values[key.strip()] = (
            np.asarray(parsed, dtype=float) if isinstance(parsed, (list, tuple)) else parsed
        )
    return values


def _split_top(text):
    depth, cur, out = 0, "", []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def cmd_dump(args):
    fn = load_function(args.target)
    if args.stage == "normalized":
        print(api.normalize(fn), end="")
        return 0
    example = _call_args(fn, _parse_at(args.at)) if args.at else None
    print(api.source(fn, wrt=_wrt(args.wrt), mode=args.mode, optimize=not args.no_optimize,
                     args=example), end="")
    return 0


def cmd_graph(args):
    fn = load_function(args.target)
    example = _call_args(fn, _parse_at(args.at)) if args.at else None
    text = api.graph(fn, args=example, wrt=_wrt(args.wrt), backward=args.backward,
                     path=args.output)
    if args.output is None:
        print(text, end="")
    else:
        print("wrote %s" % args.output)
    return 0


def cmd_export(args):
    fn = load_function(args.target)
    api.export(fn, args.output, args=_call_args(fn, _parse_at(args.at)), wrt=_wrt(args.wrt))
    print("wrote %s" % args.output)
    return 0


def _call_args(fn, values) -> list:
    """The positional arguments ``--at`` gives, in ``fn``'s order."""
    import inspect
    params = inspect.signature(fn).parameters
    missing = [p for p in params if p not in values
               and params[p].default is inspect.Parameter.empty]
    if missing:
        raise CliError("--at needs a value for: %s" % ", ".join(missing))
    return [values[p] for p in params if p in values]


def cmd_check(args):
    import inspect

    fn = load_function(args.target)
    params = list(inspect.signature(fn).parameters)
    call_args = _call_args(fn, _parse_at(args.at or ""))
    wrt = _wrt(args.wrt)
    many = isinstance(wrt, tuple)
    grads = api.grad(fn, wrt=wrt)(*call_args)
    positions = [params.index(w) if isinstance(w, str) else w for w in (wrt if many else (wrt,))]
    for pos, g in zip(positions, grads if many else (grads,)):
        fd = _finite_difference(fn, call_args, pos)
        err = float(np.max(np.abs(np.asarray(g, dtype=float) - fd))) if np.size(fd) else 0.0
        print("d/d%s = %s" % (params[pos], np.array2string(np.asarray(g), precision=8)))
        print(
            "  finite differences: %s  (max abs difference %.2e)"
            % (np.array2string(fd, precision=8), err)
        )
    return 0


def _finite_difference(fn, args, i, eps=1e-6):
    x = np.array(args[i], dtype=float)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        hi, lo = x.copy(), x.copy()
        hi[idx] += eps
        lo[idx] -= eps
        a = list(args)
        a[i] = hi if x.shape else float(hi)
        b = list(args)
        b[i] = lo if x.shape else float(lo)
        out[idx] = (fn(*a) - fn(*b)) / (2 * eps)
    return out


class _Parser(argparse.ArgumentParser):
    """Bad command lines are one line on stderr (and --help still prints the usage)."""

    def error(self, message):
        self.exit(2, "%s: error: %s (see %s --help)\n" % (self.prog, message, self.prog))


def _version() -> str:
    try:
        return importlib.metadata.version("adcompiler")
    except importlib.metadata.PackageNotFoundError:  # (run from a source tree not installed)
        return "(not installed)"


def main(argv=None) -> int:
    parser = _Parser(prog="adcompiler", description="Source-to-source automatic differentiation.")
    parser.add_argument("--version", action="version", version="adcompiler " + _version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    dump = sub.add_parser("dump", help="print generated code")
    dump.add_argument("target", help="FILE.py:FUNC")
    dump.add_argument("--wrt",
                      help="argument names or positions, comma separated (default: the first)")
    dump.add_argument("--mode", default="reverse", choices=["reverse", "forward", "split"])
    dump.add_argument("--stage", default="derivative", choices=["normalized", "derivative"])
    dump.add_argument("--no-optimize", action="store_true")
    dump.add_argument("--at",
                      help='example argument values, e.g. "x=3.0,y=-1.0": print the code '
                           'specialised for their kinds (Python float, array rank and dtype)')
    dump.set_defaults(run=cmd_dump)
    chk = sub.add_parser("check", help="print the gradient and a finite-difference check")
    chk.add_argument("target", help="FILE.py:FUNC")
    chk.add_argument("--at", required=True, help='argument values, e.g. "x=3.0,y=-1.0"')
    chk.add_argument("--wrt",
                     help="argument names or positions, comma separated (default: the first)")
    chk.set_defaults(run=cmd_check)
    drawn = sub.add_parser("graph", help="draw the computation graph (DOT, SVG, PNG or PDF)")
    drawn.add_argument("target", help="FILE.py:FUNC")
    drawn.add_argument("--backward", action="store_true",
                       help="the gradient code: the forward pass and the adjoints")
    drawn.add_argument("--wrt",
                       help="argument names or positions, comma separated (default: the first)")
    drawn.add_argument("--at", help='example argument values for --backward, e.g. "x=3.0"')
    drawn.add_argument("-o", "--output",
                       help="out.dot (DOT text), or out.svg / .png / .pdf (needs Graphviz); "
                            "default: DOT text on stdout")
    drawn.set_defaults(run=cmd_graph)
    out = sub.add_parser("export", help="write the gradient as a module that does not import "
                                        "adcompiler")
    out.add_argument("target", help="FILE.py:FUNC")
    out.add_argument("-o", "--output", required=True, help="the module to write: grad_f.py")
    out.add_argument("--at", required=True,
                     help='example argument values, e.g. "x=3.0,y=-1.0": the code is generated '
                          "for their kinds")
    out.add_argument("--wrt",
                     help="argument names or positions, comma separated (default: the first)")
    out.set_defaults(run=cmd_export)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (CliError, AdError) as exc:
        first = str(exc).strip().splitlines()
        print("adcompiler: error: %s" % " | ".join(line.strip() for line in first), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
