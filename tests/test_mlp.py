"""Tests for hw4lib.mlp (chapter 1) and hw4lib.plotting.mlp.

Expected values come from NumPy's own sort/min/max, from an independent autodiff library
(autograd) and from hand-derived facts (the 0-1 principle, IEEE rounding bounds), never from
the code under test.
"""

from __future__ import annotations

import itertools
import math

import matplotlib

matplotlib.use("Agg")

import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from autograd import grad  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hw4lib import MLP, TrainResult, minmax_mlp, relu, sorting_mlp, train_mlp  # noqa: E402
from hw4lib.mlp import _adam_step, _affine, _loss_and_grads, comparator_stages  # noqa: E402
from hw4lib.plotting import mlp as mlp_plots  # noqa: E402

SETTINGS = settings(deadline=None, max_examples=150, derandomize=True)


def _wide_floats(bound: float) -> st.SearchStrategy[float]:
    """Floats of every magnitude in [-bound, bound]: raw floats, powers of two times a
    mantissa (1e-300 next to 1e300), integers, signed zeros and subnormals."""
    exp_max = math.frexp(bound)[1] - 1
    scaled = st.builds(
        lambda m, e, s: s * math.ldexp(m, e),
        st.floats(0.5, 1.0, exclude_max=True),
        st.integers(-1074, exp_max),
        st.sampled_from([-1.0, 1.0]),
    )
    return st.one_of(
        st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=True),
        scaled,
        st.integers(-(2**52), 2**52).map(float),
        st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1.0, -1.0, bound, -bound]),
    )


def _ulps(x: np.ndarray) -> np.ndarray:
    """spacing(max |x|) along the last axis (the unit of the accuracy claims)."""
    return np.spacing(np.abs(x).max(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------- relu


def test_relu_values_and_signed_zero() -> None:
    out = relu([-2.0, -0.0, 0.0, 3.5])
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 3.5])
    assert not np.signbit(out).any()  # ReLU(-0.0) is +0.0


@SETTINGS
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20))
def test_relu_is_max_with_zero(values: list[float]) -> None:
    x = np.array(values)
    np.testing.assert_array_equal(relu(x), np.maximum(x, 0.0))


# ---------------------------------------------------------------------------- MLP


