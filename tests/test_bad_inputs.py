"""Bad input to hw4lib: a ValueError or TypeError whose message names the argument.

One style for every bad-input test of the library: tables of ``Bad`` rows (a label, the
call, the error type, what the message must name, and the values it must show: the
offending value, the expected shape or the allowed choices), each row run through
``rejects``. Names and values are matched as whole tokens, not on the wording around them.
Then properties over every array and scalar argument: a random shape, a non-number, a NaN
or a bad scalar is rejected exactly when it is invalid, naming the argument. Every call
runs with floating-point errors and ``RuntimeWarning`` fatal, so an overflow is never silent.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from hw4lib import (  # noqa: E402
    MLP,
    PPCA,
    TrainResult,
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
from hw4lib._validation import (  # noqa: E402
    as_bool,
    as_float_array,
    as_int,
    as_positive_float,
    check_choice,
)
from hw4lib.cones import symbolic_forward  # noqa: E402
from hw4lib.plotting import mlp as mlp_plots  # noqa: E402
from hw4lib.plotting import residual as rplot  # noqa: E402
from hw4lib.ppca import ConvergenceWarning  # noqa: E402
from hw4lib.residual import block_jacobian, input_gradient_norms  # noqa: E402

BAD = (ValueError, TypeError)


def _token(text: str) -> str:
    """A regex for ``text`` as a whole token: not part of a longer name or number."""
    before = r"(?<![\w.\[])" if re.match(r"\w", text) else ""
    after = r"(?!\w|\.\d)" if re.search(r"\w$", text) else ""
    return before + re.escape(text) + after


@contextlib.contextmanager
def rejects(error: type[BaseException] | tuple[type[BaseException], ...],
            name: str | tuple[str, ...], *values: str) -> Iterator[None]:
    """The block raises ``error``, whose message names ``name`` (or one of several names)
    and shows each of ``values``; floating-point errors and RuntimeWarnings are fatal."""
    names = (name,) if isinstance(name, str) else name
    with pytest.raises(error) as info, np.errstate(all="raise", under="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield
    message = str(info.value)
    assert any(re.search(_token(n), message) for n in names), (names, message)
    for value in values:
        assert re.search(_token(value), message), (value, message)


@contextlib.contextmanager
def strict() -> Iterator[None]:
    """Run a call that must succeed, with floating-point errors and RuntimeWarnings fatal."""
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


class Bad(NamedTuple):
    """One bad call: ``call()`` raises ``error`` naming ``name`` and showing ``values``."""

    label: str
    call: Callable[[], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]
    name: str
    values: tuple[str, ...] = ()


def table(rows: list[Bad]) -> Any:
    return pytest.mark.parametrize("bad", rows, ids=[r.label for r in rows])


def check(bad: Bad) -> None:
    with rejects(bad.error, bad.name, *bad.values):
        bad.call()
    plt.close("all")


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
X1, X2 = sp.symbols("x1 x2")

NON_NUMERIC: list[Any] = [
    None, "abc", b"abc", 3 + 4j, object(), {"a": 1}, {1.0, 2.0},
    [[1.0, 2.0], [3.0]],  # ragged
    np.array(["a", "b"]), np.array([1 + 1j, 2.0]), np.array([1.0, None], dtype=object),
    np.array(["2024-01-01"], dtype="datetime64[D]"), np.array([1, 2], dtype="timedelta64[s]"),
]


def train(**kwargs: Any) -> Any:
    args = {"x": XT, "y": YT, "hidden_sizes": [3], "n_steps": 5, **kwargs}
    return train_mlp(args.pop("x"), args.pop("y"), args.pop("hidden_sizes"), **args)


@functools.cache
def trained() -> TrainResult:
    """Three restarts of a small fit, for TrainResult.restart."""
    return train_mlp(XT, YT, [3], n_restarts=3, n_steps=5)


def diverged() -> TrainResult:
    """A TrainResult whose restart 1 diverged (an infinite loss, as train_mlp records it)."""
    res = train_mlp(XT, YT, [3], n_restarts=2, n_steps=2, seed=4)
    histories = res.loss_histories.copy()
    histories[-1, 1] = np.inf
    return TrainResult(res.mlp, histories[:, 0], histories, 0, res.restart_weights, res.restart_biases)


def minmax_data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(n, 2))
    return X, np.stack([X.min(axis=1), X.max(axis=1)], axis=1)


# ---------------------------------------------------------------------------------- chapter 1
MLP_ERRORS = [
    Bad("relu NaN", lambda: relu([1.0, np.nan]), ValueError, "x"),
    Bad("relu complex", lambda: relu([1j]), TypeError, "x"),
    Bad("relu non-numeric", lambda: relu("abc"), BAD, "x"),
    Bad("weights not a list", lambda: MLP(np.ones((1, 1, 1)), [np.zeros(1)]),  # type: ignore[arg-type]
        TypeError, "weights"),
    Bad("biases not a list", lambda: MLP([np.ones((1, 1))], np.zeros((1, 1))),  # type: ignore[arg-type]
        BAD, "biases"),
    Bad("no layer", lambda: MLP([], []), ValueError, "weights"),
    Bad("too few biases", lambda: MLP([np.eye(2)], []), ValueError, "biases"),
    Bad("shapes do not chain", lambda: MLP([np.eye(2), np.ones((2, 3))], [np.zeros(2), np.zeros(2)]),
        ValueError, "weights[1]", ("(2, 3)",)),
    Bad("bias of wrong length", lambda: MLP([np.eye(2)], [np.zeros(3)]),
        ValueError, "biases[0]", ("(3,)", "(2,)")),
    Bad("weights 1-D", lambda: MLP([np.ones(2)], [np.zeros(1)]), ValueError, "weights[0]", ("2-D",)),
    Bad("weights not finite", lambda: MLP([[[np.inf]]], [[0.0]]), ValueError, "weights[0]", ("finite",)),
    Bad("x of wrong width", lambda: minmax_mlp()([1.0, 2.0, 3.0]), ValueError, "x"),
    Bad("x of wrong width, 2-D", lambda: minmax_mlp()(np.zeros((3, 3))), ValueError, "x", ("(3, 3)",)),
    Bad("x NaN", lambda: minmax_mlp()([[1.0, np.nan]]), ValueError, "x", ("finite",)),
    Bad("x scalar", lambda: minmax_mlp()(1.0), ValueError, "x", ("dimension",)),
    Bad("layer overflows", lambda: minmax_mlp()([[1.7e308, -1.7e308]]),  # x1 - x2 overflows
        ValueError, "x", ("weights[0], biases[0]",)),
    Bad("huge weights overflow", lambda: MLP([np.full((2, 2), 1e200), np.full((1, 2), 1e200)],
                                             [np.zeros(2), np.zeros(1)])([1.0, 1.0]),
        ValueError, "weights[1]"),
    Bad("sorting n = 0", lambda: sorting_mlp(0), ValueError, "n", ("0",)),
    Bad("sorting n = 2.0", lambda: sorting_mlp(2.0), BAD, "n"),  # type: ignore[arg-type]
    Bad("sorting n = 2.5", lambda: sorting_mlp(2.5), TypeError, "n", ("2.5",)),  # type: ignore[arg-type]
    Bad("sorting network unknown", lambda: sorting_mlp(4, "bitonic"), ValueError, "network", ("'bitonic'",)),
    Bad("comparator network unknown", lambda: comparator_stages(4, "bitonic"), BAD, "network"),
    Bad("network not a string", lambda: sorting_mlp(4, None), BAD, "network"),  # type: ignore[arg-type]
    Bad("sorting x too short", lambda: sorting_mlp(4)([1.0, 2.0]), ValueError, "x", ("4",)),
    Bad("train x 1-D", lambda: train(x=XT[:, 0]), ValueError, "x"),
    Bad("train rows differ", lambda: train(y=YT[:-1]), ValueError, "x", ("x and y", "12", "11")),
    Bad("no hidden_sizes", lambda: train(hidden_sizes=None), ValueError, "hidden_sizes", ("init",)),
    Bad("hidden_sizes int", lambda: train(hidden_sizes=3), BAD, "hidden_sizes"),
    Bad("hidden_sizes str", lambda: train(hidden_sizes="33"), BAD, "hidden_sizes"),
    Bad("width 0 first", lambda: train(hidden_sizes=[0]), ValueError, "hidden_sizes[0]", ("0",)),
    Bad("width 0 second", lambda: train(hidden_sizes=[3, 0]), BAD, "hidden_sizes[1]"),
    Bad("n_restarts 0", lambda: train(n_restarts=0), ValueError, "n_restarts", ("0",)),
    Bad("n_steps -1", lambda: train(n_steps=-1), BAD, "n_steps"),
    Bad("optimizer", lambda: train(optimizer="sgd"), ValueError, "optimizer", ("'sgd'",)),
    Bad("learning_rate -1", lambda: train(learning_rate=-1.0), ValueError, "learning_rate"),
    Bad("seed -1", lambda: train(seed=-1), BAD, "seed"),
    Bad("seed 1.5", lambda: train(seed=1.5), TypeError, "seed"),
    Bad("seed RandomState", lambda: train(seed=np.random.RandomState(0)), BAD, "seed"),
    Bad("train_biases 0", lambda: train(train_biases=0), BAD, "train_biases"),
    Bad("init not an MLP", lambda: train(init="net"), TypeError, "init"),
    Bad("init of other output", lambda: train(init=minmax_mlp(), hidden_sizes=None), BAD, "init"),
    Bad("init of other input", lambda: train(init=sorting_mlp(4), hidden_sizes=None),
        ValueError, "init", ("4",)),
    Bad("init with other widths", lambda: train(init=NET4, hidden_sizes=[5]),
        ValueError, "hidden_sizes", ("init.widths",)),
    Bad("init with restarts", lambda: train(init=NET4, n_restarts=2), BAD, "n_restarts"),
    Bad("init with restarts, no hidden_sizes",
        lambda: train_mlp(*minmax_data(), init=minmax_mlp(), n_restarts=2),
        ValueError, "n_restarts", ("init",)),
    Bad("data overflow the loss", lambda: train(x=XT * 1e300), BAD, "x"),
    Bad("every restart diverges", lambda: train(learning_rate=1e300, optimizer="gd"), BAD, "learning_rate"),
    Bad("gradient descent diverges", lambda: train_mlp(1e3 * minmax_data()[0], minmax_data()[1], [8],
                                                       n_steps=50, learning_rate=10.0, optimizer="gd"),
        ValueError, "learning_rate", ("learning_rate=10.0",)),
    Bad("restart past the last", lambda: trained().restart(3), ValueError, "k", ("2", "3")),
    Bad("restart -1", lambda: trained().restart(-1), ValueError, "k", ("0", "-1")),
    Bad("restart 1.0", lambda: trained().restart(1.0), TypeError, "k"),  # type: ignore[arg-type]
    Bad("restart None", lambda: trained().restart(None), TypeError, "k"),  # type: ignore[arg-type]
    Bad("a diverged restart", lambda: diverged().restart(1), ValueError, "k", ("k=1",)),
    Bad("plot over the plane, 3 inputs", lambda: mlp_plots.plot_linear_regions(sorting_mlp(3)),
        ValueError, "mlp", ("n_in=3",)),
    Bad("plot a non-network", lambda: mlp_plots.plot_network("net"), TypeError, "mlp"),  # type: ignore[arg-type]
    Bad("plot with one label for two outputs",
        lambda: mlp_plots.plot_network(minmax_mlp(), output_labels=["a"]), ValueError, "output_labels", ("2",)),
    Bad("plot no results", lambda: mlp_plots.plot_width_experiment({}), ValueError, "results"),
    Bad("plot no networks", lambda: mlp_plots.plot_comparator_networks([]), ValueError, "specs"),
    Bad("cones: too few inputs", lambda: symbolic_forward(minmax_mlp(), [X1]), ValueError, "x",
        ("net.n_in = 2",)),
    Bad("cones: not a network", lambda: symbolic_forward("not a net", [X1, X2]),  # type: ignore[arg-type]
        TypeError, "net", ("hw4lib.MLP",)),
]


@table(MLP_ERRORS)
def test_mlp_errors_name_the_argument(bad: Bad) -> None:
    """Chapter 1's bad calls raise the row's error, naming the argument and showing its values."""
    check(bad)


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
VCACHE = residual_forward(**{**BLOCK, "x": XB[0]})[1]  # one vector, not a batch
G = rplot.GraphNode
RESIDUAL_ERRORS = [
    Bad("x 3-D", lambda: forward(x=np.ones((2, 3, 1))), ValueError, "x", ("(2, 3, 1)",)),
    Bad("x empty", lambda: forward(x=np.empty((0, D))), ValueError, "x", ("(0, 3)",)),
    Bad("x non-numeric", lambda: forward(x="abc"), TypeError, "x"),
    Bad("x NaN", lambda: forward(x=np.array([[1.0, np.nan, 0.0]] * 2)), ValueError, "x", ("finite",)),
    Bad("x of other width", lambda: forward(x=np.ones((4, D + 1))), ValueError, "W"),
    Bad("W of other size", lambda: forward(x=np.ones((2, 3)), W=np.eye(2)), ValueError, "W", ("(2, 2)", "(3, 3)")),
    Bad("W not square", lambda: forward(W=np.ones((3, 4))), ValueError, "W", ("(3, 4)", "(3, 3)")),
    Bad("W inf", lambda: forward(W=np.diag([1.0, np.inf, 1.0])), ValueError, "W", ("finite",)),
    Bad("V 1-D", lambda: forward(V=np.ones(D)), ValueError, "V", ("(3,)",)),
    Bad("V complex", lambda: forward(V=BLOCK["V"] + 0j), BAD, "V"),
    Bad("b too long", lambda: forward(b=np.zeros(4)), ValueError, "b", ("(4,)", "(3,)")),
    Bad("c scalar", lambda: forward(c=0.0), ValueError, "c"),
    Bad("c a column", lambda: forward(c=np.zeros((3, 1))), ValueError, "c", ("(3, 1)",)),
    Bad("c -inf", lambda: forward(c=np.array([0.0, 0.0, -np.inf])), ValueError, "c", ("finite",)),
    Bad("unknown activation", lambda: forward(activation="gelu"), ValueError, "activation",
        ("'gelu'", "relu", "tanh")),
    Bad("activation None", lambda: forward(activation=None), TypeError, "activation", ("NoneType",)),
    Bad("activation a function", lambda: forward(activation=np.tanh), BAD, "activation"),
    Bad("cache not a cache", lambda: residual_backward(np.ones_like(XB), None), BAD, "cache"),  # type: ignore[arg-type]
    Bad("cache a dict", lambda: residual_backward(np.ones_like(XB), {"h": 1}),  # type: ignore[arg-type]
        TypeError, "cache", ("ResidualCache", "dict")),
    Bad("dy of other shape", lambda: residual_backward(np.ones((3, D)), CACHE), ValueError, "dy",
        ("(3, 3)", "(4, 3)")),
    Bad("dy 1-D for a batch", lambda: residual_backward(np.ones(D), CACHE), ValueError, "dy", ("(3,)",)),
    Bad("dy NaN", lambda: residual_backward(np.full_like(XB, np.nan), CACHE), ValueError, "dy", ("finite",)),
    Bad("dy a batch for a vector", lambda: residual_backward(np.ones((1, D)), VCACHE), ValueError, "dy",
        ("(1, 3)",)),
    Bad("jacobian of a batch", lambda: jacobian(x=XB), ValueError, "x", ("(4, 3)",)),
    Bad("skip not a bool", lambda: jacobian(skip=1), TypeError, "skip", ("int",)),
    Bad("jacobian activation", lambda: jacobian(activation="gelu"), BAD, "activation"),
    Bad("depth 0", lambda: norms(depth=0), ValueError, "depth", ("0", "1")),
    Bad("width 2.5", lambda: norms(width=2.5), TypeError, "width", ("2.5",)),
    Bad("width str", lambda: norms(width="4"), BAD, "width"),
    Bad("n_trials 0", lambda: norms(n_trials=0), ValueError, "n_trials", ("0", "1")),
    Bad("seed -1", lambda: norms(seed=-1), BAD, "seed"),
    Bad("weight_std 0", lambda: norms(weight_std=0.0), BAD, "weight_std"),
    Bad("weight_std -1", lambda: norms(weight_std=-1.0), ValueError, "weight_std", ("-1.0",)),
    Bad("norms activation", lambda: norms(activation="elu"), ValueError, "activation", ("'elu'", "relu")),
    Bad("norms skip", lambda: norms(skip="yes"), TypeError, "skip", ("str",)),
    Bad("plot negative norms", lambda: rplot.plot_gradient_norms({"A": {"a": -np.ones((3, 5))}}),
        ValueError, "norms", ("['a']",)),
    Bad("graph with a cycle", lambda: rplot.graph_layout([G("a", "a", "value", ("b",)),
                                                          G("b", "b", "value", ("a",))]),
        ValueError, "'a'", ("cycle",)),
    Bad("graph node with unknown parents", lambda: rplot.graph_layout([G("a", "a", "value", ("q",))]),
        ValueError, "'a'", ("unknown parents", "['q']")),
    Bad("graph parameter feeding no node", lambda: rplot.graph_layout([G("p", "p", "param"),
                                                                      G("a", "a", "input")]),
        ValueError, "'p'", ("exactly one node",)),
    Bad("graph node of unknown kind", lambda: rplot.graph_layout([G("a", "a", "weight")]),
        ValueError, "'a'", ("unknown kind", "'weight'")),
]


@table(RESIDUAL_ERRORS)
def test_residual_errors_name_the_argument(bad: Bad) -> None:
    """Chapter 2's bad calls raise the row's error, naming the argument and showing its values."""
    check(bad)


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
EYE3 = np.eye(3)
X_INF = np.random.default_rng(10).standard_normal((50, 4))
X_INF[3, 1] = np.inf
X_UNOBSERVED = np.random.default_rng(10).standard_normal((50, 4))
X_UNOBSERVED[:, 2] = np.nan
PPCA_ERRORS = [
    Bad("posterior sigma2 0", lambda: ppca_posterior(np.ones((3, 2)), np.ones(2), 0.0),
        ValueError, "sigma2", ("0.0",)),
    Bad("posterior u of other length", lambda: ppca_posterior(np.ones((3, 2)), np.ones(3), 1.0),
        ValueError, "u", ("(3,)", "(2,)")),
    Bad("m-step s 0", lambda: ppca_m_step(np.ones((3, 2)), np.ones(3), np.zeros(3)), ValueError, "s"),
    Bad("m-step s below m squared", lambda: ppca_m_step(np.ones((3, 2)), 2 * np.ones(3), np.ones(3)),
        ValueError, "s"),
    Bad("em one row", lambda: ppca_em(np.ones((1, 2)), 1.0), ValueError, "X", ("(1, 2)",)),
    Bad("em u0 zero", lambda: ppca_em(np.ones((3, 2)), 1.0, u0=np.zeros(2)), ValueError, "u0"),
    Bad("em max_iter 0", lambda: ppca_em(np.ones((3, 2)), 1.0, max_iter=0), ValueError, "max_iter", ("0",)),
    Bad("em tol 0", lambda: ppca_em(np.ones((3, 2)), 1.0, tol=0.0), ValueError, "tol", ("0.0",)),
    Bad("closed form q = D", lambda: ppca_closed_form(EYE3, 3), ValueError, "n_components", ("3",)),
    Bad("closed form noise_variance -1", lambda: ppca_closed_form(EYE3, 1, noise_variance=-1.0),
        ValueError, "noise_variance", ("-1.0",)),
    Bad("PPCA q = D", lambda: PPCA(n_components=3).fit(EYE3), ValueError, "n_components", ("3",)),
    Bad("PPCA q = 0", lambda: PPCA(n_components=0).fit(EYE3), ValueError, "n_components", ("0",)),
    Bad("PPCA noise_variance 0", lambda: PPCA(noise_variance=0.0).fit(EYE3), ValueError, "noise_variance",
        ("0.0",)),
    Bad("PPCA algorithm", lambda: PPCA(algorithm="svd").fit(EYE3), ValueError, "algorithm", ("'svd'",)),
    Bad("PPCA tol -1", lambda: PPCA(tol=-1.0).fit(EYE3), ValueError, "tol", ("-1.0",)),
    Bad("PPCA n_init 0", lambda: PPCA(n_init=0).fit(EYE3), ValueError, "n_init", ("0",)),
    Bad("PPCA X with inf", lambda: PPCA().fit(X_INF), ValueError, "X"),
    Bad("PPCA X column never observed", lambda: PPCA().fit(X_UNOBSERVED), ValueError, "X",
        ("column 2",)),
    Bad("inverse_transform of other width",
        lambda: PPCA(random_state=0).fit(EYE3).inverse_transform(np.ones((2, 2))),
        ValueError, "n_components", ("2",)),
]


@table(PPCA_ERRORS)
def test_ppca_errors_name_the_argument(bad: Bad) -> None:
    """Chapter 3's bad calls raise the row's error, naming the argument and showing its values."""
    check(bad)


@pytest.mark.parametrize(("n", "d", "q"), [(2, 5, 3), (2, 5, 4), (3, 6, 5), (2, 3, 2)])
def test_ppca_closed_form_has_q_columns_when_n_is_below_q(n: int, d: int, q: int) -> None:
    """With a fixed noise variance and N < q the loadings still have q columns, the last q - N zero."""
    with strict():
        W, s2 = ppca_closed_form(RNG.standard_normal((n, d)), q, noise_variance=0.1)
    assert W.shape == (d, q) and s2 == 0.1
    assert np.all(W[:, n:] == 0.0)


# ---------------------------------------------------------------------------------- validation
# The shared helpers every public function calls: each message names the argument first,
# then says what is allowed and what was found.
VALIDATION_ERRORS = [
    *[Bad(f"array {bad}", lambda bad=bad: as_float_array([[1.0, bad], [2.0, 3.0]], "X"),
          ValueError, "X", ("finite", "1")) for bad in (np.nan, np.inf, -np.inf)],
    Bad("array not 2-D", lambda: as_float_array([1.0, 2.0], "X", ndim=2), ValueError, "X", ("2-D", "(2,)")),
    Bad("array not 0-D or 1-D", lambda: as_float_array([[1.0]], "X", ndim=(0, 1)),
        ValueError, "X", ("0-D", "1-D", "(1, 1)")),
    Bad("array below min_ndim", lambda: as_float_array([1.0, 2.0], "X", min_ndim=2), ValueError, "X",
        ("2", "(2,)")),
    Bad("array of other shape", lambda: as_float_array([[1.0, 2.0]], "X", shape=(None, 3)),
        ValueError, "X", ("(1, 2)", "('*', 3)")),
    Bad("array empty", lambda: as_float_array(np.empty((0, 3)), "X", ndim=2), ValueError, "X", ("(0, 3)",)),
    Bad("array ragged", lambda: as_float_array([[1.0], [2.0, 3.0]], "X"), ValueError, "X"),
    *[Bad(f"array of {label}", lambda v=v: as_float_array(v, "X"), TypeError, "X")
      for label, v in [("text", "abc"), ("complex", [1 + 2j]), ("strings", np.array(["a"])),
                       ("objects", [object()]), ("None", None)]],
    *[Bad(f"positive float {bad}", lambda bad=bad: as_positive_float(bad, "sigma2"), ValueError, "sigma2",
          ("0", repr(bad))) for bad in (0.0, -1.0, np.nan, np.inf)],
    *[Bad(f"positive float of type {type(bad).__name__}", lambda bad=bad: as_positive_float(bad, "tol"),
          TypeError, "tol", (type(bad).__name__,)) for bad in ("1", None, True, np.ones(2), [1.0])],
    Bad("int below minimum", lambda: as_int(0, "n", minimum=1), ValueError, "n", ("1", "0")),
    Bad("int above maximum", lambda: as_int(10, "n", maximum=9), ValueError, "n", ("9", "10")),
    *[Bad(f"int of type {type(bad).__name__}", lambda bad=bad: as_int(bad, "n"), TypeError, "n",
          (type(bad).__name__,)) for bad in (2.0, "3", True, None)],
    *[Bad(f"bool of type {type(bad).__name__}", lambda bad=bad: as_bool(bad, "skip"), TypeError, "skip",
          (type(bad).__name__,)) for bad in (1, 0.0, "yes", None, np.array([True]))],
    Bad("choice not allowed", lambda: check_choice("elu", "activation", ("relu", "tanh")),
        ValueError, "activation", ("'elu'", "['relu', 'tanh']")),
    Bad("choice not a string", lambda: check_choice(3, "activation", ("relu",)), TypeError, "activation",
        ("int",)),
]


@table(VALIDATION_ERRORS)
def test_validation_errors_name_the_argument(bad: Bad) -> None:
    """Each validation helper's error names the argument and shows the allowed and found values."""
    check(bad)


