"""Tests for hw4lib.ppca (chapters 3 and 6): EM for probabilistic PCA.

Expected values come from independent computations: joint-Gaussian
conditioning, scipy's multivariate normal density, eigendecompositions of the
D x D covariance, an SVD of the data, formulas written out entry by entry and
scikit-learn's PCA. A loading matrix is identified only up
to rotation and sign, so models are compared through ``W W^T + sigma2 I``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import hw4lib
import hw4lib._ppca_common as common
import hw4lib._ppca_complete as complete
from hw4lib import (
    PPCA,
    EMResult,
    ppca_closed_form,
    ppca_em,
    ppca_log_likelihood,
    ppca_m_step,
    ppca_posterior,
)
from hw4lib.ppca import ConvergenceWarning
from oracles import spectrum_data

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


# ---------------------------------------------------------------- independent oracles
def data_eig(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of the centred sample covariance from an SVD of the centred data."""
    _, sv, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return sv**2 / len(X), Vt.T


def ml_log_likelihood(X: np.ndarray, q: int) -> tuple[float, float]:
    """Tipping and Bishop's maximum (eqs. 7-8): the log-likelihood and sigma2, from the spectrum."""
    n, d = X.shape
    lam, _ = data_eig(X)
    s2 = lam[q:].sum() / (d - q)
    return -0.5 * n * (d * np.log(2 * np.pi) + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d), s2


def gaussian_log_likelihood(X: np.ndarray, mean: np.ndarray, C: np.ndarray) -> float:
    """sum_i log N(x_i; mean, C), evaluated in the data's own whitened eigenbasis (N > D).

    Whitening by the sample spectrum keeps the Cholesky factor well conditioned even when
    the eigenvalues of C span twelve decades (breast_cancer), where scipy's logpdf fails.
    """
    n, d = X.shape
    lam, V = data_eig(X)
    Cw = (V.T @ C @ V) / np.sqrt(np.outer(lam, lam))
    L = np.linalg.cholesky(Cw)
    dm = V.T @ (X.mean(axis=0) - mean) / np.sqrt(lam)
    quad = np.sum(np.linalg.inv(L) ** 2) + float(dm @ np.linalg.solve(Cw, dm))
    return -0.5 * n * (d * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum() + np.log(lam).sum() + quad)


def check_maximum_or_warned(model: PPCA, X: np.ndarray, warned: bool) -> bool:
    """The issue's criterion: at the maximum (1e-6 relative + 1e-3 nats, sigma2 within 1e-2) or
    honestly not converged (and warned). Returns whether the fit is at the maximum."""
    ll_ml, s2_ml = ml_log_likelihood(X, model.n_components)
    ll = gaussian_log_likelihood(X, model.mean_, model.get_covariance())
    at_max = ll_ml - ll <= 1e-6 * abs(ll_ml) + 1e-3 and abs(model.noise_variance_ / s2_ml - 1) <= 1e-2
    assert at_max or (not model.converged_ and warned), (model, ll_ml - ll, model.noise_variance_ / s2_ml)
    assert model.converged_ != warned
    return at_max


def fit_recording(model: PPCA, X: np.ndarray) -> tuple[PPCA, bool]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    return model, any(issubclass(w.category, ConvergenceWarning) for w in caught)


# ---------------------------------------------------------------- the log-likelihood, accurately
@pytest.mark.parametrize("sigma2", [1.0, 1e-6, 1e-12, 1e-20])
def test_log_likelihood_matches_mpmath_for_data_in_span_of_u(sigma2: float) -> None:
    """Data lying in span(u): the subtraction ||x||^2 - (u^T x)^2 / M loses every digit."""
    rng = np.random.default_rng(0)
    u = rng.standard_normal(4)
    X = rng.standard_normal((6, 1)) * u  # x_i = z_i u, up to rounding
    mpmath.mp.dps = 60
    d = len(u)
    uu = mpmath.fsum(mpmath.mpf(v) ** 2 for v in u)
    M = mpmath.mpf(sigma2) + uu
    exact = mpmath.mpf(0)
    for x in X:
        ux = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(b) for a, b in zip(u, x))
        xx = mpmath.fsum(mpmath.mpf(a) ** 2 for a in x)
        quad = (xx - ux**2 / M) / sigma2
        exact += -(d * mpmath.log(2 * mpmath.pi) + (d - 1) * mpmath.log(sigma2) + mpmath.log(M) + quad) / 2
    np.testing.assert_allclose(ppca_log_likelihood(X, u, sigma2), float(exact), rtol=1e-12)
    # the estimator's score_samples shares the formula: a fitted model with this u and sigma2
    model = PPCA(noise_variance=1.0).fit(rng.standard_normal((20, 4)))
    model.mean_, model.W_, model.noise_variance_ = np.zeros(4), u[:, None], sigma2
    np.testing.assert_allclose(model.score_samples(X).sum(), float(exact), rtol=1e-12)


