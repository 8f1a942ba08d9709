"""``try``/``except`` whose handler goes on with the function (a fallback, a default, ``continue``,
``return``): differentiated on the path taken, in every mode and to second order, with the plain
call's side effects; what cannot be (a value the body bound before it raised, read later) is
refused with the name."""
import numpy as np
import pytest
from conftest import check_all_modes

import adcompiler as ad

LOG = []


def fallback_cholesky(k):
    try:
        low = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        low = np.linalg.cholesky(k @ k.T + 0.1 * np.eye(len(k)))
    return np.sum(low * low)


def test_a_fallback_value_is_differentiated_on_the_path_taken():
    definite = np.array([[2.0, 0.5], [0.5, 1.0]])
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])  # (eigenvalues -1 and 3: the handler runs)
    for k in (definite, indefinite):
        check_all_modes(fallback_cholesky, [k])
    source = ad.source(fallback_cholesky)
    assert "except np.linalg.LinAlgError:" in source and "attempt_started()" in source


def shifted_roots(x, shifts):
    total = 0.0
    for s in shifts:
        try:
            if np.any(x < s):
                raise ValueError("below %s" % s)
            r = np.sqrt(x - s)
        except ValueError as e:
            LOG.append(str(e))
            continue
        total = total + np.sum(r * x)
    return total


def test_a_handler_that_continues_a_loop_and_logs_the_exception():
    x = np.array([2.5, 3.5, 1.7])
    shifts = [0.0, 2.0, 1.0, 5.0]
    check_all_modes(shifted_roots, [x, shifts])
    LOG.clear()
    plain = shifted_roots(x, shifts)
    seen = list(LOG)
    LOG.clear()
    value, _ = ad.value_and_grad(shifted_roots)(x, shifts)
    assert value == plain and LOG == seen == ["below 2.0", "below 5.0"]


def solve_or_fallback(a, b):
    try:
        if abs(np.linalg.det(a)) < 0.5:
            raise np.linalg.LinAlgError("nearly singular")
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a) @ b * 2.0


def test_returns_in_the_body_and_in_the_handler():
    b = np.array([1.0, 0.5])
    loss = lambda a, b: np.sum(solve_or_fallback(a, b) ** 2)  # noqa: E731
    for a in (np.array([[2.0, 0.3], [0.1, 1.0]]), np.array([[1.0, 2.0], [2.0, 4.1]])):
        check_all_modes(loss, [a, b], wrt=(0, 1))


EVENTS = []


def by_kind(x, mode):
    try:
        if mode == 0:
            raise KeyError("k")
        if mode == 1:
            raise IndexError("i")
        y = np.exp(x)
    except KeyError:
        y = x * 2.0
    except (IndexError, TypeError) as err:
        EVENTS.append(type(err).__name__)
        y = np.sin(x)
    else:
        y = y + x * x
    finally:
        EVENTS.append(mode)
    return np.sum(y ** 2)


def test_the_handler_is_chosen_by_the_exception_then_else_and_finally_run():
    x = np.array([0.3, -0.7])
    for mode in (0, 1, 2):
        check_all_modes(by_kind, [x, mode])
        EVENTS.clear()
        ad.grad(by_kind)(x, mode)
        got = list(EVENTS)
        EVENTS.clear()
        by_kind(x, mode)
        assert got == EVENTS


def reraises(x, fail):
    try:
        if fail == 2:
            raise OSError("disk")
        if fail == 3:
            raise TypeError("not caught")
        if fail:
            raise ValueError("bad")
        y = x * 3.0
    except ValueError:
        y = np.cos(x)
    except OSError:
        LOG.append("os")
        raise
    finally:
        LOG.append("finally")
    return np.sum(y * x)


def test_exceptions_a_handler_raises_again_or_none_catches_propagate_after_the_clean_up():
    x = np.array([0.4, 1.1])
    for fail in (0, 1):
        check_all_modes(reraises, [x, fail])
    for fail, error in ((2, OSError), (3, TypeError)):
        for run in (lambda: ad.grad(reraises)(x, fail),
                    lambda: ad.jvp(reraises, (x, fail), (x, 0))):
            LOG.clear()
            with pytest.raises(error):
                run()
            assert LOG == (["os", "finally"] if fail == 2 else ["finally"])


