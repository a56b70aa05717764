"""What the EM engines of :mod:`hw4lib.ppca` share (chapters 3 and 4).

The ground floor of the PPCA modules: it imports nothing from them. Here are
the settings an engine runs with and the named result it returns
(:class:`EMSettings`, :class:`EngineFit`); the power of two that scales the data
into range (:func:`scale_exponent`); the rank check, the one place that raises
"the ML noise variance is 0"; the stopping tests, in nats (:func:`gap_to_maximum`
for complete data, :func:`reached_tol` for the missing-data engine's steps); and
the pass over the data that both engines start from (:func:`projection_sums`,
:func:`randomized_start`), in blocks of rows that stay in cache (:func:`row_blocks`).

Callers: :mod:`hw4lib.ppca` (the homework's functions and the estimator
:class:`~hw4lib.ppca.PPCA`), :mod:`hw4lib._ppca_complete` (chapter 6's engine) and
:mod:`hw4lib._ppca_missing` (chapter 7's).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._validation import FloatArray

__all__ = [
    "LOG_2PI", "OVERSAMPLING", "POWER_ITERATIONS", "COLUMN_VARIANCE_FLOOR", "EMSettings",
    "EngineFit", "ProjectionSums", "ScaledModel", "sumsq", "scale_exponent", "is_roundoff",
    "rank_error", "check_rank", "row_blocks", "best_in_span", "gap_to_maximum", "reached_tol", "projection_sums",
    "randomized_start",
]

LOG_2PI = float(np.log(2.0 * np.pi))
_EPS = np.finfo(np.float64).eps  # a numpy float64, as in numpy.linalg.matrix_rank

# The randomized start (Halko, Martinsson and Tropp, 2011), off the top-q eigenspace by
# about (lambda_{q+8} / lambda_q) ** (k + 1/2) after k products with S:
OVERSAMPLING = 7  # random columns beyond q: 5 to 10 in Halko et al.
POWER_ITERATIONS = 2  # products with S before Rayleigh-Ritz, at least
MAX_POWER_ITERATIONS = 12  # at most, while the start is not yet within tol of the maximum
_UNSCALED_EXPONENT = 64  # |entries| within 2^-64 .. 2^64 are used as they are
COLUMN_VARIANCE_FLOOR = 1e-8  # times sigma2: no start column is 0, a fixed point of EM
_DIRECT_RESIDUAL_FRACTION = 1e-6  # ||R||^2 below this times ||Xc||^2: Pythagoras loses 6 digits
_BLOCK_FLOATS = 1 << 19  # rows x D x columns: 4 MiB of float64, which stays in cache
_MIN_BLOCK_ROWS = 16  # even for very wide data, so that each block's call overhead is shared
_ROUNDOFF_FRACTION_OF_TOL = 1e-2  # a residual this far below tol: round-off, converged outright
_RESIDUAL_ROUNDOFF = 4.0  # times eps sqrt(D tr S b_j): a residual this small is round-off
_STEADY_RATIO_SLACK = 0.1  # times max(rho, 1 - rho): two ratios agreeing this well are a rate


@dataclass(frozen=True)
class EMSettings:
    """How an engine runs, as :class:`~hw4lib.ppca.PPCA`'s parameters set it.

    ``noise_variance`` is a fixed ``sigma2``, or ``None`` to learn it;
    ``parameter_expansion`` runs PX-EM (chapter 6, eq. (ch6-eq-px)); ``tol`` is
    in nats per sample: EM stops within ``tol * N`` nats of the maximum.
    """

    n_components: int
    noise_variance: float | None
    max_iter: int
    tol: float
    parameter_expansion: bool

    @property
    def learn_noise(self) -> bool:
        """Whether ``sigma2`` is learned (the rank check applies only then)."""
        return self.noise_variance is None


class EngineFit(NamedTuple):
    """What an engine returns: the model ``x = W z + mean + eps`` and how EM got there.

    ``log_likelihood[k]`` is the total log-likelihood after ``k`` EM updates;
    ``converged`` whether EM stopped within ``tol * N`` nats of the maximum;
    ``collapsed_starts`` how many starts (``n_init``) ended with ``sigma2``
    falling towards 0, an unbounded likelihood, and were set aside. The model's
    mean is ``mean + mean_lo``: ``mean_lo`` is what rounding ``mean`` to a float
    lost (data at an offset far above their spread).
    """

    mean: FloatArray
    W: FloatArray
    noise_variance: float
    log_likelihood: list[float]
    converged: bool
    collapsed_starts: int = 0
    mean_lo: FloatArray | None = None

    @property
    def final_log_likelihood(self) -> float:
        """The log-likelihood of the returned model, by which ``n_init`` picks a fit."""
        return self.log_likelihood[-1]


class ProjectionSums(NamedTuple):
    """The sums of one pass over the data (:func:`projection_sums`)."""

    AtA: FloatArray
    RtA: FloatArray
    rss: float


class ScaledModel(NamedTuple):
    """A fitted PPCA model in the units its engine worked in: the data divided by ``2^exponent``.

    The mean is ``mean + mean_lo`` (``mean_lo``: what rounding it to a float lost).
    """

    exponent: int
    mean: FloatArray
    mean_lo: FloatArray
    W: FloatArray
    noise_variance: float

    @classmethod
    def from_attributes(cls, exponent: int, mean: FloatArray, W: FloatArray,
                        noise_variance: float) -> ScaledModel:
        """The model of attributes in the data's units (``mean_``, ``W_``, ``noise_variance_``)."""
        with np.errstate(over="ignore", under="ignore"):
            return cls(exponent, np.ldexp(mean, -exponent), np.zeros_like(mean),
                       np.ldexp(W, -exponent), float(np.ldexp(noise_variance, -2 * exponent)))

    def centred(self, X: FloatArray) -> FloatArray:
        """``X / 2^exponent - mean``, keeping the spread of data at a large offset."""
        scaled = np.ldexp(X, -self.exponent) if self.exponent else X
        out: FloatArray = (scaled - self.mean) - self.mean_lo
        return out


