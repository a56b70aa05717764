"""What the EM engines of :mod:`hw4lib.ppca` share (chapters 3 and 4).

The ground floor of the PPCA modules: it imports nothing from them. Here are
the settings an engine runs with and the named result it returns
(:class:`EMSettings`, :class:`EngineFit`); the rank check, the one place that
raises "the ML noise variance is 0"; the stopping test (:func:`fixed_point_residual`,
:func:`reached_tol`); and the pass over the data that both engines start from
(:func:`projection_sums`, :func:`randomized_start`), in blocks of rows that stay
in cache (:func:`row_blocks`).

Callers: :mod:`hw4lib.ppca` (the homework's functions and the estimator
:class:`~hw4lib.ppca.PPCA`), :mod:`hw4lib._ppca_complete` (chapter 6's engine) and
:mod:`hw4lib._ppca_missing` (chapter 7's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ._validation import FloatArray

__all__ = [
    "LOG_2PI", "OVERSAMPLING", "POWER_ITERATIONS", "COLUMN_VARIANCE_FLOOR", "EMSettings",
    "EngineFit", "ProjectionSums", "sumsq", "is_roundoff", "check_rank", "row_blocks",
    "fixed_point_residual", "reached_tol", "projection_sums", "randomized_start",
]

LOG_2PI = float(np.log(2.0 * np.pi))
_EPS = np.finfo(np.float64).eps  # a numpy float64, as in numpy.linalg.matrix_rank

# The randomized start (Halko, Martinsson and Tropp, 2011), off the top-q eigenspace by
# about (lambda_{q+8} / lambda_q) ** 2:
OVERSAMPLING = 7  # random columns beyond q: 5 to 10 in Halko et al.; q + 5 was slower
POWER_ITERATIONS = 2  # products with S before Rayleigh-Ritz: three passes over X in all
COLUMN_VARIANCE_FLOOR = 1e-8  # times sigma2: no start column is 0, a fixed point of EM
_DIRECT_RESIDUAL_FRACTION = 1e-6  # ||R||^2 below this times ||Xc||^2: Pythagoras loses 6 digits
_BLOCK_FLOATS = 1 << 19  # rows x D x columns: 4 MiB of float64, which stays in cache
_MIN_BLOCK_ROWS = 16  # even for very wide data, so that each block's call overhead is shared
_ROUNDOFF_FRACTION_OF_TOL = 1e-2  # a residual this far below tol: round-off, converged outright
_STEADY_RATIO_SLACK = 0.1  # times max(rho, 1 - rho): two ratios agreeing this well are a rate


@dataclass(frozen=True)
class EMSettings:
    """How an engine runs, as :class:`~hw4lib.ppca.PPCA`'s parameters set it.

    ``noise_variance`` is a fixed ``sigma2``, or ``None`` to learn it;
    ``parameter_expansion`` runs PX-EM (chapter 6, eq. (ch6-eq-px)).
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
    ``converged`` whether EM stopped within ``tol`` of a fixed point.
    """

    mean: FloatArray
    W: FloatArray
    noise_variance: float
    log_likelihood: list[float]
    converged: bool

    @property
    def final_log_likelihood(self) -> float:
        """The log-likelihood of the returned model, by which ``n_init`` picks a fit."""
        return self.log_likelihood[-1]


class ProjectionSums(NamedTuple):
    """The sums of one pass over the data (:func:`projection_sums`)."""

    AtA: FloatArray
    RtA: FloatArray
    rss: float


def sumsq(X: FloatArray) -> float:
    """``||X||^2``, the sum of squares of all entries, as one dot product."""
    flat = X.ravel(order="K")
    return float(flat @ flat)


def is_roundoff(variance: float, scale: float, n: int, d: int) -> bool:
    """Whether ``variance`` is 0 to within round-off beside a variance ``scale``.

    numpy's rank test (``numpy.linalg.matrix_rank``: a singular value of an ``n x
    d`` matrix below ``max(n, d) eps`` times the largest counts as 0), stated for
    variances, the squares of singular values.
    """
    return bool(variance <= scale * (max(n, d) * _EPS) ** 2)


def check_rank(q: int, *, deficient: bool, where: str = "") -> None:
    """Raise the error of data of rank ``<= q`` (``deficient``), saying ``where`` it was found.

    Then the ML noise variance is 0 and the likelihood unbounded.
    """
    if deficient:
        raise ValueError(f"the ML noise variance is 0: X has rank <= n_components={q}{where}; "
                         "pass noise_variance or lower n_components")


def row_blocks(n: int, d: int, columns: int = 1) -> list[slice]:
    """Blocks of the ``n`` rows of a ``d``-column array, each about ``4 / columns`` MiB.

    A block and its product with ``columns`` columns then stay in cache together.
    """
    step = max(_MIN_BLOCK_ROWS, int(_BLOCK_FLOATS // (d * columns)))
    return [slice(first, first + step) for first in range(0, n, step)]


# --------------------------------------------------------------------------- the stopping test
def fixed_point_residual(
    w2: FloatArray, B: FloatArray, Y: FloatArray, sigma2: float, noise_target: float | None
) -> float:
    """How far the model ``W = U diag(sqrt(w2))``, ``sigma2`` is from a fixed point of EM.

    ``U`` (D x q) has orthonormal columns; ``B = U^T S U`` and ``Y = (I - U U^T)
    S U``, with ``S`` the data's second-moment matrix. At a fixed point of EM
    (Tipping and Bishop, 1999, section 3.2) the model covariance ``C = W W^T +
    sigma2 I`` agrees with ``S`` wherever the model is free to: each ``u_j`` is
    an eigenvector of ``S`` (``B`` is diagonal and ``Y = 0``); the model's
    variance along it, ``v_j = w2_j + sigma2``, is the data's, ``B_jj`` (or
    ``sigma2`` when ``B_jj <= sigma2``: that column is 0); and a learned
    ``sigma2`` is ``noise_target``, the data's variance per dimension outside
    span(U). The residual is the largest mismatch, each one measured in the
    model's own units (divided by ``sqrt(v_i v_j)``, as in the whitened
    covariance ``C^-1/2 S C^-1/2``), so it does not depend on the units of the
    data and ``tol = 1e-4`` means agreement to about 1e-4 relative.
    """
    r = np.diag(B)
    v = np.maximum(r, sigma2)
    off = (B - np.diag(r)) / np.sqrt(np.outer(v, v))
    direction = np.sqrt(np.sum(off * off, axis=0) + np.sum(Y * Y, axis=0) / (sigma2 * v))
    worst = float(max(direction.max(), np.max(np.abs(w2 + sigma2 - v) / v)))
    if noise_target is not None:
        worst = max(worst, abs(sigma2 - noise_target) / sigma2)
    return worst


def reached_tol(residuals: list[float], tol: float) -> bool:
    """Whether the distance to the fixed point, estimated from the residuals, is below ``tol``.

    EM converges linearly, so in the end its residuals (:func:`fixed_point_residual`)
    shrink by a steady ratio ``rho`` per iteration, and the distance still to
    go is about ``residual / (1 - rho)`` (Aitken). That matters when two
    eigenvalues almost coincide: there the residual is the eigengap times the
    angle, small far from the maximum, and it shrinks slowly (``rho`` near 1);
    a fast mode can hide it for a few iterations, so the estimate is trusted
    only once the last two ratios agree. A residual below ``tol / 100`` counts
    as converged (round-off makes ``rho`` meaningless there).
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
def projection_sums(X: FloatArray, mean: FloatArray, U: FloatArray, total: float) -> ProjectionSums:
    """``A^T A``, ``R^T A`` and ``||R||^2`` for ``Xc = X - mean``, ``A = Xc U``, ``R = Xc - A U^T``.

    ``A`` holds the projections on the columns of ``U`` and ``R`` the part of
    each sample outside span(U); ``total = ||Xc||^2``. One pass over ``X`` in
    blocks of rows small enough to stay in cache for both products (``A_b =
    X_b U`` and ``X_b^T A_b``), centred inside them (``Xc U = X U - 1 mean^T
    U``, no centred copy): with ``G = Xc^T A``, ``R^T A = G - U A^T A`` and,
    by Pythagoras, ``||R||^2 = ||Xc||^2 - ||A||^2``. When the data lie so
    close to span(U) that these subtractions would lose more than six digits
    (``||R||^2 < 1e-6 ||Xc||^2``), ``R`` is computed directly, block by block
    (a loop over blocks of rows, not over samples), so that directions of
    small variance stay accurate.
    """
    n_columns, mean_along_U = U.shape[1], mean @ U
    AtA, G, colsum = np.zeros((n_columns, n_columns)), np.zeros_like(U), np.zeros(n_columns)
    for rows in row_blocks(len(X), X.shape[1], n_columns):
        A = X[rows] @ U - mean_along_U
        AtA += A.T @ A
        G += X[rows].T @ A
        colsum += A.sum(axis=0)
    rss = total - float(np.trace(AtA))
    if rss > _DIRECT_RESIDUAL_FRACTION * total:
        return ProjectionSums(AtA, G - np.outer(mean, colsum) - U @ AtA, rss)
    RtA, rss = np.zeros_like(U), 0.0
    for rows in row_blocks(*X.shape):
        A = X[rows] @ U - mean_along_U
        Rb = (X[rows] - mean) - A @ U.T
        RtA += Rb.T @ A
        rss += sumsq(Rb)
    return ProjectionSums(AtA, RtA, rss)


