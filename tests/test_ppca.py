"""Tests for hw4lib.ppca (chapter 3): EM for probabilistic PCA.

Expected values come from independent computations: joint-Gaussian
conditioning, scipy's multivariate normal density, eigendecompositions of the
D x D covariance, an SVD of the data, formulas written out entry by entry and
scikit-learn's PCA. A loading matrix is identified only up
to rotation and sign, so models are compared through ``W W^T + sigma2 I``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.decomposition import PCA

import hw4lib
import hw4lib.ppca as ppca_mod
from hw4lib import (
    PPCA,
    EMResult,
    ppca_closed_form,
    ppca_em,
    ppca_log_likelihood,
    ppca_m_step,
    ppca_posterior,
)
from hw4lib.ppca import ConvergenceWarning, NotFittedError

SETTINGS = settings(deadline=None, max_examples=25)


def spiked(n: int, d: int, scales: list[float], seed: int = 0, noise: float = 1.0) -> np.ndarray:
    """Data with len(scales) latent factors of the given standard deviations plus noise."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, len(scales))) * np.asarray(scales)
    return rng.standard_normal((n, len(scales))) @ A.T + noise * rng.standard_normal((n, d))


def condition(u: np.ndarray, sigma2: float, x: np.ndarray) -> tuple[float, float]:
    """Mean and variance of z | x from the joint Gaussian of (z, x), by generic conditioning."""
    d = u.size
    cov_xx = np.outer(u, u) + sigma2 * np.eye(d)
    gain = np.linalg.solve(cov_xx, u)  # Sigma_xx^{-1} Sigma_xz
    return float(gain @ x), float(1.0 - gain @ u)


def model_cov(W: np.ndarray, sigma2: float) -> np.ndarray:
    return W @ W.T + sigma2 * np.eye(W.shape[0])


# ---------------------------------------------------------------- E-step, M-step, likelihood
def test_posterior_hand_computed() -> None:
    # M = 1 + 1 = 2, m = 2 / 2 = 1, variance = 1 / 2, s = 1/2 + 1 = 1.5
    m, s = ppca_posterior([[2.0, 0.0]], [1.0, 0.0], 1.0)
    np.testing.assert_allclose(m, [1.0])
    np.testing.assert_allclose(s, [1.5])


