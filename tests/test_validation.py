"""The shared input-validation helpers every public hw4lib function relies on.

Their error messages are checked with the other bad-input tables in tests/test_bad_inputs.py.
"""

from __future__ import annotations

import numpy as np
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


def test_empty_allowed_when_asked() -> None:
    assert as_float_array(np.empty((0, 3)), "X", ndim=2, allow_empty=True).shape == (0, 3)


@given(st.floats(min_value=1e-300, max_value=1e300))
@settings(deadline=None, max_examples=50)
def test_positive_floats_accepted(x: float) -> None:
    assert as_positive_float(x, "sigma2") == x


def test_zero_allowed_when_asked() -> None:
    assert as_positive_float(0, "tol", allow_zero=True) == 0.0


def test_as_int_accepts_numpy_integers_within_bounds() -> None:
    assert as_int(np.int64(4), "n", minimum=1, maximum=9) == 4


def test_as_bool_accepts_python_and_numpy_booleans() -> None:
    assert as_bool(True, "skip") is True
    assert as_bool(np.bool_(False), "skip") is False


def test_check_choice_returns_an_allowed_choice() -> None:
    assert check_choice("relu", "activation", ("relu", "tanh")) == "relu"


def test_public_namespace() -> None:
    """The names the chapters and the README use are exported at the top level."""
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
