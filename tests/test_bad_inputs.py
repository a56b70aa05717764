"""Bad input to the public hw4lib functions: a ValueError or TypeError naming the argument.

Two kinds of tests: properties over every array and scalar argument (a random shape, a
non-number, a NaN, a bad scalar is rejected exactly when invalid, with an error naming the
argument), and one table of domain errors per module. Errors are matched on the argument's
name, not on their wording. Every call runs with floating-point errors and ``RuntimeWarning``
fatal, so an overflow is never silent.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hw4lib import (
    MLP,
    comparator_stages,
    minmax_mlp,
    ppca_closed_form,
    ppca_em,
    ppca_log_likelihood,
    ppca_m_step,
    ppca_posterior,
    relu,
    residual_backward,
    residual_forward,
    sorting_mlp,
    train_mlp,
)
from hw4lib.ppca import ConvergenceWarning
from hw4lib.residual import block_jacobian, input_gradient_norms

BAD = (ValueError, TypeError)


def word(names: str) -> str:
    """A regex matching one of ``names`` (a regex alternation) as a whole word."""
    return rf"(?<![\w\[])({names})(?![\w])"


@contextlib.contextmanager
def rejects(names: str, exc: type[BaseException] | tuple[type[BaseException], ...] = BAD) -> Iterator[None]:
    """``pytest.raises(exc)`` whose message names one of ``names``; FP errors are fatal."""
    with pytest.raises(exc, match=word(names)), np.errstate(all="raise", under="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            yield


@contextlib.contextmanager
def strict() -> Iterator[None]:
    """Run a call that must succeed, with floating-point errors and RuntimeWarnings fatal."""
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


# ---------------------------------------------------------------------------------- data
RNG = np.random.default_rng(2024)
D = 3
XB = RNG.standard_normal((4, D))  # a batch for the residual block
BLOCK = {"x": XB, "W": RNG.standard_normal((D, D)), "b": RNG.standard_normal(D),
         "V": RNG.standard_normal((D, D)), "c": RNG.standard_normal(D)}
XT = RNG.standard_normal((12, 2))  # training inputs for train_mlp
YT = XT.sum(axis=1, keepdims=True)
XP = RNG.standard_normal((30, 4)) * [3.0, 2.0, 1.0, 0.5]  # data for the PPCA functions
UP = np.array([1.0, 0.5, 0.0, 0.0])
MP, SP = ppca_posterior(XP, UP, 1.0)
NET4 = MLP([np.ones((4, 2)), np.ones((1, 4))], [np.zeros(4), np.zeros(1)])

NON_NUMERIC: list[Any] = [
    None, "abc", b"abc", 3 + 4j, object(), {"a": 1}, {1.0, 2.0},
    [[1.0, 2.0], [3.0]],  # ragged
    np.array(["a", "b"]), np.array([1 + 1j, 2.0]), np.array([1.0, None], dtype=object),
    np.array(["2024-01-01"], dtype="datetime64[D]"), np.array([1, 2], dtype="timedelta64[s]"),
]


def train(**kwargs: Any) -> Any:
    args = {"x": XT, "y": YT, "hidden_sizes": [3], "n_steps": 5, **kwargs}
    return train_mlp(args.pop("x"), args.pop("y"), args.pop("hidden_sizes"), **args)


# ---------------------------------------------------------------------------------- chapter 1
MLP_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    ("relu non-numeric", lambda: relu("abc"), "x"),
    ("weights not a list", lambda: MLP(np.ones((1, 1, 1)), [np.zeros(1)]), "weights"),  # type: ignore[arg-type]
    ("biases not a list", lambda: MLP([np.ones((1, 1))], np.zeros((1, 1))), "biases"),  # type: ignore[arg-type]
    ("no layer", lambda: MLP([], []), "weights"),
    ("too few biases", lambda: MLP([np.ones((1, 1))], []), "biases"),
    ("shapes do not chain", lambda: MLP([np.ones((2, 2)), np.ones((1, 3))], [np.zeros(2), np.zeros(1)]),
     r"weights\[1\]"),
    ("bias of wrong length", lambda: MLP([np.ones((2, 2))], [np.zeros(3)]), r"biases\[0\]"),
    ("x of wrong width", lambda: minmax_mlp()([1.0, 2.0, 3.0]), "x"),
    ("x scalar", lambda: minmax_mlp()(1.0), "x"),
    ("layer overflows", lambda: minmax_mlp()([1e308, -1e308]), "x"),
    ("huge weights overflow", lambda: MLP([np.full((2, 2), 1e200), np.full((1, 2), 1e200)],
                                          [np.zeros(2), np.zeros(1)])([1.0, 1.0]), r"weights\[1\]"),
    ("sorting n = 0", lambda: sorting_mlp(0), "n"),
    ("sorting n float", lambda: sorting_mlp(2.0), "n"),  # type: ignore[arg-type]
    ("unknown network", lambda: comparator_stages(4, "bitonic"), "network"),
    ("network not a string", lambda: sorting_mlp(4, None), "network"),  # type: ignore[arg-type]
    ("x 1-D", lambda: train(x=XT[:, 0]), "x"),
    ("rows differ", lambda: train(y=YT[:-1]), "x"),
    ("no hidden_sizes", lambda: train(hidden_sizes=None), "hidden_sizes"),
    ("hidden_sizes int", lambda: train(hidden_sizes=3), "hidden_sizes"),
    ("hidden_sizes str", lambda: train(hidden_sizes="33"), "hidden_sizes"),
    ("width 0", lambda: train(hidden_sizes=[3, 0]), r"hidden_sizes\[1\]"),
    ("n_restarts 0", lambda: train(n_restarts=0), "n_restarts"),
    ("n_steps -1", lambda: train(n_steps=-1), "n_steps"),
    ("optimizer", lambda: train(optimizer="sgd"), "optimizer"),
    ("seed -1", lambda: train(seed=-1), "seed"),
    ("seed RandomState", lambda: train(seed=np.random.RandomState(0)), "seed"),
    ("train_biases 0", lambda: train(train_biases=0), "train_biases"),
    ("init not an MLP", lambda: train(init="net"), "init"),
    ("init of other shape", lambda: train(init=minmax_mlp(), hidden_sizes=None), "init"),
    ("init with other widths", lambda: train(init=NET4, hidden_sizes=[5]), "hidden_sizes"),
    ("init with restarts", lambda: train(init=NET4, n_restarts=2), "n_restarts"),
    ("data overflow the loss", lambda: train(x=XT * 1e300), "x"),
    ("every restart diverges", lambda: train(learning_rate=1e300, optimizer="gd"), "learning_rate"),
]


@pytest.mark.parametrize(("label", "call", "name"), MLP_ERRORS, ids=[e[0] for e in MLP_ERRORS])
def test_mlp_domain_errors_name_the_argument(label: str, call: Callable[[], Any], name: str) -> None:
    with rejects(name):
        call()


# ---------------------------------------------------------------------------------- chapter 2
def forward(**change: Any) -> Any:
    return residual_forward(**{**BLOCK, **change})


def jacobian(**change: Any) -> Any:
    args = {**BLOCK, "x": XB[0], **change}
    return block_jacobian(args.pop("x"), args.pop("W"), args.pop("b"), args.pop("V"), args.pop("c"), **args)


def norms(**change: Any) -> Any:
    args = {"depth": 3, "width": 4, "n_trials": 1, **change}
    return input_gradient_norms(args.pop("depth"), args.pop("width"), **args)


CACHE = residual_forward(**BLOCK)[1]
RESIDUAL_ERRORS: list[tuple[str, Callable[[], Any], str]] = [
    ("x 3-D", lambda: forward(x=np.ones((2, 2, D))), "x"),
    ("x empty", lambda: forward(x=np.empty((0, D))), "x"),
    ("x of other width", lambda: forward(x=np.ones((4, D + 1))), "W"),
    ("W not square", lambda: forward(W=np.ones((D, D + 1))), "W"),
    ("V 1-D", lambda: forward(V=np.ones(D)), "V"),
    ("b too long", lambda: forward(b=np.ones(D + 1)), "b"),
    ("c scalar", lambda: forward(c=0.0), "c"),
    ("V complex", lambda: forward(V=BLOCK["V"] + 0j), "V"),
    ("unknown activation", lambda: forward(activation="elu"), "activation"),
    ("activation a function", lambda: forward(activation=np.tanh), "activation"),
    ("cache not a cache", lambda: residual_backward(np.ones_like(XB), None), "cache"),  # type: ignore[arg-type]
    ("dy of other shape", lambda: residual_backward(np.ones((3, D)), CACHE), "dy"),
    ("dy NaN", lambda: residual_backward(np.full_like(XB, np.nan), CACHE), "dy"),
    ("jacobian of a batch", lambda: jacobian(x=XB), "x"),
    ("skip not a bool", lambda: jacobian(skip=1), "skip"),
    ("jacobian activation", lambda: jacobian(activation="gelu"), "activation"),
    ("depth 0", lambda: norms(depth=0), "depth"),
    ("width str", lambda: norms(width="4"), "width"),
    ("n_trials 0", lambda: norms(n_trials=0), "n_trials"),
    ("seed -1", lambda: norms(seed=-1), "seed"),
    ("weight_std 0", lambda: norms(weight_std=0.0), "weight_std"),
    ("norms activation", lambda: norms(activation="elu"), "activation"),
    ("norms skip", lambda: norms(skip="no"), "skip"),
]


@pytest.mark.parametrize(("label", "call", "name"), RESIDUAL_ERRORS, ids=[e[0] for e in RESIDUAL_ERRORS])
def test_residual_domain_errors_name_the_argument(label: str, call: Callable[[], Any], name: str) -> None:
    with rejects(name):
        call()


BIG = {"x": np.full((2, D), 1e308), "W": np.ones((D, D)), "V": np.tile([1.0, -1.0, 1.0], (D, 1))}


@pytest.mark.parametrize("call", [
    lambda: forward(**BIG),
    lambda: forward(**BIG, activation="tanh"),
    lambda: jacobian(**{**BIG, "x": BIG["x"][0]}, activation="softplus", skip=False),
    lambda: norms(weight_std=1e200),
], ids=["forward relu", "forward tanh", "jacobian", "gradient norms"])
def test_an_overflow_is_never_silent(call: Callable[[], Any]) -> None:
    """Finite inputs whose products overflow: NumPy's floating-point error, not a quiet inf."""
    with pytest.raises((FloatingPointError, RuntimeWarning)), strict():
        call()


