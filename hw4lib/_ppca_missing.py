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
                           rank_error, reached_tol, row_blocks, sumsq)
from ._validation import FloatArray

__all__ = ["ObservedPosterior", "posterior_observed", "fit_missing"]

_START_NUDGE = 1e-2  # times sigma: moves the first start off a saddle (pairs never observed)
_RESTART_NUDGE = 0.5  # times sigma: the mean-filled restarts, spread to find other maxima
_START_SIGMA2_FRACTION = 1e-2  # of tr C / D: the observed-pairs C need not be PSD
_RESTART_SIGMA2_FRACTION = 1e-12  # of ||R||^2 / (N D): the mean-filled data may have rank q
_COLLAPSE_RATIO = 1e-6  # sigma2 shrinking a millionfold in one M-step is collapsing to 0
_CREEP_FALL = 1e3  # sigma2 still falling this much over the last half of max_iter: towards 0
_TOTAL_FALL = 1e10  # or fallen this much from its start without converging
_STABLE_PIVOT = 1e-15  # M's conditioning times sigma2 / |M| below this: E-step from an SVD of W_o
_PIVOT_FLOOR = float(np.finfo(np.float64).eps)  # under M's pivots (relative): _stable_rows redoes those
_EIG_CUTOFF = 4 * float(np.finfo(np.float64).eps)  # A_j's eigenvalues below this (relative): 0
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
    the M-step's noise variance starts from. ``M^-1`` carries an error of about
    ``eps cond(M)``, which ``r - W_o m`` turns into an error of about ``eps
    sqrt(cond(M)) |M|^(1/2)`` against a residual of size ``sigma``: rows where
    ``sigma2 / (|M| cond(M))`` is below ``1e-15`` (small ``sigma2``, and ``W_o``
    nearly rank-deficient, as for a row observing fewer than ``q`` entries) are
    recomputed from an SVD of ``W_o`` (:func:`_stable_rows`).
    """
    q = W.shape[1]
    WoWo = _masked_grams(obs, W)
    Minv, logdet, conditioning = _spd_factor(WoWo + sigma2 * np.eye(q)[:, :, None])
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
    spread = np.einsum("ijn,ijn->n", WoWo, cov)
    scale = np.diagonal(WoWo).max(axis=-1) + sigma2  # M's largest diagonal entry, per sample
    weak = np.flatnonzero(conditioning * (sigma2 / scale) < _STABLE_PIVOT)
    if weak.size:
        m[:, weak], cov[:, :, weak], ll[weak], outside[weak], spread[weak] = _stable_rows(
            R[weak], obs[weak], W, shift, sigma2)
    sse = float(outside.sum() + spread.sum())
    return ObservedPosterior(m, cov, np.where(counts > 0, ll, 0.0), sse)  # nothing observed: log 1


def _stable_rows(
    R: FloatArray, obs: FloatArray, W: FloatArray, shift: FloatArray, sigma2: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`posterior_observed` for a few rows from the SVD ``W_o = Q diag(s) V^T``, stably.

    With ``t = Q^T r``: ``m = V diag(s / (s^2 + sigma2)) t``, ``Cov = sigma2 V
    diag(1 / (s^2 + sigma2)) V^T``, ``log det C_o = sum_i log(s_i^2 + sigma2) +
    (|o| - min(|o|, q)) log sigma2`` and ``r^T C_o^-1 r = sum_i t_i^2 / (s_i^2 +
    sigma2) + ||r - Q t||^2 / sigma2``: no ``M^-1``, whose error ``eps cond(M)``
    the log-likelihood multiplies by ``1 / sigma2``. Returns ``m`` (q, k), ``Cov``
    (q, q, k), the log-densities, ``||r - W_o m||^2`` and ``tr(W_o^T W_o Cov)``.
    """
    q = W.shape[1]
    Wo = obs[:, :, None] * W  # (k, D, q): the rows of W a sample observes, 0 elsewhere
    Q, sv, Vt = np.linalg.svd(Wo, full_matrices=False)
    r = R - obs * shift
    t = np.einsum("kdi,kd->ki", Q, r)
    denom = sv * sv + sigma2
    m = np.einsum("kij,ki->jk", Vt, sv * t / denom)
    cov = sigma2 * np.einsum("kij,ki,kil->jlk", Vt, 1.0 / denom, Vt)
    counts = obs.sum(axis=1)
    rank = np.minimum(counts, q)
    kept = np.arange(q) < rank[:, None]  # the s_i of an |o| x q matrix: min(|o|, q) of them
    perp = r - np.einsum("kdi,ki->kd", Q, t)
    quad = np.einsum("kd,kd->k", perp, perp) / sigma2 + np.sum(t * t / denom, axis=1)
    logdet = np.where(kept, np.log(denom), 0.0).sum(axis=1) + (counts - rank) * np.log(sigma2)
    E = obs * (m.T @ W.T) - r
    spread = sigma2 * np.sum(sv * sv / denom, axis=1)
    return m, cov, -0.5 * (counts * LOG_2PI + logdet + quad), np.einsum("kd,kd->k", E, E), spread