def randomized_start(
    X: FloatArray, mean: FloatArray, q: int, total: float, rng: Any
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """A start ``U`` (D x q) and its :func:`projection_sums`: subspace iteration, Rayleigh-Ritz.

    ``U <- orth(S U)`` twice on ``q + 7`` random columns, then the ``q``
    leading eigenvectors of ``S`` restricted to span(U) (Halko, Martinsson and
    Tropp, 2011, algorithm 4.4 and section 5.5), off by about ``(lambda_{q+8}
    / lambda_q)^2``: three passes, the last also giving :func:`projection_sums`
    for the ``q`` columns returned (``Xc U V = A V``). The start lies near the
    top-``q`` eigenspace, in the basin of the maximum, so no column of ``W``
    starts where the data vary little and collapses (chapter 6, "Where EM is slow").
    """
    U = np.linalg.qr(rng.standard_normal((X.shape[1], min(X.shape[1], q + OVERSAMPLING))))[0]
    for _ in range(POWER_ITERATIONS):
        AtA, RtA, _ = projection_sums(X, mean, U, total)
        U = np.linalg.qr(U @ AtA + RtA)[0]  # S U = U B + (I - U U^T) S U
    AtA, RtA, _ = projection_sums(X, mean, U, total)
    V = np.linalg.eigh(AtA)[1][:, ::-1][:, :q]
    Uq, AtA_q = U @ V, V.T @ AtA @ V
    rss = total - float(np.trace(AtA_q))
    if rss <= _DIRECT_RESIDUAL_FRACTION * total:  # Pythagoras would lose digits: R directly
        return (Uq, *projection_sums(X, mean, Uq, total))
    return Uq, AtA_q, (RtA + U @ AtA) @ V - Uq @ AtA_q, rss  # Xc^T A V - Uq AtA_q