def test_em_history_is_the_exact_log_likelihood_and_never_decreases() -> None:
    X = load_breast_cancer().data
    for q in (1, 10, 25):
        model = PPCA(n_components=q, random_state=0, tol=1e-8).fit(X)
        ll = model.log_likelihood_
        assert ll.shape == (model.n_iter_ + 1,) and model.n_iter_ >= 1
        assert np.all(np.diff(ll) >= -1e-9 * np.abs(ll[1:])), np.diff(ll).min()
        np.testing.assert_allclose(ll[-1], gaussian_log_likelihood(X, model.mean_, model.get_covariance()),
                                   rtol=1e-10)
        np.testing.assert_allclose(ll[-1], model.score(X) * len(X), rtol=1e-10)


# ---------------------------------------------------------------- EM (the homework loop)
@SETTINGS
@given(d=st.integers(2, 6), sigma2=st.floats(0.05, 5.0), seed=st.integers(0, 10_000), px=st.booleans())
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
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = ppca_em(X, sigma2, u0=u0, max_iter=3)
    u = u0
    lls = [ppca_log_likelihood(X, u, sigma2)]
    for _ in range(3):
        u = ppca_m_step(X, *ppca_posterior(X, u, sigma2))
        lls.append(ppca_log_likelihood(X, u, sigma2))
    assert res.n_iter == 3 and not res.converged
    np.testing.assert_allclose(res.log_likelihood, lls, rtol=1e-12)
    np.testing.assert_allclose(np.outer(res.u, res.u), np.outer(u, u), rtol=1e-10)


def test_px_em_step_is_the_m_step_times_the_latent_standard_deviation() -> None:
    X = spiked(30, 3, [1.5], seed=2)
    u0, sigma2 = np.array([0.3, -0.2, 0.5]), 0.8
    with pytest.warns(ConvergenceWarning):
        res = ppca_em(X, sigma2, u0=u0, max_iter=1, parameter_expansion=True)
    m, s = ppca_posterior(X, u0, sigma2)
    expected = ppca_m_step(X, m, s) * np.sqrt(np.mean(s))
    np.testing.assert_allclose(np.outer(res.u, res.u), np.outer(expected, expected), rtol=1e-12)


FIXED_FRACTIONS = [1e-6, 1e-3, 0.1, 0.5, 0.9, 0.99, 1.5]