def nested_tries(x, limits):
    out = np.zeros_like(x)
    for lim in limits:
        try:
            try:
                if np.max(x) > lim:
                    raise OverflowError
                v = np.exp(x) / lim
            except OverflowError:
                if lim < 0.5:
                    raise ValueError("tiny")
                v = np.tanh(x)
        except ValueError:
            v = x * 0.0 + lim
        out = out + v
    return np.sum(out * out)


def test_nested_tries_and_a_handler_raising_into_an_outer_one():
    x = np.array([0.2, 0.9])
    check_all_modes(nested_tries, [x, [2.0, 0.7, 0.3]])


def keeps_partial(x, fail):
    y = x
    try:
        y = x * 2.0
        if fail:
            raise ValueError
    except ValueError:
        pass
    return np.sum(y)


def partial_rebound(x, fail):
    try:
        y = x * 2.0
        if fail:
            raise ValueError
    except ValueError:
        y = x * 5.0
    return np.sum(y)


def partial_read_in_the_handler(x):
    r = x[0]
    try:
        r = r * 10
        out_of_range(r)
    except ValueError:
        r = r + x[1]  # (Python reads the body's r * 10 here: it was taken from before the try)
    return r


def out_of_range(v):
    if v > 1:
        raise ValueError("out of range")


def test_a_handler_reading_what_the_body_bound_before_raising_is_refused():
    # (the handler's own binding counted as rebinding it: value 1.5 for 4.2, trial 15)
    with pytest.raises(ad.AdError, match="reading 'r' in the 'except'"):
        ad.grad(partial_read_in_the_handler)(np.array([0.3, 1.2]))


def test_a_value_bound_before_the_statement_that_raised_and_read_after_is_refused():
    x = np.array([1.0, 2.0])
    with pytest.raises(ad.AdError, match="reading 'y' in the 'except' or after the 'try'") as info:
        ad.grad(keeps_partial)(x, True)
    assert "test_try_except.py" in str(info.value) and "fix:" in str(info.value)
    check_all_modes(partial_rebound, [x, True])  # (the handler binds it again)
    check_all_modes(partial_rebound, [x, False])


def writes_in_try(x, buf):
    try:
        buf[0] = x[0] * 2.0
        r = np.log(buf)
    except FloatingPointError:
        r = buf
    return np.sum(r)


def calls_a_nested_function(x):
    def f(v):
        return v * 2.0
    try:
        y = f(x)
    except ValueError:
        y = x
    return np.sum(y)


def test_writes_into_outer_objects_and_nested_functions_in_the_body_are_refused():
    with pytest.raises(ad.AdError, match="changing 'buf'"):
        ad.grad(writes_in_try)(np.array([1.0, 2.0]), np.ones(2))
    with pytest.raises(ad.AdError, match="nested function 'f'"):
        ad.grad(calls_a_nested_function)(np.array([1.0, 2.0]))


def catches_everything(x):
    try:
        if np.sum(x) > 0:
            y = np.roots(x)  # (no rule: refused where it runs)
        else:
            y = x * 2.0
    except Exception:
        y = x
    return np.sum(y)


def test_a_refusal_is_not_caught_by_the_users_except_exception():
    check_all_modes(catches_everything, [np.array([-1.0, -2.0])])
    with pytest.raises(ad.AdError, match="roots"):
        ad.grad(catches_everything)(np.array([1.0, 2.0]))


def comprehension_in_try(x, names):
    table = {}
    try:
        parts = [np.sin(x) * k for k in range(3)]
        table = {n: p for n, p in zip(names, parts)}
        weight = table["w"]
    except KeyError:
        weight = np.ones_like(x)
    return np.sum(weight * x)


def test_a_body_with_comprehensions_and_a_missing_key():
    x = np.array([0.3, 1.2])
    check_all_modes(comprehension_in_try, [x, ["a", "w", "b"]])
    check_all_modes(comprehension_in_try, [x, ["a", "b", "c"]])


# -- realistic programs in the styles people write -------------------------------------------------

