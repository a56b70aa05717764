"""PPCA at its edges (issue 22): the whole float range, large offsets, q above the signal rank,
near-equal eigenvalues, sigma2 above lambda_1, unbounded likelihoods with missing entries, and
fuzzed inputs that must end in a fit, a named warning or a ValueError, never a raw numpy error.

Oracles that do not come from the code under test: Tipping and Bishop's closed form from
numpy's SVD of the centred data (written out here), scipy's multivariate normal density on each
row's observed entries, and the likelihood of ``u = 0`` written out. ``tol`` is in nats per
sample: a fit that says it converged must be within ``tol * N`` nats of the maximum.
"""

from __future__ import annotations

import warnings
from typing import Any

import mpmath
import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.datasets import load_iris, load_linnerud

import hw4lib
import hw4lib._ppca_complete as complete
from hw4lib import PPCA, ppca_closed_form, ppca_em, ppca_log_likelihood
from hw4lib.ppca import ConvergenceWarning
from oracles import observed_loglik, spectrum_data

LOG_2PI = np.log(2.0 * np.pi)
TOL = PPCA().tol  # the default, nats per sample
ROUNDOFF = 1e-10  # relative: two evaluations of a log-likelihood agree to this


# ---------------------------------------------------------------- oracles
def closed_form(X: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Tipping and Bishop's maximum from numpy's SVD of the centred data: mean, W, sigma2, LL."""
    n, d = X.shape
    mean = X.mean(axis=0)
    _, sv, Vt = np.linalg.svd(X - mean, full_matrices=False)
    lam = np.zeros(d)
    lam[: sv.size] = sv**2 / n
    s2 = lam[q:].mean()
    W = Vt[:q].T * np.sqrt(lam[:q] - s2)
    ll = -0.5 * n * (d * LOG_2PI + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d)
    return mean, W, float(s2), float(ll)


def canonical(W: np.ndarray) -> np.ndarray:
    """Columns by decreasing norm, the largest-magnitude entry of each positive."""
    W = W[:, np.argsort(-np.linalg.norm(W, axis=0))]
    return W * np.sign(W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])])


def gaussian_ll(X: np.ndarray, mean: np.ndarray, C: np.ndarray) -> float:
    return float(multivariate_normal(mean, C).logpdf(X).sum())



def observed_ll_exact(X: np.ndarray, mean: np.ndarray, W: np.ndarray, sigma2: float) -> np.ndarray:
    """The same densities in 40-digit arithmetic (mpmath), for models with a tiny sigma2, where
    ``C = W W^T + sigma2 I`` in float64 is too ill-conditioned for scipy's check."""
    mpmath.mp.dps = 40
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        o = np.flatnonzero(~np.isnan(x))
        if not o.size:
            continue  # nothing observed: log 1
        Wo = mpmath.matrix([[mpmath.mpf(v) for v in W[j]] for j in o])
        C = Wo * Wo.T + mpmath.mpf(sigma2) * mpmath.eye(len(o))
        r = mpmath.matrix([mpmath.mpf(x[j]) - mpmath.mpf(mean[j]) for j in o])
        L = mpmath.cholesky(C)
        logdet = 2 * mpmath.fsum(mpmath.log(L[k, k]) for k in range(len(o)))
        y = mpmath.lu_solve(L, r)  # L y = r
        out[i] = float(-(len(o) * mpmath.log(2 * mpmath.pi) + logdet + mpmath.fsum(v * v for v in y)) / 2)
    return out


def fit_strict(model: PPCA, X: np.ndarray) -> tuple[PPCA, list[warnings.WarningMessage]]:
    """Fit, recording every warning; a RuntimeWarning or any non-ConvergenceWarning fails."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X)
    bad = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not bad, [str(w.message) for w in bad]
    return model, caught


# ---------------------------------------------------------------- 1. the whole float range
BASE = np.random.default_rng(0).standard_normal((50, 5)) @ np.random.default_rng(1).standard_normal((5, 5))
TINY, HUGE = np.finfo(np.float64).tiny, np.finfo(np.float64).max
# the largest entry of X * c: from 2^-1000 (its smallest entries still normal) to the largest float
LARGEST = [2.0**-1000, 1e-250, 1e-200, 1e-150, 1e-100, 1e-80, 1e-20, 1.0, 1e20, 1e70, 1e80, 1e100,
           1e140, 1e150, 1e200, 1e300, HUGE / 2]


@pytest.mark.parametrize("largest", LARGEST)
def test_fit_is_equivariant_over_the_whole_float_range(largest: float) -> None:
    """PPCA(1).fit(X * c) is the maximum of X, scaled: W_ c, mean_ c, sigma2 c^2, LL - N D log c."""
    c = largest / np.abs(BASE).max()
    Xc = BASE * c
    assert np.abs(Xc).min() >= TINY and np.isfinite(Xc).all()
    mean, W, s2, ll = closed_form(BASE, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning, no ConvergenceWarning
        model = PPCA(1, random_state=0).fit(Xc)
    n, d = BASE.shape
    assert model.converged_
    np.testing.assert_allclose(model.W_ / c, canonical(W), rtol=1e-6)
    np.testing.assert_allclose(model.mean_ / c, mean, rtol=1e-9, atol=1e-12 * np.abs(mean).max())
    np.testing.assert_allclose(model.score(Xc) + d * np.log(c), ll / n, rtol=1e-9)
    np.testing.assert_allclose(model.log_likelihood_[-1] + n * d * np.log(c), ll, rtol=1e-9)
    M = W.T @ W + s2
    np.testing.assert_allclose(model.transform(Xc), np.sign(model.W_.T @ W) * (BASE - mean) @ W / M,
                               rtol=1e-6, atol=1e-9)
    log_variance = np.log(s2) + 2 * np.log(c)  # sigma2 in the data's units: a float only for moderate c
    if np.log(TINY) <= log_variance <= np.log(HUGE):
        np.testing.assert_allclose(model.noise_variance_ / c / c, s2, rtol=1e-8)
    else:  # as documented: it overflows to inf, or underflows towards 0
        assert model.noise_variance_ == np.inf if c > 1 else model.noise_variance_ < TINY


@pytest.mark.parametrize("largest", [2.0**-1000, 1e-200, 1e200, HUGE / 2])
def test_missing_data_fit_is_equivariant_over_the_float_range(largest: float) -> None:
    """With NaN too: the fit of X * c is the fit of X, scaled (score shifted by |o| log c)."""
    X = np.random.default_rng(2).standard_normal((200, 2)) @ np.random.default_rng(3).standard_normal((2, 6))
    X += 0.3 * np.random.default_rng(4).standard_normal(X.shape)
    X[np.random.default_rng(5).random(X.shape) < 0.2] = np.nan
    c = largest / np.nanmax(np.abs(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = PPCA(2, random_state=0).fit(X)
        model = PPCA(2, random_state=0).fit(X * c)
    n_obs = (~np.isnan(X)).sum(axis=1)
    np.testing.assert_allclose(model.W_ / c, ref.W_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.score_samples(X * c) + n_obs * np.log(c), ref.score_samples(X),
                               rtol=1e-8)
    np.testing.assert_allclose(model.transform(X * c), ref.transform(X), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("largest", [1e-150, 1e-100, 1e100, 1e150])
def test_closed_form_is_equivariant(largest: float) -> None:
    c = largest / np.abs(BASE).max()
    _, W, s2, _ = closed_form(BASE, 2)
    Xc = BASE - BASE.mean(axis=0)
    W_c, s2_c = ppca_closed_form(Xc * c, 2)
    np.testing.assert_allclose(W_c / c, canonical(W), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(s2_c / c / c, s2, rtol=1e-8)


# ---------------------------------------------------------------- 2 and 9. unbounded likelihoods
def one_row_three_entries() -> np.ndarray:
    """The issue's data: 80 x 4, column 3 in rows 0-51, column 0 in rows 52-78, row 79 (., 0, 0, 1).

    With q = 2, row 79's three entries can be fitted exactly: the likelihood is unbounded.
    """
    rng = np.random.default_rng(0)
    X = np.full((80, 4), np.nan)
    X[:52, 3] = rng.standard_normal(52)
    X[52:79, 0] = rng.standard_normal(27)
    X[79] = [np.nan, 0.0, 0.0, 1.0]
    return X


@pytest.mark.parametrize("n_init", [1, 2, 5, 8])
def test_an_unbounded_likelihood_is_named_on_every_n_init(n_init: int) -> None:
    """No start raises a numpy error; the fit says the likelihood is unbounded (a named warning,
    or the rank error when no start stays bounded), never just "did not reach tol"."""
    X = one_row_three_entries()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            PPCA(2, n_init=n_init, random_state=1).fit(X)
        except ValueError as err:
            assert "unbounded" in str(err) and "noise variance is 0" in str(err)
            assert not caught, [str(w.message) for w in caught]
            return
    assert [w.category for w in caught] == [hw4lib.UnboundedLikelihoodWarning]
    assert "unbounded" in str(caught[0].message)


def test_unbounded_warning_is_a_convergence_warning() -> None:
    assert issubclass(hw4lib.UnboundedLikelihoodWarning, ConvergenceWarning)
    assert "UnboundedLikelihoodWarning" in hw4lib.__all__


def few_rows_low_rank(seed: int) -> np.ndarray:
    """25 x 10 of rank 3 plus noise 1e-6, 70 % missing: mostly an unbounded likelihood at q = 3."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((25, 3)) @ rng.standard_normal((3, 10)) + 1e-6 * rng.standard_normal((25, 10))
    X[rng.random(X.shape) < 0.7] = np.nan
    X[0, np.isnan(X).all(axis=0)] = 0.5  # every column observed
    return X


@pytest.mark.parametrize("seed", range(4))
def test_few_rows_low_rank_are_named_and_their_scores_are_the_density(seed: int) -> None:
    """Either the rank error, or a fit whose score_samples is scipy's density of the observed
    entries and whose history never decreases (a collapsing start is named, not returned)."""
    X = few_rows_low_rank(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = PPCA(3, n_init=3, random_state=0).fit(X)
        except ValueError as err:
            assert "unbounded" in str(err)
            return
    assert all(issubclass(w.category, ConvergenceWarning) for w in caught)
    ll = model.log_likelihood_
    assert np.all(np.diff(ll) >= -1e-9 * abs(ll[-1]))
    np.testing.assert_allclose(model.score_samples(X), observed_loglik(X, model.mean_, model.get_covariance()),
                               rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- 3. q above the signal rank
@pytest.fixture(scope="module")
def five_factors() -> tuple[np.ndarray, np.ndarray]:
    """The issue's shape: 20 000 x 100, five factors plus unit noise; and its spectrum."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 5)) @ rng.standard_normal((5, 100)) + rng.standard_normal((20_000, 100))
    lam = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2 / len(X)
    return X, lam


def ml_from_spectrum(lam: np.ndarray, q: int, n: int) -> float:
    d, s2 = lam.size, lam[q:].mean()
    return float(-0.5 * n * (d * LOG_2PI + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d))


@pytest.mark.parametrize("q", [1, 5, 6, 10, 20, 50, 99])
def test_q_above_the_signal_rank_reaches_the_maximum_at_once(
    q: int, five_factors: tuple[np.ndarray, np.ndarray]
) -> None:
    """At the maximum (the closed form, within tol), converged in a few iterations, no warning."""
    X, lam = five_factors
    model, caught = fit_strict(PPCA(q, random_state=0), X)
    best = ml_from_spectrum(lam, q, len(X))
    assert not caught and model.converged_ and model.n_iter_ <= 3
    assert best - model.log_likelihood_[-1] <= TOL * len(X) + ROUNDOFF * abs(best)
    np.testing.assert_allclose(model.score(X) * len(X), model.log_likelihood_[-1], rtol=1e-12)


@pytest.mark.slow
def test_every_q_above_the_signal_rank_reaches_the_maximum(five_factors: tuple[np.ndarray, np.ndarray]) -> None:
    X, lam = five_factors
    for q in range(1, X.shape[1]):
        model, caught = fit_strict(PPCA(q, random_state=q), X)
        best = ml_from_spectrum(lam, q, len(X))
        assert not caught and model.converged_ and model.n_iter_ <= 3, q
        assert best - model.score(X) * len(X) <= TOL * len(X) + ROUNDOFF * abs(best), q


# ---------------------------------------------------------------- 4. near-equal eigenvalues
NEAR_EQUAL = np.r_[1.0, 1.0 - 1e-5, 1.0 - 2e-5, 0.5 * 0.7 ** np.arange(7)]


def converged_means_within_tol(model: PPCA, X: np.ndarray, caught: list[Any]) -> None:
    _, _, _, best = closed_form(X, model.n_components)
    gap = best - gaussian_ll(X, model.mean_, model.get_covariance())
    assert model.converged_ != bool(caught)
    if model.converged_:
        assert gap <= model.tol * len(X) + ROUNDOFF * abs(best), gap


@pytest.mark.parametrize("seed", range(12))
def test_near_equal_top_eigenvalues_converged_means_at_the_maximum(seed: int) -> None:
    X = spectrum_data(2000, NEAR_EQUAL, seed)
    model, caught = fit_strict(PPCA(1, random_state=seed), X)
    converged_means_within_tol(model, X, caught)
    assert model.converged_


@pytest.mark.parametrize("seed", range(6))
def test_near_equal_top_eigenvalues_by_em_alone_say_so(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the exact start (EM from the randomized subspace) the stopping test must still be
    honest: converged within tol of the maximum, or a ConvergenceWarning."""
    monkeypatch.setattr(complete, "EXACT_MAX_FEATURES", 0)
    X = spectrum_data(2000, NEAR_EQUAL, seed)
    model, caught = fit_strict(PPCA(1, random_state=seed, max_iter=300), X)
    converged_means_within_tol(model, X, caught)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_ppca_em_near_equal_eigenvalues_converged_means_at_the_maximum(seed: int, fraction: float) -> None:
    """The homework's loop at a fixed sigma2: converged means within tol * N nats of the maximum."""
    X = spectrum_data(2000, NEAR_EQUAL, seed)
    sigma2 = fraction * NEAR_EQUAL[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ppca_em(X, sigma2, max_iter=2000)
    lam, V = np.linalg.eigh(X.T @ X / len(X))
    u_best = V[:, -1] * np.sqrt(max(lam[-1] - sigma2, 0.0))
    gap = ppca_log_likelihood(X, u_best, sigma2) - res.log_likelihood[-1]
    assert res.converged != bool(caught)
    if res.converged:
        assert gap <= 1e-8 * len(X) + ROUNDOFF * abs(res.log_likelihood[-1]), gap


# ---------------------------------------------------------------- 5. sigma2 above lambda_1
@pytest.mark.parametrize("name", ["iris", "linnerud"])
@pytest.mark.parametrize("ratio", [1.05, 2.0, 10.0])
def test_ppca_em_above_lambda_1_stops_within_tol_of_u_zero(name: str, ratio: float) -> None:
    """Then the maximum is u = 0, where the log-likelihood is written out below."""
    X = {"iris": load_iris().data, "linnerud": load_linnerud().data}[name]
    n, d = X.shape
    lam1 = np.linalg.eigvalsh(X.T @ X / n)[-1]
    sigma2 = ratio * lam1
    res = ppca_em(X, sigma2)
    at_zero = -0.5 * (n * d * np.log(2 * np.pi * sigma2) + np.sum(X * X) / sigma2)
    assert res.converged
    assert at_zero - res.log_likelihood[-1] <= 1e-8 * n  # the default tol, nats per sample
    assert at_zero - res.log_likelihood[-1] >= -ROUNDOFF * abs(at_zero)


# ---------------------------------------------------------------- 6. large offsets
@pytest.mark.parametrize("offset", [1e6, 1e9, 1e11, 1e12, 1e13, 1e15])
def test_a_large_offset_loses_nothing(offset: float) -> None:
    """Spread 1 plus an offset up to 1e15: the same fit as the same numbers minus the offset
    (exact, Sterbenz), a history that never decreases, scores that agree."""
    rng = np.random.default_rng(7)
    Y = (rng.standard_normal((300, 3)) @ rng.standard_normal((3, 6)) + 0.5 * rng.standard_normal((300, 6))
         + offset)
    Z = Y - offset  # exact: each entry is within a factor 2 of the offset
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        far = PPCA(2, random_state=0).fit(Y)
        near = PPCA(2, random_state=0).fit(Z)
    ll = far.log_likelihood_
    assert np.all(np.diff(ll) >= -ROUNDOFF * abs(ll[-1]))
    np.testing.assert_allclose(far.get_covariance(), near.get_covariance(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(far.score_samples(Y), near.score_samples(Z), rtol=1e-9)
    assert abs(far.mean_ - (near.mean_ + offset)).max() <= np.spacing(offset)  # to the float


# ---------------------------------------------------------------- 7. the stable missing-data likelihood
def tiny_noise_few_entries(n: int = 200, d: int = 6, q: int = 2, noise: float = 1e-6,
                           seed: int = 0) -> np.ndarray:
    """Rank q plus tiny noise, 20 % missing, some rows observing fewer than q entries."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, q)) @ rng.standard_normal((q, d))
    X += noise * rng.standard_normal(X.shape)
    first = X[0].copy()
    X[rng.random(X.shape) < 0.2] = np.nan
    X[0] = first  # every column observed
    X[1:4, 1:] = np.nan  # three rows observe a single entry
    return X


@pytest.mark.parametrize(("q", "noise"), [(2, 1e-6), (3, 1e-5), (3, 1e-7)])
def test_tiny_noise_with_rows_observing_fewer_than_q_entries(q: int, noise: float) -> None:
    """M = W_o^T W_o + sigma2 I then has eigenvalues sigma2: the E-step and the density must not
    lose the digits (history never decreases, score_samples is scipy's density, sigma2 found)."""
    X = tiny_noise_few_entries(d=8, q=q, noise=noise)
    model, _ = fit_strict(PPCA(q, random_state=0, max_iter=3000), X)
    ll = model.log_likelihood_
    assert np.all(np.diff(ll) >= -1e-9 * abs(ll[-1]))
    expected = observed_ll_exact(X, model.mean_, model.W_, model.noise_variance_)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(model.log_likelihood_[-1], expected.sum(), rtol=1e-9)
    assert model.converged_ and 0.5 < model.noise_variance_ / noise**2 < 2.0


def test_n_init_keeps_the_likeliest_fit_by_the_density() -> None:
    """More starts never give a worse fit, judged by scipy's density (not the fit's own number)."""
    X = tiny_noise_few_entries(d=8, q=3, noise=1e-6, seed=3)
    dens = []
    for k in (1, 3):
        model, _ = fit_strict(PPCA(3, n_init=k, random_state=0, max_iter=3000), X)
        dens.append(observed_ll_exact(X, model.mean_, model.W_, model.noise_variance_).sum())
    assert dens[1] >= dens[0] - 1e-6 * abs(dens[0])


# ---------------------------------------------------------------- 8. score with NaN
def test_score_with_nan_is_the_log_likelihood_per_observed_entry_times_d() -> None:
    """As documented: sum of the rows' observed densities / number of observed entries * D, which
    for complete data is the mean per sample; rows with more holes do not score higher."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3)) @ rng.standard_normal((3, 8)) + rng.standard_normal((500, 8))
    model = PPCA(2, random_state=0).fit(X)
    Xn = X.copy()
    Xn[rng.random(X.shape) < 0.5] = np.nan
    C = model.get_covariance()
    n_obs = (~np.isnan(Xn)).sum()
    np.testing.assert_allclose(model.score(Xn), observed_loglik(Xn, model.mean_, C).sum() / n_obs * 8, rtol=1e-10)
    np.testing.assert_allclose(model.score(X), gaussian_ll(X, model.mean_, C) / 500, rtol=1e-10)
    holes = Xn.copy()
    holes[:, 2:] = np.nan  # two entries per row: their density per entry is below a full row's
    assert model.score(holes) <= model.score(X)
    assert "observed entr" in PPCA.score.__doc__


# ---------------------------------------------------------------- 9. fuzzed inputs
def fuzz_case(seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Random shape, rank, scale, offset, spectrum and missing pattern; sometimes degenerate."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 16))
    n = int(rng.integers(2, 120))
    q = int(rng.integers(1, d))
    rank = int(rng.integers(1, d + 1))
    X = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d))
    X += 10.0 ** rng.uniform(-12, 0) * rng.standard_normal((n, d)) * (rng.random() < 0.6)
    if rng.random() < 0.2:
        X[:, 1] = X[:, 0]  # a duplicated column
    if rng.random() < 0.1:
        X[:, -1] = 3.0  # a constant column
    if rng.random() < 0.3:
        X *= 10.0 ** rng.uniform(-4, 4, size=d)  # column scales
    exponent = rng.uniform(-290, 290)
    X = X * 10.0**exponent + rng.standard_normal(d) * 10.0 ** (exponent + rng.uniform(-3, 3)) * (
        rng.random() < 0.5)
    kind = rng.integers(0, 4)
    if kind == 1:
        X[rng.random(X.shape) < rng.uniform(0.05, 0.8)] = np.nan
    elif kind == 2:
        X[: n // 2, : d // 2] = np.nan
    elif kind == 3:
        X[rng.random(n) < 0.5, 1:] = np.nan  # rows observing one entry
    params = {"n_components": q, "algorithm": ["em", "px-em"][seed % 2], "random_state": seed,
              "n_init": int(rng.integers(1, 4)), "max_iter": 100}
    if rng.random() < 0.2 and abs(exponent) < 100:  # a variance float64 holds
        params["noise_variance"] = float(np.nanvar(X)) * 10.0 ** rng.uniform(-3, 1) or 1.0
    return X, params


def check_fit_or_named_failure(X: np.ndarray, params: dict[str, Any]) -> str:
    """A fit with finite results, a ValueError naming the problem, or a named warning; nothing else."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = PPCA(**params).fit(X)
        except ValueError as err:
            message = str(err)
            assert any(k in message for k in ("noise variance is 0", "no observed value", "n_components",
                                              "noise_variance")), message
            return "ValueError"
        scores = model.score_samples(X)
    bad = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not bad, [f"{w.category.__name__}: {w.message}" for w in bad]
    assert np.isfinite(model.W_).all() and np.isfinite(model.mean_).all()
    assert np.isfinite(scores).all() and np.isfinite(model.log_likelihood_).all()
    short = [w for w in caught if "did not reach" in str(w.message)]
    assert model.converged_ == (not short)
    return "warned" if caught else "fitted"


@pytest.mark.parametrize("chunk", range(4))
def test_fuzzed_inputs_fit_or_fail_by_name(chunk: int) -> None:
    outcomes = [check_fit_or_named_failure(*fuzz_case(seed)) for seed in range(10 * chunk, 10 * chunk + 10)]
    assert "fitted" in outcomes


@pytest.mark.slow
@pytest.mark.parametrize("chunk", range(10))
def test_fuzzed_inputs_fit_or_fail_by_name_long(chunk: int) -> None:
    for seed in range(1000 + 100 * chunk, 1100 + 100 * chunk):
        check_fit_or_named_failure(*fuzz_case(seed))


def test_fuzz_has_teeth() -> None:
    """The fuzzed set contains each kind: fits, rank errors, and missing patterns."""
    seen = {check_fit_or_named_failure(*fuzz_case(seed)) for seed in range(60)}
    assert {"fitted", "ValueError"} <= seen

