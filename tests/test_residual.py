"""Tests of hw4lib.residual (chapter 2) and hw4lib.plotting.residual.

References used here are independent of the code under test: the block's definition written
out with NumPy, central finite differences, and the autodiff library ``autograd``.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")

import autograd
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import hw4lib
from hw4lib.plotting import residual as rplot
from hw4lib.residual import (
    ACTIVATIONS,
    ResidualCache,
    block_jacobian,
    input_gradient_norms,
    residual_backward,
    residual_forward,
)

KEYS = ("x", "W", "b", "V", "c")
SMOOTH = ("tanh", "sigmoid", "softplus")

# Reference activations, written independently of hw4lib (textbook formulas).
NP_PHI = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "softplus": lambda z: np.log1p(np.exp(z)),
}
AG_PHI = {
    "relu": lambda z: anp.maximum(z, 0.0),
    "tanh": anp.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + anp.exp(-z)),
    "softplus": lambda z: anp.log(1.0 + anp.exp(z)),
}


def make_block(
    rng: np.random.Generator, n: int | None, d: int, scale: float = 1.0
) -> dict[str, Any]:
    shape = (d,) if n is None else (n, d)
    return {
        "x": rng.standard_normal(shape),
        "W": scale * rng.standard_normal((d, d)),
        "b": rng.standard_normal(d),
        "V": scale * rng.standard_normal((d, d)),
        "c": rng.standard_normal(d),
        "dy": rng.standard_normal(shape),
    }


def reference_forward(p: dict[str, Any], activation: str) -> tuple[np.ndarray, ...]:
    phi = NP_PHI[activation]
    z = p["x"] @ p["W"].T + p["b"]
    h = phi(z) + p["x"]
    r = h @ p["V"].T + p["c"]
    return z, h, r, phi(r) + h


def autograd_gradients(p: dict[str, Any], activation: str) -> dict[str, np.ndarray]:
    phi = AG_PHI[activation]

    def pullback(x: Any, W: Any, b: Any, V: Any, c: Any) -> Any:
        h = phi(anp.dot(x, W.T) + b) + x
        y = phi(anp.dot(h, V.T) + c) + h
        return anp.sum(y * p["dy"])

    grads = autograd.grad(pullback, argnum=[0, 1, 2, 3, 4])(*(p[k] for k in KEYS))
    return dict(zip(KEYS, grads))


def gradients(p: dict[str, Any], activation: str) -> dict[str, np.ndarray]:
    _, cache = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], activation)
    return residual_backward(p["dy"], cache)


# --------------------------------------------------------------------------- activations


def test_activations_registry() -> None:
    assert set(ACTIVATIONS) >= {"relu", "tanh", "sigmoid", "softplus"}
    phi, dphi = ACTIVATIONS["tanh"]  # unpacks as a pair
    assert callable(phi) and callable(dphi)
    with pytest.raises(TypeError):
        ACTIVATIONS["new"] = ACTIVATIONS["relu"]  # type: ignore[index]


def test_activation_values_at_known_points() -> None:
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(ACTIVATIONS["relu"].phi(z), [0.0, 0.0, 3.0])
    np.testing.assert_allclose(ACTIVATIONS["tanh"].phi(z), np.tanh(z), rtol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].phi([0.0]), [0.5], rtol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS["softplus"].phi([0.0]), [np.log(2.0)], rtol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].dphi([0.0]), [0.25], rtol=1e-15)
    np.testing.assert_allclose(ACTIVATIONS["tanh"].dphi([0.0]), [1.0], rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.floats(-30.0, 30.0))
def test_activation_identities(t: float) -> None:
    sig, soft = ACTIVATIONS["sigmoid"].phi, ACTIVATIONS["softplus"].phi
    z = np.array([t])
    np.testing.assert_allclose(sig(z) + sig(-z), 1.0, rtol=1e-15)
    np.testing.assert_allclose(soft(z) - soft(-z), z, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(sig(z), NP_PHI["sigmoid"](z), rtol=1e-14)
    np.testing.assert_allclose(soft(z), NP_PHI["softplus"](z), rtol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivative_matches_central_difference(name: str) -> None:
    rng = np.random.default_rng(1)
    z = rng.uniform(-4.0, 4.0, size=200)
    z = z[np.abs(z) > 1e-3]  # away from ReLU's kink
    phi, dphi = ACTIVATIONS[name]
    eps = 1e-6
    numeric = (phi(z + eps) - phi(z - eps)) / (2 * eps)
    np.testing.assert_allclose(dphi(z), numeric, rtol=1e-7, atol=1e-9)


def test_relu_derivative_at_zero_is_zero() -> None:
    np.testing.assert_array_equal(ACTIVATIONS["relu"].dphi([0.0, -0.0, 1e-300]), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_stable_for_large_arguments(name: str) -> None:
    z = np.concatenate([-np.logspace(3, -3, 61), [0.0], np.logspace(-3, 3, 61)])
    phi, dphi = ACTIVATIONS[name]
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        a, d = phi(z), dphi(z)
    assert np.isfinite(a).all() and np.isfinite(d).all()
    assert (np.diff(a) >= 0).all()  # all four are non-decreasing
    assert (d >= 0).all() and (d <= 1).all()
    limits = {
        "relu": (0.0, 1e3), "tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "softplus": (0.0, 1e3)
    }
    np.testing.assert_allclose([a[0], a[-1]], limits[name], rtol=1e-15, atol=0)


# --------------------------------------------------------------------------- forward


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_definition(name: str) -> None:
    p = make_block(np.random.default_rng(2), 7, 4)
    y, cache = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], name)
    z, h, r, y_ref = reference_forward(p, name)
    np.testing.assert_allclose(y, y_ref, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(cache.h, h, rtol=1e-13, atol=1e-13)
    assert isinstance(cache, ResidualCache) and cache.activation == name


def test_forward_single_vector_equals_batch_row() -> None:
    p = make_block(np.random.default_rng(3), 5, 3)
    y_batch, _ = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], "tanh")
    y_row, cache = residual_forward(p["x"][2], p["W"], p["b"], p["V"], p["c"], "tanh")
    assert y_row.shape == (3,) and cache.y_shape == (3,)
    np.testing.assert_allclose(y_row, y_batch[2], rtol=1e-14)


def test_forward_accepts_integers_and_lists() -> None:
    y, _ = residual_forward([[1, 2]], [[1, 0], [0, 1]], [0, 0], [[0, 0], [0, 0]], [0, 0])
    # z = x, h = relu(x) + x = 2x, r = 0, y = h
    np.testing.assert_array_equal(y, [[2.0, 4.0]])
    assert y.dtype == np.float64


def test_zero_weights_make_the_identity_block() -> None:
    rng = np.random.default_rng(4)
    x, dy = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    zeros_m, zeros_v = np.zeros((3, 3)), np.zeros(3)
    y, cache = residual_forward(x, zeros_m, zeros_v, zeros_m, zeros_v, "relu")
    np.testing.assert_array_equal(y, x)
    g = residual_backward(dy, cache)
    np.testing.assert_array_equal(g["x"], dy)  # both skips carry the gradient unchanged
    # relu'(0) = 0, so no gradient reaches the weights and biases of either layer
    for k in ("W", "b", "V", "c"):
        np.testing.assert_array_equal(g[k], 0.0)


# --------------------------------------------------------------------------- backward

# (N or None for a single vector, D, seed)
shapes = st.tuples(
    st.one_of(st.none(), st.integers(1, 6)), st.integers(1, 5), st.integers(0, 2**32 - 1)
)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, name=st.sampled_from(sorted(ACTIVATIONS)))
def test_backward_matches_autograd(shape: tuple[int | None, int, int], name: str) -> None:
    n, d, seed = shape
    p = make_block(np.random.default_rng(seed), n, d)
    if name == "relu":  # keep away from the kink, where the two conventions may differ
        z, _, r, _ = reference_forward(p, name)
        assume(min(np.abs(z).min(), np.abs(r).min()) > 1e-6)
    got, want = gradients(p, name), autograd_gradients(p, name)
    for k in KEYS:
        assert got[k].shape == np.shape(p[k])
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("n", [None, 3])
def test_backward_matches_central_differences(name: str, n: int | None) -> None:
    p = make_block(np.random.default_rng(5), n, 3)

    def loss(q: dict[str, Any]) -> float:
        return float(np.sum(reference_forward(q, name)[3] * q["dy"]))

    got = gradients(p, name)
    eps = 1e-5
    for k in KEYS:
        numeric = np.zeros_like(p[k])
        for idx in np.ndindex(p[k].shape):
            plus, minus = {**p, k: p[k].copy()}, {**p, k: p[k].copy()}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        rel = np.linalg.norm(got[k] - numeric) / np.linalg.norm(numeric)
        assert rel < 1e-7, (k, rel)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       name=st.sampled_from(SMOOTH))
def test_batch_gradients_are_sums_of_example_gradients(
    n: int, d: int, seed: int, name: str
) -> None:
    p = make_block(np.random.default_rng(seed), n, d)
    batch = gradients(p, name)
    singles = [gradients({**p, "x": p["x"][i], "dy": p["dy"][i]}, name) for i in range(n)]
    for k in ("W", "b", "V", "c"):
        np.testing.assert_allclose(batch[k], sum(s[k] for s in singles), rtol=1e-12, atol=1e-12)
    # Batched and single-row BLAS products may round differently: entries that result from
    # cancellation (|x̄| << 1) need an absolute tolerance at the scale of the other entries.
    np.testing.assert_allclose(batch["x"], np.stack([s["x"] for s in singles]), rtol=1e-13,
                               atol=1e-13)


def test_backward_is_linear_in_dy_and_repeatable() -> None:
    rng = np.random.default_rng(6)
    p = make_block(rng, 4, 3)
    _, cache = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], "softplus")
    dy1, dy2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    g1, g2 = residual_backward(dy1, cache), residual_backward(dy2, cache)
    g12 = residual_backward(2.0 * dy1 - dy2, cache)
    for k in KEYS:
        np.testing.assert_allclose(g12[k], 2.0 * g1[k] - g2[k], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(residual_backward(dy1, cache)["W"], g1["W"])


def test_inputs_are_not_modified() -> None:
    p = make_block(np.random.default_rng(7), 5, 4)
    before = {k: v.copy() for k, v in p.items()}
    gradients(p, "sigmoid")
    for k in p:
        np.testing.assert_array_equal(p[k], before[k])


def test_relu_gradient_at_kink_uses_zero_convention() -> None:
    # b = -W x puts every z exactly at 0: phi'(z) = 0, so the first layer gets no gradient
    rng = np.random.default_rng(8)
    x, c = rng.standard_normal((2, 3))
    W, V = rng.standard_normal((2, 3, 3))
    b = -(W @ x)
    _, cache = residual_forward(x, W, b, V, c, "relu")
    np.testing.assert_array_equal(cache.dphi_z, 0.0)
    g = residual_backward(np.ones(3), cache)
    np.testing.assert_array_equal(g["W"], 0.0)
    np.testing.assert_array_equal(g["b"], 0.0)


# --------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------- Jacobian


@pytest.mark.parametrize("skip", [True, False])
@pytest.mark.parametrize("name", SMOOTH)
def test_block_jacobian_matches_autograd(name: str, skip: bool) -> None:
    p = make_block(np.random.default_rng(9), None, 4)
    phi = AG_PHI[name]

    def block(x: Any) -> Any:
        h = phi(anp.dot(p["W"], x) + p["b"]) + (x if skip else 0.0)
        return phi(anp.dot(p["V"], h) + p["c"]) + (h if skip else 0.0)

    J = block_jacobian(p["x"], p["W"], p["b"], p["V"], p["c"], name, skip=skip)
    np.testing.assert_allclose(J, autograd.jacobian(block)(p["x"]), rtol=1e-12, atol=1e-12)


def test_block_jacobian_transpose_gives_input_gradient() -> None:
    p = make_block(np.random.default_rng(10), None, 5)
    J = block_jacobian(p["x"], p["W"], p["b"], p["V"], p["c"], "tanh")
    np.testing.assert_allclose(J.T @ p["dy"], gradients(p, "tanh")["x"], rtol=1e-12)


def test_input_gradient_norms_limits() -> None:
    small = input_gradient_norms(10, 8, activation="tanh", skip=True, weight_std=1e-8, n_trials=2)
    assert small.shape == (2, 10)
    np.testing.assert_allclose(small, 1.0, rtol=1e-6)  # the product of Jacobians is ~ I
    no_skip = input_gradient_norms(10, 8, activation="tanh", skip=False, weight_std=0.5, n_trials=2)
    # mean-square gain per layer 0.5^2 * mean(tanh'^2) <= 1/4: the norm decays
    assert (np.diff(np.log(no_skip), axis=1) < 0).all()
    again = input_gradient_norms(10, 8, activation="tanh", skip=False, weight_std=0.5, n_trials=2)
    np.testing.assert_array_equal(no_skip, again)


def test_input_gradient_norms_match_explicit_backprop() -> None:
    # one trial, rebuilt from the same seed: ||P_L||_F^2 / D = mean over unit vectors e_i
    norms = input_gradient_norms(3, 4, activation="softplus", weight_std=0.7, n_trials=1, seed=3)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4)
    caches = []
    for _ in range(3):
        W, V = 0.7 / 2 * rng.standard_normal((4, 4)), 0.7 / 2 * rng.standard_normal((4, 4))
        x, cache = residual_forward(x, W, np.zeros(4), V, np.zeros(4), "softplus")
        caches.append(cache)
    g = np.eye(4)  # the rows: the output gradients e_1, ..., e_D, backpropagated together
    for cache in reversed(caches):
        g = np.stack([residual_backward(row, cache)["x"] for row in g])
    np.testing.assert_allclose(norms[0, -1], np.linalg.norm(g) / 2.0, rtol=1e-12)


# --------------------------------------------------------------------------- plotting


def test_graph_description_and_layout() -> None:
    assert rplot.skip_edges() == [("x", "h"), ("h", "y")]
    pos = rplot.graph_layout()
    main = ["x", "z", "phi_z", "h", "r", "phi_r", "y", "loss"]
    assert [pos[n][0] for n in main] == sorted(pos[n][0] for n in main)  # left to right
    assert all(pos[n][1] == 0.0 for n in main)
    assert all(pos[p][1] > 0 for p in ("W", "b", "V", "c"))


def test_graph_description_matches_the_block() -> None:
    # evaluate the description with the block's operations and compare with residual_forward
    p = make_block(np.random.default_rng(11), None, 3)
    ops = {
        "z": lambda v: v["W"] @ v["x"] + v["b"],
        "phi_z": lambda v: np.tanh(v["z"]),
        "h": lambda v: v["phi_z"] + v["x"],
        "r": lambda v: v["V"] @ v["h"] + v["c"],
        "phi_r": lambda v: np.tanh(v["r"]),
        "y": lambda v: v["phi_r"] + v["h"],
    }
    values = {k: p[k] for k in KEYS}
    for node in rplot.RESIDUAL_GRAPH:
        if node.name in ops:
            assert all(q in values for q in node.parents)  # listed in topological order
            values[node.name] = ops[node.name]({q: values[q] for q in node.parents})
    y, _ = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], "tanh")
    np.testing.assert_allclose(values["y"], y, rtol=1e-14)


def test_draw_computation_graph_marks_two_skips() -> None:
    fig = rplot.draw_computation_graph()
    ax = fig.axes[0]
    n_edges = sum(len(node.parents) for node in rplot.RESIDUAL_GRAPH)
    assert len(ax.patches) == n_edges
    assert sum(t.get_text() == "skip (identity)" for t in ax.texts) == 2
    plt.close(fig)


def test_backward_signals_label_every_edge_but_the_target() -> None:
    edges = {(p, node.name) for node in rplot.RESIDUAL_GRAPH for p in node.parents}
    assert set(rplot.BACKWARD_SIGNALS) == edges - {("t", "loss")}
    # an add node copies its gradient: both inputs of y get y-bar, both inputs of h get h-bar
    sig = rplot.BACKWARD_SIGNALS
    assert sig["phi_r", "y"] == sig["h", "y"] == sig["y", "loss"]
    assert sig["phi_z", "h"] == sig["x", "h"]
    fig = rplot.draw_computation_graph(backward=sig)
    ax = fig.axes[0]
    assert len(ax.patches) == len(sig)
    texts = {t.get_text() for t in ax.texts}
    assert all(label in texts or label + " (skip)" in texts for label in sig.values())
    assert sum(t.get_text().endswith("(skip)") for t in ax.texts) == 2
    plt.close(fig)


def test_backward_signals_agree_with_residual_backward() -> None:
    # the two signals reaching h (and x) sum to the gradient residual_backward returns
    p = make_block(np.random.default_rng(12), None, 3)
    _, cache = residual_forward(p["x"], p["W"], p["b"], p["V"], p["c"], "tanh")
    g = residual_backward(p["dy"], cache)
    rbar = p["dy"] * cache.dphi_r[0]
    hbar = p["V"].T @ rbar + p["dy"]  # "V^T rbar" along h -> r, "ybar" along the skip
    np.testing.assert_allclose(np.outer(rbar, cache.h[0]), g["V"], rtol=1e-12)
    zbar = cache.dphi_z[0] * hbar
    np.testing.assert_allclose(p["W"].T @ zbar + hbar, g["x"], rtol=1e-12)
    np.testing.assert_allclose(np.outer(zbar, p["x"]), g["W"], rtol=1e-12)


def test_plot_gradient_norms() -> None:
    norms = np.exp(np.random.default_rng(0).standard_normal((3, 5)))
    fig = rplot.plot_gradient_norms({"A": {"a": norms, "b": 2 * norms}, "B": {"a": norms}})
    assert len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()) == 3  # two curves and the reference line at 1
    middle_of_three = np.sort(norms, axis=0)[1]  # the median of 3 trials, computed independently
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), middle_of_three)
    plt.close(fig)


def test_public_names_exported() -> None:
    assert hw4lib.residual_forward is residual_forward
    assert hw4lib.residual_backward is residual_backward
    assert hw4lib.ACTIVATIONS is ACTIVATIONS
