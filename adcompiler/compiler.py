"""The pipeline: parse -> resolve -> normalise -> analyse -> reverse/forward -> optimise ->
unparse -> compile. Each step is its own module; this one only wires them together (what the
optimiser is told comes from ``optimizer_inputs``; callees compiled at run time are
``subroutines``, reached through ``hooks``)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import gast

from . import arguments, hooks, runtime
from .analysis import CONTAINER, FLOAT, SCALAR, array_kind
from .arguments import COMPLEX, TUPLE_OF, is_array_kind, is_complex_kind
from .batched import BatchedForwardMode
from .codegen import compile_functions, drop_orphan_comments, to_source, wrap_try_regions
from .context import Context
from .forward import ForwardMode
from .forward.jvp_function import jvp_entry, jvp_return, tangents_first
from .fusion import fuse_composites
from .inplace import read_back
from .ir import COMMENT, assign, const, name, walk
from .naming import label_of
from .normalize import normalize_function
from .optimize import optimize as run_optimizer
from .optimizer_inputs import facts_of, is_pure_call
from .parse import parse_function, unwrap
from .planning import plan_function
from .planning.complex_values import checked_result
from .planning.identities import FollowByIdentity, entry_checks, result_checks
from .reverse import ReverseMode
from .rules.helpers.elementwise import nonzero_or_inf
from .shapes import constants_as_numbers


def _sequence_kind(k) -> bool:
    """Whether an argument kind is an array's, a list's or a tuple's (iterated by position)."""
    return is_array_kind(k) or (isinstance(k, tuple) and k[0] in (CONTAINER, TUPLE_OF)
                                and k[1] != "dict")


def _analysis_kind(k):
    """The analyses' view of an argument kind: FLOAT, SCALAR, an array rank, or unknown."""
    if k == "int":
        return FLOAT
    if k == COMPLEX:
        return SCALAR
    if isinstance(k, tuple) and k[0] == "array":
        return array_kind(k[1])
    if isinstance(k, tuple) and k[0] == TUPLE_OF:  # a tuple whose entries' kinds are known
        return (TUPLE_OF, tuple(_analysis_kind(e) for e in k[1]))
    if isinstance(k, tuple) and k[0] == CONTAINER:
        # (a tuple argument's kind lists its entries': see arguments.kinds_of)
        return (TUPLE_OF, tuple(_analysis_kind(e) for e in k[2])) \
            if k[1] == "tuple" and len(k) > 2 else CONTAINER  # (not of a long tuple's entries)
    return k if k in (FLOAT, SCALAR, CONTAINER) else None  # (CONTAINER: a caller's container)


def _function_def(fname: str, args, body: list, like):
    """``def fname(args): body``, at the source location of the user's function ``like``."""
    fdef = gast.FunctionDef(name=fname, args=args, body=body, decorator_list=[], returns=None,
                            type_comment=None, type_params=[])
    gast.copy_location(fdef, like)
    return fdef


@dataclass
class Compiled:
    """A generated function and its source."""

    fn: object
    source: str
    name: str


def param_names(fdef) -> list[str]:
    """Positional parameters, then ``*args`` if any, then keyword-only ones and ``**kwargs``: what
    wrt positions index (a called function's keyword arguments are differentiated too)."""
    a = fdef.args
    return (
        [p.id for p in a.posonlyargs + a.args]
        + ([a.vararg.id] if a.vararg is not None else [])
        + [p.id for p in a.kwonlyargs]
        + ([a.kwarg.id] if a.kwarg is not None else [])
    )