def sumsq(X: FloatArray) -> float:
    """``||X||^2``, the sum of squares of all entries, as one dot product."""
    flat = X.ravel(order="K")
    return float(flat @ flat)


def scale_exponent(largest: float) -> int:
    """The ``e`` for which data whose largest ``|entry|`` is ``largest`` are used as ``X / 2^e``.

    0 when ``largest`` lies within ``2^-64 .. 2^64``; otherwise the binary exponent
    of ``largest``, so that the scaled entries are at most 1. Dividing by a power
    of two is exact (down to the subnormals, far below the data's spread), so the
    fit of ``X / 2^e`` is the fit of ``X`` in units of ``2^e``, and every finite
    ``X`` can be fitted: its variances, products and sums of squares stay in range.
    """
    exponent = int(np.frexp(largest)[1]) if largest > 0 else 0
    return exponent if abs(exponent) > _UNSCALED_EXPONENT else 0


def is_roundoff(variance: float, scale: float, n: int, d: int) -> bool:
    """Whether ``variance`` is 0 to within round-off beside a variance ``scale``.

    numpy's rank test (``numpy.linalg.matrix_rank``: a singular value of an ``n x
    d`` matrix below ``max(n, d) eps`` times the largest counts as 0), stated for
    variances, the squares of singular values.
    """
    return bool(variance <= scale * (max(n, d) * _EPS) ** 2)


def rank_error(q: int, where: str = "") -> ValueError:
    """The error of data of rank ``<= q``, saying ``where`` it was found.

    Then the ML noise variance is 0 and the likelihood unbounded.
    """
    return ValueError(f"the ML noise variance is 0 (the likelihood is unbounded): X has rank "
                      f"<= n_components={q}{where}; pass noise_variance or lower n_components")