# ---------------------------------------------------------------------------------- chapter 3
# PPCA: domain errors are tabled in test_ppca.py; the estimator is checked by check_estimator.
@pytest.mark.parametrize(("n", "d", "q"), [(2, 5, 3), (2, 5, 4), (3, 6, 5), (2, 3, 2)])
def test_ppca_closed_form_has_q_columns_when_n_is_below_q(n: int, d: int, q: int) -> None:
    """Used to return only N columns (a wrong shape) with a fixed noise variance and N < q."""
    with strict():
        W, s2 = ppca_closed_form(RNG.standard_normal((n, d)), q, noise_variance=0.1)
    assert W.shape == (d, q) and s2 == 0.1
    assert np.all(W[:, n:] == 0.0)


# ---------------------------------------------------------------------------------- properties
# Each entry: (label, call taking the one array under test, its argument name(s) in the error,
# the predicate "this shape is valid").
def _mlp_call(x: np.ndarray) -> Any:
    return minmax_mlp()(x)


SHAPE_SPECS: list[tuple[str, Callable[[np.ndarray], Any], str, Callable[[tuple[int, ...]], bool]]] = [
    ("MLP.__call__", _mlp_call, "x", lambda s: len(s) >= 1 and s[-1] == 2),
    ("MLP.hidden_activations", lambda a: minmax_mlp().hidden_activations(a), "x",
     lambda s: len(s) >= 1 and s[-1] == 2),
    ("MLP(weights)", lambda a: MLP([a], [np.zeros(2)]), r"weights\[0\]|biases\[0\]",
     lambda s: len(s) == 2 and s[0] == 2 and s[1] >= 1),
    ("train_mlp x", lambda a: train_mlp(a, YT, [2], n_steps=1), "x",
     lambda s: len(s) == 2 and s[0] == len(YT) and s[1] >= 1),
    ("train_mlp y", lambda a: train_mlp(XT, a, [2], n_steps=1), "y",
     lambda s: len(s) == 2 and s[0] == len(XT) and s[1] >= 1),
    *[(f"residual_forward {k}", (lambda k: lambda a: residual_forward(**{**BLOCK, k: a}))(k),
       "x|W" if k == "x" else k,
       (lambda s: len(s) in (1, 2) and s[-1] == D and 0 not in s) if k == "x"
       else (lambda s, k=k: s == np.shape(BLOCK[k]))) for k in ("x", "W", "b", "V", "c")],
    ("residual_backward dy", lambda a: residual_backward(a, residual_forward(**BLOCK)[1]), "dy",
     lambda s: s == XB.shape),
    ("block_jacobian x", lambda a: block_jacobian(a, BLOCK["W"], BLOCK["b"], BLOCK["V"], BLOCK["c"]),
     "x|W", lambda s: s == (D,)),
    ("ppca_posterior X", lambda a: ppca_posterior(a, UP, 1.0), "X|u",
     lambda s: len(s) == 2 and s[1] == 4 and s[0] >= 1),
    ("ppca_posterior u", lambda a: ppca_posterior(XP, a, 1.0), "u", lambda s: s == (4,)),
    ("ppca_log_likelihood u", lambda a: ppca_log_likelihood(XP, a, 1.0), "u", lambda s: s == (4,)),
    ("ppca_m_step m", lambda a: ppca_m_step(XP, a, SP), "m", lambda s: s == MP.shape),
    ("ppca_em X", lambda a: ppca_em(a, 1.0, max_iter=3), "X", lambda s: len(s) == 2 and s[0] >= 2 and s[1] >= 1),
    ("ppca_em u0", lambda a: ppca_em(XP, 1.0, a, max_iter=3), "u0", lambda s: s == (4,)),
    ("ppca_closed_form X", lambda a: ppca_closed_form(a, 1, 0.5), "X|n_components",
     lambda s: len(s) == 2 and s[0] >= 2 and s[1] >= 2),
]
SPEC_IDS = [spec[0] for spec in SHAPE_SPECS]