@SETTINGS
@given(
    d=st.integers(1, 6),
    n=st.integers(1, 5),
    sigma2=st.floats(0.05, 20.0),
    seed=st.integers(0, 10_000),
)
def test_posterior_matches_joint_gaussian_conditioning(d: int, n: int, sigma2: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d) * rng.uniform(0.1, 3.0)
    X = rng.standard_normal((n, d)) * 2.0
    m, s = ppca_posterior(X, u, sigma2)
    assert m.shape == s.shape == (n,)
    for i in range(n):
        mean, var = condition(u, sigma2, X[i])
        np.testing.assert_allclose(m[i], mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(s[i], var + mean**2, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(d=st.integers(1, 6), n=st.integers(1, 6), sigma2=st.floats(0.05, 20.0), seed=st.integers(0, 10_000))
def test_log_likelihood_matches_scipy(d: int, n: int, sigma2: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d) * rng.uniform(0.0, 3.0)
    X = rng.standard_normal((n, d)) * 2.0
    expected = multivariate_normal(np.zeros(d), model_cov(u[:, None], sigma2)).logpdf(X).sum()
    np.testing.assert_allclose(ppca_log_likelihood(X, u, sigma2), expected, rtol=1e-10)


def test_m_step_maximises_expected_complete_loglik() -> None:
    rng = np.random.default_rng(1)
    X = spiked(50, 4, [2.0], seed=1)
    u_old, sigma2 = rng.standard_normal(4), 0.7
    m, s = ppca_posterior(X, u_old, sigma2)
    u = ppca_m_step(X, m, s)

    def Q(v: np.ndarray) -> float:  # the u-dependent part of sum_i E[log p(x_i, z_i)]
        return float(-(-2.0 * (m @ X) @ v + s.sum() * v @ v) / (2 * sigma2))

    assert all(Q(u) > Q(u + 1e-3 * rng.standard_normal(4)) for _ in range(20))
    np.testing.assert_allclose((m @ X) - s.sum() * u, 0.0, atol=1e-10)  # stationarity


def test_m_step_hand_computed() -> None:
    np.testing.assert_allclose(ppca_m_step([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0], [2.0, 2.0]), [1.0, 1.5])


# ---------------------------------------------------------------- EM
@SETTINGS
@given(
    d=st.integers(2, 6),
    sigma2=st.floats(0.05, 5.0),
    seed=st.integers(0, 10_000),
    px=st.booleans(),
)
def test_em_log_likelihood_never_decreases(d: int, sigma2: float, seed: int, px: bool) -> None:
    X = spiked(40, d, [2.0, 1.0], seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = ppca_em(X, sigma2, max_iter=200, parameter_expansion=px)
    ll = res.log_likelihood
    assert ll.shape == (res.n_iter + 1,)
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[1:]))
    np.testing.assert_allclose(ll[-1], ppca_log_likelihood(X, res.u, sigma2), rtol=1e-12)


def test_em_first_value_is_at_u0_and_iterates_are_the_homework_steps() -> None:
    X = spiked(30, 3, [1.5], seed=2)
    u0, sigma2 = np.array([0.3, -0.2, 0.5]), 0.8
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = ppca_em(X, sigma2, u0=u0, max_iter=3)
    u = u0
    lls = [ppca_log_likelihood(X, u, sigma2)]
    for _ in range(3):
        u = ppca_m_step(X, *ppca_posterior(X, u, sigma2))
        lls.append(ppca_log_likelihood(X, u, sigma2))
    assert res.n_iter == 3 and not res.converged
    np.testing.assert_allclose(res.log_likelihood, lls, rtol=1e-12)
    np.testing.assert_allclose(np.outer(res.u, res.u), np.outer(u, u), rtol=1e-10)


@pytest.mark.parametrize("px", [False, True])
def test_em_converges_to_closed_form(px: bool) -> None:
    X = spiked(300, 5, [3.0, 1.0], seed=3)
    sigma2 = 0.6
    res = ppca_em(X, sigma2, tol=1e-14, parameter_expansion=px)
    W, _ = ppca_closed_form(X, 1, noise_variance=sigma2)
    assert res.converged
    # plain EM crawls (rate ~0.97 here): stopping on round-off leaves ~1e-5 relative error
    np.testing.assert_allclose(np.outer(res.u, res.u), W @ W.T, rtol=1e-4, atol=1e-4 if not px else 1e-8)
    assert res.u[np.argmax(np.abs(res.u))] > 0  # sign convention


def test_px_em_needs_far_fewer_iterations() -> None:
    X = spiked(300, 5, [3.0, 1.0], seed=3)
    plain = ppca_em(X, 0.2, tol=1e-12)
    px = ppca_em(X, 0.2, tol=1e-12, parameter_expansion=True)
    assert px.n_iter * 5 < plain.n_iter
    np.testing.assert_allclose(px.log_likelihood[-1], plain.log_likelihood[-1], rtol=1e-9)


def test_em_shrinks_to_zero_when_noise_exceeds_top_eigenvalue() -> None:
    X = spiked(200, 4, [0.5], seed=4, noise=0.5)
    lam1 = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    res = ppca_em(X, 1.5 * lam1, tol=1e-14)
    W, _ = ppca_closed_form(X, 1, noise_variance=1.5 * lam1)
    np.testing.assert_array_equal(W, 0.0)
    assert np.linalg.norm(res.u) < 1e-3
    assert isinstance(res, EMResult)


def test_em_zero_start_is_a_fixed_point() -> None:
    X = spiked(20, 3, [2.0], seed=5)
    res = ppca_em(X, 1.0, u0=np.zeros(3))
    np.testing.assert_array_equal(res.u, 0.0)
    assert res.converged


def test_em_result_is_frozen() -> None:
    res = ppca_em(spiked(20, 3, [2.0]), 1.0)
    with pytest.raises(AttributeError):
        res.n_iter = 0  # type: ignore[misc]


# ---------------------------------------------------------------- closed form
@pytest.mark.parametrize("shape", [(60, 5), (6, 9)])  # covariance path and Gram path
@pytest.mark.parametrize("q", [1, 2, 3])
def test_closed_form_against_svd(shape: tuple[int, int], q: int) -> None:
    # the implementation diagonalises X^T X or X X^T; here the SVD X = U diag(sv) V^T gives the
    # eigenpairs of S = X^T X / N directly: eigenvalues sv**2 / N (and D - N zeros when N < D)
    n, d = shape
    X = spiked(n, d, [3.0, 2.0, 1.0], seed=6)
    _, sv, Vt = np.linalg.svd(X, full_matrices=False)
    lam = np.concatenate([sv**2 / n, np.zeros(d - sv.size)])
    s2 = lam[q:].sum() / (d - q)
    expected = Vt[:q].T @ np.diag(lam[:q] - s2) @ Vt[:q]
    W, sigma2 = ppca_closed_form(X, q)
    np.testing.assert_allclose(sigma2, s2, rtol=1e-10)
    np.testing.assert_allclose(W @ W.T, expected, atol=1e-9)
    np.testing.assert_allclose(W.T @ W, np.diag(np.diag(W.T @ W)), atol=1e-9)  # orthogonal columns


def test_closed_form_is_a_likelihood_maximum() -> None:
    X = spiked(100, 4, [2.0, 1.0], seed=7)
    W, s2 = ppca_closed_form(X, 1)
    best = ppca_log_likelihood(X, W[:, 0], s2)
    rng = np.random.default_rng(0)
    for _ in range(30):
        du, ds = 0.05 * rng.standard_normal(4), 0.05 * rng.standard_normal()
        assert ppca_log_likelihood(X, W[:, 0] + du, s2 + ds) < best


def test_closed_form_hand_computed() -> None:
    # S = X^T X / 3 = diag(5, 1, 1): sigma2 = (1 + 1) / 2 = 1, w = sqrt(5 - 1) e_1
    W, s2 = ppca_closed_form(np.sqrt(3 * np.diag([5.0, 1.0, 1.0])), 1)
    np.testing.assert_allclose(W[:, 0], [2.0, 0.0, 0.0], atol=1e-12)
    assert s2 == pytest.approx(1.0)


def test_closed_form_matches_sklearn_up_to_its_n_minus_1() -> None:
    X = spiked(80, 6, [2.0, 1.0], seed=8)
    n = len(X)
    pca = PCA(n_components=2, svd_solver="full").fit(X)
    W, s2 = ppca_closed_form(X - X.mean(axis=0), 2)
    np.testing.assert_allclose(s2, pca.noise_variance_ * (n - 1) / n, rtol=1e-10)
    np.testing.assert_allclose(model_cov(W, s2), pca.get_covariance() * (n - 1) / n, atol=1e-10)


def test_closed_form_rank_deficient_raises() -> None:
    X = np.outer(np.arange(1.0, 6.0), [1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="ML noise variance is 0"):
        ppca_closed_form(X, 1)


# ---------------------------------------------------------------- the estimator
@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("algorithm", ["px-em", "em"])
def test_ppca_fit_matches_closed_form(q: int, algorithm: str) -> None:
    X = spiked(400, 6, [3.0, 2.0, 1.2], seed=9) + 5.0
    model = PPCA(n_components=q, tol=1e-13, max_iter=20_000, algorithm=algorithm).fit(X)
    W, s2 = ppca_closed_form(X - X.mean(axis=0), q)
    np.testing.assert_allclose(model.mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.noise_variance_, s2, rtol=1e-6)
    np.testing.assert_allclose(model_cov(model.W_, model.noise_variance_), model_cov(W, s2), atol=1e-4)
    assert model.W_.shape == (6, q) and model.n_features_in_ == 6
    ll = model.log_likelihood_
    assert ll.shape == (model.n_iter_ + 1,) and model.converged_
    assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[1:]))
    np.testing.assert_allclose(ll[-1], model.score(X) * len(X), rtol=1e-10)


