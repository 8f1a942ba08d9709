"""Rules for adcompiler's own runtime helpers, so generated gradient code can be differentiated
again (forward-over-reverse: hessians, ``grad(grad(f))``). The helpers are linear in the adjoint
they receive (``v`` below)."""
import inspect

from .. import runtime as rt
from .core import Table
from .helpers import (
    complex_values,
    containers,
    determinants,
    differences,
    distributions,
    elementwise,
    fourier,
    joins,
    matrix_functions,
    polynomials,
    products,
    records,
    reductions,
    sequences,
    shapes,
    signals,
    statistics,
)

table = Table("adcompiler.runtime")
D, N = table.define, table.nondiff
X = ("x",)  # read for its shape (or a mask) only

# (batching="batch_...": the helper is linear in its first argument, and that is its counterpart
# for a batch of them, with the same arguments)
D(rt.unbroadcast, "v, x", "unbroadcast_back(g, v)", linear=True, zero=X,
  batching="batch_unbroadcast")
D(rt.expand_like, "v, x", "unbroadcast(g, v)", linear=True, zero=X, batching="expand_batch",
  like="x")
D(rt.unreduce, "v, x, axis=None, keepdims=False", "unreduce_back(g, v, x, axis, keepdims)",
  jvp="unreduce(t_v, x, axis, keepdims)", zero=X, batching="batch_unreduce", like="x")
D(rt.unreduce_extreme, "v, top, x, axis=None, keepdims=False",
  # (v may be a number standing for a uniform adjoint: summed back, as a broadcast operand)
  "unbroadcast(np.sum(unreduce_extreme(1.0, top, x, axis, keepdims) * g, axis=axis, "
  "keepdims=keepdims), v)",
  jvp="unreduce_extreme(t_v, top, x, axis, keepdims)", zero=("top", "x"), like="x")
D(rt.cast_like, "v, x", "g", jvp="cast_like(t_v, x)", zero=X, batching="batch_cast", like="x")
# (in tangent code: 0.0 standing for zeros of x's structure made dense; differentiated again when
# generated tangent code is: third derivatives)
D(rt.dense, "v, x", "unbroadcast(g, v)", jvp="dense(t_v, x)", zero=X)
D(rt.dtype_gate, "v, dtype, where", "dtype_gate(g, dtype, where)", linear=True)
# np.r_[...] and np.c_[...] in the normal form (normalize/expressions.py, Expressions.concatenation)
D(rt.r_items, "items", "r_items_back(g, items)", linear=True)
D(rt.c_items, "items", "c_items_back(g, items)", linear=True)
D(elementwise.real_adjoint, "v, x, where", "real_adjoint(g, x, where)", linear=True, zero=X)
D(elementwise.where_nonzero, "d, value", None, value="where_nonzero(d, g)",
  jvp="where_picked(d, t_d, t_value)", zero=("d",), selects=True)
D(elementwise.where_picked, "d, t_d, t_value", None, t_value="where_picked(d, t_d, g)",
  jvp="where_picked(d, t_d, t_t_value)", zero=("d", "t_d"), selects=True)
D(distributions.mvn_checked, "v, x, mean, cov, where", "mvn_checked(g, x, mean, cov, where)",
  linear=True, zero=("x", "mean", "cov"))
D(distributions.dirichlet_checked, "v, x, alpha, where", "dirichlet_checked(g, x, alpha, where)",
  linear=True, zero=("x", "alpha"))
D(rt.own, "v, x, wide=False", "own_back(g, v, x)", jvp="own(t_v, x, wide)", zero=X,
  batching="batch_cast", like="x", harmless=("wide",))
D(rt.container_adjoint, "x, index, v", v="unbroadcast(element(g, index), v)",
  batching="container_adjoint",
  jvp="container_adjoint(x, index, t_v)", zero=("x", "index"), like="x")
