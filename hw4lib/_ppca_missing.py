"""Chapter 7's engine for :class:`~hw4lib.ppca.PPCA`: EM on the observed entries of data with NaN.

:func:`fit_missing` maximises the likelihood of the observed entries: the
E-step conditions on each sample's observed set (eq. (ch7-eq-estep),
:func:`posterior_observed`), the M-step solves one small least-squares problem
per column (eqs. (ch7-eq-mstep-W), (ch7-eq-mstep-sigma2), :func:`_m_step_observed`),
and one pass over the data per iteration gathers what it needs
(:func:`_expected_sums`). The likelihood can then have local maxima: ``n_init``
starts, the likeliest fit kept (chapter 7, "Several maxima").

Stacks of per-sample q x q matrices are stored sample index last, (q, q, N), and
posterior means as (q, N), so that each entry is one contiguous vector over the
samples.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._ppca_common import (COLUMN_VARIANCE_FLOOR, LOG_2PI, OVERSAMPLING, POWER_ITERATIONS,
                           EMSettings, EngineFit, check_rank, is_roundoff, randomized_start,
                           reached_tol, row_blocks, sumsq)
from ._validation import FloatArray

__all__ = ["ObservedPosterior", "posterior_observed", "fit_missing"]

_START_NUDGE = 1e-2  # times sigma: moves the first start off a saddle (pairs never observed)
_RESTART_NUDGE = 0.5  # times sigma: the mean-filled restarts, spread to find other maxima
_START_SIGMA2_FRACTION = 1e-2  # of tr C / D: the observed-pairs C need not be PSD
_RESTART_SIGMA2_FRACTION = 1e-12  # of ||R||^2 / (N D): the mean-filled data may have rank q
_COLLAPSE_RATIO = 1e-6  # sigma2 shrinking a millionfold in one M-step is collapsing to 0
_N_INIT_TIE = 1e-9  # relative: a later start must beat the kept fit's log-likelihood by this much
_WHERE_ROWS = " on the rows with an observed entry"  # where the rank error was found: ...
_WHERE_ENTRIES = " on its observed entries"  # ... before EM, or as sigma2 collapses in EM


class ObservedPosterior(NamedTuple):
    """The E-step with missing entries (:func:`posterior_observed`), one column per sample."""

    m: FloatArray  # E[z | x_o], (q, N)
    cov: FloatArray  # Cov[z | x_o], (q, q, N)
    log_density: FloatArray  # log p(x_o), (N,)
    sse: float  # sum_i E||r_i - W_o z_i||^2 over the observed entries


class ExpectedSums(NamedTuple):
    """The sums over samples that the M-step needs (:func:`_expected_sums`)."""

    A: FloatArray  # (D, q + 1, q + 1)
    B: FloatArray  # (D, q + 1)
    G: FloatArray  # (q + 1, q + 1)
    log_likelihood: float
    sse: float


class ObservedMStep(NamedTuple):
    """The M-step's new parameters and its gain (:func:`_m_step_observed`)."""

    W: FloatArray
    shift: FloatArray
    noise_variance: float
    gain: float


def _observed_pairs_start(
    R: FloatArray, obs: FloatArray, q: int, rng: Any
) -> tuple[FloatArray, FloatArray, float]:
    """:func:`randomized_start`'s subspace iteration on the covariance from observed pairs.

    ``R``: the centred data, 0 where missing; ``p_j``: the fraction of rows observing ``j``.
    ``C_ij = (R^T R)_ij / (N p_i p_j)``, ``N p_i p_j`` rows being expected to observe both if
    entries go missing independently; ``C_jj = (R^T R)_jj / (N p_j)``. Applied to ``q + 7``
    columns, never formed. Returns the top ``q`` Ritz vectors and values and ``sigma2 = (tr C -
    sum lam) / (D - q)``, kept ``>= tr C / 100 D`` (``C`` need not be PSD when entries go
    missing together), the values then scaled so that the total stays ``tr C``.
    """
    (n, d), p = R.shape, obs.mean(axis=0)
    sq = np.einsum("ij,ij->j", R, R) / (n * p)
    diag = sq * (1.0 - 1.0 / p)  # C_jj minus the diagonal of P^-1 R^T R P^-1 / N

    def times_c(U: FloatArray) -> FloatArray:
        out: FloatArray = R.T @ (R @ (U / p[:, None])) / (n * p[:, None]) + diag[:, None] * U
        return out

    U = np.linalg.qr(rng.standard_normal((d, min(d, q + OVERSAMPLING))))[0]
    for _ in range(POWER_ITERATIONS):
        U = np.linalg.qr(times_c(U))[0]
    lam, V = np.linalg.eigh(U.T @ times_c(U))
    lam, trace = lam[::-1][:q], float(sq.sum())
    sigma2 = max((trace - lam.sum()) / (d - q), _START_SIGMA2_FRACTION * trace / d)
    return U @ V[:, ::-1][:, :q], lam * min(1.0, (trace - (d - q) * sigma2) / lam.sum()), sigma2


