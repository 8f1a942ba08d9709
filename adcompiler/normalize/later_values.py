"""Values Python computes later than where they are written: a generator's items, taken when
they are consumed. The generated code computes them where they are written, so those that could
differ are refused (``check_kept_lazy``; a dict's view read after a store into the dict:
``planning/list_sharing.py``).
"""
from __future__ import annotations

import gast

from ..ir import walk


class LaterValues:
    """Checks of generators kept in names (a mixin of the ``Normalizer``)."""

    def check_kept_lazy(self, target, value, s):
        """Refuse ``target = (f(x) for x in xs)`` (or ``map(lambda ...)``) reading a name that is
        bound again in the function: Python computes the items when they are taken, with the
        name's value then; the generated code computes them here."""
        if self.generated:
            return  # (adcompiler's own code, checked when it was generated)
        parts = [value] if isinstance(value, gast.GeneratorExp) else [
            a for a in value.args if isinstance(a, gast.Lambda)] \
            if isinstance(value, gast.Call) and self.is_global(value.func) \
            and self.resolver.resolve(value.func) in (map, filter) else []
        for part in parts:
            own = {n.id for n in walk(part) if isinstance(n, gast.Name)
                   and isinstance(n.ctx, gast.Store)} | (
                {a.id for a in part.args.args} if isinstance(part, gast.Lambda) else set())
            read = sorted({n.id for n in walk(part) if isinstance(n, gast.Name)
                           and isinstance(n.ctx, gast.Load)} - own)
            again = [n for n in read if self.stores[n] > (0 if n in self.parameters else 1)]
            if again:
                raise self.loc.error(
                    "%r holds a generator whose items read %r, which is bound again in the "
                    "function: Python computes the items when they are taken, adcompiler where "
                    "the generator is made" % (target, again[0]), s,
                    hint="make a list ([...]) where the values are meant, or read the name "
                         "into another one first")