# check_choice's "unknown activation 'elu'; choose one of [...]" puts the name second.
@table([bad for bad in VALIDATION_ERRORS if bad.label != "choice not allowed"])
def test_validation_errors_start_with_the_argument(bad: Bad) -> None:
    """The validation helpers' messages begin with the argument's name."""
    with pytest.raises(bad.error) as info:
        bad.call()
    assert str(info.value).startswith(bad.name), str(info.value)


# ---------------------------------------------------------------------------------- properties
# Each entry: (label, call taking the one array under test, its argument name(s) in the error,
# the predicate "this shape is valid").
def _mlp_call(x: np.ndarray) -> Any:
    return minmax_mlp()(x)


SHAPE_SPECS: list[tuple[str, Callable[[np.ndarray], Any], str | tuple[str, ...], Callable[[tuple[int, ...]], bool]]] = [
    ("MLP.__call__", _mlp_call, "x", lambda s: len(s) >= 1 and s[-1] == 2),
    ("MLP.hidden_activations", lambda a: minmax_mlp().hidden_activations(a), "x",
     lambda s: len(s) >= 1 and s[-1] == 2),
    ("MLP(weights)", lambda a: MLP([a], [np.zeros(2)]), ("weights[0]", "biases[0]"),
     lambda s: len(s) == 2 and s[0] == 2 and s[1] >= 1),
    ("train_mlp x", lambda a: train_mlp(a, YT, [2], n_steps=1), "x",
     lambda s: len(s) == 2 and s[0] == len(YT) and s[1] >= 1),
    ("train_mlp y", lambda a: train_mlp(XT, a, [2], n_steps=1), "y",
     lambda s: len(s) == 2 and s[0] == len(XT) and s[1] >= 1),
    *[(f"residual_forward {k}", (lambda k: lambda a: residual_forward(**{**BLOCK, k: a}))(k),
       ("x", "W") if k == "x" else k,
       (lambda s: len(s) in (1, 2) and s[-1] == D and 0 not in s) if k == "x"
       else (lambda s, k=k: s == np.shape(BLOCK[k]))) for k in ("x", "W", "b", "V", "c")],
    ("residual_backward dy", lambda a: residual_backward(a, residual_forward(**BLOCK)[1]), "dy",
     lambda s: s == XB.shape),
    ("block_jacobian x", lambda a: block_jacobian(a, BLOCK["W"], BLOCK["b"], BLOCK["V"], BLOCK["c"]),
     ("x", "W"), lambda s: s == (D,)),
    ("ppca_posterior X", lambda a: ppca_posterior(a, UP, 1.0), ("X", "u"),
     lambda s: len(s) == 2 and s[1] == 4 and s[0] >= 1),
    ("ppca_posterior u", lambda a: ppca_posterior(XP, a, 1.0), "u", lambda s: s == (4,)),
    ("ppca_log_likelihood u", lambda a: ppca_log_likelihood(XP, a, 1.0), "u", lambda s: s == (4,)),
    ("ppca_m_step m", lambda a: ppca_m_step(XP, a, SP), "m", lambda s: s == MP.shape),
    ("ppca_em X", lambda a: ppca_em(a, 1.0, max_iter=3), "X", lambda s: len(s) == 2 and s[0] >= 2 and s[1] >= 1),
    ("ppca_em u0", lambda a: ppca_em(XP, 1.0, a, max_iter=3), "u0", lambda s: s == (4,)),
    ("ppca_closed_form X", lambda a: ppca_closed_form(a, 1, 0.5), ("X", "n_components"),
     lambda s: len(s) == 2 and s[0] >= 2 and s[1] >= 2),
]
SPEC_IDS = [spec[0] for spec in SHAPE_SPECS]


