"""Bad input to every public hw4lib callable: a ValueError or TypeError that names the problem.

The project's rule (CONTRIBUTING.md): bad input gets a ``ValueError`` (or ``TypeError``) naming
the argument or the problem -- never a silent NaN or inf, a wrong shape, or an error from deep
inside NumPy (``LinAlgError``, ``IndexError``, a broadcasting ``ValueError``, ``OverflowError``,
``MemoryError``, a ``RuntimeWarning``).

Every call below runs under ``np.errstate(all="raise", under="ignore")`` with ``RuntimeWarning``
turned into an error (also configured in pyproject.toml), so that an overflow or an invalid
operation the library does not handle itself surfaces as a ``FloatingPointError`` and fails the
test instead of slipping through as NaN. Underflow stays ignored, as in NumPy's default: gradual
underflow to zero (``exp(-1000)``) is correct IEEE arithmetic, not a symptom of bad input.

The first test takes an inventory: every callable in ``hw4lib.__all__`` (and in the chapter
modules' ``__all__``) must appear in ``COVERED``, so a new export without bad-input tests fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
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

import hw4lib
import hw4lib.mlp as mlp_mod
import hw4lib.ppca as ppca_mod
import hw4lib.residual as res_mod
from hw4lib import (
    ACTIVATIONS,
    MLP,
    as_float_array,
    as_int,
    as_positive_float,
    check_choice,
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
from hw4lib.mlp import comparator_stages
from hw4lib.ppca import ConvergenceWarning, NotFittedError
from hw4lib.residual import ResidualCache, block_jacobian, input_gradient_norms

BAD = (ValueError, TypeError)


@contextlib.contextmanager
def rejects(match: str, exc: type[BaseException] | tuple[type[BaseException], ...] = BAD) -> Iterator[None]:
    """``pytest.raises(exc, match=match)`` with floating-point errors and RuntimeWarnings fatal."""
    with pytest.raises(exc, match=match), np.errstate(all="raise", under="ignore"):
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


def short(value: Any) -> str:
    """A short, reproducible test id (no memory addresses, which differ between xdist workers)."""
    try:
        text = re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))
    except ValueError:  # repr of an int beyond sys.get_int_max_str_digits()
        text = f"int of {value.bit_length()} bits"
    return text if len(text) <= 40 else text[:37] + "..."


def word(name: str) -> str:
    """A regex matching ``name`` as a whole word (``x`` but not the x of ``max``)."""
    return rf"(?<![\w\[]){re.escape(name)}(?![\w])"


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

NON_NUMERIC: list[Any] = [
    None, "abc", b"abc", 3 + 4j, object(), {"a": 1}, {1.0, 2.0},
    [[1.0, 2.0], [3.0]],  # ragged
    np.array(["a", "b"]), np.array([1 + 1j, 2.0]), np.array([1.0, None], dtype=object),
    np.array(["2024-01-01"], dtype="datetime64[D]"), np.array([1, 2], dtype="timedelta64[s]"),
    [10**400],  # an int beyond float64 (numpy makes an object array)
]


def non_finite(good: np.ndarray, value: float) -> np.ndarray:
    bad = np.array(good, dtype=np.float64, copy=True)
    bad.flat[bad.size // 2] = value
    return bad


# ---------------------------------------------------------------------------------- inventory
COVERED = {
    # validation
    "as_float_array", "as_int", "as_positive_float", "check_choice",
    # chapter 1
    "relu", "MLP", "minmax_mlp", "sorting_mlp", "comparator_stages", "train_mlp",
    # chapter 2 (ACTIVATIONS is a mapping: its phi and dphi are tested)
    "ACTIVATIONS", "residual_forward", "residual_backward", "block_jacobian",
    "input_gradient_norms",
    # chapter 3
    "ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em", "ppca_closed_form", "PPCA",
}
# Records and exceptions: built by the library, not called with user input.
NOT_INPUT_TAKING = {"TrainResult", "EMResult", "ResidualCache", "Activation",
                    "ConvergenceWarning", "NotFittedError"}


def test_every_public_callable_is_covered() -> None:
    exported = set(hw4lib.__all__) | set(mlp_mod.__all__) | set(res_mod.__all__) | set(ppca_mod.__all__)
    assert exported - NOT_INPUT_TAKING == COVERED
    for name in NOT_INPUT_TAKING - {"ConvergenceWarning", "NotFittedError"}:
        record = getattr(hw4lib, name, None) or getattr(res_mod, name)
        assert dataclasses.is_dataclass(record) or issubclass(record, tuple)


# ---------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("value", NON_NUMERIC, ids=short)
def test_as_float_array_rejects_non_numbers(value: Any) -> None:
    with rejects(word("X")):
        as_float_array(value, "X")


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        ([1.0, np.nan], {}, "X must contain only finite"),
        ([[np.inf]], {}, "X must contain only finite"),
        ([-np.inf, 0.0], {"allow_empty": True}, "X must contain only finite"),
        (np.array([np.longdouble("1e4000")]), {}, "X must contain only finite"),  # float64 overflow
        (np.empty((0, 2)), {"ndim": 2}, "X must not be empty"),
        ([], {}, "X must not be empty"),
        (1.0, {"ndim": 2}, "X must be 2-D"),
        (np.ones((2, 2, 2)), {"ndim": (1, 2)}, "X must be 1-D or 2-D"),
        ([1.0], {"min_ndim": 2}, "X must have at least 2"),
        (np.ones((2, 3)), {"shape": (2, 2)}, r"X has shape \(2, 3\)"),
        (np.ones((2, 3)), {"shape": (None, 2, 1)}, "X must be 3-D"),
    ],
)
def test_as_float_array_rejects_bad_values_and_shapes(value: Any, kwargs: dict[str, Any], match: str) -> None:
    with rejects(match, ValueError):
        as_float_array(value, "X", **kwargs)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0.0, ValueError), (-1e-300, ValueError), (np.nan, ValueError), (np.inf, ValueError),
        (-np.inf, ValueError), (np.float32("nan"), ValueError), (np.longdouble("1e4000"), ValueError),
        (10**400, ValueError), (10**5000, ValueError), (Fraction(10**400, 3), ValueError),
        (True, TypeError), (np.bool_(True), TypeError), ("1.0", TypeError), (None, TypeError),
        (1 + 0j, TypeError), ([1.0], TypeError), (np.ones(1), TypeError), (np.array(1 + 1j), TypeError),
        (np.array("1"), TypeError), (np.array(True), TypeError),
    ],
    ids=short,
)
def test_as_positive_float_rejects(value: Any, error: type[Exception]) -> None:
    with rejects(word("sigma2"), error):
        as_positive_float(value, "sigma2")


def test_as_positive_float_allow_zero_still_rejects_negative() -> None:
    with rejects("tol must be a finite number >= 0", ValueError):
        as_positive_float(-0.5, "tol", allow_zero=True)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (2.0, TypeError), (np.float64(2.0), TypeError), ("3", TypeError), (None, TypeError),
        (True, TypeError), (np.bool_(False), TypeError), (Fraction(3), TypeError),
        (np.array(3), TypeError), ([3], TypeError), (3 + 0j, TypeError),
        (0, ValueError), (-(10**400), ValueError), (10**5000, ValueError), (11, ValueError),
    ],
    ids=short,
)
def test_as_int_rejects(value: Any, error: type[Exception]) -> None:
    with rejects(word("n"), error):
        as_int(value, "n", minimum=1, maximum=10)


@pytest.mark.parametrize(("value", "error"), [(None, TypeError), (b"relu", TypeError), (["relu"], TypeError),
                                              (1, TypeError), ("ReLU", ValueError), ("", ValueError)])
def test_check_choice_rejects(value: Any, error: type[Exception]) -> None:
    with rejects(word("activation"), error):
        check_choice(value, "activation", ["relu", "tanh"])


# ---------------------------------------------------------------------------------- chapter 1
@pytest.mark.parametrize("value", [*NON_NUMERIC, [np.nan], [[1.0, -np.inf]]], ids=short)
def test_relu_rejects(value: Any) -> None:
    with rejects(word("x")):
        relu(value)


@pytest.mark.parametrize(
    ("weights", "biases", "match"),
    [
        (None, [np.zeros(1)], "weights must be a list or tuple"),
        (np.ones((1, 1, 1)), [np.zeros(1)], "weights must be a list or tuple"),
        ([np.ones((1, 1))], np.zeros((1, 1)), "biases must be a list or tuple"),
        ("W", ["b"], "weights must be a list or tuple"),
        ([], [], "weights must hold at least one layer"),
        ([np.ones((1, 1))], [], "biases must hold one vector per layer"),
        ([np.ones((2, 2)), np.ones((1, 2))], [np.zeros(2)], "biases must hold one vector per layer"),
        ([np.ones(2)], [np.zeros(1)], r"weights\[0\] must be 2-D"),
        ([np.ones((1, 2, 2))], [np.zeros(1)], r"weights\[0\] must be 2-D"),
        ([np.ones((0, 2))], [np.zeros(0)], r"weights\[0\] must not be empty"),
        ([np.ones((2, 0))], [np.zeros(2)], r"weights\[0\] must not be empty"),
        ([np.ones((2, 2)), np.ones((1, 3))], [np.zeros(2), np.zeros(1)], r"weights\[1\] has shape \(1, 3\)"),
        ([np.ones((2, 2))], [np.zeros(3)], r"biases\[0\] has shape \(3,\)"),
        ([np.ones((2, 2))], [np.zeros((2, 1))], r"biases\[0\] must be 1-D"),
        ([np.ones((2, 2))], [0.0], r"biases\[0\] must be 1-D"),
        ([[[1.0, np.nan]]], [[0.0]], r"weights\[0\] must contain only finite"),
        ([np.ones((1, 1))], [[np.inf]], r"biases\[0\] must contain only finite"),
        ([None], [None], r"weights\[0\] must be an array of real numbers"),
        ([np.ones((1, 1)) * 1j], [[0.0]], r"weights\[0\] must be real"),
        ([[["a"]]], [[0.0]], r"weights\[0\] must be an array of real numbers"),
        ([np.ones((1, 1))], [np.array([object()])], r"biases\[0\] must be an array of real numbers"),
    ],
)
def test_mlp_constructor_rejects(weights: Any, biases: Any, match: str) -> None:
    with rejects(match):
        MLP(weights, biases)


@pytest.mark.parametrize("method", ["__call__", "hidden_activations"])
@pytest.mark.parametrize(
    ("x", "match"),
    [
        (1.0, "x must have at least 1 dimension"),
        ([1.0, 2.0, 3.0], r"x must have shape \(\.\.\., 2\)"),
        (np.ones((4, 1)), r"x must have shape \(\.\.\., 2\)"),
        (np.ones((2, 0)), r"x must have shape \(\.\.\., 2\)"),
        ([1.0, np.nan], "x must contain only finite"),
        ([[1.0, np.inf]], "x must contain only finite"),
        ("12", "x must be an array of real numbers"),
        (None, "x must be an array of real numbers"),
        ([1 + 1j, 2.0], "x must be real"),
        ([[1.0, 2.0], [3.0]], "x could not be converted"),
        ([1e308, -1e308], "overflowed.*largest |x|"),  # x1 - x2 overflows in the first layer
    ],
)
def test_mlp_call_rejects(method: str, x: Any, match: str) -> None:
    net = minmax_mlp()
    with rejects(match):
        getattr(net, method)(x)


def test_mlp_with_huge_weights_overflows_loudly() -> None:
    net = MLP([np.full((2, 2), 1e200), np.full((1, 2), 1e200)], [np.zeros(2), np.zeros(1)])
    with rejects(r"weights\[1\], biases\[1\] overflowed"):
        net([1.0, 1.0])


def test_minmax_mlp_takes_no_arguments() -> None:
    with pytest.raises(TypeError):
        minmax_mlp(2)  # type: ignore[call-arg]


@pytest.mark.parametrize("func", [sorting_mlp, comparator_stages])
@pytest.mark.parametrize(
    ("n", "network", "error", "match"),
    [
        (0, "transposition", ValueError, "n must be >= 1"),
        (-3, "batcher", ValueError, "n must be >= 1"),
        (2**70, "transposition", ValueError, "n must be <= 1024"),  # used to exhaust memory
        (2.0, "transposition", TypeError, "n must be an integer"),
        (True, "transposition", TypeError, "n must be an integer"),
        (np.bool_(True), "batcher", TypeError, "n must be an integer"),
        ("4", "transposition", TypeError, "n must be an integer"),
        (None, "transposition", TypeError, "n must be an integer"),
        (np.array([4]), "transposition", TypeError, "n must be an integer"),
        (4, "bitonic", ValueError, "unknown network 'bitonic'"),
        (4, "Batcher", ValueError, "unknown network"),
        (4, None, TypeError, "network must be a string"),
        (4, 1, TypeError, "network must be a string"),
    ],
)
def test_sorting_constructions_reject(func: Callable[..., Any], n: Any, network: Any,
                                      error: type[Exception], match: str) -> None:
    with rejects(match, error):
        func(n, network)


def test_sorting_mlp_refuses_a_network_too_large_to_build() -> None:
    with rejects(r"sorting_mlp\(n=300.*weights.*network='batcher'", ValueError):
        sorting_mlp(300)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": XT[:, 0]}, ValueError, "x must be 2-D"),
        ({"x": XT[None]}, ValueError, "x must be 2-D"),
        ({"y": YT[:, 0]}, ValueError, "y must be 2-D"),
        ({"y": YT[:-1]}, ValueError, "x and y must have the same number of rows"),
        ({"x": np.empty((0, 2)), "y": np.empty((0, 1))}, ValueError, "x must not be empty"),
        ({"y": np.empty((12, 0))}, ValueError, "y must not be empty"),
        ({"x": non_finite(XT, np.nan)}, ValueError, "x must contain only finite"),
        ({"y": non_finite(YT, -np.inf)}, ValueError, "y must contain only finite"),
        ({"x": XT.astype(complex)}, TypeError, "x must be real"),
        ({"y": None}, TypeError, "y must be an array of real numbers"),
        ({"x": "data"}, TypeError, "x must be an array of real numbers"),
        ({"hidden_sizes": None}, ValueError, "hidden_sizes is required"),
        ({"hidden_sizes": 3}, TypeError, "hidden_sizes must be a sequence"),
        ({"hidden_sizes": "33"}, TypeError, "hidden_sizes must be a sequence"),
        ({"hidden_sizes": [0]}, ValueError, r"hidden_sizes\[0\] must be >= 1"),
        ({"hidden_sizes": [3, -1]}, ValueError, r"hidden_sizes\[1\] must be >= 1"),
        ({"hidden_sizes": [2.0]}, TypeError, r"hidden_sizes\[0\] must be an integer"),
        ({"hidden_sizes": [True]}, TypeError, r"hidden_sizes\[0\] must be an integer"),
        ({"hidden_sizes": [None]}, TypeError, r"hidden_sizes\[0\] must be an integer"),
        ({"n_restarts": 0}, ValueError, "n_restarts must be >= 1"),
        ({"n_restarts": 2.0}, TypeError, "n_restarts must be an integer"),
        ({"n_restarts": True}, TypeError, "n_restarts must be an integer"),
        ({"n_steps": -1}, ValueError, "n_steps must be >= 0"),
        ({"n_steps": 1.5}, TypeError, "n_steps must be an integer"),
        ({"n_steps": False}, TypeError, "n_steps must be an integer"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": np.nan}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": np.inf}, ValueError, "learning_rate must be a finite number > 0"),
        ({"learning_rate": 10**400}, ValueError, "learning_rate must be a finite number"),
        ({"learning_rate": "0.1"}, TypeError, "learning_rate must be a real number"),
        ({"learning_rate": True}, TypeError, "learning_rate must be a real number"),
        ({"optimizer": "sgd"}, ValueError, "unknown optimizer 'sgd'"),
        ({"optimizer": None}, TypeError, "optimizer must be a string"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"seed": np.random.RandomState(0)}, TypeError, "seed must be an integer"),
        ({"train_biases": "no"}, TypeError, "train_biases must be a bool"),
        ({"train_biases": 0}, TypeError, "train_biases must be a bool"),
        ({"init": "net"}, TypeError, "init must be an MLP"),
        ({"init": minmax_mlp(), "hidden_sizes": None}, ValueError, "init maps 2 inputs to 2 outputs"),
        ({"hidden_sizes": [5], "init": MLP([np.ones((4, 2)), np.ones((1, 4))], [np.zeros(4), np.zeros(1)])},
         ValueError, r"hidden_sizes \(5,\) does not match init.widths"),
        ({"n_restarts": 2, "init": MLP([np.ones((4, 2)), np.ones((1, 4))], [np.zeros(4), np.zeros(1)])},
         ValueError, "n_restarts must be 1 when init is given"),
        # sizes that used to reach numpy: "Maximum allowed dimension exceeded" or a MemoryError
        ({"n_steps": 2**63}, ValueError, "MAX_TRAIN_ENTRIES.*n_steps"),
        ({"n_steps": 2**40}, ValueError, "MAX_TRAIN_ENTRIES.*n_steps"),
        ({"n_restarts": 2**63}, ValueError, "MAX_TRAIN_ENTRIES.*n_restarts"),
        ({"hidden_sizes": [2**40]}, ValueError, "MAX_TRAIN_ENTRIES.*hidden_sizes"),
        ({"n_steps": 10**5000}, ValueError, "MAX_TRAIN_ENTRIES.*n_steps"),
        # data so large that the very first loss overflows: blame x and y, not learning_rate
        ({"x": XT * 1e300}, ValueError, "loss overflowed at the starting point.*x or y"),
        ({"y": YT * 1e300}, ValueError, "loss overflowed at the starting point.*x or y"),
        # a learning rate that makes every restart diverge
        ({"learning_rate": 1e300, "optimizer": "gd"}, ValueError, "every restart diverged.*learning_rate"),
    ],
)
def test_train_mlp_rejects(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args = {"x": XT, "y": YT, "hidden_sizes": [3], "n_steps": 5}
    args.update(kwargs)
    with rejects(match, error):
        train_mlp(args.pop("x"), args.pop("y"), args.pop("hidden_sizes"), **args)


# ---------------------------------------------------------------------------------- chapter 2
@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"x": 1.0}, ValueError, "x must be 1-D or 2-D"),
        ({"x": np.ones((2, 2, D))}, ValueError, "x must be 1-D or 2-D"),
        ({"x": np.empty((0, D))}, ValueError, "x must not be empty"),
        ({"x": np.ones((4, D + 1))}, ValueError, r"W has shape \(3, 3\); expected \(4, 4\)"),
        ({"W": np.ones((D, D + 1))}, ValueError, r"W has shape \(3, 4\)"),
        ({"W": np.ones(D)}, ValueError, "W must be 2-D"),
        ({"V": np.ones((D + 1, D))}, ValueError, r"V has shape \(4, 3\)"),
        ({"b": np.ones(D + 1)}, ValueError, r"b has shape \(4,\)"),
        ({"b": np.ones((1, D))}, ValueError, "b must be 1-D"),
        ({"c": 0.0}, ValueError, "c must be 1-D"),
        ({"c": np.ones(D - 1)}, ValueError, r"c has shape \(2,\)"),
        ({"x": non_finite(XB, np.nan)}, ValueError, "x must contain only finite"),
        ({"W": non_finite(BLOCK["W"], np.inf)}, ValueError, "W must contain only finite"),
        ({"b": non_finite(BLOCK["b"], -np.inf)}, ValueError, "b must contain only finite"),
        ({"V": non_finite(BLOCK["V"], np.nan)}, ValueError, "V must contain only finite"),
        ({"c": non_finite(BLOCK["c"], np.nan)}, ValueError, "c must contain only finite"),
        ({"x": None}, TypeError, "x must be an array of real numbers"),
        ({"W": "W"}, TypeError, "W must be an array of real numbers"),
        ({"V": BLOCK["V"] + 0j}, TypeError, "V must be real"),
        ({"b": [object()] * D}, TypeError, "b must be an array of real numbers"),
        ({"activation": "elu"}, ValueError, "unknown activation 'elu'"),
        ({"activation": "ReLU"}, ValueError, "unknown activation"),
        ({"activation": None}, TypeError, "activation must be a string"),
        ({"activation": np.tanh}, TypeError, "activation must be a string"),
    ],
)
def test_residual_forward_rejects(change: dict[str, Any], error: type[Exception], match: str) -> None:
    args = {**BLOCK, "activation": "relu", **change}
    with rejects(match, error):
        residual_forward(**args)


# z = x W^T overflows to +inf: unbounded for relu and softplus (h = inf, then r = inf - inf
# with V's mixed signs), saturated -- a correct, finite y -- for tanh and sigmoid
BIG = {"x": np.full((2, D), 1e308), "W": np.ones((D, D)), "V": np.tile([1.0, -1.0, 1.0], (D, 1))}


@pytest.mark.parametrize("activation", ["relu", "softplus"])
@pytest.mark.parametrize("batch", [False, True])
def test_residual_forward_overflow_is_an_error(activation: str, batch: bool) -> None:
    """Finite inputs whose products overflow: an error, never inf/NaN in y or a RuntimeWarning."""
    x = BIG["x"] if batch else BIG["x"][0]
    with rejects(r"residual block overflowed.*largest \|x\| = 1e\+308"):
        residual_forward(**{**BLOCK, **BIG, "x": x}, activation=activation)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_residual_forward_saturation_is_not_an_error(activation: str) -> None:
    """tanh or sigmoid of an overflowed pre-activation is exactly its limit: a correct result."""
    with strict():
        y, cache = residual_forward(**{**BLOCK, **BIG}, activation=activation)
        grads = residual_backward(np.ones_like(y), cache)
    assert np.isfinite(y).all() and all(np.isfinite(g).all() for g in grads.values())


def test_residual_backward_rejects() -> None:
    y, cache = residual_forward(**BLOCK)
    y1, cache1 = residual_forward(**{**BLOCK, "x": XB[0]})
    # all units active (x > 0, weights 10): dL/dx = dy (I + 10 J)(I + 10 J), 31^2 dy per entry
    ones = {"x": np.ones((2, D)), "W": np.full((D, D), 10.0), "V": np.full((D, D), 10.0),
            "b": np.zeros(D), "c": np.zeros(D)}
    y_big, cache_big = residual_forward(**ones)
    for bad_cache in (None, (y, cache), dataclasses.asdict(cache), "cache", cache.h):
        with rejects("cache must be the ResidualCache returned by residual_forward", TypeError):
            residual_backward(np.ones_like(y), bad_cache)  # type: ignore[arg-type]
    cases: list[tuple[Any, ResidualCache, str]] = [
        (np.ones((3, D)), cache, r"dy has shape \(3, 3\); expected \(4, 3\)"),
        (np.ones(D), cache, "dy must be 2-D"),
        (np.ones((1, D)), cache1, "dy must be 1-D"),
        (np.ones(D + 1), cache1, r"dy has shape \(4,\)"),
        (np.empty((0, D)), cache, r"dy has shape \(0, 3\)"),
        (non_finite(np.ones_like(y), np.nan), cache, "dy must contain only finite"),
        (non_finite(np.ones_like(y1), np.inf), cache1, "dy must contain only finite"),
        (None, cache, "dy must be an array of real numbers"),
        (np.ones_like(y) * 1j, cache, "dy must be real"),
        (np.full_like(y_big, 1e306), cache_big, "backward pass overflowed.*dy is too large"),
        (np.full_like(y_big, -1e306), cache_big, "backward pass overflowed.*dy is too large"),
    ]
    for dy, c, match in cases:
        with rejects(match):
            residual_backward(dy, c)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("which", ["phi", "dphi"])
@pytest.mark.parametrize("z", [*NON_NUMERIC, [np.nan], np.array([[1.0, np.inf]]), -np.inf], ids=short)
def test_activations_reject(name: str, which: str, z: Any) -> None:
    with rejects(word("z")):
        getattr(ACTIVATIONS[name], which)(z)


def test_activations_are_read_only() -> None:
    with pytest.raises(TypeError):
        ACTIVATIONS["elu"] = ACTIVATIONS["relu"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"x": XB}, ValueError, r"x must be 1-D \(a single example\)"),
        ({"x": 1.0}, ValueError, "x must be 1-D or 2-D"),
        ({"x": np.ones(D + 1)}, ValueError, r"W has shape"),
        ({"W": np.ones((D, 2))}, ValueError, r"W has shape \(3, 2\)"),
        ({"c": [np.nan] * D}, ValueError, "c must contain only finite"),
        ({"activation": "gelu"}, ValueError, "unknown activation 'gelu'"),
        ({"skip": "yes"}, TypeError, "skip must be a bool"),
        ({"skip": 1}, TypeError, "skip must be a bool"),
        ({"skip": None}, TypeError, "skip must be a bool"),
        ({**BIG, "x": BIG["x"][0], "activation": "relu"}, ValueError, "block or its Jacobian overflowed"),
        ({**BIG, "x": BIG["x"][0], "activation": "softplus", "skip": False}, ValueError,
         "block or its Jacobian overflowed"),
        # relu with every unit active: J = (I + V)(I + W), about 1e300 * 1e300
        ({"x": np.ones(D), "W": np.full((D, D), 1e300), "V": np.full((D, D), 1e300),
          "activation": "relu"}, ValueError, "block or its Jacobian overflowed"),
    ],
)
def test_block_jacobian_rejects(change: dict[str, Any], error: type[Exception], match: str) -> None:
    args = {**BLOCK, "x": XB[0], "activation": "tanh", "skip": True, **change}
    with rejects(match, error):
        block_jacobian(args.pop("x"), args.pop("W"), args.pop("b"), args.pop("V"), args.pop("c"),
                       args.pop("activation"), skip=args.pop("skip"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"depth": 0}, ValueError, "depth must be >= 1"),
        ({"depth": 2.0}, TypeError, "depth must be an integer"),
        ({"depth": True}, TypeError, "depth must be an integer"),
        ({"width": 0}, ValueError, "width must be >= 1"),
        ({"width": "4"}, TypeError, "width must be an integer"),
        ({"n_trials": 0}, ValueError, "n_trials must be >= 1"),
        ({"n_trials": None}, TypeError, "n_trials must be an integer"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": 0.0}, TypeError, "seed must be an integer"),
        ({"weight_std": 0.0}, ValueError, "weight_std must be a finite number > 0"),
        ({"weight_std": -1.0}, ValueError, "weight_std must be a finite number > 0"),
        ({"weight_std": np.nan}, ValueError, "weight_std must be a finite number > 0"),
        ({"weight_std": 10**400}, ValueError, "weight_std must be a finite number > 0"),
        ({"weight_std": "1"}, TypeError, "weight_std must be a real number"),
        ({"activation": "elu"}, ValueError, "unknown activation 'elu'"),
        ({"skip": "no"}, TypeError, "skip must be a bool"),
        # finite settings whose activations or Jacobian products overflow
        ({"weight_std": 1e200}, ValueError, "stack overflowed.*weight_std"),
        ({"depth": 400, "weight_std": 30.0}, ValueError, "stack overflowed.*depth"),
    ],
)
def test_input_gradient_norms_rejects(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args = {"depth": 3, "width": 4, "n_trials": 1, **kwargs}
    with rejects(match, error):
        input_gradient_norms(args.pop("depth"), args.pop("width"), **args)


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
        with rejects(rf"(?<![\w\[])({names})(?![\w])", ValueError):
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
    with rejects(rf"(?<![\w\[])({names})(?![\w])"):
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
    st.integers(min_value=2**1024, max_value=2**2000),  # beyond float64
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
    with rejects(rf"(?<![\w\[])({name})(?![\w])"):
        call(value)