D(rt.element, "v, i", "element_back(g, v, i)", jvp="element(t_v, i)", zero=("i",))
D(rt.put_back, "lst, index, v", "left_out(g, index)", v="element(g, index)",
  jvp="put_back(t_lst, index, t_v)", zero=("index",))
D(rt.left_out, "lst, index", "put_back(g, index, 0.0)", linear=True, zero=("index",))
D(rt.with_entry, "lst, index, value", "with_entry(g, index, 0.0)", value="element(g, index)",
  jvp="with_entry(dense(t_lst, lst), index, t_value)", zero=("index",), container=True)
D(rt.cotangent, "parts, i", "cotangent_back(g, parts, i)", jvp="cotangent(t_parts, i)", zero=("i",))
D(rt.add, "u, v", "g", v="g", jvp="added_tangent(add(t_u, t_v), ans)")
D(rt.added_tangent, "t, value", "g", linear=True, zero=("value",))
D(rt.copy, "x", "g", jvp="copy(t_x)")
D(rt.attribute, "t, attr", "add_attribute(0.0, attr, g)", jvp="attribute(t_t, attr)",
  zero=("attr",))
D(rt.add_attribute, "d, attr, v", "g", v="attribute(g, attr)", jvp="add_attribute(t_d, attr, t_v)",
  zero=("attr",))
D(rt.without_attribute, "d, attr", "without_attribute(g, attr)", linear=True, zero=("attr",))
D(rt.with_attribute, "t, attr, v", "without_attribute(g, attr)", v="attribute(g, attr)",
  jvp="with_attribute(t_t, attr, t_v)", zero=("attr",))
D(rt.snapshot, "saved", "g", jvp="snapshot(t_saved)")
table.elementwise(elementwise.nonzero_or_one, "a", "g * (a != 0)")
table.elementwise(elementwise.nonzero_or_inf, "a", "g * (a != 0)")
# (padding a window into zeros and cropping it out: each is the other's adjoint)
D(signals.pad_to_full, "w, a, v, mode, ceil=False", "crop_from_full(g, a, v, mode, ceil)",
  linear=True, zero=("a", "v"))
D(signals.crop_from_full, "w, a, v, mode, ceil=False", "pad_to_full(g, a, v, mode, ceil)",
  linear=True, zero=("a", "v"))
# (the centering a - mean(a) is its own adjoint)
D(determinants.det_cofactor, "a, d", "det_cofactor_back(g, a, d)", d="det_cofactor_d_back(g, a)",
  jvp="det_cofactor_jvp(a, d, t_a, t_d)")
D(statistics.deviations, "a, axis=None", "deviations(g, axis)", linear=True)
D(statistics.gradient_back, "w, f, varargs=(), axis=None, edge_order=1",
  "np.gradient(g, *varargs, axis=axis, edge_order=edge_order)", linear=True, zero=("f",))
D(reductions.others_product, "a, axis=None", "others_product_jvp(a, g, axis)",
  jvp="others_product_jvp(a, t_a, axis)",
  zero=("axis",))  # (its Jacobian is symmetric: the adjoint is the tangent map)
# (x's old value is overwritten)
D(rt.in_place, "x, value", None, value="g", jvp="t_value", zero=("x",), like="value")
D(rt.stored_derivative, "d, x", "stored_derivative(g, x)", linear=True, zero=("x",))
D(rt.winners_only, "d, x, index", "winners_only(g, x, index)", linear=True,
  zero=("x", "index"))
D(rt.out_value, "out, value", None, value="g", jvp="t_value", zero=("out",), like="value")
D(rt.scatter_add, "a, index, value", "g", value="unbroadcast(element(g, index), value)",
  jvp="scattered(t_a, a, index, t_value)", zero=("index",))
# y after a write into x, through a name that may share y's memory (Aliasing.plan_syncs)
D(rt.synced, "y, x, where", "overlap_keep(g, where)", x="overlap_take(g, where)",
  jvp="add(overlap_keep(t_y, where), overlap_give(t_x, where))", zero=("where",), like="y")