@pytest.mark.parametrize("spec", SHAPE_SPECS, ids=SPEC_IDS)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5), seed=st.integers(0, 2**16))
@settings(deadline=None, max_examples=15)
def test_random_shapes_either_work_or_name_the_argument(
    spec: tuple[str, Callable[[np.ndarray], Any], str | tuple[str, ...], Callable[[tuple[int, ...]], bool]],
    shape: tuple[int, ...], seed: int,
) -> None:
    """A random shape (random finite values) is accepted exactly when it is valid."""
    _, call, names, valid = spec
    a = np.random.default_rng(seed).standard_normal(shape)
    if valid(shape):
        with strict():
            call(a)
    else:
        with rejects(ValueError, names):
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
    spec: tuple[str, Callable[[np.ndarray], Any], str | tuple[str, ...], Callable[[tuple[int, ...]], bool]],
    data: st.DataObject,
) -> None:
    """A non-number, a NaN or inf, a complex, text or ragged value is rejected, naming the argument."""
    label, call, names, _ = spec
    value = data.draw(garbage_for(GOOD[label]))
    assume(not (value is None and label == "ppca_em u0"))  # None: the default starting point
    with rejects(BAD, names):
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
    ("hidden_sizes[0]", lambda v: train_mlp(XT, YT, [v], n_steps=1), "hidden_sizes[0]", True),
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
    """A scalar of the wrong type, non-finite, or out of range is rejected, naming the argument."""
    _, call, name, integer = spec
    value = data.draw(INVALID_INT if integer else INVALID_REAL)
    assume(not (value is None and name == "noise_variance"))  # None: learn it
    if integer and name != "random_state":
        assume(not (isinstance(value, int) and value >= 0 and not isinstance(value, bool)))
    with rejects(BAD, name):
        call(value)
