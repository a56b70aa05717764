"""Chapters 1 and 4: exact ReLU networks for min, max and sorting, and a small trainer.

The network of eq. (ch1-eq-mlp) (:class:`MLP`), the min/max block of eq. (ch1-eq-minmax-net),
the sorting networks of eq. (ch4-eq-sorting-layer), and full-batch training of eq. (ch4-eq-loss)
with hand-written backprop. :meth:`MLP.__call__` sums every affine map in a fixed order (the
bias, then the input columns left to right), so chapter 4's rounding bounds hold on every machine.

References
----------
R. Arora, A. Basu, P. Mianjy and A. Mukherjee, "Understanding deep neural networks with
rectified linear units", ICLR 2018 (exact representation of piecewise-linear functions).
K. E. Batcher, "Sorting networks and their applications", AFIPS 1968; D. E. Knuth, *The Art
of Computer Programming*, vol. 3, 2nd ed., 1998, section 5.3.4 (comparator networks).
D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", ICLR 2015.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_bool, as_float_array, as_int, as_positive_float, check_choice

__all__ = ["relu", "MLP", "minmax_mlp", "comparator_stages", "sorting_mlp", "TrainResult", "train_mlp"]

NETWORKS = ("transposition", "batcher")
OPTIMIZERS = ("adam", "gd")
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # Adam's defaults (Kingma and Ba 2015, Algorithm 1)


def _relu(z: FloatArray) -> FloatArray:
    return np.where(z > 0.0, z, 0.0)  # ReLU(z) = max(0, z); ReLU(-0.0) = +0.0


def _relu_derivative(z: FloatArray) -> FloatArray:
    return (z > 0.0).astype(np.float64)  # convention: ReLU'(0) = 0


def relu(x: ArrayLike) -> FloatArray:
    """Rectified linear unit, ``max(0, x)`` elementwise (chapter 1, eq. (ch1-eq-relu)).

    Zero outputs are ``+0.0``; :func:`train_mlp` uses the subgradient ``ReLU'(0) = 0``.

    Examples
    --------
    >>> relu([-2.0, -0.0, 0.0, 3.0]).tolist()
    [0.0, 0.0, 0.0, 3.0]
    """
    return _relu(as_float_array(x, "x", allow_empty=True))


def _affine(a: FloatArray, W: FloatArray, b: FloatArray) -> FloatArray:
    """``a @ W.T + b`` summed in a fixed order: the bias, then column 0, 1, 2, ..."""
    z = np.broadcast_to(b, a.shape[:-1] + b.shape).copy()
    for j in range(W.shape[1]):  # a loop over input units, vectorised over samples
        z += a[..., j : j + 1] * W[:, j]
    return z


class MLP:
    """A fully connected ReLU network with a linear output layer (eq. (ch1-eq-mlp)).

    ``h_0 = x``, ``h_k = ReLU(W_k h_{k-1} + b_k)`` for ``k = 1..L-1``, ``y = W_L h_{L-1} + b_L``.

    Parameters
    ----------
    weights : sequence of array_like
        ``weights[k]`` has shape ``(n_out_k, n_in_k)``, chained: ``n_in_{k+1} = n_out_k``.
        A single matrix gives an affine map (no hidden layer).
    biases : sequence of array_like
        ``biases[k]`` has ``n_out_k`` entries.

    Attributes
    ----------
    weights, biases : tuple of ndarray
        Read-only copies.
    n_in, n_out, widths, depth : int, int, tuple of int, int
        Input and output sizes, hidden widths, number of hidden layers.

    Examples
    --------
    >>> net = MLP([[[1.0, -1.0]], [[1.0]]], [[0.0], [0.0]])
    >>> net([[3.0, 1.0], [1.0, 3.0]]).ravel().tolist()
    [2.0, 0.0]
    """

    def __init__(self, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike]) -> None:
        for value, name in ((weights, "weights"), (biases, "biases")):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name} must be a list or tuple of arrays, got {type(value).__name__}")
        if len(weights) == 0:
            raise ValueError("weights must hold at least one layer, got an empty list")
        if len(biases) != len(weights):
            raise ValueError(f"biases must hold one vector per layer: got {len(biases)} biases "
                             f"for {len(weights)} weight matrices")
        Ws = [as_float_array(w, f"weights[{k}]", ndim=2).copy() for k, w in enumerate(weights)]
        for k in range(1, len(Ws)):
            if Ws[k].shape[1] != Ws[k - 1].shape[0]:
                raise ValueError(f"weights[{k}] has shape {Ws[k].shape}: its {Ws[k].shape[1]} "
                                 f"columns must match the {Ws[k - 1].shape[0]} rows of weights[{k - 1}]")
        bs = [as_float_array(b, f"biases[{k}]", shape=(W.shape[0],)).copy()
              for k, (W, b) in enumerate(zip(Ws, biases))]
        for a in Ws + bs:
            a.flags.writeable = False
        self.weights: tuple[FloatArray, ...] = tuple(Ws)
        self.biases: tuple[FloatArray, ...] = tuple(bs)
        self.n_in, self.n_out = int(Ws[0].shape[1]), int(Ws[-1].shape[0])
        self.widths = tuple(int(W.shape[0]) for W in Ws[:-1])
        self.depth = len(Ws) - 1

    def __repr__(self) -> str:
        return f"MLP(n_in={self.n_in}, widths={self.widths}, n_out={self.n_out})"

    def _layers(self, x: ArrayLike) -> list[FloatArray]:
        """Input, hidden activations and output, checking that nothing overflows."""
        a = as_float_array(x, "x", min_ndim=1, allow_empty=True)
        if a.shape[-1] != self.n_in:
            raise ValueError(f"x must have shape (..., {self.n_in}); got shape {a.shape} "
                             f"(last dimension {a.shape[-1]})")
        out = [a]
        with np.errstate(over="ignore", invalid="ignore"):
            for k, (W, b) in enumerate(zip(self.weights, self.biases)):
                a = _affine(a, W, b)
                if not np.isfinite(a).all():
                    raise ValueError(f"the affine map of weights[{k}], biases[{k}] overflowed to inf/NaN;"
                                     f" the largest |x| is {np.max(np.abs(out[0])):.3g}, too large for"
                                     " these weights")
                a = _relu(a) if k < self.depth else a
                out.append(a)
        return out

    def __call__(self, x: ArrayLike) -> FloatArray:
        """Evaluate the network on ``x`` of shape ``(..., n_in)``; returns ``(..., n_out)``."""
        return self._layers(x)[-1]

    def hidden_activations(self, x: ArrayLike) -> tuple[FloatArray, ...]:
        """``h_1, ..., h_{L-1}``; their signs are the activation pattern of chapter 1's regions."""
        return tuple(self._layers(x)[1:-1])