def test_ppca_fixed_noise_variance() -> None:
    X = spiked(300, 5, [3.0, 1.0], seed=10)
    model = PPCA(n_components=2, noise_variance=0.5, tol=1e-13).fit(X)
    W, _ = ppca_closed_form(X - X.mean(axis=0), 2, noise_variance=0.5)
    assert model.noise_variance_ == 0.5
    np.testing.assert_allclose(model.W_ @ model.W_.T, W @ W.T, atol=1e-5)


def test_ppca_scores_match_scipy_and_transform_matches_conditioning() -> None:
    X = spiked(200, 5, [2.0, 1.0], seed=11) - 3.0
    model = PPCA(n_components=2).fit(X)
    Xnew = spiked(7, 5, [2.0, 1.0], seed=12)
    dist = multivariate_normal(model.mean_, model.get_covariance())
    np.testing.assert_allclose(model.score_samples(Xnew), dist.logpdf(Xnew), rtol=1e-10)
    assert model.score(Xnew) == pytest.approx(dist.logpdf(Xnew).mean(), rel=1e-10)
    W, s2 = model.W_, model.noise_variance_
    gain = np.linalg.solve(model_cov(W, s2), W)  # Sigma_xx^{-1} Sigma_xz
    np.testing.assert_allclose(model.transform(Xnew), (Xnew - model.mean_) @ gain, rtol=1e-9)
    recon = model.inverse_transform(model.transform(Xnew))
    assert recon.shape == Xnew.shape