@pytest.mark.parametrize("fraction", FIXED_FRACTIONS)
@pytest.mark.parametrize("px", [False, True])
@pytest.mark.parametrize("start", ["default", "tiny"])
def test_em_at_fixed_sigma2_reaches_the_maximum_or_says_not(fraction: float, px: bool, start: str) -> None:
    """sigma2 from 1e-6 lambda_1 to 0.99 lambda_1 (and above it), from the default and a tiny start."""
    X = spiked(300, 5, [3.0, 1.0], seed=3)
    lam1 = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    sigma2 = fraction * lam1
    u0 = None if start == "default" else 1e-10 * np.ones(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ppca_em(X, sigma2, u0=u0, parameter_expansion=px)
    W, _ = ppca_closed_form(X, 1, noise_variance=sigma2)
    gap = ppca_log_likelihood(X, W[:, 0], sigma2) - res.log_likelihood[-1]
    at_max = gap <= 1e-6 * abs(res.log_likelihood[-1]) + 1e-3
    cov_err = np.abs(np.outer(res.u, res.u) - W @ W.T).max() / (lam1 if fraction < 1 else sigma2)
    assert res.converged == (not caught)
    if res.converged:  # converged means: within about tol = 1e-4 of the fixed point
        assert at_max and cov_err < 1e-3, (gap, cov_err)
    if px and fraction < 1:  # PX-EM gets there in every case
        assert res.converged
    if not px and fraction <= 1e-6:  # plain EM crawls at small sigma2 (rate 1 - 2 sigma2 / lambda_1)
        assert not res.converged


@pytest.mark.parametrize("px", [False, True])
def test_em_stopping_is_unit_free(px: bool) -> None:
    X = spiked(200, 5, [3.0, 1.0], seed=4)
    runs = [ppca_em(c * X, c**2 * 0.3, parameter_expansion=px) for c in (1.0, 1e-6, 1e6)]
    assert len({r.n_iter for r in runs}) == 1, [r.n_iter for r in runs]
    for c, r in zip((1.0, 1e-6, 1e6), runs):
        np.testing.assert_allclose(r.u / c, runs[0].u, rtol=1e-8)


def test_em_shrinks_to_zero_when_noise_exceeds_top_eigenvalue() -> None:
    X = spiked(200, 4, [0.5], seed=4, noise=0.5)
    lam1 = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    res = ppca_em(X, 1.5 * lam1)
    W, _ = ppca_closed_form(X, 1, noise_variance=1.5 * lam1)
    np.testing.assert_array_equal(W, 0.0)
    assert res.converged and res.u @ res.u < 1e-4 * 1.5 * lam1
    assert isinstance(res, EMResult)


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


# ---------------------------------------------------------------- the estimator on data nobody here made
REAL = {"wine": load_wine().data, "breast_cancer": load_breast_cancer().data}


@pytest.mark.parametrize("algorithm", ["px-em", "em"])
@pytest.mark.parametrize("name", sorted(REAL))
def test_ppca_reaches_the_maximum_on_bundled_real_data(name: str, algorithm: str) -> None:
    """Unstandardised (column scales differ by 1e4 and more), every q from 1 to D - 1."""
    X = REAL[name]
    for q in range(1, X.shape[1]):
        model, warned = fit_recording(PPCA(n_components=q, algorithm=algorithm, random_state=0), X)
        assert check_maximum_or_warned(model, X, warned) and model.converged_, q


def sweep_case(seed: int) -> tuple[np.ndarray, int]:
    """Random N, D, q <= D - 1; spectra with and without gaps; scales over 1e+-4; heavy tails."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 41))
    n, q = int(rng.integers(d + 2, 400)), int(rng.integers(1, d))
    kind = seed % 3
    if kind == 0:  # a gap: k strong factors plus unit noise
        k = int(rng.integers(1, d))
        X = rng.standard_normal((n, k)) @ (3.0 * rng.standard_normal((k, d))) + rng.standard_normal((n, d))
    elif kind == 1:  # no gap at all
        X = rng.standard_normal((n, d))
    else:  # a smooth geometric decay in a random basis
        X = (rng.standard_normal((n, d)) * 0.8 ** np.arange(d)) @ np.linalg.qr(rng.standard_normal((d, d)))[0]
    if rng.random() < 0.3:
        X *= rng.standard_t(2.5, size=(n, 1))  # heavy tails
    if rng.random() < 0.5:
        X *= 10.0 ** rng.uniform(-4.0, 4.0, size=d)  # column scales spread over 1e+-4
    return X + rng.standard_normal(d) * 10.0 ** rng.uniform(-2.0, 3.0), q


@pytest.mark.parametrize("chunk", range(10))
def test_ppca_randomised_sweep(chunk: int) -> None:
    """500 seeded synthetic data sets against the closed-form oracle (50 per test, for xdist)."""
    right = 0
    for seed in range(50 * chunk, 50 * chunk + 50):
        X, q = sweep_case(seed)
        model, warned = fit_recording(PPCA(n_components=q, random_state=seed), X)
        right += check_maximum_or_warned(model, X, warned)
    assert right == 50


def test_ppca_from_a_random_start_never_claims_a_saddle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the randomized start (W0 random, the remedy removed), EM stops near saddles on
    breast_cancer; the convergence test must then say so instead of reporting converged."""
    def random_subspace(X: np.ndarray, mean: np.ndarray, q: int, total: float, rng: object,
                        mean_lo: np.ndarray, good_enough: object) -> tuple[np.ndarray, ...]:
        U = np.linalg.qr(np.random.default_rng(0).standard_normal((X.shape[1], q)))[0]
        return (U, *common.projection_sums(X, mean, U, total, mean_lo))

    monkeypatch.setattr(complete, "EXACT_MAX_FEATURES", 0)  # not the covariance's eigenvectors
    monkeypatch.setattr(complete, "randomized_start", random_subspace)
    X = REAL["breast_cancer"]
    results = []
    for q in (5, 12, 20, 25):
        model, warned = fit_recording(PPCA(n_components=q, max_iter=300), X)
        results.append(check_maximum_or_warned(model, X, warned))
    assert not all(results)  # the random start really does fail here: the test has teeth


def test_ppca_fit_is_unit_free() -> None:
    X = REAL["wine"]
    fits = [PPCA(n_components=4, algorithm="em", random_state=0).fit(c * X) for c in (1.0, 1e-6, 1e6)]
    assert len({m.n_iter_ for m in fits}) == 1
    for c, m in zip((1.0, 1e-6, 1e6), fits):
        np.testing.assert_allclose(m.noise_variance_ / c**2, fits[0].noise_variance_, rtol=1e-8)


def test_ppca_centring_with_a_large_offset() -> None:
    X = spiked(300, 6, [3.0, 2.0], seed=13)
    a = PPCA(n_components=2, random_state=0).fit(X)
    b = PPCA(n_components=2, random_state=0).fit(X + 1e6)
    np.testing.assert_allclose(b.mean_ - 1e6, a.mean_, atol=1e-8)
    np.testing.assert_allclose(b.get_covariance(), a.get_covariance(), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("noise", [1.0, 1e-5])  # the Pythagoras shortcut; the direct residual
def test_ppca_pass_matches_the_residuals_written_out(noise: float) -> None:
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((5, 2)))[0]
    X = np.tile(rng.standard_normal((101, 2)) @ U.T * 1e3 + noise * rng.standard_normal((101, 5)), (100, 1))
    X += 50.0  # an offset: projection_sums centres inside its products
    mean = X.mean(axis=0)
    Xc = X - mean  # 10 100 rows: several blocks on the direct path
    AtA, RtA, rss = common.projection_sums(X, mean, U, float(np.sum(Xc * Xc)))
    X = Xc
    A = X @ U
    R = X - A @ U.T
    np.testing.assert_allclose(AtA, A.T @ A, rtol=1e-12)
    np.testing.assert_allclose(RtA, R.T @ A, rtol=1e-6, atol=1e-7 * np.abs(R.T @ A).max())
    np.testing.assert_allclose(rss, np.sum(R * R), rtol=1e-6)


def test_ppca_sigma2_update_is_tipping_bishop_eq_30() -> None:
    """The cancellation-free sigma2 update equals eq. 30 written out, on well-scaled data."""
    X = spiked(200, 5, [2.0, 1.0], seed=5)
    X = X - X.mean(axis=0)
    n, d = X.shape
    U = np.linalg.qr(np.random.default_rng(1).standard_normal((d, 2)))[0]
    w2, s2 = np.array([2.0, 0.5]), 0.7
    AtA, RtA, rss = common.projection_sums(X, np.zeros(d), U, float(np.sum(X * X)))
    W_new, s2_new = complete._em_step(U, w2, s2, AtA / n, RtA / n, rss / n, learn_noise=True,
                                      expand=False)
    S, W = X.T @ X / n, U * np.sqrt(w2)
    M = W.T @ W + s2 * np.eye(2)
    W_tb = S @ W @ np.linalg.inv(s2 * np.eye(2) + np.linalg.inv(M) @ W.T @ S @ W)  # TB99 eq. 29
    np.testing.assert_allclose(W_new, W_tb, rtol=1e-10)
    np.testing.assert_allclose(s2_new, np.trace(S - S @ W @ np.linalg.inv(M) @ W_tb.T) / d, rtol=1e-10)


def test_ppca_fixed_noise_variance() -> None:
    X = spiked(300, 5, [3.0, 1.0], seed=10)
    model = PPCA(n_components=2, noise_variance=0.5, random_state=0).fit(X)
    W, _ = ppca_closed_form(X - X.mean(axis=0), 2, noise_variance=0.5)
    assert model.noise_variance_ == 0.5 and model.converged_
    np.testing.assert_allclose(model.W_ @ model.W_.T, W @ W.T, atol=1e-3)


def test_ppca_warns_when_max_iter_is_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(complete, "EXACT_MAX_FEATURES", 0)  # EM from the randomized start,
    monkeypatch.setattr(common, "MAX_POWER_ITERATIONS", 3)  # three passes, not to the maximum
    X = spiked(100, 40, [2.0, 1.9, 1.8], seed=15)  # close eigenvalues: the subspace converges slowly
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        model = PPCA(n_components=2, max_iter=1, tol=1e-12, random_state=0).fit(X)
    assert model.n_iter_ == 1 and not model.converged_


def test_ppca_rank_deficient_data_is_refused() -> None:
    X = np.outer(np.arange(1.0, 9.0), [1.0, 2.0, 0.0, 1.0]) + 3.0
    with pytest.raises(ValueError, match="rank <= n_components=1"):
        PPCA(n_components=1, random_state=0).fit(X)
    PPCA(n_components=1, noise_variance=0.1, random_state=0).fit(X)  # fine with a fixed sigma2


def test_ppca_scores_match_scipy_and_transform_matches_conditioning() -> None:
    X = spiked(200, 5, [2.0, 1.0], seed=11) - 3.0
    model = PPCA(n_components=2, random_state=0).fit(X)
    Xnew = spiked(7, 5, [2.0, 1.0], seed=12)
    dist = multivariate_normal(model.mean_, model.get_covariance())
    np.testing.assert_allclose(model.score_samples(Xnew), dist.logpdf(Xnew), rtol=1e-10)
    assert model.score(Xnew) == pytest.approx(dist.logpdf(Xnew).mean(), rel=1e-10)
    W, s2 = model.W_, model.noise_variance_
    gain = np.linalg.solve(model_cov(W, s2), W)  # Sigma_xx^{-1} Sigma_xz
    np.testing.assert_allclose(model.transform(Xnew), (Xnew - model.mean_) @ gain, rtol=1e-9)


def test_ppca_inverse_transform_values() -> None:
    X = spiked(200, 5, [2.0, 1.0], seed=11) + 4.0
    model = PPCA(n_components=2, random_state=0).fit(X)
    W, mu = model.W_, model.mean_
    Z = np.random.default_rng(16).standard_normal((6, 2))
    by_hand = np.array([[mu[j] + sum(W[j, k] * z[k] for k in range(2)) for j in range(5)] for z in Z])
    np.testing.assert_allclose(model.inverse_transform(Z), by_hand, rtol=1e-12)


def test_ppca_canonical_output_and_determinism() -> None:
    X = spiked(300, 6, [3.0, 2.0], seed=13)
    a = PPCA(n_components=2, random_state=0).fit(X)
    b = PPCA(n_components=2, random_state=0).fit(X)
    np.testing.assert_array_equal(a.W_, b.W_)
    gram = a.W_.T @ a.W_
    np.testing.assert_allclose(gram, np.diag(np.diag(gram)), atol=1e-10)
    assert gram[0, 0] >= gram[1, 1]
    idx = np.argmax(np.abs(a.W_), axis=0)
    assert np.all(a.W_[idx, [0, 1]] > 0)
    c = PPCA(n_components=2, random_state=5).fit(X)  # another seed, the same model
    np.testing.assert_allclose(c.get_covariance(), a.get_covariance(), rtol=1e-6)


# ---------------------------------------------------------------- scikit-learn conformance
def test_check_estimator_passes_every_check() -> None:
    """Run in a child process: SCIPY_ARRAY_API=1 must be set before scipy is imported, or
    check_array_api_input skips itself. Every check must pass; none is skipped."""
    code = (
        "from sklearn.utils.estimator_checks import check_estimator\n"
        "from hw4lib import PPCA\n"
        "res = check_estimator(PPCA(), on_fail=None)\n"
        "bad = [(r['check_name'], r['status'], str(r['exception'])[:200]) for r in res if r['status'] != 'passed']\n"
        "print(len(res), bad)\n"
        "assert len(res) > 40 and not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONWARNINGS": "ignore"})
    assert out.returncode == 0, out.stdout + out.stderr