D(shapes.overlap_keep, "v, where", "overlap_keep(g, where)", linear=True, zero=("where",))
D(shapes.overlap_take, "v, where", "overlap_give(g, where)", linear=True, zero=("where",))
D(shapes.overlap_give, "v, where", "overlap_take(g, where)", linear=True, zero=("where",))
D(rt.keep_dtype, "x, value", None, value="g", jvp="keep_dtype(x, t_value)", zero=("x",),
  like="value")
D(rt.element_in_place, "container, x, value", None, value="g", jvp="t_value",
  zero=("container", "x"), like="value")
D(rt.stored_value, "x, index, value, refusal", None, value="g", jvp="t_value",
  zero=("x", "index", "refusal"), like="value")
table.product(rt.sum_product, "a, b", "sum_product_back(g, a, b)", "sum_product_back(g, b, a)",
              "sum_product",
              batching="sum_product")
D(rt.distinct, "grads", "g", jvp="distinct(t_grads)", batching="unchanged")
D(containers.merged_dict, "*parts", parts="merged_dict_back(g, parts)",
  jvp="merged_dict_jvp(parts, t_parts)")
D(records.as_namedtuple, "cls, values", values="as_namedtuple_back(g, cls, values)",
  jvp="as_namedtuple_jvp(cls, t_values)", zero=("cls",))
D(records.fields_dict, "b", "fields_dict_back(g, b)", jvp="fields_dict_jvp(b, t_b)")
# the log of a softmax: the Jacobian w.r.t. the logits is I - p 1^T along the axis (fusion.py)
D(rt.log_softmax, "p, z, axis=None", z="g - p * sum_keepdims(g, axis)",
  jvp="t_z - sum_keepdims(p * t_z, axis)", zero=("p", "axis"), like="p")
# a sigmoid written 1 / (1 + exp(-z)): its derivative from its value (fusion.py)
D(rt.logistic, "d, z", z="g * ans * (1.0 - ans)", jvp="t_z * ans * (1.0 - ans)", zero=("d",),
  like="d")
D(rt.sum_keepdims, "v, axis", "unreduce(g, v, axis, True)", jvp="sum_keepdims(t_v, axis)",
  zero=("axis",))
D(shapes.transpose_back, "v, axes", jvp="transpose_back(t_v, axes)")
D(joins.split_like, "v, arrays, axis=0", "unless_zero(join_pieces, g, arrays, axis)",
  jvp="split_like(t_v, arrays, axis)",
  zero=("arrays",))
D(joins.block_back, "v, arrays", "unless_zero(block_pieces, g, arrays)",
  jvp="block_back(t_v, arrays)", zero=("arrays",))
D(joins.unstack, "v, arrays, axis=0", "unless_zero(stack_pieces, g, arrays, axis)",
  jvp="unstack(t_v, arrays, axis)",
  zero=("arrays",))
# the adjoint of one operand of a product is linear in the adjoint and in the other operand; it
# reads its own operand for the shape only
# (<g, dmatmul_left(v, a, b)> = <v, g @ b>: the vjps are the product and the other adjoint)
D(rt.dmatmul_left, "v, a, b", "unbroadcast(matmul(g, b), v)",
  b="dmatmul_right(product_adjoint(v, a, b), g, b)",
  jvp="dmatmul_left(t_v, a, b) + dmatmul_left(v, a, t_b)", zero=("a",), batching="matmul_left",
  like="a")
D(rt.dmatmul_right, "v, a, b", "unbroadcast(matmul(a, g), v)",
  a="dmatmul_left(product_adjoint(v, a, b), a, g)",
  jvp="dmatmul_right(t_v, a, b) + dmatmul_right(v, t_a, b)", zero=("b",), batching="matmul_right",
  like="b")
D(products.ddot_left, "v, a, b", "unbroadcast(dot(g, b), v)",
  b="ddot_right(dot_adjoint(v, a, b), g, b)",
  jvp="ddot_left(t_v, a, b) + ddot_left(v, a, t_b)", zero=("a",), batching="matmul_left", like="a")
