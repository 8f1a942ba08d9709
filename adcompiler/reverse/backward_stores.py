"""The backward statements of reads and writes of elements and attributes: the ``BackwardStores``
mixin of ``ReverseMode`` handles ``t = x[i]``, ``y[i] = v``, ``t = obj.w``, ``obj.w = v``,
``lst.append(v)``, ``v = lst.pop()``, and the in-place adjoint updates of generated gradient code
differentiated again (``add_at``, ``take_adjoint``)."""
from __future__ import annotations

import gast

from ..analysis import FLOAT, rank
from ..ir import assign, const, instantiate, list_method, located, name, target_of


class BackwardStores:
    """Backward statements of element and attribute reads and writes (a mixin of ``ReverseMode``,
    whose state it reads: ``active``, ``kinds``, ``ctx``; it updates the adjoints' state through
    ``adjoint_state``)."""

    def backward_attr(self, s, out):
        """``t = obj.w``: the adjoint of a simple object holds one adjoint per attribute read (or,
        followed by identity, the table's entry of the object does)."""
        obj = s.value.value.id
        if obj not in self.plan.active:
            return
        d = self.adj(obj)
        call = gast.Call(func=name(self.helper("add_attribute")),
                         args=[name(d) if obj in self.live else const(0.0), const(s.value.attr),
                               name(self.adj(target_of(s)[0]))], keywords=[])
        out.append(located(assign(d, call), s))
        self.live.add(obj)
        self.owned.discard(obj)

    def backward_setattr(self, s, out):
        """``obj.attr = v``: ``dv`` is the adjoint ``obj``'s had for ``attr``, which the store
        overwrote (``obj``'s adjoint no longer has it)."""
        obj, attr = s.targets[0].value.id, const(s.targets[0].attr)
        d = name(self.adj(obj))
        if isinstance(s.value, gast.Name) and s.value.id in self.plan.active:
            expr = gast.Call(func=name(self.helper("attribute")), args=[d, attr], keywords=[])
            self.accumulate(s.value.id, expr, out, s)
        without = gast.Call(func=name(self.helper("without_attribute")), args=[d, attr],
                            keywords=[])
        out.append(located(assign(self.adj(obj), without), s))

    def backward_attr_by_identity(self, s, rename, out):
        """``t = obj.w``, attributes followed by identity: ``dt`` adds into the table's entry of
        the object."""
        obj = rename.get(s.value.value.id, s.value.value.id)
        call = gast.Call(func=name(self.helper("add_attribute_adjoint")),
                         args=[name(self.ctx.attribute_table), name(obj), const(s.value.attr),
                               name(self.adj(target_of(s)[0]))], keywords=[])
        out.append(located(gast.Expr(value=call), s))

    def backward_setattr_by_identity(self, s, rename, out):
        """``obj.w = v``, attributes followed by identity: ``dv`` is taken from the table's entry
        of the object (the value stored over is read by nothing after)."""
        obj = rename.get(s.targets[0].value.id, s.targets[0].value.id)
        take = gast.Call(func=name(self.helper("take_attribute_adjoint")),
                         args=[name(self.ctx.attribute_table), name(obj),
                               const(s.targets[0].attr)], keywords=[])
        if isinstance(s.value, gast.Name) and s.value.id in self.plan.active:
            self.accumulate(s.value.id, take, out, s)
        else:
            out.append(located(gast.Expr(value=take), s))

    def backward_append(self, s, out):
        """``lst.append(v)``: the last adjoint of ``dlst`` belongs to ``v``."""
        lst = target_of(s)[1]
        self.ensure_owned(lst, lst, out, s)
        take = gast.Call(func=gast.Attribute(value=name(self.adj(lst)), attr="pop",
                                             ctx=gast.Load()), args=[], keywords=[])
        value = s.value.args[0]
        if isinstance(value, gast.Name) and value.id in self.plan.active:
            self.accumulate(value.id, take, out, s)
        else:
            out.append(located(gast.Expr(value=take), s))

    def backward_pop(self, s, rename, out):
        """``v = lst.pop()``: ``dv`` goes back on the end of ``dlst`` (a zero when no gradient
        reached ``v``, so that ``dlst`` stays aligned with ``lst``: the tape of generated gradient
        code, differentiated again, is such a list)."""
        lst, _, call = list_method(s)
        v = target_of(s)[0]
        if lst not in self.plan.active:
            return
        self.ensure_owned(lst, rename.get(lst, lst), out, s)
        back = name(self.adj(v)) if v in self.live else const(0.0)
        if call.args:  # v = lst.pop(i): back where it was, in a new list
            index = instantiate(call.args[0], rename) if rename else call.args[0]
            put = gast.Call(func=name(self.helper("put_back")),
                            args=[name(self.adj(lst)), index, back], keywords=[])
            out.append(located(assign(self.adj(lst), put), s))
            return
        else:
            put = gast.Call(func=gast.Attribute(value=name(self.adj(lst)), attr="append",
                                                ctx=gast.Load()), args=[back], keywords=[])
        out.append(located(gast.Expr(value=put), s))

    # Generated gradient code differentiated again (reverse over reverse) updates adjoints in place.
    def backward_add_at(self, s, rename, out):
        """``add_at(d, i, v)`` is ``d[i] += v``: ``v`` gets the adjoint of ``d`` at ``i``."""
        d, index, v = s.value.args
        if d.id not in self.live or not (isinstance(v, gast.Name) and v.id in self.plan.active):
            return
        index = instantiate(index, rename) if rename else index
        read = gast.Call(func=name(self.helper("element")), args=[name(self.adj(d.id)), index],
                         keywords=[])
        shape = name(rename.get(v.id, v.id))
        expr = gast.Call(func=name(self.helper("unbroadcast")), args=[read, shape], keywords=[])
        self.accumulate(v.id, expr, out, s)

    def backward_take_adjoint(self, s, rename, out):
        """``w = take_adjoint(d, i)`` is ``w = d[i]; d[i] = 0``: the adjoint of ``d`` at ``i`` is
        replaced by that of ``w`` (where ``i`` names an element twice, by that of the entry of
        ``w`` that got it)."""
        d, index = s.value.args
        w = target_of(s)[0]
        if d.id not in self.plan.active or (d.id not in self.live and w not in self.live):
            return
        index = instantiate(index, rename) if rename else index
        self.ensure_owned(d.id, rename.get(d.id, d.id), out, s)
        dd = name(self.adj(d.id))
        take = gast.Call(func=name(self.helper("take_adjoint")), args=[dd, index], keywords=[])
        out.append(located(gast.Expr(value=take), s))
        if w in self.live:
            dw = name(self.adj(w))
            if rank(self.plan.kinds.get(d.id)) != 0 and not basic_index(index, self.plan.kinds):
                # (an array's element named twice by the index: only the value NumPy kept)
                dw = gast.Call(func=name(self.helper("winners_only")), args=[dw, dd, index],
                               keywords=[])
            add = gast.Call(func=name(self.helper("add_at")), args=[dd, index, dw],
                            keywords=[])
            out.append(located(gast.Expr(value=add), s))

    def backward_index(self, s, rename, out):
        """``t = x[i]``: add ``dt`` into ``dx`` at ``i``."""
        base = s.value.value.id
        if base not in self.plan.active:
            return
        index = index_value(instantiate(s.value.slice, rename), self.ctx)
        base_ref = rename.get(base, base)
        g = name(self.adj(target_of(s)[0]))
        if base in self.live:
            self.ensure_owned(base, base_ref, out, s)
            if rank(self.plan.kinds.get(base)) and basic_index(s.value.slice, self.plan.kinds):
                # an integer / slice index cannot repeat an element: add in place directly
                target = gast.Subscript(value=name(self.adj(base)),
                                        slice=instantiate(s.value.slice, rename), ctx=gast.Store())
                out.append(located(gast.AugAssign(target=target, op=gast.Add(), value=g), s))
                return
            call = gast.Call(func=name(self.helper("add_at")),
                             args=[name(self.adj(base)), index, g], keywords=[])
            out.append(located(gast.Expr(value=call), s))
        else:
            call = gast.Call(func=name(self.helper("container_adjoint")),
                             args=[name(base_ref), index, g], keywords=[])
            out.append(located(assign(self.adj(base), call), s))
            self.live.add(base)
            self.owned.add(base)
            self.maybe_zero.discard(base)

    def backward_store(self, s, rename, out):
        """``y[i] = v``: ``dv`` is what ``dy`` held at ``i``, which the store overwrote (now 0)."""
        target = s.targets[0]
        base = target.value.id
        index = index_value(instantiate(target.slice, rename), self.ctx)
        self.ensure_owned(base, rename.get(base, base), out, s)
        take = gast.Call(func=name(self.helper("take_adjoint")), args=[name(self.adj(base)), index],
                         keywords=[])
        value = s.value
        if isinstance(value, gast.Name) and value.id in self.plan.active:
            if rank(self.plan.kinds.get(base)) is not None or self.plan.kinds.get(base) is None:
                # (an array may be of ints, which truncate what is stored: no derivative)
                take = gast.Call(func=name(self.helper("stored_derivative")),
                                 args=[take, name(rename.get(base, base))], keywords=[])
            expr = gast.Call(func=name(self.helper("unbroadcast")),
                             args=[take, name(rename.get(value.id, value.id))], keywords=[])
            # (read out of an owned array: an array or a NumPy number, never the 0.0 stand-in)
            self.accumulate(value.id, expr, out, s, zero=not rank(self.plan.kinds.get(base)))
        else:
            out.append(located(gast.Expr(value=take), s))


def basic_index(index, kinds) -> bool:
    """Integers and slices only (no fancy or boolean index, which may repeat elements)."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and type(p.value) is int)
               or (isinstance(p, gast.Name) and kinds.get(p.id) == FLOAT) for p in parts)


def index_value(index, ctx):
    """An index expression as a value that can be passed to a helper (``slice(None, 2)``)."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else const(None)
                 for p in (index.lower, index.upper, index.step)]
        if index.step is None:
            parts.pop()  # slice(a, b); never slice(b) alone, which means stop=b
        return gast.Call(func=name(ctx.builtin("slice")), args=parts, keywords=[])
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e, ctx) for e in index.elts], ctx=gast.Load())
    return index