def _symmetric(packed: FloatArray, p: int) -> FloatArray:
    """The (p, p, n) symmetric stack whose upper triangles are the rows of ``packed``."""
    i, j = np.triu_indices(p)
    out = np.empty((p, p, packed.shape[1]))
    out[i, j] = out[j, i] = packed
    return out


def _masked_grams(obs: FloatArray, W: FloatArray) -> FloatArray:
    """``W_o^T W_o = sum_j obs_ij w_j w_j^T`` for every sample's observed set, shape (q, q, N).

    One product of the mask with the distinct entries of the ``w_j w_j^T``.
    """
    i, j = np.triu_indices(W.shape[1])
    return _symmetric((W[:, i] * W[:, j]).T @ obs.T, W.shape[1])


def posterior_observed(
    R: FloatArray, obs: FloatArray, W: FloatArray, shift: FloatArray, sigma2: float
) -> ObservedPosterior:
    """E-step with missing entries: ``m``, ``Cov[z | x_o]``, log-densities, expected residual.

    ``obs`` is the 0/1 mask of the observed entries and ``R`` the data minus
    a centre (0 where missing); the model's mean is the centre plus ``shift``.
    For a sample's observed set ``o`` and ``r = x_o - mean_o``: ``M = W_o^T W_o
    + sigma2 I``, ``m = M^-1 W_o^T r``, ``Cov = sigma2 M^-1`` (chapter 7, eq.
    (ch7-eq-estep)); ``log det C_o = (|o| - q) log sigma2 + log det M`` and
    ``r^T C_o^-1 r = ||r - W_o m||^2 / sigma2 + ||m||^2``, two sums of squares
    (eq. (ch7-eq-loglik)). The last output, ``sum E||r - W_o z||^2``, is where
    the M-step's noise variance starts from.
    """
    q = W.shape[1]
    WoWo = _masked_grams(obs, W)
    Minv, logdet = _spd_inverse(WoWo + sigma2 * np.eye(q)[:, :, None])
    m = np.einsum("ijn,jn->in", Minv, (R @ W - obs @ (W * shift[:, None])).T)
    cov = sigma2 * Minv
    E = m.T @ W.T  # then W_o m - r on the observed entries, in place (no copies)
    E += shift
    E *= obs
    E -= R
    outside = np.einsum("ij,ij->i", E, E)
    counts = obs.sum(axis=1)
    quad = outside / sigma2 + np.einsum("in,in->n", m, m)
    ll = -0.5 * (counts * (LOG_2PI + np.log(sigma2)) + logdet - q * np.log(sigma2) + quad)
    sse = float(outside.sum() + np.einsum("ijn,ijn->", WoWo, cov))
    return ObservedPosterior(m, cov, np.where(counts > 0, ll, 0.0), sse)  # nothing observed: log 1