D(products.ddot_right, "v, a, b", "unbroadcast(dot(a, g), v)",
  a="ddot_left(dot_adjoint(v, a, b), a, g)",
  jvp="ddot_right(t_v, a, b) + ddot_right(v, t_a, b)", zero=("b",), batching="matmul_right",
  like="b")
# (linear in v and in b; a is read for its shape)
D(products.sum_product_back, "v, a, b", "sum_product(g, b)", b="sum_product_back(v, b, g)",
  jvp="sum_product_back(t_v, a, b) + sum_product_back(v, a, t_b)", zero=("a",))
D(products.einsum_back, "v, args", jvp="einsum_back_jvp(v, args, t_v, t_args)")
D(polynomials.polyval_coeff_back, "v, p, x",
  jvp="polyval_coeff_back(t_v, p, x) + polyval_coeff_back(v, p, x, t_x)",
  zero=("p",))
D(polynomials.interp_fp_back, "v, x, xp, fp", jvp="interp_fp_back(t_v, x, xp, fp)", zero=("fp",))
D(polynomials.interp_xp_back, "v, x, xp, fp",
  jvp="interp_xp_back_jvp(v, x, xp, fp, t_v, t_x, t_xp, t_fp)")
D(sequences.get_back, "cot, a, key", "get_jvp(a, key, g, 0.0)", jvp="get_back(t_cot, a, key)",
  zero=("a", "key"))
D(reductions.cumsum_back, "cot, a, axis=None", "np.cumsum(expand_like(g, a), axis=axis)",
  jvp="cumsum_back(t_cot, a, axis)",
  zero=("a", "axis"))
# adjoints that are linear maps of the adjoint they receive: reverse mode over them applies the
# transposed map, which is the primal operation they are the adjoint of
for _helper, _params, _transpose in [
        (differences.diff_back, "cot, a, n=1, axis=-1", "unless_zero(np.diff, g, n, axis)"),
        (shapes.trace_back, "cot, a, offset=0, axis1=0, axis2=1",
         "unless_zero(np.trace, g, offset, axis1, axis2)"),
        (shapes.diag_back, "cot, v, k=0", "unless_zero(np.diag, g, k)"),
        (shapes.diagonal_back, "cot, a, offset=0, axis1=0, axis2=1",
         "unless_zero(np.diagonal, g, offset, axis1, axis2)"),
        (shapes.swap_back, "cot, axis1, axis2", "swap_back(g, axis1, axis2)"),
        (shapes.moveaxis_back, "cot, source, destination", "moveaxis_back(g, destination, source)"),
        (shapes.tile_back, "cot, a, reps", "unless_zero(np.tile, g, reps)"),
        (shapes.repeat_back, "cot, a, repeats, axis=None",
         "unless_zero(np.repeat, g, repeats, axis)"),
        (shapes.roll_back, "cot, shift, axis=None", "unless_zero(np.roll, g, shift, axis)"),
        (shapes.sort_back, "cot, a, axis=-1",
         "unless_zero(np.take_along_axis, g, np.argsort(a, axis=axis), axis)"),
        (shapes.take_back, "cot, a, indices, axis=None", "unless_zero(np.take, g, indices, axis)"),
        (shapes.partition_back, "cot, a, kth, axis=-1, forward=False",
         "partition_back(g, a, kth, axis, not forward)"),
        (shapes.take_along_axis_back, "cot, arr, indices, axis",
         "unless_zero(np.take_along_axis, g, indices, axis)"),
        (joins.r_items_back, "cot, items", "r_items(dense_items(g, items))"),
        (joins.c_items_back, "cot, items", "c_items(dense_items(g, items))")]:
    _rest = _params.split(", ", 1)[1]
    _names = ", ".join(p.split("=")[0] for p in _rest.split(", "))
    # (g has the shape of the helper's result: the primal operand's, or ans; gradient code
    # differentiated again may hand a number standing for a uniform array of it, which np.diag
    # and the others cannot take)
    _like = _names.split(", ")[0] if _names.split(", ")[0] in ("a", "v", "arr") else "ans"
    if not _transpose.startswith(("r_items", "c_items")):
        _transpose = _transpose.replace("(g, ", "(expand_like(g, %s), " % _like, 1).replace(
            ", g, ", ", expand_like(g, %s), " % _like, 1)
    D(_helper, _params, _transpose, jvp="%s(t_cot, %s)" % (_helper.__name__, _names),
      zero=tuple(_names.split(", ")))