# ------------------------------------------------------------------ exact constructions
def minmax_mlp() -> MLP:
    """The four-unit network ``(x1, x2) -> [min(x1, x2), max(x1, x2)]`` (eq. (ch1-eq-minmax-net)).

    ``u = ReLU([x1 - x2, x2 - x1, x2, -x2])``, ``min = -u2 + u3 - u4`` and ``max = u1 + u3 - u4``
    (eqs. (ch1-eq-max), (ch1-eq-min) and (ch1-eq-id)). In floating point the output that equals
    ``x2`` is exact, the other within ``ulp(max(|x1|, |x2|))`` (ch4-prop-rounding).

    Examples
    --------
    >>> minmax_mlp()([[3.0, -1.0], [0.5, 2.0]]).tolist()
    [[-1.0, 3.0], [0.5, 2.0]]
    """
    W1 = [[1.0, -1.0], [-1.0, 1.0], [0.0, 1.0], [0.0, -1.0]]
    W2 = [[0.0, -1.0, 1.0, -1.0], [1.0, 0.0, 1.0, -1.0]]
    return MLP([W1, W2], [np.zeros(4), np.zeros(2)])


def comparator_stages(n: int, network: str = "transposition") -> tuple[tuple[tuple[int, int], ...], ...]:
    """The comparators of a sorting network on ``n >= 1`` lanes, grouped into parallel stages.

    ``network="transposition"``: odd-even transposition sort, stage ``s`` compares the lanes
    ``(i, i + 1)`` for ``i = s mod 2, s mod 2 + 2, ...``; ``n`` stages (one for ``n = 2``).
    ``"batcher"``: Batcher's odd-even merge sort, ``t (t + 1) / 2`` stages, ``t = ceil(log2 n)``
    (Knuth, TAOCP vol. 3, section 5.3.4; Batcher 1968). Each stage is a tuple of pairs
    ``(i, j)``, ``i < j``, on disjoint lanes; a comparator leaves the minimum in lane ``i``.

    Examples
    --------
    >>> comparator_stages(4)
    (((0, 1), (2, 3)), ((1, 2),), ((0, 1), (2, 3)), ((1, 2),))
    >>> len(comparator_stages(8, "batcher"))
    6
    """
    n = as_int(n, "n", minimum=1)
    if check_choice(network, "network", NETWORKS) == "transposition":
        n_stages = 0 if n == 1 else (1 if n == 2 else n)
        return tuple(tuple((i, i + 1) for i in range(s % 2, n - 1, 2)) for s in range(n_stages))
    stages = []  # Batcher's odd-even merge sort, one stage per (p, k)
    p = 1
    while p < n:
        k = p
        while k >= 1:
            stage = []
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        stage.append((i + j, i + j + k))
            if stage:
                stages.append(tuple(stage))
            k //= 2
        p *= 2
    return tuple(stages)