def _spd_inverse(M: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverse and log-determinant of each positive definite ``q x q`` matrix ``M[:, :, i]``.

    Cholesky ``M = L L^T``, then ``L^-1`` by forward substitution and ``M^-1 =
    L^-T L^-1``, written entry by entry so that each operation acts on one
    entry of all N matrices at once: for small ``q`` this is several times
    faster than NumPy's batched LAPACK calls, which pay a fixed cost per
    matrix. (Gauss-Jordan sweeps would be shorter, but their error grows with
    the square of ``M``'s condition number, large for a row that observes
    fewer than ``q`` entries when ``sigma2`` is small.)
    """
    q = len(M)
    L, Li, inv = np.zeros_like(M), np.zeros_like(M), np.empty_like(M)
    for j in range(q):
        L[j, j] = np.sqrt(M[j, j] - (L[j, :j] ** 2).sum(axis=0))
        for i in range(j + 1, q):
            L[i, j] = (M[i, j] - (L[i, :j] * L[j, :j]).sum(axis=0)) / L[j, j]
    for i in range(q):
        Li[i, i] = 1.0 / L[i, i]
        for j in range(i):
            Li[i, j] = -(L[i, j:i] * Li[j:i, j]).sum(axis=0) / L[i, i]
    for i in range(q):
        for j in range(i + 1):
            inv[i, j] = inv[j, i] = (Li[i:, i] * Li[i:, j]).sum(axis=0)
    return inv, 2.0 * np.log(np.diagonal(L)).sum(axis=-1)


def _expected_sums(
    R: FloatArray, obs: FloatArray, W: FloatArray, shift: FloatArray, sigma2: float,
    block_columns: int,
) -> ExpectedSums:
    """The E-step (:func:`posterior_observed`) and the sums over samples the M-step needs.

    With ``e_i = E[(z_i, 1)]``: ``A_j = sum_i obs_ij E[(z_i, 1)(z_i, 1)^T]``
    (D, q + 1, q + 1), ``B_j = sum_i obs_ij r_ij e_i`` (D, q + 1) and ``G =
    sum_i E[(z_i, 1)(z_i, 1)^T]`` over all samples (for PX-EM), then the
    log-likelihood and the expected squared residual. One pass over the data
    in blocks of rows (:func:`row_blocks` for ``block_columns`` columns), whose
    temporaries stay in cache.
    """
    (d, q), p = W.shape, W.shape[1] + 1
    i, j = np.triu_indices(p)  # the distinct entries of the symmetric A_j and G
    zz = j < q  # those of the z z^T block, which take Cov[z | x_o] too
    A, B, G = np.zeros((len(i), d)), np.zeros((p, d)), np.zeros(len(i))
    ll = sse = 0.0
    for rows in row_blocks(len(R), d, block_columns):
        m, cov, ll_b, sse_b = posterior_observed(R[rows], obs[rows], W, shift, sigma2)
        e = np.vstack([m, np.ones(m.shape[1])])
        second = e[i] * e[j]
        second[zz] += cov[i[zz], j[zz]]
        A += second @ obs[rows]
        B += e @ R[rows]
        G += second.sum(axis=1)
        ll, sse = ll + float(ll_b.sum()), sse + sse_b
    return ExpectedSums(np.moveaxis(_symmetric(A, p), -1, 0), B.T,
                        _symmetric(G[:, None], p)[:, :, 0], ll, sse)


def _latent_moments(G: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The latent's fitted mean and covariance, from ``G`` (:func:`_expected_sums`)."""
    q = len(G) - 1
    eta = G[:q, q] / G[q, q]
    return eta, G[:q, :q] / G[q, q] - np.outer(eta, eta)


def _m_step_observed(
    sums: ExpectedSums, W: FloatArray, shift: FloatArray, sigma2: float, n_obs: float, *,
    learn_noise: bool, expand: bool,
) -> ObservedMStep:
    """M-step with missing entries; returns ``W``, ``shift``, ``sigma2`` and the step's gain.

    Row ``j`` of ``W`` and ``shift_j`` solve the least-squares problem of the
    samples that observe entry ``j``, regressing ``r_ij`` on ``E[(z_i, 1)]``:
    ``A_j (w_j, shift_j) = B_j`` (eq. (ch7-eq-mstep-W); the sums come from
    :func:`_expected_sums`). Least squares lowers the expected squared
    residual ``sse`` by ``step_j^T A_j step_j`` for each ``j``, so ``sigma2``,
    its new mean over the ``n_obs`` observed entries (eq.
    (ch7-eq-mstep-sigma2); ``learn_noise``), needs no second pass over the data. ``gain`` is the
    rise of the expected complete-data log-likelihood (nats). PX-EM
    (``expand``) then absorbs the fitted latent mean and covariance (from
    ``G``) into ``shift`` and ``W`` (Liu, Rubin and Wu, 1998).
    """
    q = W.shape[1]
    new = np.asarray(np.linalg.solve(sums.A, sums.B[:, :, None])[:, :, 0], dtype=np.float64)
    step = new - np.hstack([W, shift[:, None]])
    drop = float(np.einsum("ja,jab,jb->", step, sums.A, step))
    gain = 0.5 * drop / sigma2
    W, shift = new[:, :q], new[:, q]
    if learn_noise:
        ratio = (sums.sse - drop) / n_obs / sigma2
        if ratio <= _COLLAPSE_RATIO:  # sigma2 collapsing to 0: the caller reports the rank error
            return ObservedMStep(W, shift, 0.0, gain)
        gain += 0.5 * n_obs * (ratio - 1.0 - np.log(ratio))
        sigma2 *= ratio
    if expand:
        eta, gamma = _latent_moments(sums.G)
        shift = shift + W @ eta
        W = W @ np.linalg.cholesky(gamma)
    return ObservedMStep(W, shift, float(sigma2), gain)


def _starting_point(
    R: FloatArray, obs: FloatArray, total: float, settings: EMSettings, rng: Any, *, restart: bool
) -> tuple[FloatArray, float]:
    """A start ``W``, ``sigma2``: the closed form given a subspace, nudged off saddles.

    The first start's subspace and variances come from the covariance of observed pairs
    (:func:`_observed_pairs_start`), nudged by ``sigma / 100``; a ``restart``'s from the
    mean-filled data (:func:`randomized_start` on ``R``), nudged by ``sigma / 2``.
    """
    (n, d), q = R.shape, settings.n_components
    if restart:
        U, AtA, _, rss = randomized_start(R, np.zeros(d), q, total, rng)
        lam = np.diag(AtA) / n
        sigma2 = max(rss / (n * (d - q)), _RESTART_SIGMA2_FRACTION * total / (n * d))
    else:
        U, lam, sigma2 = _observed_pairs_start(R, obs, q, rng)
    sigma2 = sigma2 if settings.noise_variance is None else settings.noise_variance
    W = U * np.sqrt(np.maximum(lam - sigma2, COLUMN_VARIANCE_FLOOR * sigma2))
    # Entries never observed together have covariance 0 here: W might start on a saddle
    nudge = _RESTART_NUDGE if restart else _START_NUDGE
    W += nudge * np.sqrt(sigma2) * rng.standard_normal(W.shape)
    return W, sigma2


def _em_from(
    R: FloatArray, obs: FloatArray, centre: FloatArray, total: float,
    start: tuple[FloatArray, float], settings: EMSettings,
) -> EngineFit:
    """EM from ``start = (W, sigma2)``: one pass over the data per iteration.

    Each iteration is one :func:`_expected_sums` and one :func:`_m_step_observed`. The
    step's gain ``g`` (nats, never negative) makes ``sqrt(2 g / N)`` the root-mean-square
    change per row of the fitted observed entries, in units of the noise standard
    deviation; EM stops when that and the latent's fitted moments (0 and I at a maximum),
    extrapolated by :func:`reached_tol`, are within ``tol``.
    """
    (n, d), q, learn = R.shape, settings.n_components, settings.learn_noise
    W, sigma2 = start
    shift = np.zeros(d)  # the model's mean is centre + shift
    n_obs = obs.sum()
    history: list[float] = []
    residuals: list[float] = []
    for _ in range(settings.max_iter):
        sums = _expected_sums(R, obs, W, shift, sigma2, q + 1)  # (z, 1) has q + 1 entries
        history.append(sums.log_likelihood)
        W, shift, sigma2, gain = _m_step_observed(sums, W, shift, sigma2, n_obs, learn_noise=learn,
                                                  expand=settings.parameter_expansion)
        eta, gamma = _latent_moments(sums.G)  # 0 and I at every maximum
        latent_misfit = max(np.abs(eta).max(), np.abs(gamma - np.eye(q)).max())
        residuals.append(max(np.sqrt(2.0 * gain / n), latent_misfit))
        # the likelihood is unbounded
        check_rank(q, deficient=learn and is_roundoff(sigma2, total / (n * d), n, d),
                   where=_WHERE_ENTRIES)
        if reached_tol(residuals, settings.tol):
            break
    history.append(_expected_sums(R, obs, W, shift, sigma2, q + 1).log_likelihood)
    U, w, _ = np.linalg.svd(W, full_matrices=False)  # the same model, orthogonal columns
    return EngineFit(centre + shift, U * w, sigma2, history, reached_tol(residuals, settings.tol))


def fit_missing(
    X: FloatArray, observed: Any, settings: EMSettings, rng: Any, *, n_init: int
) -> EngineFit:
    """EM on the observed entries of ``X`` (NaN where ``observed`` is False), best of ``n_init``.

    Rows with nothing observed are dropped (they have likelihood 1). Starts: the closed
    form on the covariance from observed pairs (:func:`_observed_pairs_start`) nudged by
    ``sigma / 100``, then (``n_init``) that of the mean-filled data nudged by ``sigma / 2``
    (:func:`_starting_point`); the likeliest fit is kept (the earlier on a tie to 1e-9
    relative). ``W_o^T W_o + sigma2 I`` squares the conditioning of ``W``: standardise
    columns whose scales differ by more than 1e3. Every column must have an observed entry.
    """
    X, obs = X[observed.any(axis=1)], observed[observed.any(axis=1)].astype(np.float64)
    n, d = X.shape
    q = settings.n_components
    centre = np.nanmean(X, axis=0)
    R = np.where(obs > 0, X - centre, 0.0)  # centred, 0 where missing
    total = sumsq(R)
    check_rank(q, deficient=settings.learn_noise and (n - 1 <= q or total == 0.0),
               where=_WHERE_ROWS)
    best = _em_from(R, obs, centre, total,
                    _starting_point(R, obs, total, settings, rng, restart=False), settings)
    for _ in range(1, n_init):
        fit = _em_from(R, obs, centre, total,
                       _starting_point(R, obs, total, settings, rng, restart=True), settings)
        kept = best.final_log_likelihood
        if fit.final_log_likelihood > kept + _N_INIT_TIE * abs(kept):  # ties: the earlier
            best = fit
    return best
