"""Chapter 2: backpropagation through a residual block.

The block, with rows of ``x`` as examples (chapter 2, eq. (ch2-eq-forward-batch))::

    z = x W^T + b,   h = phi(z) + x,   r = h V^T + c,   y = phi(r) + h.

:func:`residual_forward` computes ``y`` and a cache; :func:`residual_backward` turns the
upstream gradient ``dy = dL/dy`` into the gradients of ``L`` with respect to ``x``, ``W``,
``b``, ``V`` and ``c`` (chapter 2, eqs. (ch2-eq-rbar-batch) to (ch2-eq-xbar-batch)).
:func:`block_jacobian` and :func:`input_gradient_norms` support the section "Why the skip
helps" (eq. (ch2-eq-jacobian)).

Each activation computes its value and its derivative side by side, in place, with at most
one temporary array. ReLU's derivative at the kink is taken to be 0.

References
----------
K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image recognition", CVPR 2016;
"Identity mappings in deep residual networks", ECCV 2016.
A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008 (reverse mode).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from ._validation import (
    FloatArray,
    as_bool,
    as_float_array,
    as_int,
    as_positive_float,
    check_choice,
    check_finite_result,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ResidualCache",
    "residual_forward",
    "residual_backward",
    "block_jacobian",
    "input_gradient_norms",
]

# ---------------------------------------------------------------------------
# Activations. Each ``_pair`` function receives ``z`` in ``a`` and an output buffer ``d`` of
# the same shape; on return ``a`` holds phi(z) and ``d`` holds phi'(z). The value and its
# derivative sit next to each other, micrograd style.
# ---------------------------------------------------------------------------

_Pair = Callable[[FloatArray, FloatArray], None]


def _relu_pair(a: FloatArray, d: FloatArray) -> None:
    np.greater(a, 0.0, out=d)  # phi'(z) = 1 if z > 0 else 0 (convention: phi'(0) = 0)
    np.maximum(a, 0.0, out=a)  # phi(z) = max(z, 0)


def _tanh_pair(a: FloatArray, d: FloatArray) -> None:
    np.tanh(a, out=a)  # phi(z) = tanh z, never overflows
    np.multiply(a, a, out=d)
    np.subtract(1.0, d, out=d)  # phi'(z) = 1 - tanh(z)^2


def _log1p_exp_neg_abs(a: FloatArray) -> FloatArray:
    """Return ``log(1 + exp(-|z|))`` for ``z`` in ``a``: sigmoid's and softplus' one temporary."""
    t = np.abs(a)
    np.negative(t, out=t)
    np.exp(t, out=t)  # exp(-|z|) <= 1: no overflow
    np.log1p(t, out=t)
    return t


def _sigmoid_pair(a: FloatArray, d: FloatArray) -> None:
    u = _log1p_exp_neg_abs(a)  # u = log(1 + e^{-|z|})
    np.abs(a, out=d)
    np.negative(d, out=d)
    d -= u
    d -= u
    np.exp(d, out=d)  # phi'(z) = s(z) s(-z) = exp(-|z| - 2u)
    np.minimum(a, 0.0, out=a)
    a -= u
    np.exp(a, out=a)  # phi(z) = 1 / (1 + e^{-z}) = exp(min(z, 0) - u)


def _softplus_pair(a: FloatArray, d: FloatArray) -> None:
    u = _log1p_exp_neg_abs(a)
    np.minimum(a, 0.0, out=d)
    d -= u
    np.exp(d, out=d)  # phi'(z) = sigmoid(z) = exp(min(z, 0) - u)
    np.maximum(a, 0.0, out=a)
    a += u  # phi(z) = log(1 + e^z) = max(z, 0) + u


_PAIRS: dict[str, _Pair] = {
    "relu": _relu_pair,
    "tanh": _tanh_pair,
    "sigmoid": _sigmoid_pair,
    "softplus": _softplus_pair,
}


class Activation(NamedTuple):
    """An elementwise activation ``phi`` and its derivative ``dphi`` (both map arrays of z)."""

    phi: Callable[[Any], FloatArray]
    dphi: Callable[[Any], FloatArray]


def _make_activation(name: str) -> Activation:
    pair = _PAIRS[name]

    def both(z: Any) -> tuple[FloatArray, FloatArray]:
        a = np.array(as_float_array(z, "z", allow_empty=True), dtype=np.float64, copy=True)
        d = np.empty_like(a)
        pair(a, d)
        return a, d

    def phi(z: Any) -> FloatArray:
        return both(z)[0]

    def dphi(z: Any) -> FloatArray:
        return both(z)[1]

    phi.__name__, dphi.__name__ = name, f"d{name}"
    phi.__doc__ = f"The {name} activation, elementwise (chapter 2, section 'The implementation in hw4lib')."
    dphi.__doc__ = f"The derivative of {name}, elementwise" + (
        "; 0 at z = 0 by convention." if name == "relu" else "."
    )
    return Activation(phi, dphi)


#: Read-only mapping ``name -> Activation(phi, dphi)``. Every entry is numerically stable:
#: no overflow and no warning for any finite ``z`` (tested for ``|z|`` up to 1e3). ReLU's
#: derivative at 0 is 0, as in PyTorch.
ACTIVATIONS: Mapping[str, Activation] = MappingProxyType(
    {name: _make_activation(name) for name in _PAIRS}
)


# ---------------------------------------------------------------------------
# The block
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResidualCache:
    """What :func:`residual_backward` needs from :func:`residual_forward`.

    Attributes
    ----------
    x, W, V
        The inputs (references, not copies: do not modify them before the backward pass).
        ``x`` is always 2-D here.
    h
        ``phi(z) + x``, shape ``(N, D)``.
    dphi_z, dphi_r
        ``phi'(z)`` and ``phi'(r)``, shape ``(N, D)``.
    activation
        The activation's name.
    vector_input
        Whether the caller passed a single vector ``x`` of shape ``(D,)``.
    """

    x: FloatArray
    W: FloatArray
    V: FloatArray
    h: FloatArray
    dphi_z: FloatArray
    dphi_r: FloatArray
    activation: str
    vector_input: bool

    @property
    def y_shape(self) -> tuple[int, ...]:
        """The shape of ``y`` (and so of ``dy``)."""
        return (self.x.shape[1],) if self.vector_input else self.x.shape


def _check_block(
    x: Any, W: Any, b: Any, V: Any, c: Any, activation: str
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, str]:
    x_arr = as_float_array(x, "x", ndim=(1, 2))
    D = x_arr.shape[-1]
    return (
        x_arr,
        as_float_array(W, "W", shape=(D, D)),
        as_float_array(b, "b", shape=(D,)),
        as_float_array(V, "V", shape=(D, D)),
        as_float_array(c, "c", shape=(D,)),
        check_choice(activation, "activation", list(_PAIRS)),
    )


def _too_large(x: FloatArray, W: FloatArray, V: FloatArray) -> str:
    return (
        f"x, W, b, V and c are too large (largest |x| = {np.max(np.abs(x)):.3g}, "
        f"|W| = {np.max(np.abs(W)):.3g}, |V| = {np.max(np.abs(V)):.3g})"
    )


def residual_forward(
    x: Any, W: Any, b: Any, V: Any, c: Any, activation: str = "relu"
) -> tuple[FloatArray, ResidualCache]:
    """Forward pass of the residual block, keeping what the backward pass needs.

    Implements chapter 2, eq. (ch2-eq-forward-batch) (rows are examples): ``z = x W^T + b``,
    ``h = phi(z) + x``, ``r = h V^T + c``, ``y = phi(r) + h``. For a single example it is
    eq. (ch2-eq-forward) of the chapter, the block of He et al. (2016) with two skips.

    Parameters
    ----------
    x : array_like, shape (N, D) or (D,)
        Inputs, one example per row, or a single example.
    W, V : array_like, shape (D, D)
        Weights of the first and second layer.
    b, c : array_like, shape (D,)
        Biases of the first and second layer.
    activation : {"relu", "tanh", "sigmoid", "softplus"}
        The elementwise nonlinearity ``phi`` (see :data:`ACTIVATIONS`).

    Returns
    -------
    y : ndarray, same shape as x
        The block's output.
    cache : ResidualCache
        Input of :func:`residual_backward`: three ``(N, D)`` arrays, ``h``, ``phi'(z)`` and
        ``phi'(r)``, and references to ``x``, ``W`` and ``V``. ``z`` and ``r`` are overwritten
        in place by their activations; ReLU and tanh need no further temporary array.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D or 2-D, a parameter's shape does not match ``D``, an input is
        empty or not finite, the activation is unknown, or the inputs are so large that
        ``y`` overflows to inf or NaN.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for image recognition",
    CVPR 2016, eq. (1).

    Examples
    --------
    >>> import numpy as np
    >>> W = V = np.zeros((2, 2)); b = c = np.zeros(2)
    >>> y, cache = residual_forward([1.0, -2.0], W, b, V, c)
    >>> y  # with zero weights the block is the identity (relu(0) = 0)
    array([ 1., -2.])
    """
    x_arr, W_arr, b_arr, V_arr, c_arr, name = _check_block(x, W, b, V, c, activation)
    pair = _PAIRS[name]
    vector_input = x_arr.ndim == 1
    x2 = x_arr.reshape(1, -1) if vector_input else x_arr  # a view, no copy

    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        h = np.matmul(x2, W_arr.T)  # z = x W^T
        h += b_arr  # ... + b
        dphi_z = np.empty_like(h)
        pair(h, dphi_z)  # h <- phi(z), dphi_z <- phi'(z)
        h += x2  # h = phi(z) + x            (skip 1)

        y = np.matmul(h, V_arr.T)  # r = h V^T
        y += c_arr  # ... + c
        dphi_r = np.empty_like(y)
        pair(y, dphi_r)  # y <- phi(r), dphi_r <- phi'(r)
        y += h  # y = phi(r) + h            (skip 2)
    check_finite_result(  # an overflow of z, h or r reaches y (a saturated tanh is fine)
        y,
        lambda: "the residual block overflowed (inf or NaN in y): "
        + _too_large(x2, W_arr, V_arr),
    )

    cache = ResidualCache(x2, W_arr, V_arr, h, dphi_z, dphi_r, name, vector_input)
    return (y[0] if vector_input else y), cache


def residual_backward(dy: Any, cache: ResidualCache) -> dict[str, FloatArray]:
    """Backward pass of the residual block: the gradients of L given ``dy = dL/dy``.

    Implements chapter 2, eqs. (ch2-eq-rbar-batch) to (ch2-eq-xbar-batch), the batched form
    of the error signals (ch2-eq-rbar) to (ch2-eq-xbar)::

        rbar = dy * phi'(r)          Vbar = rbar^T h     cbar = rbar^T 1
        hbar = dy + rbar V           (skip + weight path)
        zbar = hbar * phi'(z)        Wbar = zbar^T x     bbar = zbar^T 1
        xbar = hbar + zbar W         (skip + weight path)

    Parameter gradients are summed over the batch (the loss is a sum over examples).

    Parameters
    ----------
    dy : array_like, same shape as y
        Upstream gradient ``dL/dy``.
    cache : ResidualCache
        The second output of :func:`residual_forward`; it is not modified, so the backward
        pass may be repeated with another ``dy``.

    Returns
    -------
    dict
        ``{"x": xbar, "W": Wbar, "b": bbar, "V": Vbar, "c": cbar}``, each with the shape of
        the corresponding argument of :func:`residual_forward` (``"x"`` is 1-D if ``x`` was).

    Raises
    ------
    TypeError
        If ``cache`` is not a :class:`ResidualCache`.
    ValueError
        If ``dy`` does not have the shape of ``y``, is empty or contains NaN or infinity, or
        is so large that a gradient overflows.

    References
    ----------
    A. Griewank and A. Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 3
    (reverse mode: adjoints of a variable used twice are summed).

    Examples
    --------
    >>> import numpy as np
    >>> W = V = np.zeros((2, 2)); b = c = np.zeros(2)
    >>> y, cache = residual_forward([1.0, -2.0], W, b, V, c)
    >>> residual_backward([1.0, 0.0], cache)["x"]  # identity block: the gradient passes through
    array([1., 0.])
    """
    if not isinstance(cache, ResidualCache):
        raise TypeError(
            f"cache must be the ResidualCache returned by residual_forward, "
            f"got {type(cache).__name__}"
        )
    dy_arr = as_float_array(dy, "dy", shape=cache.y_shape)
    dy2 = dy_arr.reshape(cache.h.shape)  # a view

    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        rbar = np.multiply(dy2, cache.dphi_r)  # rbar = dy * phi'(r)
        Vbar = rbar.T @ cache.h
        cbar = rbar.sum(axis=0)
        hbar = rbar @ cache.V  # weight path ...
        hbar += dy2  # ... + skip path
        zbar = np.multiply(hbar, cache.dphi_z, out=rbar)  # reuse rbar's buffer
        Wbar = zbar.T @ cache.x
        bbar = zbar.sum(axis=0)
        xbar = zbar @ cache.W  # weight path ...
        xbar += hbar  # ... + skip path

    grads = {
        "x": xbar[0] if cache.vector_input else xbar,
        "W": Wbar,
        "b": bbar,
        "V": Vbar,
        "c": cbar,
    }
    for key, grad in grads.items():
        check_finite_result(
            grad,
            lambda: f"the backward pass overflowed (inf or NaN in the gradient of {key}): dy "
            f"is too large for this block (largest |dy| = {np.max(np.abs(dy_arr)):.3g})",
        )
    return grads


# ---------------------------------------------------------------------------
# Why the skip helps: the input-output Jacobian
# ---------------------------------------------------------------------------


def _block_with_jacobian(
    x: FloatArray,
    W: FloatArray,
    b: FloatArray,
    V: FloatArray,
    c: FloatArray,
    pair: _Pair,
    skip: bool,
) -> tuple[FloatArray, FloatArray]:
    """Output and Jacobian dy/dx of one block for a single example (inputs validated)."""
    a = W @ x + b
    dz = np.empty_like(a)
    pair(a, dz)
    h = a + x if skip else a
    a2 = V @ h + c
    dr = np.empty_like(a2)
    pair(a2, dr)
    y = a2 + h if skip else a2
    J1 = dz[:, None] * W  # diag(phi'(z)) W, without forming the diagonal matrix
    J2 = dr[:, None] * V
    if skip:
        J1[np.diag_indices_from(J1)] += 1.0
        J2[np.diag_indices_from(J2)] += 1.0
    return y, J2 @ J1


def block_jacobian(
    x: Any, W: Any, b: Any, V: Any, c: Any, activation: str = "relu", *, skip: bool = True
) -> FloatArray:
    """The Jacobian ``dy/dx`` of the block at a single example ``x``.

    Implements chapter 2, eq. (ch2-eq-jacobian):
    ``(I + diag(phi'(r)) V) (I + diag(phi'(z)) W)``, or, with ``skip=False`` (the same
    block without its two identity connections), ``diag(phi'(r)) V diag(phi'(z)) W``.
    The input gradient is ``xbar = J^T ybar``.

    Parameters
    ----------
    x : array_like, shape (D,)
        One example.
    W, b, V, c, activation
        As in :func:`residual_forward`.
    skip : bool
        Whether the block has its skip connections.

    Returns
    -------
    ndarray, shape (D, D)
        ``J[i, j] = dy_i / dx_j``.

    Raises
    ------
    ValueError
        As :func:`residual_forward` (also when the block or its Jacobian overflows), and if
        ``x`` is not 1-D.

    References
    ----------
    K. He, X. Zhang, S. Ren and J. Sun, "Identity mappings in deep residual networks",
    ECCV 2016, eqs. (4)-(5).

    Examples
    --------
    >>> import numpy as np
    >>> J = block_jacobian([1.0, 2.0], np.eye(2), np.zeros(2), np.eye(2), np.zeros(2))
    >>> J  # (I + I)(I + I) at a point where every unit is active
    array([[4., 0.],
           [0., 4.]])
    """
    x_arr, W_arr, b_arr, V_arr, c_arr, name = _check_block(x, W, b, V, c, activation)
    if x_arr.ndim != 1:
        raise ValueError(f"x must be 1-D (a single example), got shape {x_arr.shape}")
    skip = as_bool(skip, "skip")
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        y, J = _block_with_jacobian(x_arr, W_arr, b_arr, V_arr, c_arr, _PAIRS[name], skip)
    check_finite_result(
        np.append(y, J),
        lambda: "the block or its Jacobian overflowed (inf or NaN): "
        + _too_large(x_arr, W_arr, V_arr),
    )
    return J


def input_gradient_norms(
    depth: int,
    width: int,
    *,
    activation: str = "relu",
    skip: bool = True,
    weight_std: float = 1.0,
    n_trials: int = 5,
    seed: int = 0,
) -> FloatArray:
    """Input-gradient norms of stacks of 1, ..., ``depth`` blocks at initialisation.

    For each trial, draws a stack of ``depth`` blocks with weights ``N(0, weight_std^2 /
    width)`` and zero biases and an input ``x ~ N(0, I)``, multiplies the block Jacobians of
    chapter 2, eq. (ch2-eq-jacobian) along the stack, ``P_L = J_L ... J_1``, and records
    ``||P_L||_F / sqrt(width)``: the root-mean-square norm of ``xbar = P_L^T ybar`` for a
    random output gradient ``ybar ~ N(0, I / width)`` (so that ``E||ybar||^2 = 1``).

    Parameters
    ----------
    depth : int >= 1
        Largest number of blocks ``L``.
    width : int >= 1
        The dimension ``D``.
    activation : str
        Key of :data:`ACTIVATIONS`.
    skip : bool
        With or without the two skip connections of every block.
    weight_std : float > 0
        Weight scale: ``sqrt(2)`` is He initialisation for ReLU, ``1`` is LeCun's.
    n_trials : int >= 1
        Number of independent stacks.
    seed : int >= 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ndarray, shape (n_trials, depth)
        Entry ``[t, L - 1]`` is the norm for the first ``L`` blocks of trial ``t``.

    Raises
    ------
    ValueError
        If an integer is out of range, ``weight_std`` is not positive, the activation is
        unknown, or the activations or the Jacobian product overflow (too large a
        ``weight_std`` for this ``depth``).

    References
    ----------
    D. Balduzzi et al., "The shattered gradients problem: if resnets are the answer, then
    what is the question?", ICML 2017.

    Examples
    --------
    >>> norms = input_gradient_norms(3, 4, skip=True, n_trials=2)
    >>> norms.shape
    (2, 3)
    """
    depth = as_int(depth, "depth", minimum=1)
    width = as_int(width, "width", minimum=1)
    n_trials = as_int(n_trials, "n_trials", minimum=1)
    seed = as_int(seed, "seed", minimum=0)
    scale = as_positive_float(weight_std, "weight_std") / np.sqrt(width)
    pair = _PAIRS[check_choice(activation, "activation", list(_PAIRS))]
    skip = as_bool(skip, "skip")

    rng = np.random.default_rng(seed)
    zeros = np.zeros(width)
    norms = np.empty((n_trials, depth))
    for t in range(n_trials):  # loops over trials and layers, not over samples
        x = rng.standard_normal(width)
        P = np.eye(width)
        for layer in range(depth):
            W = scale * rng.standard_normal((width, width))
            V = scale * rng.standard_normal((width, width))
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                x, J = _block_with_jacobian(x, W, zeros, V, zeros, pair, skip)
                P = J @ P
                norms[t, layer] = np.linalg.norm(P) / np.sqrt(width)
            check_finite_result(
                np.append(x, norms[t, layer]),
                f"the stack overflowed (inf or NaN) at block {layer + 1} of trial {t}: "
                f"lower depth={depth} or weight_std={weight_std!r}",
            )
    return norms