def _stage(fn, arg_kinds=None, fuse=True, by_identity=False):
    arg_kinds = arguments.with_default_kinds(fn, arg_kinds)
    parsed = parse_function(fn)
    ctx = Context(parsed)
    if by_identity:  # (attributes followed by object identity: planning/identities.py)
        ctx.by_identity = True
        ctx.attribute_table = ctx.namer.fresh("attribute_adjoints")
    # generated code differentiated again: its constants and in-place steps read back
    if ctx.generated:
        constants_as_numbers(parsed.tree, parsed.cells)
        read_back(parsed.tree)
    dicts, numbers, lists, sequences = set(), set(), set(), None
    # (a 0-d array is a shape-() value too, but d[k] *= v changes it in place: seed 621807)
    ctx.specialised = arg_kinds is not None
    # (values may be complex: the rules for them apply, see rules/complex_rules.py; planning
    # sets it too for code that makes complex values)
    ctx.complex_mode = any(is_complex_kind(k) for k in arg_kinds or ())
    ctx.zero_d_arrays = {p for p, k in zip(param_names(parsed.tree), arg_kinds or ())
                         if isinstance(k, tuple) and k[0] == "array" and k[1] == 0}
    if arg_kinds is not None:  # dict arguments iterate over their keys; x += 1 rebinds a number
        dicts = {p for p, k in zip(param_names(parsed.tree), arg_kinds) if k == (CONTAINER, "dict")}
        lists = {p for p, k in zip(param_names(parsed.tree), arg_kinds)
                 if isinstance(k, tuple) and k[:2] == (CONTAINER, "list")}
        numbers = {p for p, k in zip(param_names(parsed.tree), arg_kinds)
                   if k in (FLOAT, SCALAR, "int", COMPLEX)}
        sequences = {p for p, k in zip(param_names(parsed.tree), arg_kinds) if _sequence_kind(k)}
    fdef, ctx.temps = normalize_function(parsed.tree, ctx.resolver, ctx.namer, ctx.loc, dicts,
                                         ctx.bind, numbers, ctx.generated,
                                         arguments.classes_of(param_names(parsed.tree),
                                                              arg_kinds),
                                         lists, sequences,
                                         arguments.modules_of(
                                             param_names(parsed.tree), parsed.tree.args,
                                             parsed.fn, arg_kinds),
                                         {p: arguments.list_entry_class(k) for p, k in
                                          zip(param_names(parsed.tree), arg_kinds or ())
                                          if arguments.list_entry_class(k) is not None},
                                         inline_all=by_identity,
                                         attribute_classes=arguments.entry_attributes(arg_kinds),
                                         namedtuple_params=arguments.namedtuples_of(
                                             param_names(parsed.tree), arg_kinds))
    ctx.returned_classes, ctx.sure_dicts = fdef.ad_returned_classes, fdef.ad_sure_dicts
    ctx.list_classes, ctx.class_attributes = fdef.ad_list_classes, fdef.ad_class_attributes
    ctx.namedtuples, ctx.inlined_globals = fdef.ad_namedtuples, fdef.ad_inlined_globals
    ctx.argument_containers = {p: k for p, k in zip(param_names(parsed.tree), arg_kinds or ())
                               if isinstance(k, tuple) and k[0] == CONTAINER}
    if fuse:
        fuse_composites(fdef, ctx)
    return parsed, ctx, fdef


def normalized_tree(fn):
    """``fn``'s three-address form, a FunctionDef, and its Location (lines: + loc.line_offset)."""
    parsed, _, fdef = _stage(fn, fuse=False)
    fdef.name = fn.__name__ if fn.__name__ != "<lambda>" else "lambda_"
    fdef.body = wrap_try_regions(fdef.body)
    return fdef, parsed.loc


def normalized_source(fn) -> str:
    """The three-address form of ``fn`` as source."""
    return to_source(normalized_tree(fn)[0])


