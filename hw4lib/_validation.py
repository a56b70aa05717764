"""Input validation shared by every public ``hw4lib`` function.

Every public function converts its array arguments with :func:`as_float_array`
and its scalar arguments with :func:`as_positive_float` / :func:`as_int`, so a
bad input fails early with a ``ValueError`` (or ``TypeError``) that names the
argument and what was wrong, instead of a silent NaN, a wrong shape, or an
error from deep inside NumPy.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = [
    "as_bool",
    "FloatArray",
    "as_float_array",
    "as_positive_float",
    "as_int",
    "check_choice",
    "check_finite_result",
]


def _show(value: Any) -> str:
    """``repr(value)``, shortened (integers beyond Python's str limit included)."""
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than sys.get_int_max_str_digits()
        if isinstance(value, int):
            return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"
        return f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:25]}...{text[-25:]} ({len(text)} characters)"


def _describe(ndim: int | Sequence[int]) -> str:
    if isinstance(ndim, int):
        return f"{ndim}-D"
    return " or ".join(f"{d}-D" for d in ndim)


def as_float_array(
    value: Any,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    min_ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    allow_empty: bool = False,
) -> FloatArray:
    """Return ``value`` as a finite float64 array, or raise naming ``name``.

    Parameters
    ----------
    value
        Anything ``numpy.asarray`` accepts that holds real numbers (bools and
        integers are promoted to float64).
    name
        The argument's name, used in error messages.
    ndim
        Allowed number(s) of dimensions.
    min_ndim
        Minimum number of dimensions (for "``(..., n)``" arguments).
    shape
        Expected shape; ``None`` entries are free. Implies ``ndim=len(shape)``.
    allow_empty
        Whether an array with zero elements is acceptable.

    Raises
    ------
    TypeError
        If ``value`` is not numeric (strings, objects, dates and time
        deltas) or is complex.
    ValueError
        If the dimensions or shape are wrong, the array is empty, or it
        contains NaN or infinity (also an entry too large for float64, such
        as a ``longdouble`` beyond 1.8e308).

    Examples
    --------
    >>> as_float_array([[1, 2]], "X", ndim=2).dtype
    dtype('float64')
    >>> as_float_array([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ...
    ValueError: x must contain only finite values; found 1 NaN or infinite entries
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if (
        arr.dtype == object
        or np.issubdtype(arr.dtype, np.timedelta64)  # numpy counts time deltas as integers
        or not (np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_))
    ):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if shape is not None:
        ndim = len(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must be {_describe(ndim)}, got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(arr.shape, shape)):
            if want is not None and got != want:
                expected = tuple("*" if s is None else s for s in shape)
                raise ValueError(
                    f"{name} has shape {arr.shape}; expected {expected} (axis {axis} must be {want})"
                )
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # longdouble beyond float64 -> inf
        out = arr.astype(np.float64, copy=False)
    if not np.isfinite(out).all():
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ValueError(
            f"{name} must contain only finite values; found {bad} NaN or infinite entries"
        )
    return out


def as_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite positive ``float``, or raise naming ``name``.

    >>> as_positive_float(0.5, "sigma2")
    0.5
    >>> as_positive_float(-1, "sigma2")
    Traceback (most recent call last):
    ...
    ValueError: sigma2 must be a finite number > 0, got -1

    An integer beyond the float64 range is a ``ValueError`` too (not an ``OverflowError``).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            raise TypeError(
                f"{name} must be a real scalar, got array of shape {value.shape} "
                f"and dtype {value.dtype}"
            )
    bound = ">= 0" if allow_zero else "> 0"
    try:
        x = float(value)
    except OverflowError:  # an int (or Fraction) beyond float64's range
        raise ValueError(
            f"{name} must be a finite number {bound}, got {_show(value)} (too large for float64)"
        ) from None
    ok = np.isfinite(x) and (x >= 0 if allow_zero else x > 0)
    if not ok:
        raise ValueError(f"{name} must be a finite number {bound}, got {_show(value)}")
    return x


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` within ``[minimum, maximum]``, or raise naming ``name``.

    >>> as_int(3, "n", minimum=1)
    3
    >>> as_int(0, "n", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 1, got 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {_show(value)}")
    n = int(value)
    if minimum is not None and n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_show(n)}")
    if maximum is not None and n > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {_show(n)}")
    return n


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name``.

    >>> check_choice("tanh", "activation", ["relu", "tanh"])
    'tanh'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(choices)}")
    return value


def check_finite_result(value: Any, message: str | Callable[[], str]) -> None:
    """Raise ``ValueError(message)`` unless every entry of ``value`` is finite.

    Finite inputs can still overflow (``1e200 * 1e200``). Functions compute under
    ``np.errstate(over="ignore", invalid="ignore")`` and then call this on their results,
    with a message naming the arguments that are too large, so that an overflow is never a
    ``RuntimeWarning`` or a silent inf/NaN. A callable ``message`` is only called on failure
    (for messages that cost a pass over the data).

    >>> check_finite_result(np.array([1.0, np.inf]), "x is too large")
    Traceback (most recent call last):
    ...
    ValueError: x is too large
    """
    if not np.isfinite(value).all():
        raise ValueError(message if isinstance(message, str) else message())


def as_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a ``bool`` if it is one (Python or NumPy), else raise naming ``name``.

    >>> as_bool(np.True_, "skip")
    True
    >>> as_bool(1, "skip")
    Traceback (most recent call last):
    ...
    TypeError: skip must be a bool, got int
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)
