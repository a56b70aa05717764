"""Input checks at the boundary of every public ``hw4lib`` function.

One call per argument: a bad input fails with a ``ValueError`` (or ``TypeError``) that names
the argument and the value, before any mathematics runs. Floating-point trouble inside a
formula (an overflow) is left to NumPy's warnings.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

__all__ = ["FloatArray", "as_float_array", "as_positive_float", "as_int", "as_bool", "check_choice"]


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

    ``ndim``: the allowed number(s) of dimensions; ``min_ndim``: at least that many;
    ``shape``: the expected shape, ``None`` entries free; ``allow_empty``: accept zero entries.

    >>> as_float_array([[1, 2]], "X", ndim=2).dtype
    dtype('float64')
    >>> as_float_array([1.0, float("nan")], "x")
    Traceback (most recent call last):
    ...
    ValueError: x must contain only finite values; found 1 NaN or infinite entries
    """
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged lists
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    allowed = (len(shape),) if shape is not None else (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and arr.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {dims}, got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if shape is not None and any(w is not None and g != w for g, w in zip(arr.shape, shape)):
        expected = tuple("*" if s is None else s for s in shape)
        raise ValueError(f"{name} has shape {arr.shape}; expected {expected}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    out = arr.astype(np.float64, copy=False)
    if bad := out.size - np.count_nonzero(np.isfinite(out)):
        raise ValueError(f"{name} must contain only finite values; found {bad} NaN or infinite entries")
    return out


def as_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite ``float`` > 0 (>= 0 with ``allow_zero``), or raise.

    >>> as_positive_float(-1, "sigma2")
    Traceback (most recent call last):
    ...
    ValueError: sigma2 must be a finite number > 0, got -1
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    x = float(value)
    if not (np.isfinite(x) and (x >= 0 if allow_zero else x > 0)):
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return x


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an ``int`` within ``[minimum, maximum]``, or raise naming ``name``.

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


def as_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a (Python or NumPy) bool, else raise ``TypeError`` naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name`` and the choices."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(choices)}")
    return value