@pytest.mark.parametrize("spec", SHAPE_SPECS, ids=SPEC_IDS)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), seed=st.integers(0, 2**16))
@settings(deadline=None, max_examples=15)
def test_random_shapes_either_work_or_name_the_argument(
    spec: tuple[str, Callable[[np.ndarray], Any], str, Callable[[tuple[int, ...]], bool]],
    shape: tuple[int, ...], seed: int,
) -> None:
    """A random shape (random finite values) is accepted exactly when it is valid."""
    _, call, names, valid = spec
    a = np.random.default_rng(seed).standard_normal(shape)
    if valid(shape):
        with strict():
            call(a)
    else:
        with rejects(names, ValueError):
            call(a)


GOOD = {label: good for label, good in [
    ("MLP.__call__", np.ones((3, 2))), ("MLP.hidden_activations", np.ones(2)),
    ("MLP(weights)", np.ones((2, 2))), ("train_mlp x", XT), ("train_mlp y", YT),
    ("residual_forward x", XB), ("residual_forward W", BLOCK["W"]), ("residual_forward b", BLOCK["b"]),
    ("residual_forward V", BLOCK["V"]), ("residual_forward c", BLOCK["c"]),
    ("residual_backward dy", np.ones_like(XB)), ("block_jacobian x", XB[0]),
    ("ppca_posterior X", XP), ("ppca_posterior u", UP), ("ppca_log_likelihood u", UP),
    ("ppca_m_step m", MP), ("ppca_em X", XP), ("ppca_em u0", UP), ("ppca_closed_form X", XP),
]}


