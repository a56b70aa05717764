"""Benchmark: ``hw4lib.PPCA(n_components=1).fit`` against scikit-learn's ``PCA(n_components=1).fit``.

Run from the repository root (not part of the test suite)::

    .venv/bin/python benchmarks/bench_ppca.py            # full run, about 1-2 minutes
    .venv/bin/python benchmarks/bench_ppca.py --quick    # small shapes, a few seconds
    .venv/bin/python benchmarks/bench_ppca.py --repeat 7 --case tall

Two shapes, as in issue 5: tall (N = 100 000, D = 500) and wide (N = 2 000,
D = 20 000); two spectra for each:

* ``model``: data drawn from the fitted model itself, ``x = u z + mean + eps``
  with ``z ~ N(0, 1)``, ``eps ~ N(0, I)``: one dominant direction;
* ``decay``: ten latent factors of variances ``0.6**j`` (so the top two
  eigenvalues of the covariance are in ratio about 0.6) plus unit noise: the
  hard case for EM, whose subspace converges like the power method, by a
  factor ``lambda_2 / lambda_1`` per iteration (chapter 3).

It then fits scikit-learn's bundled real data sets, unstandardised (``wine``,
13 features, and ``breast_cancer``, 30 features, whose eigenvalues span 1e7 and
6e11), at several ``q``, and prints the same ratio and the gap between the
log-likelihood reached and the closed-form maximum (from an SVD of the centred
data, in nats).

For each case it prints the median wall-clock time of each fit over
``--repeat`` interleaved runs, their ratio (hw4lib / scikit-learn; below 1 means
hw4lib is faster) and the ratio of the fastest runs (robust to other load on a
shared machine), the number of EM iterations, and the total log-likelihood
``sum_i log N(x_i; mean, W W^T + sigma2 I)`` each fitted model reaches, relative
to the maximum-likelihood value of Tipping and Bishop's closed form. scikit-learn's
model is ``W = components_^T (explained_variance_ - noise_variance_)^{1/2}``,
``sigma2 = noise_variance_`` (what its ``score`` uses); its log-likelihood is
computed with the O(N D) formula because its ``score`` would build a D x D matrix
(3.2 GB when D = 20 000); in the tall case both are printed and agree.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.decomposition import PCA

import hw4lib
from hw4lib import PPCA, ppca_closed_form, ppca_log_likelihood

SHAPES = {"tall": (100_000, 500), "wide": (2_000, 20_000)}
QUICK_SHAPES = {"tall": (20_000, 500), "wide": (500, 5_000)}


def make_data(n: int, d: int, spectrum: str, seed: int) -> np.ndarray:
    """Gaussian data: ``k`` latent factors (``k = 1`` or 10), unit noise, a random mean."""
    rng = np.random.default_rng(seed)
    k, scales = (1, np.ones(1)) if spectrum == "model" else (10, np.sqrt(0.6 ** np.arange(10)))
    A = rng.standard_normal((d, k)) * scales
    X = rng.standard_normal((n, k)) @ A.T
    X += rng.standard_normal((n, d))
    X += 3.0 * rng.standard_normal(d)
    return X


def timed(fit: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fit()
    return time.perf_counter() - t0, out


def loglik(X: np.ndarray, mean: np.ndarray, w: np.ndarray, sigma2: float) -> float:
    """Total log-likelihood of the one-component model, O(N D) (hw4lib eq. ch3-eq-loglik)."""
    return ppca_log_likelihood(X - mean, w, sigma2)


def run_case(name: str, n: int, d: int, spectrum: str, repeat: int, seed: int) -> dict[str, Any]:
    X = make_data(n, d, spectrum, seed)
    t_hw, t_sk = [], []
    model, pca = None, None
    for _ in range(repeat):  # interleaved, so both see the same machine load
        t, model = timed(lambda: PPCA(n_components=1, random_state=0).fit(X))
        t_hw.append(t)
        t, pca = timed(lambda: PCA(n_components=1).fit(X))
        t_sk.append(t)
    assert model is not None and pca is not None

    mean = X.mean(axis=0)
    W_cf, s2_cf = ppca_closed_form(X - mean, 1)
    ll_cf = loglik(X, mean, W_cf[:, 0], s2_cf)
    ll_hw = loglik(X, model.mean_, model.W_[:, 0], model.noise_variance_)
    w_sk = pca.components_[0] * np.sqrt(max(pca.explained_variance_[0] - pca.noise_variance_, 0.0))
    ll_sk = loglik(X, pca.mean_, w_sk, float(pca.noise_variance_))
    out = {
        "case": f"{name}/{spectrum}",
        "shape": f"{n}x{d}",
        "solver": pca._fit_svd_solver,
        "t_hw": float(np.median(t_hw)),
        "t_sk": float(np.median(t_sk)),
        "min_ratio": min(t_hw) / min(t_sk),
        "n_iter": model.n_iter_,
        "rel_hw": (ll_cf - ll_hw) / abs(ll_cf),
        "rel_sk": (ll_cf - ll_sk) / abs(ll_cf),
        "s2": (s2_cf, model.noise_variance_, float(pca.noise_variance_)),
    }
    if d <= 1000:  # scikit-learn's own score builds a D x D precision: only for small D
        out["sk_score_check"] = abs(pca.score(X) * n - ll_sk) / abs(ll_sk)
    return out


def real_data(repeat: int) -> None:
    from sklearn.datasets import load_breast_cancer, load_wine

    print("\nreal data (unstandardised); gap = closed-form max LL - LL reached, nats")
    print(f"{'data':<15}{'q':>4}{'hw4lib s':>10}{'sklearn s':>11}{'ratio':>7}{'(min)':>7}"
          f"{'EM iters':>9}{'gap hw4lib':>12}{'gap sklearn':>13}")
    for name, loader in [("wine", load_wine), ("breast_cancer", load_breast_cancer)]:
        X = loader().data
        n, d = X.shape
        Xc = X - X.mean(axis=0)
        lam = np.linalg.svd(Xc, compute_uv=False) ** 2 / n
        for q in sorted({1, d // 4, d // 2, d - 1}):
            t_hw, t_sk = [], []
            for _ in range(repeat):
                t, model = timed(lambda: PPCA(n_components=q, random_state=0).fit(X))
                t_hw.append(t)
                t, pca = timed(lambda: PCA(n_components=q, svd_solver="full").fit(X))
                t_sk.append(t)
            s2 = lam[q:].mean()
            best = -0.5 * n * (d * np.log(2 * np.pi) + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d)
            gap_hw = best - model.score(X) * n
            gap_sk = best - pca.score(X) * n
            print(f"{name:<15}{q:>4}{np.median(t_hw):>10.4f}{np.median(t_sk):>11.4f}"
                  f"{np.median(t_hw) / np.median(t_sk):>7.2f}{min(t_hw) / min(t_sk):>7.2f}"
                  f"{model.n_iter_:>9d}{gap_hw:>12.2e}{gap_sk:>13.2e}", flush=True)


def signal_rank(repeat: int, quick: bool) -> None:
    """20 000 x 100, five factors plus unit noise: q from 1 to D - 1, most above the signal rank.

    Target: every q within 2x of scikit-learn's ``PCA(q).fit`` (its default solver),
    at the maximum (gap in nats from the closed form of the spectrum), no warning.
    """
    n, d = (5_000, 100) if quick else (20_000, 100)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 5)) @ rng.standard_normal((5, d)) + rng.standard_normal((n, d))
    lam = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2 / n
    print(f"\nq above the signal rank: {n} x {d}, 5 factors + unit noise (target: ratio <= 2)")
    print(f"{'q':>4}{'hw4lib s':>10}{'sklearn s':>11}{'ratio':>7}{'(min)':>7}{'EM iters':>9}"
          f"{'gap nats':>11}{'converged':>10}")
    for q in (1, 5, 10, 20, 50, 99):
        t_hw, t_sk = [], []
        for _ in range(repeat):
            t, model = timed(lambda: PPCA(n_components=q, random_state=0).fit(X))
            t_hw.append(t)
            t, _ = timed(lambda: PCA(n_components=q).fit(X))
            t_sk.append(t)
        s2 = lam[q:].mean()
        best = -0.5 * n * (d * np.log(2 * np.pi) + np.log(lam[:q]).sum() + (d - q) * np.log(s2) + d)
        print(f"{q:>4}{np.median(t_hw):>10.4f}{np.median(t_sk):>11.4f}"
              f"{np.median(t_hw) / np.median(t_sk):>7.2f}{min(t_hw) / min(t_sk):>7.2f}"
              f"{model.n_iter_:>9d}{best - model.log_likelihood_[-1]:>11.2e}"
              f"{str(model.converged_):>10}", flush=True)


def missing_data(repeat: int, quick: bool) -> None:
    """20 000 x 50, q = 5, 20 % of entries missing at random, against the complete-data fit."""
    n, d, q = (2000, 50, 5) if quick else (20_000, 50, 5)
    rng = np.random.default_rng(0)
    X = make_data(n, d, "decay", 0)  # ten factors of decaying variance: q = 5 is well posed
    Xm = X.copy()
    Xm[rng.random(X.shape) < 0.2] = np.nan
    t_full, t_miss = [], []
    for _ in range(repeat):
        t, full = timed(lambda: PPCA(n_components=q, random_state=0).fit(X))
        t_full.append(t)
        t, miss = timed(lambda: PPCA(n_components=q, random_state=0).fit(Xm))
        t_miss.append(t)
    print(f"\nmissing data: {n} x {d}, q = {q}, 20 % missing at random (target: ratio <= 10)")
    print(f"{'complete s':>11}{'missing s':>11}{'ratio':>7}{'(min)':>7}{'EM iters':>9}"
          f"{'converged':>10}")
    print(f"{np.median(t_full):>11.3f}{np.median(t_miss):>11.3f}"
          f"{np.median(t_miss) / np.median(t_full):>7.2f}{min(t_miss) / min(t_full):>7.2f}"
          f"{full.n_iter_:>4d}/{miss.n_iter_:<4d}{str(miss.converged_):>10}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per fit (median)")
    parser.add_argument("--quick", action="store_true", help="small shapes, one run")
    parser.add_argument("--case", choices=["tall", "wide", "real", "signal", "missing", "all"], default="all")
    parser.add_argument("--spectrum", choices=["model", "decay", "all"], default="all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shapes = QUICK_SHAPES if args.quick else SHAPES
    repeat = 1 if args.quick else max(1, args.repeat)
    cases = ["tall", "wide"] if args.case == "all" else [args.case] if args.case in SHAPES else []
    spectra = ["model", "decay"] if args.spectrum == "all" else [args.spectrum]

    print(f"hw4lib {hw4lib.__version__}; median of {repeat} run(s); ratio = hw4lib / sklearn")
    print("ratio: of the median times; (min): of the fastest runs, less sensitive to other load")
    print("rel LL = (closed-form LL - LL reached) / |closed-form LL|  (>= 0; 0 is the ML value)")
    header = f"{'case':<12}{'shape':>13}{'sklearn solver':>17}{'hw4lib s':>10}{'sklearn s':>11}"
    header += f"{'ratio':>7}{'(min)':>7}{'EM iters':>9}{'rel LL hw4lib':>15}{'rel LL sklearn':>16}"
    print(header)
    results = []
    for name in cases:
        n, d = shapes[name]
        for spectrum in spectra:
            r = run_case(name, n, d, spectrum, repeat, args.seed)
            results.append(r)
            print(
                f"{r['case']:<12}{r['shape']:>13}{r['solver']:>17}{r['t_hw']:>10.3f}"
                f"{r['t_sk']:>11.3f}{r['t_hw'] / r['t_sk']:>7.2f}{r['min_ratio']:>7.2f}{r['n_iter']:>9d}"
                f"{r['rel_hw']:>15.2e}{r['rel_sk']:>16.2e}",
                flush=True,
            )
    print("\nnoise variance: ML closed form / hw4lib / sklearn (sklearn divides by N-1, and by")
    print("min(N, D) - q instead of D - q: far from the ML value when N < D)")
    for r in results:
        s2 = r["s2"]
        extra = ""
        if "sk_score_check" in r:
            extra = f"   (sklearn score*N vs O(ND) formula: rel diff {r['sk_score_check']:.1e})"
        print(f"  {r['case']:<12}{s2[0]:>10.5f}{s2[1]:>10.5f}{s2[2]:>10.5f}{extra}")
    if args.case in ("real", "all"):
        real_data(max(repeat, 5))
    if args.case in ("signal", "all"):
        signal_rank(max(repeat, 5), args.quick)
    if args.case in ("missing", "all"):
        missing_data(repeat, args.quick)


if __name__ == "__main__":
    main()