class _Reverse:
    """The reverse-mode pieces of one function: entry code, forward pass, backward pass."""

    def __init__(self, fn, wrt_positions, arg_kinds, split_names=None, top_level=True,
                 by_identity=False):
        self.parsed, self.ctx, fdef = _stage(fn, arg_kinds, by_identity=by_identity)
        self.fn = fn
        ctx = self.ctx
        # before any callee is named: a recursive call of another pair must not take them
        if split_names:
            ctx.namer.reserve(split_names)
        self.key = (tuple(wrt_positions), tuple(arg_kinds) if arg_kinds is not None else None)
        self.split_names = split_names
        ctx.subroutine = self.subroutine
        ctx.called = not top_level  # (a called function's: its arguments' kinds may be unknown)
        self.params = params = param_names(fdef)
        self.fdef = fdef
        self.wrt = [params[i] for i in wrt_positions]
        kinds = {p: None for p in params}
        if arg_kinds is not None:
            for p, k in zip(params, arguments.with_default_kinds(fn, arg_kinds)):
                kinds[p] = _analysis_kind(k)
                if isinstance(k, tuple) and k[0] == CONTAINER:
                    ctx.containers.add(p)
        if fdef.args.vararg is not None:
            ctx.containers.add(fdef.args.vararg.id)
            kinds[fdef.args.vararg.id] = None
        if fdef.args.kwarg is not None:  # (**kw: a dict, whose adjoints add up key by key)
            ctx.containers.add(fdef.args.kwarg.id)
        self.kinds = kinds
        self.arg_kinds = dict(zip(params, arg_kinds)) if arg_kinds is not None else {}
        ctx.arg_classes = arguments.classes_of(params, arg_kinds)
        self.rev = rev = ReverseMode(plan_function(fdef, self.wrt, kinds, ctx), ctx)
        self.entry, self.originals = [], {}
        for p in self.wrt:
            if (
                p in rev.plan.layout.mutates
                and self.kinds.get(p) != FLOAT
                and not is_array_kind(self.arg_kinds.get(p))
            ):
                # a list or dict the function adds entries to:
                # its gradient has the entries it came with
                self.originals[p] = ctx.namer.fresh(p + "_arg")
                self.entry.append(assign(self.originals[p],
                                         gast.Call(func=name(ctx.helper("copy")), args=[name(p)],
                                                   keywords=[])))
            elif p in rev.plan.layout.binds:
                self.originals[p] = ctx.namer.fresh(p + "_arg")
                self.entry.append(assign(self.originals[p], name(p)))
        self.forward = rev.forward(rev.plan.body) + rev.registrations(rev.plan.ret_node)
        self.entry = rev.callee_guards(ctx) + (rev.fresh_start() + rev.distinct_arguments()
                                               if top_level else rev.distinct_entries()) \
            + self.entry
        if by_identity:
            self.entry += entry_checks(rev.plan, ctx, self.kinds)
        for stmt in self.forward:
            for node in walk(stmt):
                if isinstance(node, gast.stmt) and not isinstance(
                    node, (gast.If, gast.For, gast.While)
                ):
                    node.ad_primal = True
        if rev.tape:
            self.entry.append(assign(rev.tape, gast.List(elts=[], ctx=gast.Load())))

    def subroutine(self, fn, active, kinds):
        """Names of the forward/backward pair of user function ``fn`` called with active
        parameters ``active``; generated (and cached) on first use."""
        fn = unwrap(fn)
        key = (tuple(active), _marked(kinds, self.ctx))
        if self.split_names and fn == unwrap(self.fn) and key == self.key:  # == : bound methods
            return self.split_names  # direct recursion: the pair being generated now
        pair = hooks.subroutine_pair(fn, key)
        return (self.ctx.bind(label_of(fn) + "_forward", pair.forward),
                self.ctx.bind(label_of(fn) + "_backward", pair.backward))

    def backward(self, seeded: bool):
        rev = self.rev
        if seeded:
            result = rev.plan.result
            rev.live = {result} if result is not None and result in rev.plan.active else set()
        out = rev.backward(rev.plan.body)
        if self.ctx.by_identity:  # (the attributes' adjoints, by object: planning/identities.py)
            out.insert(0, assign(self.ctx.attribute_table, gast.Dict(keys=[], values=[])))
        # (a NumPy function or a helper given Python floats may give a NumPy scalar: a float
        # gradient is then made a float; math functions, the tape and unbroadcast keep floats)
        keeping = {n for n, o in self.ctx.bindings.objects.items()
                   if o is math or o is runtime.unbroadcast or o is nonzero_or_inf}
        keeping.add("range")  # (the loops reversed: counts)
        if rev.tape is not None:
            keeping.add(rev.tape)
        rev.numpy_scalars = any(isinstance(n, gast.Call) and not _keeps_floats(n.func, keeping)
                                for st in out for n in walk(st) if not _is_comment_call(n))
        # gradients leave with their shapes
        rev.materialize_uniform(set(self.wrt) - set(self.kinds_float()), out)
        return out

    def kinds_float(self):
        return [p for p in self.wrt if self.kinds.get(p) == FLOAT]

    def gradients(self, cast=True):
        rev, kinds = self.rev, self.kinds
        pure_float = all(rev.plan.kinds.get(v) == FLOAT for v in rev.plan.active)
        grads = []
        for p in self.wrt:
            d = rev.adj(p)
            live = p in rev.live
            if not cast:
                grads.append(name(d) if live else const(0.0))
            elif live and pure_float and kinds.get(p) == FLOAT and not self.rev.numpy_scalars:
                grads.append(name(d))
            elif kinds.get(p) == FLOAT and not live:
                grads.append(const(0.0))
            else:
                value = name(d) if live else const(0.0)
                grads.append(gast.Call(func=name(self.ctx.helper("cast_like")),
                                       args=[value, name(self.originals.get(p, p))], keywords=[]))
        return grads

    def function(self, fname, args, body):
        return _function_def(fname, args, body, self.fdef)

    def keep(self) -> set:
        """Names worth keeping in generated code: the user's variables and their adjoints."""
        temps = self.ctx.temps
        return {v for v in self.rev.adjoints if v not in temps} | \
            {d for v, d in self.rev.adjoints.items() if v not in temps}

    def floats(self) -> set:
        """Names that hold floats or float arrays: adjoints, and the values they are adjoints of
        (what depends on ``wrt`` is a float: a comparison, ``int(x)`` or ``x.astype(int)`` does not
        carry a derivative)."""
        return set(self.rev.adjoints.values()) | self.rev.plan.float_names()

    def finish(self, defs, optimize, live_out=None):
        for d in defs:
            if optimize:
                run_optimizer(d, is_pure_call(self.ctx), self.keep(),
                              facts_of(self.ctx, self.rev.plan.kinds, self.arg_kinds,
                                       self.rev.tape),
                              self.floats())
            d.body = wrap_try_regions(drop_orphan_comments(d.body))
        source = "\n".join(to_source(d) for d in defs)
        names = [d.name for d in defs]
        fns = compile_functions(source, names, self.parsed, self.ctx.bindings.objects, names[0],
                                located=(defs, self.ctx.loc))
        shared = any(getattr(s, "ad_synced", False) for s in self.rev.plan.layout.simple)
        for fn in fns.values():
            fn.__defaults__ = self.parsed.fn.__defaults__
            fn.__kwdefaults__ = self.parsed.fn.__kwdefaults__
            # (reverse mode over this code would not follow those writes: see ReverseMode)
            fn.__adcompiler_shared_writes__ = shared
        return fns, source


