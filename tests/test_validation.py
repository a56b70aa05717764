"""The shared input-validation helpers every public hw4lib function relies on."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hw4lib
from hw4lib._validation import as_bool, as_float_array, as_int, as_positive_float, check_choice


@given(hnp.arrays(dtype=hnp.floating_dtypes() | hnp.integer_dtypes(), shape=hnp.array_shapes(),
                  elements={"allow_nan": False, "allow_infinity": False}))
@settings(deadline=None, max_examples=60)
def test_finite_real_arrays_round_trip(a: np.ndarray) -> None:
    out = as_float_array(a, "a")
    assert out.dtype == np.float64
    assert out.shape == a.shape
    np.testing.assert_array_equal(out, a.astype(np.float64))


def test_float64_input_is_not_copied() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert as_float_array(a, "a") is a


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_named(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^X\b.*finite.*\b1\b"):  # the name, the count
        as_float_array([[1.0, bad], [2.0, 3.0]], "X")


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        # the name, the allowed dimensions or shape, and the shape found
        ([1.0, 2.0], {"ndim": 2}, r"^X\b.*\b2-D.*\(2,\)"),
        ([[1.0]], {"ndim": (0, 1)}, r"^X\b.*\b0-D.*\b1-D.*\(1, 1\)"),
        ([1.0, 2.0], {"min_ndim": 2}, r"^X\b.*\b2\b.*\(2,\)"),
        ([[1.0, 2.0]], {"shape": (None, 3)}, r"^X\b.*\(1, 2\).*\('\*', 3\)"),
        (np.empty((0, 3)), {"ndim": 2}, r"^X\b.*\(0, 3\)"),
        ([[1.0], [2.0, 3.0]], {}, r"^X\b"),
    ],
)
def test_shape_problems_are_value_errors(value: object, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        as_float_array(value, "X", **kwargs)


def test_empty_allowed_when_asked() -> None:
    assert as_float_array(np.empty((0, 3)), "X", ndim=2, allow_empty=True).shape == (0, 3)


@pytest.mark.parametrize("value", ["abc", [1 + 2j], np.array(["a"]), [object()], None])
def test_non_numeric_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match=r"^X must be"):
        as_float_array(value, "X")


@given(st.floats(min_value=1e-300, max_value=1e300))
@settings(deadline=None, max_examples=50)
def test_positive_floats_accepted(x: float) -> None:
    assert as_positive_float(x, "sigma2") == x


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_non_positive_floats_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match=rf"^sigma2\b.*\b0\b.*{re.escape(repr(bad))}$"):  # name, bound, value
        as_positive_float(bad, "sigma2")


def test_zero_allowed_when_asked_and_type_errors() -> None:
    assert as_positive_float(0, "tol", allow_zero=True) == 0.0
    for bad in ("1", None, True, np.ones(2), [1.0]):
        with pytest.raises(TypeError, match=rf"^tol\b.*\b{type(bad).__name__}\b"):  # name, type
            as_positive_float(bad, "tol")


def test_as_int() -> None:
    assert as_int(np.int64(4), "n", minimum=1, maximum=9) == 4
    with pytest.raises(ValueError, match=r"^n\b.*\b1\b.*\b0$"):  # name, bound, value
        as_int(0, "n", minimum=1)
    with pytest.raises(ValueError, match=r"^n\b.*\b9\b.*\b10$"):
        as_int(10, "n", maximum=9)
    for bad in (2.0, "3", True, None):
        with pytest.raises(TypeError, match=rf"^n\b.*\b{type(bad).__name__}\b"):
            as_int(bad, "n")


def test_as_bool() -> None:
    assert as_bool(True, "skip") is True
    assert as_bool(np.bool_(False), "skip") is False
    for bad in (1, 0.0, "yes", None, np.array([True])):
        with pytest.raises(TypeError, match=rf"^skip\b.*\b{type(bad).__name__}\b"):
            as_bool(bad, "skip")


def test_check_choice() -> None:
    assert check_choice("relu", "activation", ("relu", "tanh")) == "relu"
    with pytest.raises(ValueError, match=r"\bactivation\b.*'elu'.*\['relu', 'tanh'\]"):  # the choices
        check_choice("elu", "activation", ("relu", "tanh"))
    with pytest.raises(TypeError, match=r"^activation\b.*\bint\b"):
        check_choice(3, "activation", ("relu",))


def test_public_namespace() -> None:
    """The names other code depends on (issues 3-5) are exported at the top level."""
    expected = {
        "relu", "MLP", "minmax_mlp", "sorting_mlp", "train_mlp",
        "residual_forward", "residual_backward",
        "ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em", "PPCA",
        "ppca_closed_form",
    }
    assert expected <= set(hw4lib.__all__)
    for name in hw4lib.__all__:
        assert getattr(hw4lib, name) is not None
    assert "matplotlib" not in dir(hw4lib)


def test_import_does_not_pull_in_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, hw4lib; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
