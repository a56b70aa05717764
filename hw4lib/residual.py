"""Chapter 2: backpropagation through a residual block, rows of ``x`` as examples::

    z = x W^T + b,   h = phi(z) + x,   r = h V^T + c,   y = phi(r) + h.

Each activation stands next to its derivative in :data:`ACTIVATIONS` (ReLU's is 0 at the kink).
:func:`block_jacobian` and :func:`input_gradient_norms` serve chapter 5 (stacks of blocks).

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

from ._validation import FloatArray, as_bool, as_float_array, as_int, as_positive_float, check_choice

__all__ = ["ACTIVATIONS", "Activation", "ResidualCache", "residual_forward", "residual_backward",
           "block_jacobian", "input_gradient_norms"]


class Activation(NamedTuple):
    """An elementwise activation ``phi`` and its derivative ``dphi`` (both map arrays of z)."""

    phi: Callable[[Any], FloatArray]
    dphi: Callable[[Any], FloatArray]


def _u(z: Any) -> FloatArray:
    u: FloatArray = np.log1p(np.exp(-np.abs(z)))  # log(1 + e^{-|z|}) in [0, log 2]
    return u


def _sigmoid(z: Any) -> FloatArray:
    s: FloatArray = np.exp(np.minimum(z, 0.0) - _u(z))  # 1 / (1 + e^{-z}), never overflows
    return s


#: Read-only mapping ``name -> Activation(phi, dphi)``, each value beside its derivative.
#: None overflows for finite ``z``.
ACTIVATIONS: Mapping[str, Activation] = MappingProxyType({
    "relu": Activation(lambda z: np.maximum(z, 0.0),  # max(z, 0)
                       lambda z: np.greater(z, 0.0).astype(np.float64)),  # phi'(0) = 0
    "tanh": Activation(np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),  # tanh' = 1 - tanh^2
    "sigmoid": Activation(_sigmoid, lambda z: np.exp(-np.abs(z) - 2.0 * _u(z))),  # s(z) s(-z)
    "softplus": Activation(lambda z: np.maximum(z, 0.0) + _u(z), _sigmoid),  # log(1 + e^z)
})


# ------------------------------------------------------------------ the block
@dataclass(frozen=True)
class ResidualCache:
    """What :func:`residual_backward` needs from :func:`residual_forward`.

    ``x`` (2-D), ``W``, ``V`` are the inputs themselves (not copies); ``h = phi(z) + x``,
    ``dphi_z = phi'(z)``, ``dphi_r = phi'(r)``; ``vector_input``: ``x`` was one ``(D,)`` vector.
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
        check_choice(activation, "activation", list(ACTIVATIONS)),
    )


def residual_forward(
    x: Any, W: Any, b: Any, V: Any, c: Any, activation: str = "relu"
) -> tuple[FloatArray, ResidualCache]:
    """Forward pass of the block, eq. (ch2-eq-forward-batch) (eq. (ch2-eq-forward) for one example).

    Two one-layer residual units (cf. He et al., CVPR 2016, whose units skip two layers).

    Parameters
    ----------
    x : array_like, shape (N, D) or (D,)
        One example per row, or a single example.
    W, V : array_like, shape (D, D); b, c : array_like, shape (D,)
    activation : {"relu", "tanh", "sigmoid", "softplus"}

    Returns
    -------
    y : ndarray, same shape as x
    cache : ResidualCache
        The input of :func:`residual_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> W = V = np.zeros((2, 2)); b = c = np.zeros(2)
    >>> y, cache = residual_forward([1.0, -2.0], W, b, V, c)
    >>> y  # with zero weights the block is the identity (relu(0) = 0)
    array([ 1., -2.])
    """
    x_arr, W_arr, b_arr, V_arr, c_arr, name = _check_block(x, W, b, V, c, activation)
    phi, dphi = ACTIVATIONS[name]
    vector_input = x_arr.ndim == 1
    x2 = x_arr.reshape(1, -1) if vector_input else x_arr  # a view, no copy
    z = np.matmul(x2, W_arr.T)  # z = x W^T
    z += b_arr  # ... + b
    h = phi(z)
    h += x2  # h = phi(z) + x            (skip 1)
    r = np.matmul(h, V_arr.T)  # r = h V^T
    r += c_arr  # ... + c
    y = phi(r)
    y += h  # y = phi(r) + h            (skip 2)
    cache = ResidualCache(x2, W_arr, V_arr, h, dphi(z), dphi(r), name, vector_input)
    return (y[0] if vector_input else y), cache