def _reverse_of(fn, wrt_positions, arg_kinds, **options) -> _Reverse:
    """The reverse-mode pieces of ``fn``, with attributes followed by identity when a store into
    an object other names reach cannot be followed by name (``planning/identities.py``)."""
    try:
        return _Reverse(fn, wrt_positions, arg_kinds, **options)
    except FollowByIdentity:
        if not options.get("top_level", True):
            raise  # (the whole computation is generated again: its calls are inlined)
        return _Reverse(fn, wrt_positions, arg_kinds, by_identity=True, **options)


@hooks.disk_cached
def build_reverse(fn, wrt_positions, arg_kinds=None, mode="grad", optimize=True,
                  as_tuple=None) -> Compiled:
    """Generate the gradient function of ``fn`` w.r.t. the positional parameters ``wrt_positions``.

    ``mode`` is "grad" (returns the gradients) or "value_and_grad" (returns value, gradients);
    ``arg_kinds`` (from ``kind_of``) lets the code skip work that the argument types make
    unnecessary; None gives code generated without them, for reading (see ``ad.source``).
    Gradients come as a tuple when ``as_tuple`` (default: when there are several)."""
    r = _reverse_of(fn, wrt_positions, arg_kinds)
    rev, ctx = r.rev, r.ctx
    seed = []
    result = rev.plan.result
    if result is not None and result in rev.plan.active:
        if rev.plan.kinds.get(result) in (FLOAT, SCALAR) and not _may_turn_complex(rev) \
                and not ctx.complex_mode:
            value = const(1.0)
        else:
            value = gast.Call(func=name(ctx.helper("scalar_seed")),
                              args=[name(result), const(r.parsed.name)],
                              keywords=[])
        seed.append(assign(rev.adj(result), value))
        rev.never_zero.add(result)
    elif result is not None:
        seed.append(gast.Expr(value=gast.Call(func=name(ctx.helper("scalar_seed")),
                                              args=[name(result), const(r.parsed.name)],
                                              keywords=[])))
    backward = r.backward(seeded=True)
    grads = r.gradients()
    many = len(grads) != 1 if as_tuple is None else as_tuple
    out = gast.Tuple(elts=grads, ctx=gast.Load()) if many else grads[0]
    if len(grads) > 1 and any(r.kinds.get(p) != FLOAT for p in r.wrt):
        out = gast.Call(func=name(ctx.helper("distinct")), args=[out], keywords=[])
    if mode == "value_and_grad":
        value = rev.plan.ret_node.value
        # (the backward pass may restore earlier values of that name)
        if isinstance(value, gast.Name):
            kept = ctx.namer.fresh(value.id + "_value")
            seed.insert(0, assign(kept, name(value.id)))
            value = name(kept)
        out = gast.Tuple(elts=[value, out], ctx=gast.Load())
    gname = ctx.namer.fresh("d" + label_of(fn))
    gdef = r.function(gname, r.fdef.args,
                      r.entry + r.forward + seed + backward + [gast.Return(value=out)])
    fns, source = r.finish([gdef], optimize)
    return Compiled(fns[gname], source, gname)


