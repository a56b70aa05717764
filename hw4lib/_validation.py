"""Input validation shared by every public ``hw4lib`` function.

Every public function converts its array arguments with :func:`as_float_array`
and its scalar arguments with :func:`as_positive_float` / :func:`as_int`, so a
bad input fails early with a ``ValueError`` (or ``TypeError``) that names the
argument and what was wrong, instead of a silent NaN, a wrong shape, or an
error from deep inside NumPy.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["FloatArray", "as_float_array", "as_positive_float", "as_int", "check_choice"]


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
        If ``value`` is not numeric or is complex.
    ValueError
        If the dimensions or shape are wrong, the array is empty, or it
        contains NaN or infinity.

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
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
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
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
            raise TypeError(f"{name} must be a real scalar, got array of shape {value.shape}")
    x = float(value)
    ok = np.isfinite(x) and (x >= 0 if allow_zero else x > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
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
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    n = int(value)
    if minimum is not None and n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    if maximum is not None and n > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {n}")
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