def _spd_inverse(M: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverse and log-determinant of each positive definite ``q x q`` matrix ``M[:, :, i]``."""
    inv, logdet, _ = _spd_factor(M)
    return inv, logdet


def _spd_factor(M: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Inverse, log-determinant and conditioning of each positive definite ``M[:, :, i]`` (q x q).

    Cholesky ``M = L L^T``, then ``L^-1`` by forward substitution and ``M^-1 =
    L^-T L^-1``, written entry by entry so that each operation acts on one
    entry of all N matrices at once: for small ``q`` this is several times
    faster than NumPy's batched LAPACK calls, which pay a fixed cost per
    matrix. (Gauss-Jordan sweeps would be shorter, but their error grows with
    the square of ``M``'s condition number, large for a row that observes
    fewer than ``q`` entries when ``sigma2`` is small.) The conditioning is the
    smallest pivot ``L_jj^2`` over the largest diagonal entry of ``M``: about
    ``1 / cond(M)``, and ``<= 0`` where ``M`` is not numerically positive
    definite (its pivots are floored at ``eps`` of the scale, and the caller
    recomputes such rows).
    """
    q = len(M)
    L, Li, inv = np.zeros_like(M), np.zeros_like(M), np.empty_like(M)
    pivots, scale = np.empty((q, M.shape[2])), np.diagonal(M).max(axis=-1)
    for j in range(q):
        pivots[j] = M[j, j] - (L[j, :j] ** 2).sum(axis=0)
        L[j, j] = np.sqrt(np.maximum(pivots[j], _PIVOT_FLOOR * scale))
        for i in range(j + 1, q):
            L[i, j] = (M[i, j] - (L[i, :j] * L[j, :j]).sum(axis=0)) / L[j, j]
    for i in range(q):
        Li[i, i] = 1.0 / L[i, i]
        for j in range(i):
            Li[i, j] = -(L[i, j:i] * Li[j:i, j]).sum(axis=0) / L[i, i]
    for i in range(q):
        for j in range(i + 1):
            inv[i, j] = inv[j, i] = (Li[i:, i] * Li[i:, j]).sum(axis=0)
    return inv, 2.0 * np.log(np.diagonal(L)).sum(axis=-1), pivots.min(axis=0) / scale


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
    :func:`_expected_sums`), by the shortest step from the current value
    (:func:`_min_norm_step`, for a singular ``A_j``). Least squares lowers the expected squared
    residual ``sse`` by ``step_j^T A_j step_j`` for each ``j``, so ``sigma2``,
    its new mean over the ``n_obs`` observed entries (eq.
    (ch7-eq-mstep-sigma2); ``learn_noise``), needs no second pass over the data. ``gain`` is the
    rise of the expected complete-data log-likelihood (nats). PX-EM
    (``expand``) then absorbs the fitted latent mean and covariance (from
    ``G``) into ``shift`` and ``W`` (Liu, Rubin and Wu, 1998).
    """
    q = W.shape[1]
    old = np.hstack([W, shift[:, None]])
    step = _min_norm_step(sums.A, sums.B - np.einsum("jab,jb->ja", sums.A, old))
    new = old + step
    drop = float(np.einsum("ja,jab,jb->", step, sums.A, step))
    gain = 0.5 * drop / sigma2
    W, shift = new[:, :q], new[:, q]
    if learn_noise:
        ratio = (sums.sse - drop) / n_obs / sigma2
        if ratio <= _COLLAPSE_RATIO:  # sigma2 collapsing to 0: the caller sets this start aside
            return ObservedMStep(W, shift, 0.0, gain)
        gain += 0.5 * n_obs * (ratio - 1.0 - np.log(ratio))
        sigma2 *= ratio
    if expand:
        eta, gamma = _latent_moments(sums.G)
        shift = shift + W @ eta
        vals, vecs = np.linalg.eigh(gamma)  # any L with L L^T = gamma: the same model
        W = W @ (vecs * np.sqrt(np.maximum(vals, 0.0))) @ vecs.T
    return ObservedMStep(W, shift, float(sigma2), gain)


def _min_norm_step(A: FloatArray, residual: FloatArray) -> FloatArray:
    """The shortest ``step_j`` with ``A_j step_j = residual_j``, for each ``j``: ``pinv(A_j) residual_j``.

    ``A_j`` is singular when the samples that observe entry ``j`` cannot pin down
    ``(w_j, shift_j)`` (one sample, and ``sigma2`` near 0): then every solution
    maximises ``Q`` equally and the shortest step from the current value is taken.
    From each ``A_j``'s eigendecomposition, eigenvalues below ``4 eps`` of its
    largest counted as 0.
    """
    vals, vecs = np.linalg.eigh(A)
    keep = vals > _EIG_CUTOFF * vals[:, -1:]
    inverse = np.divide(1.0, vals, out=np.zeros_like(vals), where=keep)
    coefficients = np.einsum("jba,jb->ja", vecs, residual) * inverse
    out: FloatArray = np.einsum("jab,jb->ja", vecs, coefficients)
    return out


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
) -> EngineFit | None:
    """EM from ``start = (W, sigma2)``: one pass over the data per iteration; ``None`` if it collapses.

    Each iteration is one :func:`_expected_sums` and one :func:`_m_step_observed`. The
    step's gain ``g`` (nats, never negative) makes ``sqrt(2 g / N)`` the root-mean-square
    change per row of the fitted observed entries, in units of the noise standard
    deviation, and ``g / N`` nats per sample; EM stops when that and the latent's fitted
    moments (0 and I at a maximum), extrapolated by :func:`reached_tol`, are within
    ``sqrt(2 tol)``: the distance still to go, squared over 2, within ``tol`` nats per
    sample. A learned ``sigma2`` that falls to round-off of the data's variance (or by a
    millionfold in one step), or that ends ``max_iter`` unconverged and still falling a
    thousandfold over its second half (or fallen 1e10-fold from the start, where round-off
    drowns the likelihood), is heading for an unbounded likelihood: ``None``.
    """
    (n, d), q, learn = R.shape, settings.n_components, settings.learn_noise
    W, sigma2 = start
    shift = np.zeros(d)  # the model's mean is centre + shift
    n_obs = obs.sum()
    tol = float(np.sqrt(2.0 * settings.tol))  # in the residual's units
    history: list[float] = []
    residuals: list[float] = []
    noise: list[float] = []
    for _ in range(settings.max_iter):
        sums = _expected_sums(R, obs, W, shift, sigma2, q + 1)  # (z, 1) has q + 1 entries
        history.append(sums.log_likelihood)
        W, shift, sigma2, gain = _m_step_observed(sums, W, shift, sigma2, n_obs, learn_noise=learn,
                                                  expand=settings.parameter_expansion)
        if learn and is_roundoff(sigma2, total / (n * d), n, d):
            return None  # the likelihood is unbounded
        eta, gamma = _latent_moments(sums.G)  # 0 and I at every maximum
        latent_misfit = max(np.abs(eta).max(), np.abs(gamma - np.eye(q)).max())
        residuals.append(max(np.sqrt(2.0 * gain / n), latent_misfit))
        noise.append(sigma2)
        if reached_tol(residuals, tol):
            break
    converged = reached_tol(residuals, tol)
    if learn and not converged and (noise[len(noise) // 2] > _CREEP_FALL * sigma2
                                    or start[1] > _TOTAL_FALL * sigma2):
        return None  # still falling towards 0, or fallen so far that EM lost its digits
    history.append(_expected_sums(R, obs, W, shift, sigma2, q + 1).log_likelihood)
    U, w, _ = np.linalg.svd(W, full_matrices=False)  # the same model, orthogonal columns
    return EngineFit(centre + shift, U * w, sigma2, history, converged)


def fit_missing(
    X: FloatArray, observed: Any, settings: EMSettings, rng: Any, *, n_init: int
) -> EngineFit:
    """EM on the observed entries of ``X`` (NaN where ``observed`` is False), best of ``n_init``.

    Rows with nothing observed are dropped (they have likelihood 1). Starts: the closed
    form on the covariance from observed pairs (:func:`_observed_pairs_start`) nudged by
    ``sigma / 100``, then (``n_init``) that of the mean-filled data nudged by ``sigma / 2``
    (:func:`_starting_point`); the likeliest fit is kept (the earlier on a tie to 1e-9
    relative), among the starts whose ``sigma2`` did not fall towards 0 (counted in
    ``collapsed_starts``); if every start's did, the rank ``ValueError``: the likelihood
    is unbounded. ``W_o^T W_o + sigma2 I`` squares the conditioning of ``W``: standardise
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
    best: EngineFit | None = None
    collapsed = 0
    for k in range(n_init):
        fit = _em_from(R, obs, centre, total,
                       _starting_point(R, obs, total, settings, rng, restart=k > 0), settings)
        if fit is None:
            collapsed += 1
        elif best is None or fit.final_log_likelihood > (  # ties: the earlier
                best.final_log_likelihood + _N_INIT_TIE * abs(best.final_log_likelihood)):
            best = fit
    if best is None:
        raise rank_error(q, _WHERE_ENTRIES)
    return best._replace(collapsed_starts=collapsed)
