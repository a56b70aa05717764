"""Chapter 6's engine for :class:`~hw4lib.ppca.PPCA`: EM on complete data, O(N D q) per iteration.

:func:`fit_complete` starts from the closed form on the top eigenvectors of the
D x D covariance when D is at most ``EXACT_MAX_FEATURES`` (:func:`_covariance_start`,
the maximum itself), else on a randomized subspace
(:func:`~hw4lib._ppca_common.randomized_start`), then runs the EM of Tipping
and Bishop (1999; chapter 6, eqs. (ch6-eq-em-W), (ch6-eq-em-sigma2)) or PX-EM
(eq. (ch6-eq-px)), rotating ``W`` to orthogonal columns after each update (the
same model, eq. (ch6-eq-rotation)), so that every quantity EM needs comes from
one pass over the data (:func:`~hw4lib._ppca_common.projection_sums`), until it is
within ``tol`` nats per sample of the maximum
(:func:`~hw4lib._ppca_common.gap_to_maximum`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from ._ppca_common import (COLUMN_VARIANCE_FLOOR, LOG_2PI, EMSettings, EngineFit, best_in_span,
                           check_rank, gap_to_maximum, is_roundoff, projection_sums,
                           randomized_start, row_blocks, sumsq)
from ._validation import FloatArray

__all__ = ["EXACT_MAX_FEATURES", "fit_complete"]

# Up to this D the D x D covariance is formed and diagonalised, as scikit-learn's
# PCA(svd_solver="covariance_eigh") does for its tall data: N D^2 + D^3 at the full speed
# of matrix products, and the start is the maximum itself.
EXACT_MAX_FEATURES = 1000
_WIDE_SPECTRUM = 1e-6  # lambda_q / lambda_1 below this: directions from an SVD of the data
_WHERE = " after centering"  # the rank error's words: the centred data have rank <= q


def _mean_and_total(X: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Column means, what rounding them lost, and ``||X - mean||^2``, in one pass over ``X``.

    Sums are taken of ``X - X[0]``, a shift by one sample, so the final
    subtraction ``sum ||x - x_0||^2 - n ||mean - x_0||^2`` loses no more than a
    bit or two (``||mean - x_0||^2`` is of the order of one sample's spread).
    The mean of data at an offset ``c`` far above their spread is a float only
    to within half an ulp of ``c`` (0.06 at ``c = 1e15``); the second output,
    ``x_0 + s1 / n - mean``, keeps that remainder (``x_0 - mean`` is exact,
    Sterbenz), so that centring loses nothing of the spread.
    """
    first_row, s1, s2 = X[0], np.zeros(X.shape[1]), 0.0
    for rows in row_blocks(*X.shape):
        B = X[rows] - first_row
        s1 += B.sum(axis=0)
        s2 += sumsq(B)
    n = len(X)
    shift = s1 / n
    mean = first_row + shift
    return mean, (first_row - mean) + shift, max(s2 - float(s1 @ s1) / n, 0.0)