def test_clone_params_pipeline_and_model_selection() -> None:
    X = REAL["wine"]
    model = PPCA(n_components=2, random_state=0)
    assert clone(model).get_params() == model.get_params()
    assert model.set_params(n_components=3).n_components == 3
    Z = model.fit_transform(X)
    assert Z.shape == (len(X), 3)
    np.testing.assert_allclose(Z, model.transform(X), rtol=1e-12)
    assert list(model.get_feature_names_out()) == ["ppca0", "ppca1", "ppca2"]
    pipe = make_pipeline(StandardScaler(), PPCA(n_components=2, random_state=0)).fit(X)
    assert pipe.transform(X).shape == (len(X), 2)
    scores = cross_val_score(PPCA(n_components=2, random_state=0), X, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    search = GridSearchCV(PPCA(random_state=0), {"n_components": [1, 3, 6]}, cv=3).fit(X)
    assert search.best_params_["n_components"] in (1, 3, 6)
    assert search.best_score_ == pytest.approx(np.max(search.cv_results_["mean_test_score"]))


def test_ppca_not_fitted() -> None:
    for method in ("transform", "score_samples", "score", "inverse_transform", "get_covariance"):
        with pytest.raises(NotFittedError):
            getattr(PPCA(), method)(*([] if method == "get_covariance" else [np.zeros((2, 3))]))


def test_public_names() -> None:
    for name in ("ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em", "EMResult", "PPCA", "ppca_closed_form"):
        assert name in hw4lib.__all__ and hasattr(hw4lib, name)


# ---------------------------------------------------------------- near-degenerate spectra
@pytest.mark.parametrize("gap", [3e-4, 1e-4])
def test_ppca_near_degenerate_eigenvalues_are_the_maximum_or_warned(gap: float) -> None:
    """lambda_1 and lambda_2 almost equal: the fixed-point residual is small far from the
    maximum (it is the eigengap times the angle); the gain estimate must not be fooled."""
    X = spectrum_data(3000, [1.0, 1.0 - gap] + [0.5] * 6)
    for seed in range(3):
        model, warned = fit_recording(PPCA(n_components=1, random_state=seed, max_iter=200), X)
        check_maximum_or_warned(model, X, warned)


@pytest.mark.parametrize(
    ("q", "algorithm", "X"),
    [
        (8, "px-em", np.random.default_rng(0).standard_normal((5, 10))),
        (5, "em", np.random.default_rng(1).standard_normal((5, 10))),
        (1, "px-em", np.ones((10, 4))),
        (2, "em", np.random.default_rng(2).standard_normal((50, 2)) @ np.ones((2, 6))),
    ],
)
def test_ppca_rank_deficient_data_raise_the_rank_error(q: int, algorithm: str, X: np.ndarray) -> None:
    with pytest.raises(ValueError, match=f"rank <= n_components={q}"):
        PPCA(n_components=q, algorithm=algorithm, random_state=0).fit(X)


def test_em_residual_is_whitened_so_small_sigma2_still_means_close() -> None:
    """At sigma2 = 1e-5 lambda_1 the direction residual must be measured against sqrt(sigma2 v),
    not v: otherwise PX-EM stops with u u^T off by ~3e-4 instead of ~1e-6 (a review mutant)."""
    X = spiked(300, 5, [3.0, 1.0], seed=3)
    lam1 = np.linalg.eigvalsh(X.T @ X / len(X))[-1]
    res = ppca_em(X, 1e-5 * lam1, parameter_expansion=True)
    W, _ = ppca_closed_form(X, 1, noise_variance=1e-5 * lam1)
    assert res.converged
    assert np.abs(np.outer(res.u, res.u) - W @ W.T).max() / lam1 < 1e-5