def _keeps_floats(func, keeping: set) -> bool:
    """A call of ``func`` gives Python floats for Python floats (a function of ``math``, a method
    of the tape, unbroadcast, range): named in ``keeping``."""
    if isinstance(func, gast.Attribute):
        func = func.value
    return isinstance(func, gast.Name) and func.id in keeping


def _is_comment_call(node) -> bool:
    return (
        isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == COMMENT
    )


def _may_turn_complex(rev) -> bool:
    """Whether a Python float may become complex: ``x ** 0.5`` of a negative float is complex
    in Python (a NumPy float gives nan), so the output's type is checked (``scalar_seed``)."""
    for s in rev.plan.layout.simple:
        value = getattr(s, "value", None)
        if (
            isinstance(value, gast.BinOp)
            and isinstance(value.op, gast.Pow)
            and rev.plan.kind_of(value.left) == FLOAT
            and not (isinstance(value.right, gast.Constant) and type(value.right.value) is int)
            and not (isinstance(value.left, gast.Constant) and value.left.value >= 0)
        ):
            return True
    return False


@dataclass
class Split:
    """A forward function returning ``(value, saved)`` and a backward function
    ``backward(saved, cotangent) -> tuple of adjoints`` (split motion)."""

    forward: object
    backward: object
    source: str