D(differences.diff_part_back, "cot, a, n, axis, prepend, append, part",
  "diff_part_transpose(g, a, n, axis, prepend, append, part)",
  jvp="diff_part_back(t_cot, a, n, axis, prepend, append, part)",
  zero=("a", "n", "axis", "prepend", "append", "part"))
D(joins.dense_items, "cot, items", "g", linear=True, zero=("items",))
D(containers.sum_back, "cot, iterable, start=0", "entries_sum(g, iterable, start)",
  jvp="sum_back(t_cot, iterable, start)", zero=("iterable", "start"))
D(containers.sum_start_back, "cot, start, iterable",
  "sum_start_transpose(g, cot, start, iterable)", jvp="sum_start_back(t_cot, start, iterable)",
  zero=("start", "iterable"))
D(containers.sorted_back, "cot, iterable, reverse=False", "sorted_jvp(iterable, g, reverse)",
  jvp="sorted_back(t_cot, iterable, reverse)", zero=("iterable", "reverse"))
D(containers.dselect, "cot, top, args", "select_jvp(top, args, g)", jvp="dselect(t_cot, top, args)",
  zero=("top", "args"))
D(elementwise.dpow_base, "v, x, y", "unbroadcast(dpow_base(g, x, y), v)",
  x="unbroadcast(dpow_base_x_back(g, v, x, y), x)",
  y="unbroadcast(dpow_base_y_back(g, v, x, y), y)", jvp="dpow_base_jvp(v, x, y, t_v, t_x, t_y)")
# (out: x ** y)
D(elementwise.dpow_exponent, "v, out, x", "unbroadcast(dpow_exponent(g, out, x), v)",
  out="unbroadcast(dpow_exponent(g * v, 1.0, x), out)",
  x="unbroadcast(dpow_exponent_x_back(g, v, out, x), x)",
  jvp="dpow_exponent_jvp(v, out, x, t_v, t_out, t_x)")
# Adjoints linear in the adjoint they receive, whose other arguments give only shapes, indices
# or piecewise-constant selections: the tangent is the same function of the adjoint's tangent.
# (Reverse mode over them, the transposed map, is written out only for some, above.)
for _helper in (joins.hstack_back, joins.vstack_back, joins.column_stack_back, joins.split_back,
                shapes.pad_back, sequences.list_back, sequences.items_back,
                sequences.values_back,
                reductions.nanmean_back, joins.append_back, polynomials.polyder_back,
                reductions.median_back, polynomials.linspace_back, shapes.meshgrid_back,
                containers.sequence_repeat_back, reductions.accumulate_extreme_back,
                containers.merged_dict_back, records.as_namedtuple_back, records.fields_dict_back,
                records.getattr_back,
                statistics.quantile_back, statistics.nanmedian_back,
                joins.delete_back, joins.insert_back, shapes.scatter_back):
    _rest = list(inspect.signature(_helper).parameters)[1:]
    _params = ", ".join(
        ["cot"] + [str(p) for p in list(inspect.signature(_helper).parameters.values())[1:]]
    )
    D(_helper, _params, jvp="%s(t_cot, %s)" % (_helper.__name__, ", ".join(_rest)),
      zero=tuple(_rest))