def _covariance_start(
    X: FloatArray, mean: FloatArray, mean_lo: FloatArray, q: int, total: float
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """The top ``q`` eigenvectors of ``S`` (D x D), and their :func:`projection_sums`.

    One pass forms ``N S = sum_i (x_i - mean)(x_i - mean)^T - N mean_lo mean_lo^T``
    block by block (each block centred first); ``scipy.linalg.eigh`` returns
    its top ``q`` eigenpairs (computing only those when ``q < D / 10``). Squaring the data loses the eigenvalues below
    ``eps lambda_1``, and with them the directions that carry them: when
    ``lambda_q < 1e-6 lambda_1`` the directions come from an SVD of the centred
    data instead (a copy of ``X``; its error is ``eps sqrt(lambda_1 / lambda_j)``,
    the square root of the covariance's). The pass that follows measures each
    column's variance and residual in the data themselves (:func:`projection_sums`),
    and EM corrects what is left.
    """
    n, d = X.shape
    S = np.zeros((d, d))
    for rows in row_blocks(n, d):
        Xb = X[rows] - mean
        S += Xb.T @ Xb
    S -= n * np.outer(mean_lo, mean_lo)
    subset = [d - q, d - 1] if q < d // 10 else None  # LAPACK's subset solver pays off for few
    lam, V = linalg.eigh(S, subset_by_index=subset)
    lam, U = lam[d - q:] if subset is None else lam, V[:, -q:][:, ::-1]  # the top first
    if lam[0] < _WIDE_SPECTRUM * lam[-1]:  # lambda_q carries eps lambda_1: the SVD of the data
        U = linalg.svd((X - mean) - mean_lo, full_matrices=False)[2][:q].T
    U = np.ascontiguousarray(U)
    return (U, *projection_sums(X, mean, U, total, mean_lo))


def _log_likelihood(n: int, w2: FloatArray, sigma2: float, AtA: FloatArray, rss: float,
                    d: int) -> float:
    """Eq. (ch3-eq-loglik) for ``W = U diag(sqrt(w2))``, from the sums of one pass.

    In the basis of ``U``: ``log det C = sum_j log(w2_j + sigma2) + (D - q) log
    sigma2`` and ``sum_i x_i^T C^-1 x_i = ||R||^2 / sigma2 + sum_j (A^T A)_jj /
    (w2_j + sigma2)``, with ``A`` and ``R`` as in :func:`projection_sums`.
    """
    q, Mdiag = len(w2), w2 + sigma2  # the model's variance along each column
    return float(-0.5 * (n * (d * LOG_2PI + np.log(Mdiag).sum() + (d - q) * np.log(sigma2))
                         + rss / sigma2 + np.sum(np.diag(AtA) / Mdiag)))


def _em_step(
    U: FloatArray, w2: FloatArray, sigma2: float, B: FloatArray, Y: FloatArray,
    outside: float, *, learn_noise: bool, expand: bool,
) -> tuple[FloatArray, float]:
    """One EM (or PX-EM) update of ``W = U diag(sqrt(w2))`` and ``sigma2``; returns ``W_new``.

    ``B = U^T S U``, ``Y = (I - U U^T) S U`` and ``outside = tr((I - U U^T) S)``
    come from :func:`projection_sums`; ``S U = U B + Y``. With ``M = W^T W +
    sigma2 I = diag(w2 + sigma2)`` and ``F = diag(w / M)``, the posterior second
    moment is ``sum_i E[z_i z_i^T] / N = sigma2 M^-1 + F B F`` (PRML eq. 12.55)
    and ``W_new = S U F (sigma2 M^-1 + F B F)^-1`` (PRML eq. 12.56; Tipping and
    Bishop eq. 29). The noise variance (``learn_noise``) is Tipping and Bishop's
    eq. 30, ``tr(S - S W M^-1 W_new^T) / D``, split into the part in span(U),
    which the Woodbury identity turns into ``tr(B (I + G B)^-1)`` with ``G =
    diag(w2 / (sigma2 M))`` (no cancellation), and the part outside it,
    ``outside`` minus a term that vanishes at a fixed point.
    """
    w, Mdiag = np.sqrt(w2), w2 + sigma2
    F = w / Mdiag
    Ezz = np.diag(sigma2 / Mdiag) + F[:, None] * B * F  # PRML eq. 12.55, averaged over N
    W_new = np.linalg.solve(Ezz, ((U @ B + Y) * F).T).T  # PRML eq. 12.56
    if learn_noise:  # Tipping and Bishop eq. 30, without cancellation
        q = len(w2)
        in_span = np.trace(np.linalg.solve(np.eye(q) + (w2 / (sigma2 * Mdiag))[:, None] * B, B))
        off_span = outside - np.trace(np.linalg.solve(Ezz, F[:, None] * (Y.T @ Y) * F))
        sigma2 = (in_span + off_span) / len(U)
    if expand:  # PX-EM (Liu, Rubin and Wu 1998): rescale by the fitted latent covariance
        W_new = W_new @ np.linalg.cholesky(Ezz)
    return np.asarray(W_new, dtype=np.float64), float(sigma2)


def fit_complete(X: FloatArray, settings: EMSettings, rng: Any) -> EngineFit:
    """EM on complete data ``X`` (N, D) from the best start at hand, to within ``tol`` nats.

    The start: the top eigenvectors of the covariance when ``D <=
    EXACT_MAX_FEATURES`` (:func:`_covariance_start`), else
    :func:`~hw4lib._ppca_common.randomized_start`, its subspace iteration run
    until the start is within ``tol * N`` nats of the maximum (or for at most
    ``MAX_POWER_ITERATIONS`` passes); on it the closed form: ``sigma2`` the mean
    variance outside it (eq. (ch6-eq-closed-sigma2)), ``||w_j||^2 = lambda_j -
    sigma2``. Each iteration records the log-likelihood (eq. (ch3-eq-loglik)),
    stops once :func:`~hw4lib._ppca_common.gap_to_maximum` is at most ``tol *
    N`` nats (after at least one EM update, as scikit-learn expects), and
    otherwise makes one :func:`_em_step` and one pass over the data.
    ``ValueError`` when a learned ``sigma2`` is 0 to round-off (data of rank
    ``<= q`` after centering).
    """
    n, d = X.shape
    q, learn, fixed = settings.n_components, settings.learn_noise, settings.noise_variance
    budget = settings.tol * n
    mean, mean_lo, total = _mean_and_total(X)
    # N centred rows span N - 1 dimensions
    check_rank(q, deficient=learn and (n - 1 <= q or total == 0.0), where=_WHERE)
    if d <= EXACT_MAX_FEATURES:
        U, AtA, RtA, rss = _covariance_start(X, mean, mean_lo, q, total)
    else:
        def good_enough(b: FloatArray, Y: FloatArray, outside: float) -> bool:
            at_start = best_in_span(n, d, b, outside, fixed)  # the closed form in span(U)
            return bool(gap_to_maximum(n, d, at_start, np.diag(b), Y, outside, fixed) <= budget)

        U, AtA, RtA, rss = randomized_start(X, mean, q, total, rng, mean_lo, good_enough)
    check_rank(q, deficient=learn and is_roundoff(rss, total, n, d), where=_WHERE)
    sigma2 = rss / (n * (d - q)) if fixed is None else fixed
    # the closed form given U
    w2 = np.maximum(np.diag(AtA) / n - sigma2, COLUMN_VARIANCE_FLOOR * sigma2)
    history: list[float] = []
    converged = False
    for it in range(settings.max_iter + 1):
        history.append(_log_likelihood(n, w2, sigma2, AtA, rss, d))
        if it > 0 and gap_to_maximum(n, d, history[-1], AtA / n, RtA / n, rss / n,
                                     fixed) <= budget:
            converged = True
            break
        if it == settings.max_iter:
            break
        W, sigma2 = _em_step(U, w2, sigma2, AtA / n, RtA / n, rss / n, learn_noise=learn,
                             expand=settings.parameter_expansion)
        U, w, _ = np.linalg.svd(W, full_matrices=False)  # the same model, orthogonal columns
        w2 = w * w
        AtA, RtA, rss = projection_sums(X, mean, U, total, mean_lo)
    check_rank(q, deficient=learn and is_roundoff(sigma2, w2[0] + sigma2, n, d), where=_WHERE)
    return EngineFit(mean, U * np.sqrt(w2), sigma2, history, converged, mean_lo=mean_lo)
