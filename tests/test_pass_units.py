"""Unit tests of planning and of the reverse transform on one small function: the plan of each
statement (the rule it is, what its derivative reads), which values are active, and the adjoint
block the reverse pass writes for one statement (before the optimisation passes)."""
import inspect

import gast
import numpy as np

from adcompiler import arguments, compiler


def scaled_sines(x, c):
    y = np.sin(x) * c
    z = c * 2.0
    return np.sum(y) + z


def _plan_of(fn, args, wrt):
    """The ``FunctionPlan`` that planning made of ``fn`` for the reverse transform."""
    return compiler._Reverse(fn, wrt, tuple(map(arguments.kind_of, args))).rev.plan


def test_each_statement_is_planned_as_its_rule_with_the_values_its_derivative_reads():
    planned = _plan_of(scaled_sines, (np.ones(3), 2.0), (0,))
    plans = {gast.unparse(s).strip(): planned.plans[id(s)] for s in planned.layout.simple}
    assert {text: (p.kind, p.rule.name, p.diff_reads) for text, p in plans.items()} == {
        "t1 = np.sin(x)": ("rule", "numpy.sin", ["x"]),
        "y = t1 * c": ("rule", "_operator.mul", ["t1", "c"]),
        "z = c * 2.0": ("rule", "_operator.mul", ["c"]),
        "t2 = np.sum(y)": ("rule", "numpy.sum", ["y"]),
        "ret = t2 + z": ("rule", "_operator.add", ["t2", "z"]),
    }
    assert plans["t2 = np.sum(y)"].rule.reduction == "sum"  # (the entry's facts reach the plan)


def test_only_values_depending_on_wrt_and_reaching_the_result_are_active():
    assert sorted(_plan_of(scaled_sines, (np.ones(3), 2.0), (0,)).active) == [
        "ret", "t1", "t2", "x", "y"]  # (not z, not c)
    assert sorted(_plan_of(scaled_sines, (np.ones(3), 2.0), (1,)).active) == ["c", "ret", "t2", "y", "z"]  # (not t1: sin(x) is constant)


def test_the_adjoint_block_of_one_statement_instantiates_its_rule():
    kinds = tuple(map(arguments.kind_of, (np.ones(3), 2.0)))
    source = compiler.build_reverse(scaled_sines, (0,), kinds, optimize=False).source
    lines = [line.strip() for line in source.splitlines()]
    line = inspect.getsourcelines(scaled_sines)[1] + 1  # (the line of y = np.sin(x) * c)
    at = lines.index("# t1 = np.sin(x)  (line %d)" % line)
    assert lines[at + 1] == "dx = dt1 * np.cos(x)"
    at = lines.index("# y = t1 * c  (line %d)" % line)
    assert lines[at + 1] == "dt1 = dy * c"  # (c is not differentiated: no dc)


def _live_lines(source, var):
    """The texts of the statements of ``source`` (a function) after which ``var`` is live."""
    from adcompiler.planning.liveness import live_after
    fdef = gast.parse(inspect.cleandoc(source)).body[0]
    found = live_after(fdef.body, var)
    return [gast.unparse(n).strip() for n in sorted(
        (n for n in gast.walk(fdef) if isinstance(n, gast.stmt) and id(n) in found),
        key=lambda n: n.lineno)]


def test_liveness_of_one_name_follows_loops_branches_and_jumps():
    # (bound again at the top of the next pass before it is read: dead after its last read)
    assert _live_lines("""
        def f(xs):
            for x in xs:
                t = x * 2
                y = t + 1
                t = y
            return y
        """, "t") == ["t = x * 2"]
    # (read at the top of the next pass, and after the loop: live around the back edge)
    assert _live_lines("""
        def f(xs, t):
            for x in xs:
                y = t + x
                t = y * 2
            return t
        """, "t") == ["t = y * 2"]
    # (one arm reads it, the other binds it again: live before the if)
    assert _live_lines("""
        def f(a, c):
            v = a * 2
            w = a + 1
            if c:
                r = v + 1
            else:
                v = a
                r = v
            return r
        """, "v") == ["v = a * 2", "w = a + 1", "v = a"]
    # (continue goes back to where the next binding kills it; break leaves with it dead)
    assert _live_lines("""
        def f(xs):
            s = 0.0
            for x in xs:
                if x > 0:
                    continue
                s = x
                if x < -5:
                    break
                u = s * 2
            return u
        """, "s") == ["s = x"]
    assert _live_lines("""
        def f(xs):
            s = 0.0
            for x in xs:
                if x > 0:
                    continue
                u = s * 2
                s = x
            return u
        """, "s") == ["s = 0.0", "continue", "s = x"]