def test_ppca_inverse_transform_values() -> None:
    X = spiked(200, 5, [2.0, 1.0], seed=11) + 4.0
    model = PPCA(n_components=2).fit(X)
    W, mu, s2 = model.W_, model.mean_, model.noise_variance_
    Z = np.random.default_rng(16).standard_normal((6, 2))
    by_hand = np.array([[mu[j] + sum(W[j, k] * z[k] for k in range(2)) for j in range(5)] for z in Z])
    np.testing.assert_allclose(model.inverse_transform(Z), by_hand, rtol=1e-12)
    # the posterior-mean reconstruction W M^-1 W^T (x - mean) + mean, M = W^T W + sigma2 I
    Xnew = spiked(7, 5, [2.0, 1.0], seed=12)
    M = W.T @ W + s2 * np.eye(2)
    expected = np.array([W @ np.linalg.solve(M, W.T @ (x - mu)) + mu for x in Xnew])
    np.testing.assert_allclose(model.inverse_transform(model.transform(Xnew)), expected, rtol=1e-10)


def test_ppca_canonical_output_and_determinism() -> None:
    X = spiked(300, 6, [3.0, 2.0], seed=13)
    a = PPCA(n_components=2).fit(X)
    b = PPCA(n_components=2).fit(X)
    np.testing.assert_array_equal(a.W_, b.W_)
    gram = a.W_.T @ a.W_
    np.testing.assert_allclose(gram, np.diag(np.diag(gram)), atol=1e-10)
    assert gram[0, 0] >= gram[1, 1]
    idx = np.argmax(np.abs(a.W_), axis=0)
    assert np.all(a.W_[idx, [0, 1]] > 0)


def test_ppca_other_seed_same_model() -> None:
    X = spiked(300, 6, [3.0, 2.0], seed=13)
    a = PPCA(n_components=2, tol=1e-13, random_state=0).fit(X)
    b = PPCA(n_components=2, tol=1e-13, random_state=5).fit(X)
    np.testing.assert_allclose(a.get_covariance(), b.get_covariance(), atol=1e-5)


def test_ppca_blockwise_pass_and_large_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    X = spiked(101, 5, [2.0, 1.0], seed=14)
    ref = PPCA(n_components=2, tol=1e-13).fit(X)
    monkeypatch.setattr(ppca_mod, "_block_rows", lambda d: 7)  # 101 rows = 14 full blocks + 3
    blocked = PPCA(n_components=2, tol=1e-13).fit(X)
    np.testing.assert_allclose(blocked.get_covariance(), ref.get_covariance(), atol=1e-8)
    shifted = PPCA(n_components=2, tol=1e-13).fit(X + 1e4)  # the exact-centering fallback
    np.testing.assert_allclose(shifted.get_covariance(), ref.get_covariance(), atol=1e-5)


def test_ppca_warns_when_max_iter_is_hit() -> None:
    X = spiked(100, 5, [2.0, 1.5], seed=15)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model = PPCA(n_components=1, max_iter=2).fit(X)
    assert model.n_iter_ == 2 and not model.converged_