def garbage_for(good: np.ndarray) -> st.SearchStrategy[Any]:
    """Values that are never valid: non-numbers, or ``good`` with a NaN/inf, complex, or as text."""
    shaped = st.tuples(st.integers(0, good.size - 1), st.sampled_from([np.nan, np.inf, -np.inf]))
    return st.one_of(
        st.sampled_from(NON_NUMERIC),
        shaped.map(lambda iv: np.where(np.arange(good.size).reshape(good.shape) == iv[0], iv[1], good)),
        st.just(good + 1j), st.just(good.astype(str)), st.just(good.astype(object)),
        st.just([*good.tolist(), [1.0] * (good.shape[1] + 1)] if good.ndim == 2
                else [good.tolist(), 1.0]),  # ragged
    )


@pytest.mark.parametrize("spec", SHAPE_SPECS, ids=SPEC_IDS)
@given(data=st.data())
@settings(deadline=None, max_examples=12)
def test_garbage_values_name_the_argument(
    spec: tuple[str, Callable[[np.ndarray], Any], str, Callable[[tuple[int, ...]], bool]],
    data: st.DataObject,
) -> None:
    label, call, names, _ = spec
    value = data.draw(garbage_for(GOOD[label]))
    assume(not (value is None and label == "ppca_em u0"))  # None: the default starting point
    with rejects(names):
        call(value)


