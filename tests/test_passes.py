"""Unit tests of single passes: the normal form ``normalize_function`` gives small functions,
compared as unparsed text (the names are the normaliser's: ``t1``, ``broke``, ``retval``...)."""
import textwrap

import gast
import numpy as np

from adcompiler.context import Context
from adcompiler.normalize import normalize_function
from adcompiler.normalize.jumps import lower_jumps
from adcompiler.parse import parse_function


def normal_form(fn) -> str:
    """The three-address form of ``fn``, built as ``compiler.py`` builds it (no argument kinds)."""
    parsed = parse_function(fn)
    ctx = Context(parsed)
    fdef, _ = normalize_function(parsed.tree, ctx.resolver, ctx.namer, ctx.loc, bind=ctx.bind)
    return gast.unparse(fdef)


def expected(text: str) -> str:
    return textwrap.dedent(text).strip()


def test_an_expression_becomes_one_operation_per_statement():
    def f(a, b, c):
        y = a * b + c
        return y
    assert normal_form(f) == expected("""
        def f(a, b, c):
            t1 = a * b
            y = t1 + c
            return y
        """)


def test_a_break_is_lowered_to_a_flag_tested_last_in_the_loop():
    def f(xs):
        total = 0.0
        for i in range(10):
            if xs[i] > 1.0:
                break
            total = total + np.sin(xs[i])
        return total
    assert normal_form(f) == expected("""
        def f(xs):
            total = 0.0
            broke = False
            for i in range(10):
                t1 = xs[i]
                t2 = t1 > 1.0
                if t2:
                    broke = True
                else:
                    t3 = xs[i]
                    t4 = np.sin(t3)
                    t5 = total + t4
                    total = t5
                if broke:
                    break
            return total
        """)


def test_a_return_inside_a_loop_sets_the_return_value_and_leaves_the_loop():
    def f(x):
        for i in range(3):
            if x > 1.0:
                return x
            x = x * 2.0
        return x
    # (every return gives x, which nothing binds once a return ran: x is the result itself)
    assert normal_form(f) == expected("""
        def f(x):
            returned = False
            broke = False
            for i in range(3):
                t1 = x > 1.0
                if t1:
                    returned = True
                    broke = True
                else:
                    t2 = x * 2.0
                    x = t2
                if broke:
                    break
            if not returned:
                returned = True
            return x
        """)


def test_an_early_return_becomes_one_final_return():
    def f(x):
        if x > 0:
            return x
        return -x
    assert normal_form(f) == expected("""
        def f(x):
            retval = None
            t1 = x > 0
            if t1:
                retval = x
            else:
                retval = -x
            return retval
        """)


def test_jump_lowering_alone_keeps_expressions_whole():
    def f(x):
        for i in range(3):
            if x > 1.0:
                continue
            x = x * 2.0
        return x
    lowered = lower_jumps(parse_function(f).tree, Context(parse_function(f)).namer)
    assert "\n".join(gast.unparse(s) for s in lowered) == expected("""
        for i in range(3):
            if x > 1.0:
                pass
            else:
                x = x * 2.0
        return x
        """)


def test_a_loop_over_a_sequence_becomes_an_index_loop_and_a_continue_an_else():
    def f(xs):
        total = 0.0
        for x in xs:
            if x < 0.0:
                continue
            total = total + x
        return total
    assert normal_form(f) == expected("""
        def f(xs):
            total = 0.0
            t1 = len(xs)
            for k in range(t1):
                x = xs[k]
                t2 = x < 0.0
                if t2:
                    pass
                else:
                    t3 = total + x
                    total = t3
            return total
        """)


def test_a_while_condition_is_computed_again_at_the_end_of_the_body():
    def f(x):
        while x * x > 2.0:
            x = x / 2.0
        return x
    assert normal_form(f) == expected("""
        def f(x):
            t1 = x * x
            t2 = t1 > 2.0
            while t2:
                t3 = x / 2.0
                x = t3
                t4 = x * x
                t2 = t4 > 2.0
            return x
        """)


def test_a_comprehension_becomes_a_loop_with_fresh_names():
    def f(xs):
        return [x * 2.0 for x in xs if x > 0]
    assert normal_form(f) == expected("""
        def f(xs):
            items = []
            t1 = len(xs)
            for k in range(t1):
                x_ = xs[k]
                t2 = x_ > 0
                if t2:
                    t3 = x_ * 2.0
                    items.append(t3)
            ret = items
            return ret
        """)


def test_a_comparison_chain_short_circuits():
    def f(a, b, c):
        return a < b < c
    assert normal_form(f) == expected("""
        def f(a, b, c):
            t1 = a < b
            if t1:
                t1 = b < c
            ret = t1
            return ret
        """)


def test_an_augmented_assignment_is_spelled_out_keeping_the_dtype():
    def f(xs):
        s = 0.0
        for x in xs:
            s += x
        return s
    assert normal_form(f) == expected("""
        def f(xs):
            s = 0.0
            t1 = len(xs)
            for k in range(t1):
                x = xs[k]
                t2 = s + x
                s = keep_dtype(s, t2)
            return s
        """)