def _stage_matrices(n: int, stage: Sequence[tuple[int, int]]) -> tuple[FloatArray, FloatArray]:
    """First-layer matrix ``A`` (2n x n) and output matrix ``B`` (n x 2n) of one stage.

    Lane ``k`` owns hidden units ``2k`` and ``2k + 1``. A comparator ``(i, j)`` uses
    ``ReLU(x_i - x_j), ReLU(x_j - x_i)`` (units of lane ``i``) and ``ReLU(x_j), ReLU(-x_j)``
    (units of lane ``j``); an untouched lane ``k`` uses ``ReLU(x_k), ReLU(-x_k)``.
    """
    A = np.zeros((2 * n, n))
    B = np.zeros((n, 2 * n))
    for k in range(n):  # every lane first as a pass-through, x_k = ReLU(x_k) - ReLU(-x_k)
        A[2 * k, k], A[2 * k + 1, k] = 1.0, -1.0
        B[k, 2 * k], B[k, 2 * k + 1] = 1.0, -1.0
    for i, j in stage:  # then the comparators overwrite lane i's units and both outputs
        A[2 * i : 2 * i + 2] = 0.0
        A[2 * i, i], A[2 * i, j] = 1.0, -1.0  # ReLU(x_i - x_j)
        A[2 * i + 1, i], A[2 * i + 1, j] = -1.0, 1.0  # ReLU(x_j - x_i)
        B[[i, j]] = 0.0
        B[i, 2 * i + 1], B[i, 2 * j], B[i, 2 * j + 1] = -1.0, 1.0, -1.0  # min
        B[j, 2 * i], B[j, 2 * j], B[j, 2 * j + 1] = 1.0, 1.0, -1.0  # max
    return A, B


def sorting_mlp(n: int, network: str = "transposition") -> MLP:
    """A ReLU network that returns its ``n`` inputs sorted ascending (eq. (ch4-eq-sorting-layer)).

    Each stage of :func:`comparator_stages` is one hidden layer of width ``2n``: a comparator is
    the block of :func:`minmax_mlp`, another lane passes through as ``ReLU(t) - ReLU(-t)``;
    weights in ``{-1, 0, 1}``. Sorted only up to the rounding bound of ch4-prop-sorting-rounding,
    so near-ties can come out of order: ``[1, 1, 2**54, 1] -> [1, 0, 0, 2**54]``.

    Examples
    --------
    >>> net = sorting_mlp(4)
    >>> net.widths
    (8, 8, 8, 8)
    >>> net([3.0, -1.0, 2.5, 0.0]).tolist()
    [-1.0, 0.0, 2.5, 3.0]
    """
    stages = comparator_stages(n, network)
    if not stages:
        return MLP([np.eye(n)], [np.zeros(n)])
    weights: list[FloatArray] = []
    B_prev = np.eye(n)
    for stage in stages:
        A, B = _stage_matrices(n, stage)
        weights.append(A @ B_prev)  # integer entries: the product is exact
        B_prev = B
    weights.append(B_prev)
    return MLP(weights, [np.zeros(W.shape[0]) for W in weights])