# the helpers of the rules for complex values (rules/complex_rules.py: conj_sign's rule for complex
# values is its own there; for real values it is the sign, locally constant)
table.elementwise(complex_values.conj_sign, "x", "0.0 * g")
table.elementwise(complex_values.angle_factor, "z, deg=False",
                  "-g * angle_factor(z, deg) / nonzero_or_inf(z)")
D(complex_values.real_operands, "v, operands, where", "real_operands(g, operands, where)",
  linear=True, zero=("operands",))
D(rt.real_result, "v, function", "g", linear=True, harmless=("function",))
table.refuse(distributions.singular_pinv, why="the derivative w.r.t. a singular covariance is "
             "not defined (its rank changes with it)", hint="make the covariance regular")
table.refuse(complex_values.dnorm_complex, why="the second derivative of np.linalg.norm of "
             "complex values is not supported yet",
             hint="write the norm as np.sqrt(np.sum(np.abs(z) ** 2))")
# the FFTs' adjoints are linear in g: the transpose of each is the transform again
for _back, _params, _again in [
        (fourier.fft_back, "v, x, s, axes, norm, inverse=False",
         "fft_again(g, x, s, axes, norm, inverse)"),
        (fourier.rfft_back, "v, x, s, axes, norm", "rfft_again(g, x, s, axes, norm)"),
        (fourier.irfft_back, "v, x, s, axes, norm", "irfft_again(g, x, s, axes, norm)"),
        (fourier.hfft_back, "v, x, n, axis, norm", "hfft_again(g, x, n, axis, norm)"),
        (fourier.ihfft_back, "v, x, n, axis, norm", "ihfft_again(g, x, n, axis, norm)")]:
    D(_back, _params, _again, linear=True, zero=("x",))
# a callable chosen at run time: forward mode over its generated forward/backward pair
D(rt.call_forward, "active, fn, *args", jvp="call_forward_jvp(active, fn, args, t_fn, t_args)",
  zero=("active",))
D(rt.call_backward, "saved, cot", jvp="call_backward_jvp(saved, cot, t_saved, t_cot)")
# (the callee of a call with keywords: an object with __call__ carries a tangent)
D(rt.unpacked, "fn, layout", "g", linear=True, harmless=("layout",))
N(elementwise.result_dtype, rt.flat_index, rt.overlap, rt.subscript_check, rt.unfollowed,
  rt.check_followed, rt.fresh_computation, rt.new_object, rt.method_call,
  rt.above, rt.reduced_size, rt.shape_of, rt.key_order, rt.key_pick, rt.scalar_seed,
  elementwise.inside, shapes.pad_mode, distributions.singular_cov,
  matrix_functions.sqrtm_off_cut,
  rt.zero_like, rt.nonzero, rt.check_receiver, rt.check_array, rt.check_list,
  rt.check_poppable, rt.check_sequence, rt.check_numeric, rt.check_by_position, rt.check_distinct,
  rt.refused_if_array, rt.refused_unless_number, rt.check_arithmetic, rt.attempt_started,
  rt.no_exception,
  rt.check_unpacking, rt.check_number, rt.check_number_or_array,
  rt.check_dict_attribute, rt.zip_length, rt.check_dict, rt.check_entries_distinct,
  rt.match_sequence, rt.match_mapping,
  rt.attribute_alone, rt.popped, rt.outer_value, rt.check_row, rt.strict_length,
  rt.changes_nothing, rt.entry_alone, rt.held_entry_alone, rt.check_objects_followed,
  rt.check_class, rt.check_classes, rt.check_entry_classes,
  rt.check_super_order, rt.check_block_done)
table.refuse(rt.context_value, why="what a context manager made of values that depend on wrt "
             "gives to 'with ... as name' is not differentiated",
             hint="compute the value before the 'with' statement and use it inside")
table.refuse(rt.set_outer, why="a value that depends on wrt is stored in a global or nonlocal "
             "variable, where its derivative is not followed",
             hint="return the value (or keep it in a local variable) instead")