SCALAR_SPECS: list[tuple[str, Callable[[Any], Any], str, bool]] = [
    # (argument, call, name, is an integer argument)
    ("sigma2", lambda v: ppca_posterior(XP, UP, v), "sigma2", False),
    ("sigma2 (em)", lambda v: ppca_em(XP, v, max_iter=2), "sigma2", False),
    ("noise_variance", lambda v: ppca_closed_form(XP, 1, v), "noise_variance", False),
    ("learning_rate", lambda v: train_mlp(XT, YT, [2], n_steps=1, learning_rate=v), "learning_rate", False),
    ("weight_std", lambda v: input_gradient_norms(2, 2, weight_std=v, n_trials=1), "weight_std", False),
    ("tol", lambda v: ppca_em(XP, 1.0, tol=v, max_iter=2), "tol", False),
    ("n_components", lambda v: ppca_closed_form(XP, v), "n_components", True),
    ("max_iter", lambda v: ppca_em(XP, 1.0, max_iter=v), "max_iter", True),
    ("n_steps", lambda v: train_mlp(XT, YT, [2], n_steps=v), "n_steps", True),
    ("n_restarts", lambda v: train_mlp(XT, YT, [2], n_steps=1, n_restarts=v), "n_restarts", True),
    ("hidden_sizes[0]", lambda v: train_mlp(XT, YT, [v], n_steps=1), r"hidden_sizes\[0\]", True),
    ("sorting n", lambda v: sorting_mlp(v), "n", True),
    ("depth", lambda v: input_gradient_norms(v, 2, n_trials=1), "depth", True),
]

INVALID_ANY = st.one_of(
    st.sampled_from([None, "1", b"1", [1], (1,), {1: 1}, 1j, np.ones(2), object(), True, False, np.bool_(True)]),
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not np.isfinite(v)),
)
INVALID_REAL = st.one_of(
    INVALID_ANY, st.floats(max_value=0.0, allow_nan=False), st.integers(max_value=0),
)
INVALID_INT = st.one_of(
    INVALID_ANY, st.floats(allow_nan=False, allow_infinity=False), st.integers(max_value=-1),
    st.sampled_from([np.float64(2.0), Fraction(3, 1), np.array(3)]),
)


@pytest.mark.parametrize("spec", SCALAR_SPECS, ids=[s[0] for s in SCALAR_SPECS])
@given(data=st.data())
@settings(deadline=None, max_examples=12)
def test_bad_scalars_name_the_argument(spec: tuple[str, Callable[[Any], Any], str, bool],
                                       data: st.DataObject) -> None:
    _, call, name, integer = spec
    value = data.draw(INVALID_INT if integer else INVALID_REAL)
    assume(not (value is None and name == "noise_variance"))  # None: learn it
    if integer and name != "random_state":
        assume(not (isinstance(value, int) and value >= 0 and not isinstance(value, bool)))
    with rejects(name):
        call(value)