def test_mlp_matches_plain_numpy_forward() -> None:
    rng = np.random.default_rng(1)
    sizes = [3, 5, 4, 2]
    Ws = [rng.normal(size=(o, i)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [rng.normal(size=o) for o in sizes[1:]]
    x = rng.normal(size=(7, 3))
    h = x
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = np.maximum(h @ W.T + b, 0.0)
    expected = h @ Ws[-1].T + bs[-1]
    net = MLP(Ws, bs)
    np.testing.assert_allclose(net(x), expected, rtol=1e-12, atol=1e-12)
    assert (net.n_in, net.widths, net.n_out, net.depth) == (3, (5, 4), 2, 2)
    assert repr(net) == "MLP(n_in=3, widths=(5, 4), n_out=2)"


def test_mlp_shapes_and_broadcasting() -> None:
    net = minmax_mlp()
    assert net([1.0, 2.0]).shape == (2,)
    assert net(np.zeros((3, 4, 2))).shape == (3, 4, 2)
    assert net(np.zeros((0, 2))).shape == (0, 2)
    (h,) = net.hidden_activations([[3.0, 1.0]])
    np.testing.assert_array_equal(h, [[2.0, 0.0, 1.0, 0.0]])


def test_mlp_copies_and_freezes_parameters() -> None:
    W = np.array([[1.0, 2.0]])
    net = MLP([W], [np.zeros(1)])
    W[0, 0] = 100.0
    assert net.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        net.weights[0][0, 0] = 5.0


def test_affine_adds_the_bias_first_then_columns_left_to_right() -> None:
    """The order is visible in rounding: 1 + 2**53 rounds to 2**53 (ties to even), so only
    ``((b + a0) + a1) + a2`` gives 0; columns reversed give 2, the bias last gives 1."""
    a = np.array([[2.0**53, 1.0, -(2.0**53)]])
    W, b = np.ones((1, 3)), np.ones(1)
    assert _affine(a, W, b).tolist() == [[0.0]]
    assert MLP([W], [b])(a).tolist() == [[0.0]]


# ---------------------------------------------------------------------------- min and max


def test_minmax_structure_and_examples() -> None:
    net = minmax_mlp()
    assert net.widths == (4,)
    np.testing.assert_array_equal(net([[3.0, -1.0], [0.5, 2.0], [-4.0, -4.0]]),
                                  [[-1.0, 3.0], [0.5, 2.0], [-4.0, -4.0]])


@SETTINGS
@given(_wide_floats(2.0**1022), _wide_floats(2.0**1022))
def test_minmax_within_one_ulp_and_x2_output_exact(x1: float, x2: float) -> None:
    x = np.array([x1, x2])
    y = minmax_mlp()(x)
    exact = np.array([min(x1, x2), max(x1, x2)])
    # Chapter 1, proposition ch4-prop-rounding: within ulp(max(|x1|, |x2|)).
    assert np.all(np.abs(y - exact) <= _ulps(x)[0])
    # The output that equals x2 is computed without any rounding.
    assert y[0 if x1 >= x2 else 1] == x2


@SETTINGS
@given(st.integers(-(2**52), 2**52), st.integers(-(2**52), 2**52))
def test_minmax_exact_on_integers(a: int, b: int) -> None:
    y = minmax_mlp()([float(a), float(b)])
    assert y.tolist() == [float(min(a, b)), float(max(a, b))]


@SETTINGS
@given(_wide_floats(2.0**1022))
def test_minmax_exact_on_ties(a: float) -> None:
    assert minmax_mlp()([a, a]).tolist() == [a, a]


def test_minmax_signed_zeros_and_hard_cases() -> None:
    net = minmax_mlp()
    for pair in ([-0.0, 0.0], [0.0, -0.0], [-0.0, -0.0]):
        y = net(pair)
        assert y.tolist() == [0.0, 0.0] and not np.signbit(y).any()  # value exact, +0.0
    # x1 - x2 rounds (2**53 + 1 is not a float); the x2 output is still exact, and
    # max(1, -2**53) comes out as 0.0: a 100 % relative error, half an ulp of M.
    y = net([1.0, -(2.0**53)])
    assert y.tolist() == [-(2.0**53), 0.0]
    # The one-ulp bound is attained: 3 + 2**-52 is a tie and rounds to 3.
    y = net([1.5 + 2.0**-52, -1.5])
    assert y.tolist() == [-1.5, 1.5] and 1.5 + 2.0**-52 - y[1] == np.spacing(1.5)
    y = net([5e-324, -5e-324])  # subnormals: subtraction is exact
    assert y.tolist() == [-5e-324, 5e-324]


# ---------------------------------------------------------------------------- sorting


def _n_stages(n: int, network: str) -> int:
    """Stage counts from the literature: n (odd-even transposition, n >= 3) and
    t(t+1)/2 with t = ceil(log2 n) (Batcher)."""
    if n == 1:
        return 0
    if network == "transposition":
        return 1 if n == 2 else n
    t = math.ceil(math.log2(n))
    return t * (t + 1) // 2


@pytest.mark.parametrize("network", ["transposition", "batcher"])
@pytest.mark.parametrize("n", range(1, 10))
def test_sorting_structure_and_zero_one_principle(n: int, network: str) -> None:
    net = sorting_mlp(n, network)
    S = _n_stages(n, network)
    assert net.widths == (2 * n,) * S
    for W in net.weights:
        assert set(np.unique(W)) <= {-1.0, 0.0, 1.0}
    stages = comparator_stages(n, network)
    assert len(stages) == S
    for stage in stages:
        lanes = [lane for pair in stage for lane in pair]
        assert len(lanes) == len(set(lanes)) and all(i < j for i, j in stage)
    if network == "transposition":
        assert sum(map(len, stages)) == n * (n - 1) // 2
    # 0-1 principle (Knuth 5.3.4): a comparator network sorts every input iff it sorts
    # every 0-1 input; on 0-1 inputs the network's arithmetic is exact.
    X = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    np.testing.assert_array_equal(net(X), np.sort(X, axis=1))


@settings(deadline=None, max_examples=120, derandomize=True)
@given(st.sampled_from(["transposition", "batcher"]), st.integers(1, 9).flatmap(
    lambda n: st.lists(_wide_floats(2.0**1020), min_size=n, max_size=n)))
def test_sorting_rounding_bound(network: str, values: list[float]) -> None:
    x = np.array(values)
    net = sorting_mlp(len(values), network)
    S = max(net.depth, 1)
    # Chapter 1, proposition ch4-prop-sorting-rounding: (15 S - 12) u M to first order, with
    # u = 2**-53 and M = max |x| (plus the subnormal spacing, for tiny inputs).
    M = float(np.max(np.abs(x)))
    tol = (15 * S - 12) * (2.0**-53 * M * (1 + 1e-6) + 2.0**-1074)
    assert np.all(np.abs(net(x) - np.sort(x)) <= tol)


@SETTINGS
@given(st.integers(2, 9).flatmap(
    lambda n: st.lists(st.integers(-(2**50), 2**50), min_size=n, max_size=n)))
def test_sorting_exact_on_integers_and_ties(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    for network in ("transposition", "batcher"):
        np.testing.assert_array_equal(sorting_mlp(len(x), network)(x), np.sort(x))
        ties = np.repeat(x[:2], len(x))[: len(x)]
        np.testing.assert_array_equal(sorting_mlp(len(x), network)(ties), np.sort(ties))


def test_sorting_seeded_sample_is_accurate_to_a_few_ulps() -> None:
    """Empirical accuracy (far inside the proven bound): at most n ulps on a seeded
    sample of mixed magnitudes, ties and zeros."""
    rng = np.random.default_rng(0)
    for n in range(2, 10):
        x = rng.choice([-1.0, 1.0], (4000, n)) * np.ldexp(1 + rng.random((4000, n)),
                                                         rng.integers(-60, 61, (4000, n)))
        x[rng.random(x.shape) < 0.1] = 0.0
        err = np.abs(sorting_mlp(n)(x) - np.sort(x, axis=1)) / _ulps(x)
        assert err.max() <= n


def test_sorting_near_ties_can_come_out_of_order() -> None:
    """Sorted only up to the rounding bound: with M = 2**54 (ulp 4) the three ones nearly
    tie, and two of them come out as 0 (the docstring's example)."""
    y = sorting_mlp(4)([1.0, 1.0, 2.0**54, 1.0])
    assert y.tolist() == [1.0, 0.0, 0.0, 2.0**54]
    assert np.all(np.abs(y - [1.0, 1.0, 1.0, 2.0**54]) <= np.spacing(2.0**54))


def test_sorting_layers_are_the_comparator_stages() -> None:
    """W_1 = A_1, W_s = A_s B_{s-1}, W_{S+1} = B_S in integers, with A_s, B_s built here
    from the comparators and minmax_mlp's block (chapter 1, eq. ch4-eq-sorting-layer)."""
    W1b, W2b = (W.astype(int) for W in minmax_mlp().weights)
    for n in range(2, 10):
        for network in ("transposition", "batcher"):
            mats = []
            for stage in comparator_stages(n, network):
                A, B = np.zeros((2 * n, n), int), np.zeros((n, 2 * n), int)
                for k in range(n):
                    A[2 * k : 2 * k + 2, k], B[k, 2 * k : 2 * k + 2] = (1, -1), (1, -1)
                for i, j in stage:
                    unit = [2 * i, 2 * i + 1, 2 * j, 2 * j + 1]
                    A[unit], B[[i, j]] = 0, 0
                    A[np.ix_(unit, [i, j])], B[np.ix_([i, j], unit)] = W1b, W2b
                mats.append((A, B))
            W = sorting_mlp(n, network).weights
            expected = [mats[0][0]] + [A @ Bp for (A, _), (_, Bp) in zip(mats[1:], mats)]
            for got, want in zip(W, expected + [mats[-1][1]], strict=True):
                np.testing.assert_array_equal(got, want)


def test_transposition_needs_all_n_stages() -> None:
    """Dropping the last stage leaves some 0-1 input unsorted (n >= 3), simulated directly."""
    for n in range(3, 9):
        stages = comparator_stages(n)[:-1]
        failures = 0
        for bits in itertools.product([0, 1], repeat=n):
            v = list(bits)
            for stage in stages:
                for i, j in stage:
                    v[i], v[j] = min(v[i], v[j]), max(v[i], v[j])
            failures += v != sorted(bits)
        assert failures > 0


# ---------------------------------------------------------------------------- training


def _data(seed: int = 0, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, np.stack([X.min(axis=1), X.max(axis=1)], axis=1)


def _autograd_loss(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    W1, b1, W2, b2 = params
    h = anp.maximum(anp.dot(X, W1.T) + b1, 0.0)
    r = anp.dot(h, W2.T) + b2 - Y
    return anp.sum(r * r) / X.shape[0]


def test_gradients_match_autograd() -> None:
    X, Y = _data()
    rng = np.random.default_rng(3)
    params = [rng.normal(size=(5, 2)), rng.normal(size=5), rng.normal(size=(2, 5)), rng.normal(size=2)]
    expected = grad(_autograd_loss)(params, X, Y)
    # Two restarts side by side: the second one is the first with its sign flipped.
    Ws = [np.stack([params[0], -params[0]]), np.stack([params[2], -params[2]])]
    bs = [np.stack([params[1], -params[1]]), np.stack([params[3], -params[3]])]
    loss, gWs, gbs = _loss_and_grads(Ws, bs, X, Y)
    np.testing.assert_allclose(loss[0], _autograd_loss(params, X, Y), rtol=1e-12)
    for got, want in zip([gWs[0][0], gbs[0][0], gWs[1][0], gbs[1][0]], expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    flipped = [-p for p in params]
    np.testing.assert_allclose(loss[1], _autograd_loss(flipped, X, Y), rtol=1e-12)
    # ... and the second restart's gradients too (the restart axis of the backprop).
    expected_flipped = grad(_autograd_loss)(flipped, X, Y)
    for got, want in zip([gWs[0][1], gbs[0][1], gWs[1][1], gbs[1][1]], expected_flipped):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_one_gradient_step_matches_autograd() -> None:
    X, Y = _data(seed=4)
    rng = np.random.default_rng(5)
    init = MLP([rng.normal(size=(3, 2)), rng.normal(size=(2, 3))], [rng.normal(size=3), rng.normal(size=2)])
    lr = 2.0**-10
    res = train_mlp(X, Y, init=init, n_steps=1, learning_rate=lr, optimizer="gd")
    params = [init.weights[0], init.biases[0], init.weights[1], init.biases[1]]
    expected = grad(_autograd_loss)(params, X, Y)
    after = [res.mlp.weights[0], res.mlp.biases[0], res.mlp.weights[1], res.mlp.biases[1]]
    for p0, p1, g in zip(params, after, expected):
        np.testing.assert_allclose((p0 - p1) / lr, g, rtol=1e-6, atol=1e-9)


def test_adam_step_matches_a_hand_computation() -> None:
    """Step t = 2 of Kingma and Ba's Algorithm 1 with beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
    written out: the gradients are tiny (1e-8) so that eps matters."""
    p, g = np.array([1.0, -2.0]), np.array([3e-8, -1e-8])
    m, v = np.array([1e-8, 2e-8]), np.array([4e-16, 1e-16])
    m2 = 0.9 * m + 0.1 * g
    v2 = 0.999 * v + 0.001 * g**2
    expected = p - 0.01 * (m2 / (1 - 0.9**2)) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8)
    _adam_step(p, g, m, v, 2, 0.01)
    np.testing.assert_allclose(m, m2, rtol=1e-14)
    np.testing.assert_allclose(v, v2, rtol=1e-14)
    np.testing.assert_allclose(p, expected, rtol=1e-14)


def test_first_adam_step_of_train_mlp() -> None:
    """At t = 1 the bias corrections give m_hat = g, v_hat = g^2: p -= lr g / (|g| + eps)."""
    X, Y = _data(seed=4)
    rng = np.random.default_rng(5)
    init = MLP([rng.normal(size=(3, 2)), rng.normal(size=(2, 3))], [rng.normal(size=3), rng.normal(size=2)])
    res = train_mlp(X, Y, init=init, n_steps=1, learning_rate=0.01)
    params = [init.weights[0], init.biases[0], init.weights[1], init.biases[1]]
    after = [res.mlp.weights[0], res.mlp.biases[0], res.mlp.weights[1], res.mlp.biases[1]]
    for p0, p1, g in zip(params, after, grad(_autograd_loss)(params, X, Y)):
        np.testing.assert_allclose(p1, p0 - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-9, atol=1e-12)


def test_initial_scale_is_uniform_on_one_over_sqrt_fan_in() -> None:
    """Weights and biases of layer k are uniform on +-1/sqrt(fan_in_k): the largest draw is
    near the bound, none beyond, and the standard deviation is bound / sqrt(3)."""
    X = np.ones((2, 9))
    res = train_mlp(X, np.ones((2, 1)), [16], n_restarts=400, n_steps=0)
    for W, b, fan_in in zip(res.restart_weights, res.restart_biases, (9, 16)):
        bound = 1 / np.sqrt(fan_in)
        for p in (W, b):
            assert 0.98 * bound < np.abs(p).max() <= bound
            np.testing.assert_allclose(p.std(), bound / np.sqrt(3), rtol=0.05)
            assert abs(p.mean()) < 0.05 * bound


def test_relu_derivative_at_kink_is_zero() -> None:
    """A unit with zero weights and bias sits at its kink on every sample: with ReLU'(0) = 0
    its incoming weights get no gradient (with ReLU'(0) = 1 they would move)."""
    X, Y = _data(seed=6)
    W1 = np.array([[1.0, -1.0], [0.0, 0.0]])
    init = MLP([W1, np.array([[1.0, 1.0], [0.5, 2.0]])], [np.zeros(2), np.zeros(2)])
    res = train_mlp(X, Y, init=init, n_steps=1, learning_rate=0.1, optimizer="gd")
    np.testing.assert_array_equal(res.mlp.weights[0][1], [0.0, 0.0])
    assert res.mlp.biases[0][1] == 0.0
    assert not np.array_equal(res.mlp.weights[0][0], W1[0])


def test_exact_network_is_a_stationary_point() -> None:
    """At the exact network the residuals are rounding errors (~1e-17), so gradient descent
    barely moves. (Adam would: it divides the step by the gradient's own size.)"""
    X, Y = _data(seed=7)
    res = train_mlp(X, Y, init=minmax_mlp(), n_steps=5, learning_rate=0.1, optimizer="gd")
    assert np.all(res.loss_history < 1e-30)
    for a, b in zip(res.mlp.weights, minmax_mlp().weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_training_results_are_consistent_and_deterministic() -> None:
    X, Y = _data(seed=8)
    res = train_mlp(X, Y, [4], n_restarts=6, n_steps=300, learning_rate=0.02, seed=11)
    assert isinstance(res, TrainResult)
    assert res.loss_histories.shape == (301, 6) and res.loss_history.shape == (301,)
    assert res.best_restart == int(np.argmin(res.final_losses))
    # The returned network's loss, recomputed from its own forward pass, is the recorded one.
    recomputed = np.mean(np.sum((res.mlp(X) - Y) ** 2, axis=1))
    np.testing.assert_allclose(recomputed, res.loss_history[-1], rtol=1e-9)
    assert res.loss_history[-1] < 0.1 * res.loss_history[0]
    again = train_mlp(X, Y, [4], n_restarts=6, n_steps=300, learning_rate=0.02, seed=11)
    np.testing.assert_array_equal(again.loss_histories, res.loss_histories)
    other = train_mlp(X, Y, [4], n_restarts=6, n_steps=300, learning_rate=0.02, seed=12)
    assert not np.array_equal(other.loss_histories, res.loss_histories)
    gen = train_mlp(X, Y, [4], n_steps=3, seed=np.random.default_rng(11))
    assert gen.loss_history.shape == (4,)


def test_every_restart_is_kept() -> None:
    """restart(k) is the network whose recorded final loss is final_losses[k]."""
    X, Y = _data(seed=9)
    res = train_mlp(X, Y, [3], n_restarts=5, n_steps=200, learning_rate=0.02, seed=4)
    for k in range(5):
        net = res.restart(k)
        recomputed = np.mean(np.sum((net(X) - Y) ** 2, axis=1))
        np.testing.assert_allclose(recomputed, res.final_losses[k], rtol=1e-9)
    best = res.restart(res.best_restart)
    for a, b in zip(best.weights + best.biases, res.mlp.weights + res.mlp.biases):
        np.testing.assert_array_equal(a, b)
    assert len({res.restart(k).weights[0].tobytes() for k in range(5)}) == 5
    assert not any(a.flags.writeable for a in res.restart_weights + res.restart_biases)


def test_a_diverged_restart_leaves_the_others() -> None:
    """Only the restart that diverged is refused (tests/test_bad_inputs.py); the others remain."""
    X, Y = _data(seed=9)
    res = train_mlp(X, Y, [3], n_restarts=2, n_steps=2, seed=4)
    histories = res.loss_histories.copy()
    histories[-1, 1] = np.inf  # as train_mlp records a restart that diverged
    broken = TrainResult(res.mlp, histories[:, 0], histories, 0,
                         res.restart_weights, res.restart_biases)
    assert broken.restart(0).widths == (3,)


def test_gradient_descent_decreases_a_convex_loss() -> None:
    X, _ = _data(seed=9)
    Y = X @ np.array([[2.0], [-1.0]]) + 0.5
    res = train_mlp(X, Y, [], n_steps=200, learning_rate=0.05, optimizer="gd")
    assert np.all(np.diff(res.loss_history) <= 1e-15)
    assert res.loss_history[-1] < 1e-6


def test_frozen_biases_stay_zero() -> None:
    X, Y = _data(seed=10)
    res = train_mlp(X, Y, [4], n_restarts=3, n_steps=50, train_biases=False)
    for b in res.mlp.biases:
        np.testing.assert_array_equal(b, 0.0)
    # Homogeneous: f(t x) = t f(x) for t > 0.
    np.testing.assert_allclose(res.mlp(3.0 * X), 3.0 * res.mlp(X), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- plotting


def test_plots_are_built_from_the_weights() -> None:
    fig = mlp_plots.plot_linear_regions(minmax_mlp(), output_labels=["min", "max"], n_grid=60)
    titles = [ax.get_title() for ax in fig.axes]
    # Four activation regions; the kink of u3, u4 (x2 = 0) cancels in both outputs.
    assert titles == ["activation regions (4)", "min: 2 linear regions", "max: 2 linear regions"]
    ax = mlp_plots.plot_network(minmax_mlp())
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("-1") == 6 and labels.count("1") == 6  # the 12 nonzero weights
    ax = mlp_plots.plot_comparator_network(5)
    assert ax.get_title() == "transposition network, n = 5: 5 stages, 10 comparators"
    fig = mlp_plots.plot_comparator_networks([(6, "transposition"), (8, "batcher")])
    assert [ax.get_title() for ax in fig.axes] == [
        "transposition network, n = 6: 6 stages, 15 comparators",
        "batcher network, n = 8: 6 stages, 19 comparators"]
    # At most two panels side by side, at most 6.4 inches wide (readable on a phone).
    for fig in (mlp_plots.plot_linear_regions(minmax_mlp(), n_grid=20), fig,
                mlp_plots.plot_network(sorting_mlp(3), annotate=False).figure):
        assert fig.get_size_inches()[0] <= 6.4
        rows = [round(ax.get_position().y0, 1) for ax in fig.axes]
        assert max(rows.count(y) for y in rows) <= 2, rows
    plt.close("all")


def test_md_table() -> None:
    table = mlp_plots.md_table(["a", "b"], [(1, "x"), (2.5, "$y$")])
    assert table.data == "| a | b |\n|---|---|\n| 1 | x |\n| 2.5 | $y$ |"