def residual_backward(dy: Any, cache: ResidualCache) -> dict[str, FloatArray]:
    """Backward pass: the gradients of L given ``dy = dL/dy``, eqs. (ch2-eq-rbar-batch) to
    (ch2-eq-xbar-batch), the batched (ch2-eq-rbar) to (ch2-eq-xbar)::

        rbar = dy * phi'(r)          Vbar = rbar^T h     cbar = rbar^T 1
        hbar = dy + rbar V           (skip + weight path)
        zbar = hbar * phi'(z)        Wbar = zbar^T x     bbar = zbar^T 1
        xbar = hbar + zbar W         (skip + weight path)

    Returns ``{"x": xbar, "W": Wbar, "b": bbar, "V": Vbar, "c": cbar}`` shaped like the
    arguments of :func:`residual_forward`; parameter gradients are summed over the batch, and
    so are the adjoints of a variable used twice (Griewank and Walther 2008, ch. 3). ``cache``
    is not modified, so the pass may be repeated.

    Examples
    --------
    >>> import numpy as np
    >>> W = V = np.zeros((2, 2)); b = c = np.zeros(2)
    >>> y, cache = residual_forward([1.0, -2.0], W, b, V, c)
    >>> residual_backward([1.0, 0.0], cache)["x"]  # identity block: the gradient passes through
    array([1., 0.])
    """
    if not isinstance(cache, ResidualCache):
        raise TypeError(f"cache must be the ResidualCache returned by residual_forward, "
                        f"got {type(cache).__name__}")
    dy_arr = as_float_array(dy, "dy", shape=cache.y_shape)
    dy2 = dy_arr.reshape(cache.h.shape)  # a view

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
    return {"x": xbar[0] if cache.vector_input else xbar, "W": Wbar, "b": bbar, "V": Vbar, "c": cbar}


# ------------------------------------------------------------------ why the skip helps
def _block_with_jacobian(x: FloatArray, W: FloatArray, b: FloatArray, V: FloatArray, c: FloatArray,
                         act: Activation, skip: bool) -> tuple[FloatArray, FloatArray]:
    """Output and Jacobian dy/dx of one block for a single example (inputs validated)."""
    z = W @ x + b
    h = act.phi(z) + x if skip else act.phi(z)
    r = V @ h + c
    y = act.phi(r) + h if skip else act.phi(r)
    J1 = act.dphi(z)[:, None] * W  # diag(phi'(z)) W, without forming the diagonal matrix
    J2 = act.dphi(r)[:, None] * V
    if skip:
        J1[np.diag_indices_from(J1)] += 1.0
        J2[np.diag_indices_from(J2)] += 1.0
    return y, J2 @ J1


def block_jacobian(
    x: Any, W: Any, b: Any, V: Any, c: Any, activation: str = "relu", *, skip: bool = True
) -> FloatArray:
    """The Jacobian ``J[i, j] = dy_i / dx_j`` of the block at one example ``x`` of shape ``(D,)``.

    Eq. (ch5-eq-jacobian): ``(I + diag(phi'(r)) V) (I + diag(phi'(z)) W)``, or with
    ``skip=False`` (no identity connections) ``diag(phi'(r)) V diag(phi'(z)) W``; the input
    gradient is ``xbar = J^T ybar`` (He et al., ECCV 2016, eqs. (4)-(5)). Other arguments as
    in :func:`residual_forward`.

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
    return _block_with_jacobian(x_arr, W_arr, b_arr, V_arr, c_arr, ACTIVATIONS[name], skip)[1]


def input_gradient_norms(depth: int, width: int, *, activation: str = "relu", skip: bool = True,
                         weight_std: float = 1.0, n_trials: int = 5, seed: int = 0) -> FloatArray:
    """Input-gradient norms of stacks of 1, ..., ``depth`` blocks at initialisation.

    Each of ``n_trials`` stacks (seeded by ``seed``) has weights ``N(0, weight_std^2 / width)``
    (``sqrt(2)``: He's scale for ReLU, ``1``: LeCun's), zero biases and an input ``x ~ N(0, I)``.
    Returns shape ``(n_trials, depth)``: entry ``[t, L - 1]`` is ``||J_L ... J_1||_F / sqrt(width)``
    (Jacobians of eq. (ch5-eq-jacobian)), the RMS norm of ``xbar`` for ``ybar ~ N(0, I / width)``.
    Cf. Balduzzi et al., "The shattered gradients problem: if resnets are the answer, then what
    is the question?", ICML 2017.

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
    act = ACTIVATIONS[check_choice(activation, "activation", list(ACTIVATIONS))]
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
            x, J = _block_with_jacobian(x, W, zeros, V, zeros, act, skip)
            P = J @ P
            norms[t, layer] = np.linalg.norm(P) / np.sqrt(width)
    return norms