# ------------------------------------------------------------------ training
@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train_mlp` returns.

    Attributes
    ----------
    mlp : MLP
        The restart with the smallest final loss, column ``best_restart``.
    loss_history, loss_histories : ndarray, shapes (n_steps + 1,) and (n_steps + 1, n_restarts)
        Its loss (eq. (ch4-eq-loss)) before every step and after the last; the same for every
        restart (``inf`` where one diverged).
    restart_weights, restart_biases : tuple of ndarray
        Every restart's final parameters, one array per layer with a leading restart axis.

    Near rounding level, which restart is *best* depends on the machine: choose by a threshold,
    ``res.restart(np.flatnonzero(res.final_losses < 1e-10)[0])``.
    """

    mlp: MLP
    loss_history: FloatArray
    loss_histories: FloatArray
    best_restart: int
    restart_weights: tuple[FloatArray, ...]
    restart_biases: tuple[FloatArray, ...]

    @property
    def final_losses(self) -> FloatArray:
        """Final loss of every restart, shape ``(n_restarts,)``."""
        final: FloatArray = self.loss_histories[-1]
        return final

    def restart(self, k: int) -> MLP:
        """The network that restart ``k`` (a column of ``loss_histories``) ended at."""
        k = as_int(k, "k", minimum=0, maximum=self.loss_histories.shape[1] - 1)
        if not np.isfinite(self.final_losses[k]):
            raise ValueError(f"restart k={k} diverged (final loss {self.final_losses[k]})")
        return MLP([W[k] for W in self.restart_weights], [b[k] for b in self.restart_biases])


def _loss_and_grads(
    Ws: list[FloatArray], bs: list[FloatArray], X: FloatArray, Y: FloatArray
) -> tuple[FloatArray, list[FloatArray], list[FloatArray]]:
    """Loss (eq. (ch4-eq-loss)) and its gradients for ``R`` networks at once.

    ``Ws[l]`` has shape ``(R, n_out, n_in)``, ``bs[l]`` shape ``(R, n_out)``.
    """
    acts: list[FloatArray] = [X]  # X has shape (N, n_in); broadcasts against (R, ...)
    zs: list[FloatArray] = []
    for W, b in zip(Ws, bs):
        zs.append(np.matmul(acts[-1], W.swapaxes(1, 2)) + b[:, None, :])  # (R, N, n_out)
        acts.append(_relu(zs[-1]))
    r = zs[-1] - Y  # the last layer is linear: y_hat = z_L
    N = X.shape[0]
    loss = np.einsum("rno,rno->r", r, r) / N
    delta = 2.0 * r / N  # dL/dz_L
    gWs: list[FloatArray] = [np.empty(0)] * len(Ws)
    gbs: list[FloatArray] = [np.empty(0)] * len(Ws)
    for layer in range(len(Ws) - 1, -1, -1):
        gWs[layer] = np.matmul(delta.swapaxes(1, 2), acts[layer])  # dL/dW = delta^T h
        gbs[layer] = delta.sum(axis=1)  # dL/db = sum of delta over samples
        if layer > 0:  # dL/dz_{l-1} = (delta W) * ReLU'(z_{l-1}), ReLU'(0) = 0
            delta = np.matmul(delta, Ws[layer]) * _relu_derivative(zs[layer - 1])
    return loss, gWs, gbs


def _as_rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_int(seed, "seed", minimum=0))


def _layer_sizes(X: FloatArray, Y: FloatArray, hidden_sizes: Any, init: Any, n_restarts: int) -> tuple[int, ...]:
    """``(n_in, *hidden, n_out)`` from ``hidden_sizes`` or ``init``, checked against the data."""
    if init is not None:
        if not isinstance(init, MLP):
            raise TypeError(f"init must be an MLP, got {type(init).__name__}")
        if n_restarts != 1:
            raise ValueError(f"n_restarts must be 1 when init is given, got {n_restarts}")
        if (init.n_in, init.n_out) != (X.shape[1], Y.shape[1]):
            raise ValueError(f"init maps {init.n_in} inputs to {init.n_out} outputs, but x has "
                             f"{X.shape[1]} columns and y has {Y.shape[1]}")
    if hidden_sizes is None:
        if init is None:
            raise ValueError("hidden_sizes is required when init is not given")
        return (X.shape[1], *init.widths, Y.shape[1])
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(f"hidden_sizes must be a sequence of ints, got {type(hidden_sizes).__name__}")
    sizes = tuple(as_int(s, f"hidden_sizes[{k}]", minimum=1) for k, s in enumerate(hidden_sizes))
    if init is not None and sizes != init.widths:
        raise ValueError(f"hidden_sizes {sizes} does not match init.widths {init.widths}")
    return (X.shape[1], *sizes, Y.shape[1])


def _initial_parameters(
    dims: tuple[int, ...], n_restarts: int, rng: np.random.Generator, train_biases: bool
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Weights and biases uniform on ``+-1/sqrt(fan_in)`` (biases zero if not trained)."""
    pairs = list(zip(dims[:-1], dims[1:]))
    Ws = [rng.uniform(-1 / np.sqrt(i), 1 / np.sqrt(i), (n_restarts, o, i)) for i, o in pairs]
    bs = [rng.uniform(-1 / np.sqrt(i), 1 / np.sqrt(i), (n_restarts, o)) if train_biases
          else np.zeros((n_restarts, o)) for i, o in pairs]
    return Ws, bs


def _adam_step(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, t: int, lr: float) -> None:
    """One Adam update of ``p`` in place at step ``t = 1, 2, ...`` (Kingma and Ba 2015, Alg. 1)."""
    m *= BETA1
    m += (1.0 - BETA1) * g  # m_t = beta1 m_{t-1} + (1 - beta1) g
    v *= BETA2
    v += (1.0 - BETA2) * g * g  # v_t = beta2 v_{t-1} + (1 - beta2) g^2
    m_hat = m / (1.0 - BETA1**t)  # bias corrections
    v_hat = v / (1.0 - BETA2**t)
    p -= lr * m_hat / (np.sqrt(v_hat) + EPS)


def _gd_step(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, t: int, lr: float) -> None:
    """One gradient-descent update of ``p`` in place (``m``, ``v`` and ``t`` unused)."""
    p -= lr * g


def _optimise(Ws: list[FloatArray], bs: list[FloatArray], X: FloatArray, Y: FloatArray,
              n_steps: int, lr: float, optimizer: str, train_biases: bool) -> FloatArray:
    """Run ``n_steps`` updates of ``Ws`` and ``bs`` in place; return the loss history."""
    step = _adam_step if optimizer == "adam" else _gd_step
    params = Ws + bs if train_biases else list(Ws)
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    history = np.empty((n_steps + 1, Ws[0].shape[0]))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging restart records inf
        for t in range(n_steps + 1):
            loss, gWs, gbs = _loss_and_grads(Ws, bs, X, Y)
            history[t] = np.where(np.isfinite(loss), loss, np.inf)
            if t < n_steps:
                for p, g, (m, v) in zip(params, gWs + gbs if train_biases else gWs, moments):
                    step(p, g, m, v, t + 1, lr)
    return history


def train_mlp(
    x: ArrayLike,
    y: ArrayLike,
    hidden_sizes: Sequence[int] | None = None,
    *,
    n_restarts: int = 1,
    n_steps: int = 1000,
    learning_rate: float = 0.01,
    optimizer: str = "adam",
    seed: int | np.random.Generator = 0,
    init: MLP | None = None,
    train_biases: bool = True,
) -> TrainResult:
    """Fit ReLU networks to ``(x, y)`` by full-batch gradient descent or Adam.

    Minimises ``L = (1/N) sum_n ||f(x_n) - y_n||^2`` (eq. (ch4-eq-loss)) for ``n_restarts``
    random initialisations at once, with hand-written backpropagation (``ReLU'(0) = 0``).

    Parameters
    ----------
    x, y : array_like, shapes (N, n_in) and (N, n_out)
    hidden_sizes : sequence of int, optional
        Hidden widths (may be empty); required unless ``init`` is given.
    n_restarts, n_steps, learning_rate
        Initialisations trained side by side, updates, step size.
    optimizer : {"adam", "gd"}
        Adam (Kingma and Ba 2015, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) or gradient descent.
    seed : int or numpy.random.Generator
        Seeds the initialisation: weights and biases uniform on ``+-1/sqrt(fan_in)``.
    init : MLP, optional
        Start from these parameters instead (then ``n_restarts`` must be 1).
    train_biases : bool
        If False the biases stay at zero (or at ``init``'s): the network is then positively
        homogeneous, ``f(t x) = t f(x)`` for ``t > 0``.

    Raises ValueError on bad shapes or values, and if every restart diverged.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    >>> res = train_mlp(X, X.sum(axis=1, keepdims=True), [], n_steps=500, learning_rate=0.1)
    >>> bool(res.loss_history[-1] < 1e-6)
    True
    """
    X, Y = as_float_array(x, "x", ndim=2), as_float_array(y, "y", ndim=2)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {X.shape[0]} and {Y.shape[0]}")
    n_restarts = as_int(n_restarts, "n_restarts", minimum=1)
    n_steps = as_int(n_steps, "n_steps", minimum=0)
    lr = as_positive_float(learning_rate, "learning_rate")
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    rng = _as_rng(seed)
    train_biases = as_bool(train_biases, "train_biases")
    dims = _layer_sizes(X, Y, hidden_sizes, init, n_restarts)
    if init is None:
        Ws, bs = _initial_parameters(dims, n_restarts, rng, train_biases)
    else:
        Ws, bs = [W[None].copy() for W in init.weights], [b[None].copy() for b in init.biases]
    history = _optimise(Ws, bs, X, Y, n_steps, lr, optimizer, train_biases)
    if not np.isfinite(history[-1]).any():
        raise ValueError(f"every restart diverged (loss inf or NaN): rescale x and y or reduce "
                         f"learning_rate={lr}")
    best = int(np.argmin(history[-1]))
    for arr in (history, *Ws, *bs):
        arr.flags.writeable = False
    net = MLP([W[best] for W in Ws], [b[best] for b in bs])
    return TrainResult(net, history[:, best], history, best, tuple(Ws), tuple(bs))