def gp_negative_log_likelihood(log_scale, X, y):
    """A Gaussian process whose kernel matrix needs jitter: more until its Cholesky factor
    exists (the first tries fail: the matrix has an eigenvalue of -0.05)."""
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-0.5 * sq / np.exp(2.0 * log_scale)) - 0.05 * np.eye(len(X))
    jitter = 1e-3
    for attempt in range(6):
        try:
            L = np.linalg.cholesky(K + jitter * np.eye(len(X)))
            break
        except np.linalg.LinAlgError:
            jitter *= 10.0
    else:
        raise np.linalg.LinAlgError("not positive definite even with jitter")
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))


def test_a_gaussian_process_retrying_with_more_jitter():
    X = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.5], [2.0, -0.3]])  # (two equal points)
    y = np.array([0.3, 0.2, -0.4, 1.1])
    check_all_modes(gp_negative_log_likelihood, [0.2, X, y])


def skips_bad_records(w, records):
    """A loss over records read from a file, skipping the malformed ones."""
    total, count = 0.0, 0
    for rec in records:
        try:
            x = np.asarray(rec["features"], dtype=float)
            t = float(rec["target"])
        except (KeyError, TypeError, ValueError):
            continue
        total = total + (x @ w - t) ** 2
        count += 1
    return total / max(count, 1)


def test_a_loss_skipping_malformed_records():
    records = [{"features": [1.0, 2.0], "target": 0.5},
               {"features": [0.5, -1.0]},                      # (no target: KeyError)
               {"features": [2.0, 0.1], "target": "n/a"},      # (ValueError)
               {"features": [-1.0, 0.3], "target": None},      # (TypeError)
               {"features": [0.2, 0.7], "target": -1.5}]
    w = np.array([0.4, -0.3])
    check_all_modes(skips_bad_records, [w, records])
    assert ad.value_and_grad(skips_bad_records)(w, records)[0] == skips_bad_records(w, records)


def cube_root(a, x0):
    """Newton's method with a fallback step where the derivative vanishes."""
    x = x0
    for _ in range(30):
        try:
            with np.errstate(divide="raise", invalid="raise"):
                step = (x ** 3 - a) / (3.0 * x ** 2)
        except FloatingPointError:
            step = -1.0
        x = x - step
    return x


def test_newton_with_a_fallback_step_where_it_divides_by_zero():
    check_all_modes(cube_root, [np.float64(2.0), np.float64(0.0)])
    assert ad.grad(cube_root)(2.0, np.float64(0.0)) == pytest.approx(2.0 ** (-2.0 / 3.0) / 3.0)


def skips_then_filters(x, recs):
    s = 0.0
    for r in recs:
        try:
            v = r["v"]
        except KeyError:
            continue
        if v > 1.5:
            continue
        s += v * x * x
    return s


def stops_at_a_bad_record(x, recs):
    s = 0.0
    for r in recs:
        try:
            v = r["v"]
        except KeyError:
            return s * x
        if v > 1.5:
            continue
        s += v * x * x
    return s


@pytest.mark.parametrize("recs", [[{"v": 1.0}, {"v": 1.2}, {}], [{}, {"v": 1.0}],
                                  [{"v": 2.0}, {"v": 0.5}, {}, {"v": 1.0}]])
def test_a_handler_that_continues_or_returns_then_another_continue(recs):
    for fn in (skips_then_filters, stops_at_a_bad_record):
        check_all_modes(fn, [3.0, recs])
        assert ad.value_and_grad(fn)(3.0, recs)[0] == pytest.approx(fn(3.0, recs))


def parsed_values(w, rows):
    """Values parsed from records, the malformed ones skipped: the append is the body's last
    statement (it cannot raise: it is made once the value is)."""
    vals = []
    for r in rows:
        try:
            vals.append(float(r["v"]) * w)
        except (KeyError, ValueError, TypeError):
            continue
    return sum(v * v for v in vals) + len(vals)


def test_an_append_ending_the_body():
    rows = [{"v": 1.0}, {}, {"v": "x"}, {"v": 2.5}, {"v": None}]
    assert ad.value_and_grad(parsed_values)(1.5, rows)[0] == parsed_values(1.5, rows)
    check_all_modes(parsed_values, [1.5, rows])