@hooks.disk_cached
def build_split(fn, wrt_positions, arg_kinds=None, reusable=True, optimize=True) -> Split:
    """Generate ``fn_forward`` / ``fn_backward``. The backward function returns one adjoint per
    position in ``wrt_positions`` (0.0 for none; cast to the argument's type when ``reusable``,
    the public vjp). The backward can be called many times: it does not consume the tape."""
    parsed_names = _reserved_split_names(fn)
    r = _reverse_of(fn, wrt_positions, arg_kinds, split_names=parsed_names, top_level=reusable)
    rev, ctx = r.rev, r.ctx
    fwd_name, bwd_name = parsed_names
    ctx.namer.reserve(parsed_names)
    saved_name = ctx.namer.fresh("saved")
    seed_var = rev.plan.result if rev.plan.result is not None else ctx.namer.fresh("ret")
    seed_name = rev.adj(seed_var)
    rev.maybe_zero.add(seed_var)  # (a caller whose adjoint of the result is zero passes 0.0)
    backward = r.backward(seeded=True)
    grads = r.gradients(cast=reusable)
    returned = gast.Tuple(elts=grads, ctx=gast.Load())
    if reusable and len(grads) > 1:
        returned = gast.Call(func=name(ctx.helper("distinct")), args=[returned], keywords=[])
    bwd_body = backward + [gast.Return(value=returned)]
    bwd_args = gast.arguments(args=[name(saved_name, False), name(seed_name, False)],
                              posonlyargs=[],
                              vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    for a in bwd_args.args:
        a.ctx = gast.Param()
    bwd = r.function(bwd_name, bwd_args, bwd_body)
    if optimize:
        run_optimizer(bwd, is_pure_call(ctx), r.keep(), floats=r.floats())
    a = r.fdef.args
    every_param = {p.id for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
                   if p is not None}
    saved = _unpack_saved(r, bwd, every_param, saved_name)
    always = every_param | _bound_unconditionally(r.entry + r.forward)
    # saved values a branch or loop may not have bound: None until then
    maybe_unbound = [assign(v, const(None)) for v in saved if v not in always]
    result_value = rev.plan.ret_node.value
    if not reusable:
        result_value = checked_result(result_value, ctx, arg_kinds, r.parsed.name)
    fwd_ret = gast.Tuple(elts=[result_value,
                               gast.Tuple(elts=[name(v) for v in saved], ctx=gast.Load())],
                         ctx=gast.Load())
    checks = result_checks(rev.plan, ctx) if ctx.by_identity else []
    fwd = r.function(fwd_name, r.fdef.args,
                     maybe_unbound + r.entry + r.forward + checks + [gast.Return(value=fwd_ret)])
    fns, source = r.finish([fwd, bwd], optimize)
    fns[fwd_name].__adcompiler_primal__ = unwrap(fn)  # (its result's kind: planning.kinds)
    return Split(fns[fwd_name], fns[bwd_name], source)


def _unpack_saved(r, bwd, params, saved_name) -> list:
    """The values the backward function ``bwd`` reads from the forward one (sorted), unpacked
    from ``saved_name`` at its start (the tape copied first: the public pullback may run again)."""
    defined = params | {n.id for s in r.entry + r.forward for n in walk(s)
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    reads = {n.id for st in bwd.body for n in walk(st)
             if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    saved = sorted({n for n in reads if n in defined} | set(r.originals.values()) & reads)
    tape = r.rev.tape
    if tape and tape in saved:  # (a callee's too)
        copy = gast.Call(func=gast.Attribute(value=name(tape), attr="copy", ctx=gast.Load()),
                         args=[], keywords=[])
        bwd.body.insert(0, assign(tape, copy))
    if saved:
        unpack = assign(gast.Tuple(elts=[name(v, True) for v in saved], ctx=gast.Store()),
                        name(saved_name))
        bwd.body.insert(0, unpack)
    return saved


def _bound_unconditionally(stmts) -> set:
    """Names every run of ``stmts`` binds: not inside a branch or loop (a ``with`` body runs)."""
    out = set()
    for s in stmts:
        if isinstance(s, gast.With):
            out |= _bound_unconditionally(s.body)
        elif not isinstance(s, (gast.If, gast.For, gast.While, gast.Try)):
            out |= {n.id for n in walk(s) if isinstance(n, gast.Name)
                    and isinstance(n.ctx, gast.Store)}
    return out


def _reserved_split_names(fn):
    label = label_of(fn)
    return (label + "_forward", label + "_backward")


@hooks.disk_cached
def build_jvp(fn, wrt_positions, arg_kinds=None, optimize=True, batched=False,
              top_level=True) -> Compiled:
    """Generate ``f_jvp(tangents, *args) -> (value, tangent)``: forward mode w.r.t. the positional
    parameters ``wrt_positions`` (``tangents`` holds one tangent per position). ``batched``: every
    tangent has a leading batch axis (raises batched.Unbatchable when the function does not allow
    it)."""
    try:
        return _jvp_of(fn, wrt_positions, arg_kinds, optimize, batched, top_level)
    except FollowByIdentity:
        if not top_level:
            raise  # (the whole computation is generated again: its calls are inlined)
        return _jvp_of(fn, wrt_positions, arg_kinds, optimize, batched, top_level,
                       by_identity=True)


def _jvp_of(fn, wrt_positions, arg_kinds, optimize, batched, top_level,
            by_identity=False) -> Compiled:
    """``build_jvp``, with attributes' tangents followed by name or by object identity."""
    parsed, ctx, fdef = _stage(fn, arg_kinds, by_identity=by_identity)
    if by_identity:
        ctx.attribute_table = ctx.namer.fresh("attribute_tangents")
    params = param_names(fdef)
    wrt = [params[i] for i in wrt_positions]
    jname = label_of(fn) + "_jvp"
    ctx.namer.reserve([jname])
    key = (tuple(wrt_positions), tuple(arg_kinds) if arg_kinds is not None else None)
    ctx.subroutine_jvp = _jvp_subroutines(fn, key, jname, ctx)
    ctx.arg_classes = arguments.classes_of(params, arg_kinds)
    ctx.batch_size = ctx.namer.fresh("batch") if batched else None
    kinds = _param_kinds(params, arguments.with_default_kinds(fn, arg_kinds))
    plan = plan_function(fdef, wrt, kinds, ctx, tangents=True)
    fm = (BatchedForwardMode if batched else ForwardMode)(plan, ctx)
    tangents = ctx.namer.fresh("tangents")
    entry = jvp_entry(fm, ctx, wrt, tangents, top_level)
    if by_identity:
        entry += [assign(ctx.attribute_table, gast.Dict(keys=[], values=[]))] \
            + entry_checks(plan, ctx, kinds)
    body = fm.transform(fm.plan.body) + fm.registrations(fm.plan.ret_node)
    if by_identity:
        body += result_checks(plan, ctx)
    out = jvp_return(fm, ctx)
    if not top_level:
        out.value.elts[0] = checked_result(out.value.elts[0], ctx, arg_kinds, parsed.name)
    jdef = _function_def(jname, tangents_first(fdef.args, tangents), entry + body + [out], fdef)
    if optimize:
        run_optimizer(jdef, is_pure_call(ctx), floats=fm.plan.float_names())
    jdef.body = wrap_try_regions(jdef.body)
    source = to_source(jdef)
    jfn = compile_functions(source, [jname], parsed, ctx.bindings.objects, jname,
                            located=([jdef], ctx.loc))[jname]
    jfn.__defaults__ = parsed.fn.__defaults__
    jfn.__kwdefaults__ = parsed.fn.__kwdefaults__
    return Compiled(jfn, source, jname)


def _marked(kinds, ctx) -> tuple:
    """A callee's argument kinds, with COMPLEX last when the caller's values may be complex: the
    callee's values may be too (its arguments' kinds in the caller do not say so)."""
    return tuple(kinds) + ((COMPLEX,) if ctx.complex_mode else ())


def _param_kinds(params, arg_kinds) -> dict:
    """Parameter -> the analyses' kind of its argument (None where unknown)."""
    kinds = {p: None for p in params}
    if arg_kinds is not None:
        kinds.update({p: _analysis_kind(k) for p, k in zip(params, arg_kinds)})
    return kinds


def _jvp_subroutines(fn, key, jname: str, ctx):
    """``ctx.subroutine_jvp`` for ``fn``'s jvp function ``jname``: the name of the jvp function
    of a user function called with given active parameters and kinds; ``jname`` when that is
    ``fn`` with the same ones (``key``), else generated (and cached) on first use."""

    def subroutine_jvp(callee, active, callee_kinds):
        callee = unwrap(callee)
        callee_key = (tuple(active), _marked(callee_kinds, ctx))
        if callee == unwrap(fn) and callee_key == key:
            return jname  # direct recursion
        compiled = hooks.subroutine_jvp(callee, callee_key)
        return ctx.bind(label_of(callee) + "_jvp", compiled.fn)

    return subroutine_jvp


def build_outer_derivative(target, position: int, jvp_fn, mode: str, as_tuple: bool) -> Compiled:
    """The derivative of a generated function ``target`` (such as ``df``) w.r.t. its scalar
    parameter ``position``, as generated code calling its forward-mode function ``jvp_fn``
    with the unit tangent: ``grad(grad(f))``. Being generated code, it can be differentiated
    again."""
    parsed = parse_function(target)
    ctx = Context(parsed)
    params = param_names(parsed.tree)
    jname = ctx.bind(jvp_fn.__name__, jvp_fn)
    seed = ctx.helper("scalar_seed")
    value, tangent = ctx.namer.fresh("value"), ctx.namer.fresh("d" + params[position])
    gname = ctx.namer.fresh("d" + label_of(target))
    out = "(%s,)" % tangent if as_tuple else tangent
    if mode == "value_and_grad":
        out = "%s, %s" % (value, out)
    source = ("def %s(%s):\n    %s, %s = %s((1.0,), %s)\n    %s(%s, %r)\n    return %s\n"
              % (gname, ", ".join(params), value, tangent, jname, ", ".join(params), seed, value,
                 parsed.name, out))
    fn = compile_functions(source, [gname], parsed, ctx.bindings.objects, gname)[gname]
    fn.__defaults__ = parsed.fn.__defaults__
    return Compiled(fn, source, gname)