def test_ppca_not_fitted() -> None:
    model = PPCA()
    for method in (model.transform, model.score_samples, model.score):
        with pytest.raises(NotFittedError, match="not fitted"):
            method(np.zeros((2, 3)))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    assert "n_components=1" in repr(model)


def test_ppca_fit_returns_self_and_init_only_stores() -> None:
    model = PPCA(n_components=-3)  # validated in fit, not in __init__
    assert model.n_components == -3
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        model.fit(np.eye(3))
    ok = PPCA()
    assert ok.fit(spiked(10, 3, [1.0])) is ok


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ppca_posterior(np.ones((3, 2)), np.ones(2), 0.0), "sigma2 must be a finite number > 0"),
        (lambda: ppca_posterior(np.ones((3, 2)), np.ones(2), -1.0), "sigma2 must be a finite number > 0"),
        (lambda: ppca_posterior(np.ones((3, 2)), np.ones(3), 1.0), r"u has shape \(3,\)"),
        (lambda: ppca_posterior(np.ones(3), np.ones(3), 1.0), "X must be 2-D"),
        (lambda: ppca_posterior([[1.0, np.nan]], np.ones(2), 1.0), "X must contain only finite"),
        (lambda: ppca_log_likelihood(np.ones((3, 2)), [1.0, np.inf], 1.0), "u must contain only finite"),
        (lambda: ppca_log_likelihood(np.ones((3, 2)), np.ones(2), np.nan), "sigma2 must be a finite"),
        (lambda: ppca_m_step(np.ones((3, 2)), np.ones(2), np.ones(3)), r"m has shape \(2,\)"),
        (lambda: ppca_m_step(np.ones((3, 2)), np.ones(3), np.zeros(3)), "must be > 0"),
        (lambda: ppca_m_step(np.ones((3, 2)), 2 * np.ones(3), np.ones(3)), ">= m"),
        (lambda: ppca_em(np.ones((1, 2)), 1.0), "at least 2 samples"),
        (lambda: ppca_em(np.ones((3, 2)), 1.0, u0=np.ones(3)), r"u0 has shape"),
        (lambda: ppca_em(np.ones((3, 2)), 1.0, max_iter=0), "max_iter must be >= 1"),
        (lambda: ppca_em(np.ones((3, 2)), 1.0, tol=0.0), "tol must be a finite number > 0"),
        (lambda: ppca_closed_form(np.eye(3), 3), "n_components must be < the number of features D=3"),
        (lambda: ppca_closed_form(np.eye(3), 0), "n_components must be >= 1"),
        (lambda: ppca_closed_form(np.ones((1, 3)), 1), "at least 2 samples"),
        (lambda: ppca_closed_form(np.eye(3), 1, noise_variance=-1.0), "noise_variance must be"),
        (lambda: PPCA(n_components=3).fit(np.eye(3)), "n_components must be < the number"),
        (lambda: PPCA().fit(np.ones((1, 3))), "at least 2 samples"),
        (lambda: PPCA().fit(np.ones((4, 3))), "zero variance"),
        (lambda: PPCA(noise_variance=0.0).fit(np.eye(3)), "noise_variance must be a finite number > 0"),
        (lambda: PPCA(algorithm="svd").fit(np.eye(3)), "unknown algorithm 'svd'"),
        (lambda: PPCA().fit([[1.0, 2.0], [np.inf, 0.0]]), "X must contain only finite"),
        (lambda: PPCA().fit(np.eye(3)).transform(np.ones((2, 4))), r"X has shape \(2, 4\)"),
        (lambda: PPCA().fit(np.eye(3)).inverse_transform(np.ones((2, 2))), r"Z has shape \(2, 2\)"),
    ],
)
def test_bad_input_raises_value_error(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_type_errors() -> None:
    with pytest.raises(TypeError, match="sigma2 must be a real number"):
        ppca_posterior(np.ones((2, 2)), np.ones(2), "1")
    with pytest.raises(TypeError, match="n_components must be an integer"):
        ppca_closed_form(np.eye(3), 1.5)


def test_public_names() -> None:
    for name in ("ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em", "EMResult", "PPCA", "ppca_closed_form"):
        assert name in hw4lib.__all__ and hasattr(hw4lib, name)