def check_rank(q: int, *, deficient: bool, where: str = "") -> None:
    """Raise :func:`rank_error` if ``deficient``."""
    if deficient:
        raise rank_error(q, where)


def row_blocks(n: int, d: int, columns: int = 1) -> list[slice]:
    """Blocks of the ``n`` rows of a ``d``-column array, each about ``4 / columns`` MiB.

    A block and its product with ``columns`` columns then stay in cache together.
    """
    step = max(_MIN_BLOCK_ROWS, int(_BLOCK_FLOATS // (d * columns)))
    return [slice(first, first + step) for first in range(0, n, step)]


# --------------------------------------------------------------------------- the stopping test
def best_in_span(
    n: int, d: int, b: FloatArray, outside: float, noise_variance: float | None
) -> float:
    """The largest log-likelihood of a model whose ``q`` columns lie in a subspace ``U``.

    ``b`` are the Ritz values of ``S`` on ``U`` (the eigenvalues of ``U^T S U``)
    and ``outside = tr((I - U U^T) S)`` the variance left outside it. That model
    is Tipping and Bishop's closed form (chapter 6, eq. (ch6-eq-closed-sigma2))
    with ``b`` in place of the top eigenvalues and the outside variance spread
    evenly: column ``j`` has variance ``b_j`` when ``b_j > sigma2`` and is 0
    otherwise, and a learned ``sigma2`` is the mean variance of what is left
    (``k`` columns kept, ``sigma2 = (outside + sum_{j >= k} b_j) / (D - k)``).
    ``inf`` when a learned ``sigma2`` would be ``<= 0``.
    """
    b = np.sort(np.asarray(b, dtype=np.float64))[::-1]
    q = len(b)
    if noise_variance is not None:
        s2, kept = noise_variance, b > noise_variance
        fit = np.where(kept, np.log(np.where(kept, b, 1.0)) + 1.0, np.log(s2) + b / s2).sum()
        return float(-0.5 * n * (d * LOG_2PI + fit + (d - q) * np.log(s2) + outside / s2))
    k = q
    while True:  # the number of columns kept: each above the mean variance of the rest
        s2 = (outside + float(b[k:].sum())) / (d - k)
        if k == 0 or b[k - 1] > s2:
            break
        k -= 1
    if not s2 > 0.0:
        return float(np.inf)
    return float(-0.5 * n * (d * LOG_2PI + np.log(b[:k]).sum() + (d - k) * np.log(s2) + d))


def gap_to_maximum(
    n: int, d: int, log_likelihood: float, B: FloatArray, Y: FloatArray, outside: float,
    noise_variance: float | None,
) -> float:
    """An upper estimate, in nats, of how far ``log_likelihood`` is below the maximum.

    The model's columns span ``U`` (D x q, orthonormal); ``B = U^T S U``, ``Y =
    (I - U U^T) S U`` and ``outside = tr((I - U U^T) S)``. Two parts:

    * in ``U``: :func:`best_in_span` of the Ritz values ``b_j`` (eigenvalues of
      ``B``) minus ``log_likelihood``, exact;
    * the subspace: each eigenvalue ``lambda_j`` that a Ritz vector approximates is
      at most ``||y_j||`` above ``b_j``, where ``y_j`` is its residual (the column
      of ``Y`` in the Ritz basis). For one vector at angle ``theta`` to its
      eigenvector, ``lambda - b <= tan(theta) ||y||`` (Cauchy-Schwarz on the
      expansion in eigenvectors), so this holds within 45 degrees; for ``q``
      columns, ``sum_j (lambda_j - b_j) = tr(Y^T T)`` exactly, where ``[I; T]``
      spans the top eigenspace in the basis ``[U, U_perp]`` (``T`` holds the
      tangents of its angles to ``U``), at most ``sum_j ||y_j||`` in that range.

    The maximum is then at most :func:`best_in_span` of ``b_j + ||y_j||`` (the
    trace fixed, so ``outside`` loses ``sum_j ||y_j||``). The bound is first order
    in the residual and needs no eigengap: where two eigenvalues are close the
    residual is small but so is what the likelihood gains from turning the
    column, and where they are far apart EM turns it fast. What no test on the
    residual can see is a column at a saddle (an eigenvector other than the top
    ones, 90 degrees off): ``y_j = 0`` there. A residual within four times its
    round-off (``eps sqrt(D tr(S) b_j)``, from the rounding of the data) counts
    as 0: for data whose eigenvalues span twelve decades that is above ``tol``,
    and the maximum is not defined more finely than that.
    """
    b, V = np.linalg.eigh(B)
    y = np.sqrt(np.sum((Y @ V) ** 2, axis=0))
    # what round-off leaves in y: each entry x_i carries eps |x_i|, so (I - U U^T) S u_j
    # carries about eps sqrt(D tr(S) b_j); the maximum itself is defined no better
    noise = _RESIDUAL_ROUNDOFF * _EPS * np.sqrt(d * (float(b.sum()) + outside) * np.abs(b))
    y = np.maximum(y - noise, 0.0)
    upper = best_in_span(n, d, b + y, outside - float(y.sum()), noise_variance)
    return upper - log_likelihood


def reached_tol(residuals: list[float], tol: float) -> bool:
    """Whether the distance still to go, estimated from the residuals, is below ``tol``.

    The missing-data engine's test (chapter 7): its residual is the root-mean-square
    change per row of the fitted entries in units of the noise (and the latent's
    moments), whose square over 2 is nats per sample. EM converges linearly, so in
    the end its residuals shrink by a steady ratio ``rho`` per iteration, and the
    distance still to go is about ``residual / (1 - rho)`` (Aitken), trusted only
    once the last two ratios agree (a fast mode can hide a slow one for a few
    iterations). A residual below ``tol / 100`` counts as converged (round-off
    makes ``rho`` meaningless there).
    """
    if len(residuals) < 2 or residuals[-1] > tol:
        return False
    if residuals[-1] <= _ROUNDOFF_FRACTION_OF_TOL * tol:
        return True
    if len(residuals) < 3 or min(residuals[-3:-1]) <= 0:
        return False
    rho, rho_before = residuals[-1] / residuals[-2], residuals[-2] / residuals[-3]
    steady = abs(rho - rho_before) <= _STEADY_RATIO_SLACK * max(rho, 1.0 - rho)
    return steady and rho < 1.0 and residuals[-1] <= tol * (1.0 - rho)


# --------------------------------------------------------------------------- the pass over the data
def projection_sums(
    X: FloatArray, mean: FloatArray, U: FloatArray, total: float,
    mean_lo: FloatArray | None = None,
) -> ProjectionSums:
    """``A^T A``, ``R^T A`` and ``||R||^2`` for ``Xc = X - mean``, ``A = Xc U``, ``R = Xc - A U^T``.

    ``A`` holds the projections on the columns of ``U`` and ``R`` the part of
    each sample outside span(U); ``total = ||Xc||^2``. The centre is ``mean +
    mean_lo``: ``mean`` a float vector, ``mean_lo`` what rounding it lost (of the
    order of an ulp of ``mean``; see :func:`~hw4lib._ppca_complete.fit_complete`).
    One pass over ``X`` in blocks of rows small enough to stay in cache for both
    products (``A_b = (X_b - mean) U - 1 mean_lo^T U`` and ``(X_b - mean)^T
    A_b``): each block is centred before its products, so data of spread 1 at
    an offset of ``1e15`` keep their digits, which ``X U - 1 mean^T U`` would
    not (each product carries an error of ``eps`` times the offset). With ``G =
    Xc^T A``, ``R^T A = G - U A^T A`` and, by Pythagoras, ``||R||^2 = ||Xc||^2 -
    ||A||^2``. When the data lie so close to span(U) that these subtractions
    would lose more than six digits (``||R||^2 < 1e-6 ||Xc||^2``), ``R`` is
    computed directly, block by block (a loop over blocks of rows, not over
    samples), so that directions of small variance stay accurate.
    """
    lo = np.zeros_like(mean) if mean_lo is None else mean_lo
    n_columns, lo_along_U, centre = U.shape[1], lo @ U, bool(mean.any())
    AtA, G, colsum = np.zeros((n_columns, n_columns)), np.zeros_like(U), np.zeros(n_columns)
    for rows in row_blocks(len(X), X.shape[1], n_columns):
        Xb = X[rows] - mean if centre else X[rows]
        A = Xb @ U - lo_along_U
        AtA += A.T @ A
        G += Xb.T @ A
        colsum += A.sum(axis=0)
    rss = total - float(np.trace(AtA))
    if rss > _DIRECT_RESIDUAL_FRACTION * total:
        return ProjectionSums(AtA, G - np.outer(lo, colsum) - U @ AtA, rss)
    RtA, rss = np.zeros_like(U), 0.0
    for rows in row_blocks(*X.shape):
        Xb = (X[rows] - mean) - lo
        A = Xb @ U
        Rb = Xb - A @ U.T
        RtA += Rb.T @ A
        rss += sumsq(Rb)
    return ProjectionSums(AtA, RtA, rss)


def randomized_start(
    X: FloatArray, mean: FloatArray, q: int, total: float, rng: Any,
    mean_lo: FloatArray | None = None,
    good_enough: Callable[[FloatArray, FloatArray, float], bool] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """A start ``U`` (D x q) and its :func:`projection_sums`: subspace iteration, Rayleigh-Ritz.

    ``U <- orth(S U)`` on ``q + 7`` random columns, then the ``q`` leading
    eigenvectors of ``S`` restricted to span(U) (Halko, Martinsson and Tropp,
    2011, algorithm 4.4 and section 5.5), off by about ``(lambda_{q+8} /
    lambda_q)^(k + 1/2)`` after ``k`` products: two at least, and, given
    ``good_enough(b, Y, outside)`` (the top ``q`` Ritz values, their residuals
    ``(I - U U^T) S U`` and the variance outside them), up to
    ``MAX_POWER_ITERATIONS`` until it says the start is within tol. Each product
    is one pass over the data, the last also giving :func:`projection_sums` for
    the ``q`` columns returned (``Xc U V = A V``). A product with ``q + 7``
    columns turns the subspace by ``lambda_{q+8} / lambda_q`` where an EM
    iteration turns it by ``lambda_{q+1} / lambda_q``, at about the same cost
    (a pass over the data, read from memory once). The start lies near the
    top-``q`` eigenspace, in the basin of the maximum, so no column of ``W``
    starts where the data vary little and collapses (chapter 6, "Where EM is slow").
    """
    n, d = X.shape
    U = np.linalg.qr(rng.standard_normal((d, min(d, q + OVERSAMPLING))))[0]
    for k in range(1, MAX_POWER_ITERATIONS + 1):
        AtA, RtA, _ = projection_sums(X, mean, U, total, mean_lo)
        if k > POWER_ITERATIONS:
            lam, V = np.linalg.eigh(AtA)
            Vq = V[:, ::-1][:, :q]
            b = lam[::-1][:q] / n
            if (good_enough is None or k == MAX_POWER_ITERATIONS
                    or good_enough(b, RtA @ Vq / n, total / n - float(b.sum()))):
                break
        U = np.linalg.qr(U @ AtA + RtA)[0]  # S U = U B + (I - U U^T) S U
    V = np.linalg.eigh(AtA)[1][:, ::-1][:, :q]
    Uq, AtA_q = U @ V, V.T @ AtA @ V
    rss = total - float(np.trace(AtA_q))
    if rss <= _DIRECT_RESIDUAL_FRACTION * total:  # Pythagoras would lose digits: R directly
        return (Uq, *projection_sums(X, mean, Uq, total, mean_lo))
    return Uq, AtA_q, (RtA + U @ AtA) @ V - Uq @ AtA_q, rss  # Xc^T A V - Uq AtA_q
