"""``match`` statements, rewritten before jump lowering as the ``if``/``elif`` chain Python's
rules amount to: the subject evaluated once, each ``case`` a test of its pattern (values and
singletons compared, sequences and mappings checked by ``match_sequence`` / ``match_mapping`` as
Python checks them, classes by ``isinstance`` and their attributes or ``__match_args__``), then
its names bound, then its guard; the first that succeeds runs its block. An ``|`` of patterns
binds what its first matching alternative binds; ``**rest`` of a mapping pattern is the dict of
its other entries.
"""
from __future__ import annotations

import gast

from .. import runtime
from ..ir import assign, const, copy_tree, map_inner_blocks, name

# builtin classes whose one positional sub-pattern matches the subject itself (int(n))
_SELF_MATCHING = (bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple)


def lower_matches(body, namer, resolver, helper, loc) -> list:
    """``body`` with each ``match`` statement (at any depth) rewritten (see the module's doc)."""
    return _Matches(namer, resolver, helper, loc).block(body)


def _and(tests):
    tests = [t for t in tests if t is not None]
    if not tests:
        return None
    return tests[0] if len(tests) == 1 else gast.BoolOp(op=gast.And(), values=tests)


class _Matches:
    def __init__(self, namer, resolver, helper, loc):
        self.namer, self.resolver, self.helper, self.loc = namer, resolver, helper, loc

    def block(self, stmts) -> list:
        out = []
        for s in stmts:
            if isinstance(s, gast.Match):
                out.extend(self.rewrite(s))
                continue
            map_inner_blocks(s, self.block)
            out.append(s)
        return out

    def rewrite(self, s) -> list:
        subject = self.namer.fresh("subject")
        out = [gast.copy_location(assign(subject, s.subject), s)]
        guarded = any(c.guard is not None for c in s.cases)
        matched = self.namer.fresh("matched") if guarded else None
        if matched:
            out.append(gast.copy_location(assign(matched, const(False)), s))
        chain = []
        for case in reversed(s.cases):
            test, bindings = self.pattern(case.pattern, name(subject))
            body = [gast.copy_location(assign(n, v), case.pattern) for n, v in bindings]
            block = self.block(case.body)
            if matched:
                block = [gast.copy_location(assign(matched, const(True)), case.pattern)] + block
            if case.guard is not None:
                body.append(gast.copy_location(gast.If(test=case.guard, body=block, orelse=[]),
                                               case.guard))
            else:
                body.extend(block)
            if matched:  # (a guard may fail after the names are bound: the next case is tried)
                step = [gast.If(test=test, body=body, orelse=[])] if test is not None else body
                chain = step + ([gast.If(test=gast.UnaryOp(op=gast.Not(), operand=name(matched)),
                                         body=chain, orelse=[])] if chain else [])
            elif test is None:
                chain = body
            else:
                chain = [gast.If(test=test, body=body, orelse=chain)]
            for st in chain:
                gast.copy_location(st, case.pattern)
        return out + chain

    def refuse(self, node, what):
        raise self.loc.error("%s in a 'match' statement is not supported" % what, node,
                             hint="write the case as an if/elif test")

    def pattern(self, p, subject):
        """(test of ``p`` on ``subject`` or None when it always matches, [(name, value)])."""
        if isinstance(p, gast.MatchValue):
            return gast.Compare(left=copy_tree(subject), ops=[gast.Eq()],
                                comparators=[copy_tree(p.value)]), []
        if isinstance(p, gast.MatchSingleton):
            return gast.Compare(left=copy_tree(subject), ops=[gast.Is()],
                                comparators=[const(p.value)]), []
        if isinstance(p, gast.MatchAs):
            test, bound = self.pattern(p.pattern, subject) if p.pattern is not None \
                else (None, [])
            return test, bound + ([(p.name, copy_tree(subject))] if p.name else [])
        if isinstance(p, gast.MatchOr):
            return self.alternatives(p, subject)
        if isinstance(p, gast.MatchSequence):
            return self.sequence(p, subject)
        if isinstance(p, gast.MatchMapping):
            return self.mapping(p, subject)
        if isinstance(p, gast.MatchClass):
            return self.instance(p, subject)
        self.refuse(p, "this pattern")

    def alternatives(self, p, subject):
        """``p1 | p2 | ...``: any of them; each name they bind (every alternative binds the same
        ones) is what the first that matches binds (its tests are pure: evaluated again)."""
        parts = []
        for q in p.patterns:
            parts.append(self.pattern(q, subject))
            if parts[-1][0] is None:
                break
        test = None if parts[-1][0] is None else gast.BoolOp(
            op=gast.Or(), values=[t for t, _ in parts])
        names = sorted({n for _, bound in parts for n, _ in bound})
        bound = []
        for n in names:
            value = None
            for t, inner in reversed(parts):  # (Python makes them bind the same names)
                got = dict(inner)[n]
                value = got if value is None or t is None else gast.IfExp(
                    test=copy_tree(t), body=got, orelse=value)
            bound.append((n, value))
        return test, bound

    def sequence(self, p, subject):
        stars = [k for k, q in enumerate(p.patterns) if isinstance(q, gast.MatchStar)]
        n = len(p.patterns) - len(stars)
        check = gast.Call(func=name(self.helper("match_sequence", runtime.match_sequence)),
                          args=[copy_tree(subject), const(n), const(bool(stars))], keywords=[])
        tests, bound = [check], []
        for k, q in enumerate(p.patterns):
            if isinstance(q, gast.MatchStar):
                after = len(p.patterns) - 1 - k
                if q.name:
                    part = gast.Subscript(value=copy_tree(subject), slice=gast.Slice(
                        lower=const(k), upper=const(-after) if after else None, step=None),
                        ctx=gast.Load())
                    bound.append((q.name, gast.Call(func=name("list"), args=[part],
                                                    keywords=[])))
                continue
            index = k if not stars or k < stars[0] else k - len(p.patterns)
            test, inner = self.pattern(q, gast.Subscript(value=copy_tree(subject),
                                                         slice=const(index), ctx=gast.Load()))
            tests.append(test)
            bound += inner
        return _and(tests), bound

    def mapping(self, p, subject):
        check = gast.Call(func=name(self.helper("match_mapping", runtime.match_mapping)),
                          args=[copy_tree(subject), gast.Tuple(elts=copy_tree(list(p.keys)),
                                                               ctx=gast.Load())],
                          keywords=[])
        tests, bound = [check], []
        for key, q in zip(p.keys, p.patterns):
            test, inner = self.pattern(q, gast.Subscript(value=copy_tree(subject),
                                                         slice=copy_tree(key), ctx=gast.Load()))
            tests.append(test)
            bound += inner
        if p.rest is not None:  # (**rest: a dict of the other entries)
            k, v = self.namer.fresh("key"), self.namer.fresh("value")
            items = gast.Call(func=gast.Attribute(value=copy_tree(subject), attr="items",
                                                  ctx=gast.Load()), args=[], keywords=[])
            other = gast.Compare(left=name(k), ops=[gast.NotIn()], comparators=[
                gast.Tuple(elts=copy_tree(list(p.keys)), ctx=gast.Load())])
            bound.append((p.rest, gast.DictComp(key=name(k), value=name(v), generators=[
                gast.comprehension(target=gast.Tuple(elts=[name(k, True), name(v, True)],
                                                     ctx=gast.Store()),
                                   iter=items, ifs=[other], is_async=0)])))
        return _and(tests), bound

    def instance(self, p, subject):
        cls = self.resolver.resolve(p.cls)
        tests = [gast.Call(func=name("isinstance"), args=[copy_tree(subject), copy_tree(p.cls)],
                           keywords=[])]
        bound = []
        if p.patterns:
            if isinstance(cls, type) and issubclass(cls, _SELF_MATCHING) \
                    and cls in _SELF_MATCHING and len(p.patterns) == 1:
                attrs = [None]
            else:
                attrs = list(getattr(cls, "__match_args__", ()))[:len(p.patterns)]
                if len(attrs) < len(p.patterns):
                    self.refuse(p, "positional sub-patterns beyond %s's __match_args__"
                                % getattr(cls, "__name__", "the class"))
        else:
            attrs = []
        pairs = list(zip(attrs, p.patterns)) + list(zip(p.kwd_attrs, p.kwd_patterns))
        for attr, q in pairs:
            part = copy_tree(subject) if attr is None else gast.Attribute(
                value=copy_tree(subject), attr=attr, ctx=gast.Load())
            if attr is not None:
                tests.append(gast.Call(func=name("hasattr"), args=[copy_tree(subject),
                                                                   const(attr)], keywords=[]))
            test, inner = self.pattern(q, part)
            tests.append(test)
            bound += inner
        return _and(tests), bound
