"""Chapter 3: EM for probabilistic PCA.

The homework's model (chapter 3, eq. (ch3-eq-model)) has a scalar latent and
no mean term,

    z ~ N(0, 1),    x | z ~ N(z u, sigma2 I),    x, u in R^D,

so that x ~ N(0, u u^T + sigma2 I) (eq. (ch3-eq-marginal)). The functions
``ppca_*`` implement that model exactly as stated: they do **not** center the
data. The estimator :class:`PPCA` is the general model of Tipping and Bishop
(1999), x = W z + mean + noise with a ``q``-dimensional latent; it centers the
data as scikit-learn's ``PCA`` does and can learn the noise variance.

Every EM computation costs O(N D q): the D x D covariance is never formed; its
determinant and inverse go through the matrix determinant lemma and the
Woodbury identity (eq. (ch3-eq-loglik)). Only :func:`ppca_closed_form`, the
reference solution, uses an eigendecomposition.

References
----------
.. [TB99] M. E. Tipping and C. M. Bishop, "Probabilistic principal component
   analysis", J. R. Statist. Soc. B 61(3):611-622, 1999.
.. [PRML] C. M. Bishop, *Pattern Recognition and Machine Learning*, 2006,
   section 12.2.
.. [R97] S. Roweis, "EM algorithms for PCA and SPCA", NIPS 10, 1998.
.. [LRW98] C. Liu, D. B. Rubin and Y. N. Wu, "Parameter expansion to
   accelerate EM: the PX-EM algorithm", Biometrika 85(4):755-770, 1998.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import (
    FloatArray,
    as_bool,
    as_float_array,
    as_int,
    as_positive_float,
    check_choice,
    check_finite_result,
)

__all__ = [
    "ConvergenceWarning",
    "NotFittedError",
    "EMResult",
    "PPCA",
    "ppca_posterior",
    "ppca_m_step",
    "ppca_log_likelihood",
    "ppca_em",
    "ppca_closed_form",
]

_LOG_2PI = float(np.log(2.0 * np.pi))

# EM multiplies four data entries together (A^T A with A = X W and W of the size of X), so
# the data must keep their fourth powers inside float64's range (about 1e-308 to 1e308,
# with room for sums over N and D): nonzero data need max |x_ij| in [1e-60, 1e60].
_MIN_SCALE, _MAX_SCALE = 1e-60, 1e60


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` before meeting its tolerance (as in scikit-learn)."""


class NotFittedError(ValueError, AttributeError):
    """A :class:`PPCA` method that needs a fitted model was called before ``fit``."""


@dataclass(frozen=True)
class EMResult:
    """The outcome of :func:`ppca_em`.

    Attributes
    ----------
    u : ndarray of shape (D,)
        The last iterate (the one whose log-likelihood is ``log_likelihood[-1]``).
    log_likelihood : ndarray of shape (n_iter + 1,)
        ``log_likelihood[k]`` is the log-likelihood after ``k`` EM updates; the
        first entry is at ``u0``. EM guarantees it never decreases.
    n_iter : int
        The number of EM updates performed.
    converged : bool
        Whether the tolerance was met before ``max_iter`` updates.
    """

    u: FloatArray
    log_likelihood: FloatArray
    n_iter: int
    converged: bool


# --------------------------------------------------------------------------- validation
def _check_data(X: Any, name: str = "X", min_samples: int = 1) -> FloatArray:
    Xa = as_float_array(X, name, ndim=2)
    if Xa.shape[0] < min_samples:
        raise ValueError(
            f"{name} must have at least {min_samples} samples (rows), got shape {Xa.shape}"
        )
    largest = max(float(Xa.max()), -float(Xa.min()))  # max |x_ij| without a temporary
    if largest > _MAX_SCALE or 0.0 < largest < _MIN_SCALE:
        raise ValueError(
            f"the largest |entry| of {name} is {largest:.3g}; PPCA needs it in "
            f"[{_MIN_SCALE:g}, {_MAX_SCALE:g}] (fourth powers of the data must fit in float64): "
            f"rescale {name}"
        )
    return Xa


def _check_n_components(n_components: Any, n_features: int) -> int:
    q = as_int(n_components, "n_components", minimum=1)
    if q >= n_features:
        raise ValueError(
            f"n_components must be < the number of features D={n_features}, got {q}"
        )
    return q


def _flip_signs(W: FloatArray) -> FloatArray:
    """Make the largest-magnitude entry of every column of ``W`` non-negative."""
    idx = np.argmax(np.abs(W), axis=0)
    signs = np.sign(W[idx, np.arange(W.shape[1])])
    signs[signs == 0] = 1.0
    out: FloatArray = W * signs
    return out


def _canonical(W: FloatArray) -> FloatArray:
    """Remove the rotation freedom of ``W``: orthogonal columns, decreasing norms, signs fixed.

    ``W R`` (``R`` orthogonal) gives the same model (chapter 3, eq.
    (ch3-eq-rotation)); ``W = U S V^T`` is replaced by ``U S``.
    """
    U, S, _ = np.linalg.svd(W, full_matrices=False)
    return _flip_signs(U * S)


def _u_or_sigma2(u: FloatArray, sigma2: float) -> str:
    return (
        f"u is too large or sigma2 too small (largest |u| = {np.max(np.abs(u)):.3g}, "
        f"sigma2 = {sigma2:.3g})"
    )


def _zero_noise_variance(q: int, where: str = "") -> str:
    """The error message for data of rank <= q, whose ML noise variance is 0."""
    return (
        f"the ML noise variance is 0: X has rank <= n_components={q}{where}; "
        "pass noise_variance or lower n_components"
    )


def _sumsq(X: FloatArray) -> float:
    """``sum_ij X_ij**2``, as one dot product (no temporary when ``X`` is contiguous)."""
    flat = X.ravel(order="K")
    return float(flat @ flat)


def _sigma2_floor(sumsq: float, n: int, d: int) -> float:
    """The smallest noise variance EM may learn, ``1e-12`` times the mean squared entry.

    A learned ``sigma2`` at this floor means the likelihood is unbounded: the ML
    noise variance is 0 (see :func:`_zero_noise_variance`).
    """
    return 1e-12 * sumsq / (n * d)


# --------------------------------------------------------------------------- scalar latent
def ppca_posterior(X: Any, u: Any, sigma2: Any) -> tuple[FloatArray, FloatArray]:
    """E-step of the homework model: the posterior moments of ``z`` given each ``x``.

    Implements chapter 3, eq. (ch3-eq-posterior): ``p(z | x) = N(u^T x / M,
    sigma2 / M)`` with ``M = sigma2 + u^T u``, so ``m = u^T x / M`` and
    ``s = sigma2 / M + m**2`` (Bishop, PRML eqs. 12.42 and 12.55 with ``W = u``).

    Parameters
    ----------
    X : array_like of shape (N, D)
        The data, one sample per row (not centered: the model has no mean).
    u : array_like of shape (D,)
        The loading vector.
    sigma2 : float
        The noise variance, > 0.

    Returns
    -------
    m : ndarray of shape (N,)
        ``E[z_i | x_i]``.
    s : ndarray of shape (N,)
        ``E[z_i**2 | x_i]``.

    Raises
    ------
    ValueError
        If ``sigma2 <= 0``, the shapes do not match, an input is not finite, the entries
        of ``X`` are outside ``[1e-60, 1e60]`` in magnitude, or ``u`` is so large (or
        ``sigma2`` so small) that the moments overflow.

    References
    ----------
    Tipping and Bishop (1999), eqs. (25)-(26); Bishop (2006), section 12.2.2.

    Examples
    --------
    >>> m, s = ppca_posterior([[2.0, 0.0]], [1.0, 0.0], 1.0)
    >>> float(m[0]), float(s[0])
    (1.0, 1.5)
    """
    Xa = _check_data(X)
    ua = as_float_array(u, "u", shape=(Xa.shape[1],))
    s2 = as_positive_float(sigma2, "sigma2")
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        M = s2 + float(ua @ ua)
        m = (Xa @ ua) / M
        s = s2 / M + m * m
    check_finite_result(
        np.append(M, s),  # s is finite only if m is
        lambda: "the posterior moments overflowed (inf or NaN): " + _u_or_sigma2(ua, s2),
    )
    return m, s


def ppca_m_step(X: Any, m: Any, s: Any) -> FloatArray:
    """M-step of the homework model: ``u = sum_i m_i x_i / sum_i s_i``.

    Implements chapter 3, eq. (ch3-eq-mstep), the maximiser of the expected
    complete-data log-likelihood (Bishop, PRML eq. 12.56 with ``W = u``).

    Parameters
    ----------
    X : array_like of shape (N, D)
        The data.
    m, s : array_like of shape (N,)
        ``E[z_i | x_i]`` and ``E[z_i**2 | x_i]`` from :func:`ppca_posterior`;
        ``s`` must be positive and at least ``m**2`` (a second moment).

    Returns
    -------
    u : ndarray of shape (D,)

    Raises
    ------
    ValueError
        If the shapes do not match, an input is not finite, the entries of ``X``
        are outside ``[1e-60, 1e60]`` in magnitude, some ``s_i <= 0``, some
        ``s_i < m_i**2``, or ``m`` or ``s`` is so large that ``u`` overflows.

    References
    ----------
    Tipping and Bishop (1999), eq. (27); Dempster, Laird and Rubin (1977).

    Examples
    --------
    >>> ppca_m_step([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0], [2.0, 2.0]).tolist()
    [1.0, 1.5]
    """
    Xa = _check_data(X)
    n = Xa.shape[0]
    ma = as_float_array(m, "m", shape=(n,))
    sa = as_float_array(s, "s", shape=(n,))
    if np.any(sa <= 0):
        raise ValueError(f"s = E[z^2 | x] must be > 0 everywhere; got min(s) = {sa.min():.3g}")
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        m2 = ma * ma
        s_sum = float(sa.sum())
        out: FloatArray = (Xa.T @ ma) / s_sum
    check_finite_result(
        m2, lambda: f"m is too large: m**2 overflows (largest |m| = {np.max(np.abs(ma)):.3g})"
    )
    if np.any(sa < m2 * (1.0 - 1e-12)):
        raise ValueError("s = E[z^2 | x] must be >= m^2 = E[z | x]^2 (a second moment)")
    check_finite_result(
        np.append(s_sum, out),
        lambda: "the M-step overflowed (inf or NaN): m or s is too large "
        f"(sum(s) = {s_sum:.3g}, largest |m| = {np.max(np.abs(ma)):.3g})",
    )
    return out


def _loglik(n: int, d: int, sumsq: float, proj_sq: float, logdet: float, sigma2: float) -> float:
    """sum_i log N(x_i; 0, C) from sum ||x_i||^2, sum x_i^T W M^-1 W^T x_i and log det C."""
    quad = (sumsq - proj_sq) / sigma2
    return float(-0.5 * (n * d * _LOG_2PI + n * logdet + quad))


def ppca_log_likelihood(X: Any, u: Any, sigma2: Any) -> float:
    """``sum_i log N(x_i; 0, u u^T + sigma2 I)`` in O(N D), without a D x D matrix.

    Implements chapter 3, eq. (ch3-eq-loglik): by the matrix determinant lemma
    ``log det C = (D - 1) log sigma2 + log M`` and by Woodbury
    ``x^T C^-1 x = (||x||^2 - (u^T x)^2 / M) / sigma2``, ``M = sigma2 + u^T u``.

    Parameters
    ----------
    X : array_like of shape (N, D)
    u : array_like of shape (D,)
    sigma2 : float, > 0

    Returns
    -------
    float
        The total log-likelihood of the data (not the mean).

    Raises
    ------
    ValueError
        If ``sigma2 <= 0``, the shapes do not match, an input is not finite, the entries
        of ``X`` are outside ``[1e-60, 1e60]`` in magnitude, or the log-likelihood
        overflows (``u`` too large or ``sigma2`` too small).

    References
    ----------
    Tipping and Bishop (1999), eq. (4) and appendix; Bishop (2006), eq. 12.44.

    Examples
    --------
    >>> round(ppca_log_likelihood([[0.0, 0.0]], [0.0, 0.0], 1.0), 6)  # -log(2 pi)
    -1.837877
    """
    Xa = _check_data(X)
    n, d = Xa.shape
    ua = as_float_array(u, "u", shape=(d,))
    s2 = as_positive_float(sigma2, "sigma2")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
        M = s2 + float(ua @ ua)
        a = Xa @ ua
        sumsq = _sumsq(Xa)
        ll = _loglik(n, d, sumsq, float(a @ a) / M, (d - 1) * np.log(s2) + np.log(M), s2)
    check_finite_result(
        ll, lambda: "the log-likelihood overflowed (inf or NaN): " + _u_or_sigma2(ua, s2)
    )
    return ll


def ppca_em(
    X: Any,
    sigma2: Any,
    u0: Any = None,
    max_iter: int = 10_000,
    tol: float = 1e-9,
    parameter_expansion: bool = False,
) -> EMResult:
    """EM for the homework model: alternate eqs. (ch3-eq-posterior) and (ch3-eq-mstep).

    It runs the EM loop of :class:`PPCA` with ``q = 1``, no mean and ``sigma2``
    fixed: each iteration is one pass over the data, O(N D). The log-likelihood
    (eq. (ch3-eq-loglik)) is recorded after every update at no extra cost: it
    reuses the projections ``X u`` of the next E-step.

    Plain EM converges slowly when ``sigma2`` is small against the top
    eigenvalue ``lambda_1`` of ``X^T X / N``: near the optimum the length of
    ``u`` contracts only by ``1 - 2 sigma2 (lambda_1 - sigma2) / lambda_1^2``
    per iteration (chapter 3, eq. (ch3-eq-em-rate)). ``parameter_expansion=True``
    runs PX-EM instead (eq. (ch3-eq-px)): after each M-step ``u`` is multiplied
    by ``sqrt(mean_i s_i)``, the fitted latent standard deviation; the
    log-likelihood still never decreases (Liu, Rubin and Wu, 1998).

    Parameters
    ----------
    X : array_like of shape (N, D)
        The data, N >= 2 (not centered: the model has no mean).
    sigma2 : float
        The fixed noise variance, > 0.
    u0 : array_like of shape (D,), optional
        The starting point. Default: a standard normal draw from
        ``np.random.default_rng(0)``, rescaled to the norm
        ``sqrt(sum_i ||x_i||^2 / N)``. ``u0 = 0`` is a fixed point of EM.
    max_iter : int, default 10000
        The largest number of EM updates.
    tol : float, default 1e-9
        Stop when the last gain of log-likelihood and the gain still to come
        (Aitken's estimate ``delta * rho / (1 - rho)`` from the ratio ``rho``
        of the last two gains) are both at most ``tol * |log-likelihood|``;
        a gain <= 0 (round-off at the optimum) also stops.
    parameter_expansion : bool, default False
        Run PX-EM instead of the plain EM of the homework.

    Returns
    -------
    EMResult
        ``u`` is the last iterate, with the sign of its largest-magnitude
        entry made positive (``u`` and ``-u`` are the same model).

    Raises
    ------
    ValueError
        For bad inputs (see :func:`ppca_posterior`), fewer than 2 samples, or a
        log-likelihood that overflows (``u0`` too large or ``sigma2`` too small).
    TypeError
        If ``parameter_expansion`` is not a bool.

    Warns
    -----
    ConvergenceWarning
        If ``max_iter`` updates did not meet ``tol``.

    References
    ----------
    Dempster, Laird and Rubin (1977); Tipping and Bishop (1999), section 3.2;
    Bishop (2006), section 12.2.2.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 1)) * [3.0, 0.0] + rng.standard_normal((500, 2))
    >>> res = ppca_em(X, sigma2=1.0)
    >>> bool(res.converged), bool(np.all(np.diff(res.log_likelihood) > -1e-9))
    (True, True)
    """
    Xa = _check_data(X, min_samples=2)
    n, d = Xa.shape
    s2 = as_positive_float(sigma2, "sigma2")
    n_max = as_int(max_iter, "max_iter", minimum=1)
    rtol = as_positive_float(tol, "tol")
    parameter_expansion = as_bool(parameter_expansion, "parameter_expansion")
    sumsq = _sumsq(Xa)
    u: FloatArray
    if u0 is None:
        u = np.random.default_rng(0).standard_normal((d,))
        u = u * float(np.sqrt(sumsq / n) / np.linalg.norm(u))
    else:
        u = as_float_array(u0, "u0", shape=(d,))
    too_small = f"sigma2 is too small or u0 too large (sigma2 = {s2:.3g})"
    try:  # the EM of PPCA.fit with q = 1, no mean and sigma2 fixed
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
            W, _, history, converged = _em(
                Xa, None, u[:, None], s2, False, bool(parameter_expansion), n_max, rtol, sumsq
            )
    except np.linalg.LinAlgError:  # E[sum z_i^2] underflowed to 0
        raise ValueError(f"EM broke down on a singular matrix: {too_small}") from None
    check_finite_result(
        np.append(W, history),
        lambda: "the log-likelihood overflowed (inf or NaN) after "
        f"{len(history) - 1} EM updates: {too_small}",
    )
    if not converged:
        warnings.warn(
            f"ppca_em did not converge in max_iter={n_max} updates (tol={rtol:g}); "
            "increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    return EMResult(_flip_signs(W)[:, 0], history, len(history) - 1, converged)


# --------------------------------------------------------------------------- closed form
def ppca_closed_form(
    X: Any, n_components: Any, noise_variance: Any = None
) -> tuple[FloatArray, float]:
    """The maximum-likelihood ``W`` (and ``sigma2``) of Tipping and Bishop, no mean term.

    With ``lambda_1 >= ... >= lambda_D`` the eigenvalues of ``S = X^T X / N`` and
    ``U_q`` the top ``q`` eigenvectors, ``W = U_q (Lambda_q - sigma2 I)^{1/2}``
    and, when learned, ``sigma2 = sum_{j > q} lambda_j / (D - q)``: Tipping and
    Bishop's (1999) eqs. (7)-(8), which generalise the ``q = 1`` formula of
    chapter 3, eq. (ch3-eq-closed-form), to ``q`` columns (the chapter states
    this general form in proposition ch3-prop-ml, with eq.
    (ch3-eq-closed-sigma2) for ``sigma2``). When ``sigma2`` is
    fixed and ``lambda_j <= sigma2``, column ``j`` is zero: no direction has
    more variance than the noise, and ``u = 0`` maximises the likelihood.

    Cost: ``O(N D min(N, D) + min(N, D)^3)`` (an eigendecomposition of
    ``X^T X`` or of the Gram matrix ``X X^T``, whichever is smaller).

    Parameters
    ----------
    X : array_like of shape (N, D)
        The data, N >= 2 (not centered; center it first for a model with a mean).
    n_components : int
        ``q``, with ``1 <= q < D``.
    noise_variance : float, optional
        A fixed ``sigma2 > 0``; ``None`` (default) uses its ML value.

    Returns
    -------
    W : ndarray of shape (D, q)
        Orthogonal columns of decreasing norm, the largest-magnitude entry of
        each column non-negative (the ML ``W`` is unique only up to rotation).
        With a fixed ``sigma2`` and ``N < q``, the columns beyond the ``N``
        nonzero eigenvalues of ``S`` are zero.
    noise_variance : float

    Raises
    ------
    ValueError
        For bad inputs (also entries of ``X`` outside ``[1e-60, 1e60]`` in
        magnitude), or when the ML noise variance is 0 (``X`` has rank at
        most ``q``).

    References
    ----------
    Tipping and Bishop (1999), eqs. (7)-(8); Bishop (2006), eqs. 12.45-12.46.

    Examples
    --------
    >>> W, s2 = ppca_closed_form(np.sqrt(3 * np.diag([5.0, 1.0, 1.0])), 1)
    >>> W.ravel().round(6).tolist(), round(s2, 6)
    ([2.0, 0.0, 0.0], 1.0)
    """
    Xa = _check_data(X, min_samples=2)
    n, d = Xa.shape
    q = _check_n_components(n_components, d)
    s2_fixed = None if noise_variance is None else as_positive_float(noise_variance, "noise_variance")
    if n >= d:
        lam, V = np.linalg.eigh(Xa.T @ Xa / n)
        lam, U = lam[::-1][:q], V[:, ::-1][:, :q]
    else:  # Gram trick: S has the nonzero eigenvalues of X X^T / N
        lam, V = np.linalg.eigh(Xa @ Xa.T / n)
        lam, V = np.clip(lam[::-1][:q], 0.0, None), V[:, ::-1][:, :q]
        scale = np.sqrt(n * lam)
        U = (Xa.T @ V) / np.where(scale > 0, scale, 1.0)
        if n < q:  # the other q - N eigenvalues of S are 0: zero columns of W
            lam = np.concatenate([lam, np.zeros(q - n)])
            U = np.concatenate([U, np.zeros((d, q - n))], axis=1)
    if s2_fixed is None:
        sumsq = _sumsq(Xa)
        s2 = (sumsq / n - float(lam.sum())) / (d - q)
        if not s2 > _sigma2_floor(sumsq, n, d):
            raise ValueError(_zero_noise_variance(q))
    else:
        s2 = s2_fixed
    W = U * np.sqrt(np.clip(lam - s2, 0.0, None))
    return _flip_signs(W), float(s2)


# --------------------------------------------------------------------------- EM engine
def _block_rows(d: int) -> int:
    """Rows per block so that a block of float64 data is about 8 MB (it stays in cache)."""
    return max(16, (1 << 20) // d)


def _centered_sumsq(X: FloatArray, mean: FloatArray) -> float:
    """sum_i ||x_i - mean||^2 without a centered copy of ``X``.

    Uses ``sum ||x_i||^2 - N ||mean||^2``, which loses about ``log10(ratio)``
    digits when the ratio of the two sums is large; past a ratio of 1e4 it
    falls back to centering block by block (a loop over blocks, not samples).
    """
    raw = _sumsq(X)
    total: float = raw - int(X.shape[0]) * float(mean @ mean)
    if total > 1e-4 * raw:
        return total
    b = _block_rows(X.shape[1])
    total = 0.0
    for start in range(0, X.shape[0], b):
        xb = (X[start : start + b] - mean).ravel()
        total += float(xb @ xb)
    return total


def _e_pass(
    X: FloatArray, mean: FloatArray | None, W: FloatArray, Minv: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One pass over the data: ``A^T A`` and ``G = Xc^T E[z]`` with ``A = Xc W``, ``E[z] = A M^-1``.

    ``Xc = X - mean`` is never formed: ``Xc W = X W - 1 mean^T W`` and
    ``Xc^T E = X^T E - mean 1^T E``. Both products of a block are taken while
    the block is in cache, so the data are read once per EM iteration.
    """
    n, d = X.shape
    q = W.shape[1]
    shift = None if mean is None else mean @ W
    GT = np.zeros((q, d))
    AtA = np.zeros((q, q))
    ez_sum = np.zeros(q)
    b = _block_rows(d)
    for start in range(0, n, b):  # a loop over blocks, not over samples
        xb = X[start : start + b]
        Ab = xb @ W
        if shift is not None:  # no mean (ppca_em): nothing to subtract or sum
            Ab -= shift
        AtA += Ab.T @ Ab
        Eb = Ab @ Minv  # posterior means of the block, PRML eq. 12.54
        GT += Eb.T @ xb
        if shift is not None:
            ez_sum += Eb.sum(axis=0)
    if mean is not None:
        GT -= np.outer(ez_sum, mean)
    return GT.T, AtA


def _converged(history: list[float], tol: float) -> bool:
    """Stop when the log-likelihood still to gain is at most ``tol * |log-likelihood|``.

    EM converges linearly: the increments shrink by a factor ``rho`` per
    iteration, so the remaining gain is about ``delta * rho / (1 - rho)``
    (Aitken's estimate). Stop when both the last increment and that estimate
    are below ``tol * |LL|``; a non-positive increment (round-off) also stops.
    """
    if len(history) < 2:
        return False
    delta = history[-1] - history[-2]
    bound = tol * abs(history[-1])
    if delta <= 0.0:
        return True
    if delta > bound or len(history) < 3:
        return False
    prev = history[-2] - history[-3]
    rho = delta / prev if prev > 0 else 1.0
    return rho < 1.0 and delta * rho / (1.0 - rho) <= bound


def _em(
    X: FloatArray,
    mean: FloatArray | None,
    W: FloatArray,
    sigma2: float,
    learn_sigma2: bool,
    expand: bool,
    max_iter: int,
    tol: float,
    sumsq: float,
) -> tuple[FloatArray, float, FloatArray, bool]:
    """EM of Tipping and Bishop (chapter 3, eqs. (ch3-eq-em-W), (ch3-eq-em-sigma2)).

    One pass over the data per iteration, O(N D q). ``expand`` turns on the
    parameter-expanded M-step (PX-EM, chapter 3, eq. (ch3-eq-px)): ``W`` is
    multiplied by a square root of the fitted latent covariance ``Szz / N``.
    ``mean=None`` is the model without a mean (the homework's, :func:`ppca_em`).
    Returns the last ``W`` whose log-likelihood was evaluated, its ``sigma2``,
    the log-likelihood history and whether ``tol`` was met; it stops early, with
    a non-finite last entry in the history, if the log-likelihood overflows.
    """
    n, d = X.shape
    q = W.shape[1]
    floor = _sigma2_floor(sumsq, n, d)
    history: list[float] = []
    converged = False
    eye = np.eye(q)
    for it in range(max_iter + 1):
        Minv = np.asarray(np.linalg.inv(W.T @ W + sigma2 * eye), dtype=np.float64)
        G, AtA = _e_pass(X, mean, W, Minv)
        logdet = (d - q) * np.log(sigma2) - np.linalg.slogdet(Minv)[1]
        history.append(_loglik(n, d, sumsq, float(np.sum(Minv * AtA)), logdet, sigma2))
        if not np.isfinite(history[-1]):  # overflow: the caller raises
            break
        if _converged(history, tol):
            converged = True
            break
        if it == max_iter:
            break
        Szz = n * sigma2 * Minv + Minv @ AtA @ Minv  # sum_i E[z_i z_i^T], PRML eq. 12.55
        W_new = np.linalg.solve(Szz, G.T).T  # PRML eq. 12.56
        if learn_sigma2:  # PRML eq. 12.57, simplified with W_new Szz = G
            sigma2 = max((sumsq - float(np.sum(W_new * G))) / (n * d), floor)
        if expand:  # PX-EM (Liu, Rubin and Wu 1998)
            W_new = W_new @ np.linalg.cholesky(Szz / n)
        W = W_new
    return W, sigma2, np.asarray(history), converged


class PPCA:
    """Probabilistic PCA fitted by EM, with scikit-learn's estimator conventions.

    The model (chapter 3, eq. (ch3-eq-general)) is ``x = W z + mean + eps`` with
    ``z ~ N(0, I_q)`` and ``eps ~ N(0, sigma2 I_D)``; ``fit`` runs the EM
    algorithm of Tipping and Bishop (1999, section 3.2) on centered data, each
    iteration one pass over the data, O(N D q) (chapter 3, eqs. (ch3-eq-em-W)
    and (ch3-eq-em-sigma2)). The centered data are never stored: ``(X - mean) W``
    is computed as ``X W - mean^T W``, block by block.

    Parameters
    ----------
    n_components : int, default 1
        ``q``, the latent dimension, ``1 <= q < D``.
    noise_variance : float or None, default None
        A fixed ``sigma2 > 0``, or ``None`` to learn it.
    max_iter : int, default 1000
        The largest number of EM iterations.
    tol : float, default 1e-7
        Stop when the last gain of log-likelihood and Aitken's estimate of the
        gain still to come are both at most ``tol * |log-likelihood|`` (see
        :func:`ppca_em`).
    algorithm : {"px-em", "em"}, default "px-em"
        ``"em"`` is the EM of Tipping and Bishop; ``"px-em"`` adds the
        parameter-expansion step of Liu, Rubin and Wu (1998) (chapter 3, eq.
        (ch3-eq-px)), which keeps the monotone log-likelihood and removes the
        slow convergence of the scale of ``W`` when ``sigma2`` is small.
    random_state : int, default 0
        Seed of the starting ``W``: a standard normal draw times the root mean
        variance per feature, ``sqrt(sum ||x_i - mean||^2 / (N D))``; learned
        ``sigma2`` starts at that mean variance.

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
        The per-feature sample mean (the ML estimate of the mean).
    W_ : ndarray of shape (D, q)
        The loadings, canonicalised: ``W = U S V^T`` is stored as ``U S``
        (orthogonal columns of decreasing norm) with the largest-magnitude
        entry of each column positive. ``W_ R`` for any orthogonal ``R`` is the
        same model.
    noise_variance_ : float
    log_likelihood_ : ndarray of shape (n_iter_ + 1,)
        Total log-likelihood of the training data after each EM iteration
        (the first at the starting point), like scikit-learn's
        ``FactorAnalysis.loglike_``; never decreasing.
    n_iter_ : int
    converged_ : bool
    n_features_in_ : int

    Raises
    ------
    ValueError
        From ``fit`` for non-finite data, fewer than 2 samples, bad parameters,
        ``n_components >= D``, data whose largest entry is outside
        ``[1e-60, 1e60]`` in magnitude, or, with a learned
        noise variance, data of rank at most ``n_components`` after centering
        (the ML noise variance is 0, as in :func:`ppca_closed_form`); from the
        other methods for a wrong number of features or a result that
        overflows. :class:`NotFittedError` before ``fit``.

    References
    ----------
    Tipping and Bishop (1999); Bishop (2006), section 12.2; Roweis (1998).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 1)) @ [[2.0, 1.0, 0.0]] + 0.5 * rng.standard_normal((1000, 3))
    >>> model = PPCA(n_components=1).fit(X)
    >>> model.W_.shape, bool(model.converged_)
    ((3, 1), True)
    """

    def __init__(
        self,
        n_components: int = 1,
        noise_variance: float | None = None,
        max_iter: int = 1000,
        tol: float = 1e-7,
        algorithm: str = "px-em",
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.noise_variance = noise_variance
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state

    def __repr__(self) -> str:
        return (
            f"PPCA(n_components={self.n_components!r}, noise_variance={self.noise_variance!r}, "
            f"max_iter={self.max_iter!r}, tol={self.tol!r}, algorithm={self.algorithm!r}, "
            f"random_state={self.random_state!r})"
        )

    def fit(self, X: Any, y: Any = None) -> PPCA:
        """Fit by EM; returns ``self``. ``y`` is ignored (scikit-learn convention)."""
        Xa = _check_data(X, min_samples=2)
        n, d = Xa.shape
        q = _check_n_components(self.n_components, d)
        learn = self.noise_variance is None
        s2_fixed = None if learn else as_positive_float(self.noise_variance, "noise_variance")
        max_iter = as_int(self.max_iter, "max_iter", minimum=1)
        tol = as_positive_float(self.tol, "tol")
        expand = check_choice(self.algorithm, "algorithm", ["px-em", "em"]) == "px-em"
        seed = as_int(self.random_state, "random_state", minimum=0)

        mean = Xa.mean(axis=0)
        sumsq = _centered_sumsq(Xa, mean)
        var = sumsq / (n * d)
        if var == 0.0:
            raise ValueError("X has zero variance after centering: every row is the same")
        rank_deficient = _zero_noise_variance(q, " after centering")
        if learn and n - 1 <= q:  # N centered rows span at most N - 1 dimensions
            raise ValueError(f"{rank_deficient} (X has only N={n} samples)")
        W0 = np.random.default_rng(seed).standard_normal((d, q)) * np.sqrt(var)
        s2_0 = var if s2_fixed is None else s2_fixed
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked below
                W, s2, history, converged = _em(
                    Xa, mean, W0, s2_0, learn, expand, max_iter, tol, sumsq
                )
        except np.linalg.LinAlgError:  # a singular or indefinite q x q matrix
            cause = rank_deficient if learn else f"noise_variance={s2_0:.3g} is too small for X"
            raise ValueError(f"EM broke down on a singular matrix: {cause}") from None
        if learn and s2 <= _sigma2_floor(sumsq, n, d):  # unbounded likelihood
            raise ValueError(rank_deficient)
        check_finite_result(
            np.append(W, history),
            "EM overflowed (inf or NaN in W or the log-likelihood)"
            + ("" if learn else f": noise_variance={s2_0:.3g} is too small for X"),
        )
        if not converged:
            warnings.warn(
                f"PPCA.fit did not converge in max_iter={max_iter} iterations (tol={tol:g})",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.mean_ = mean
        self.W_ = _canonical(W)
        self.noise_variance_ = s2
        self.log_likelihood_ = history
        self.n_iter_ = len(history) - 1
        self.converged_ = converged
        self.n_features_in_ = d
        return self

    # ---------------------------------------------------------------- fitted helpers
    def _require_fitted(self) -> None:
        if not hasattr(self, "W_"):
            raise NotFittedError(
                "This PPCA instance is not fitted yet; call fit(X) before using this method"
            )

    def _check_fitted(self, X: Any) -> FloatArray:
        self._require_fitted()
        return as_float_array(X, "X", shape=(None, self.n_features_in_))

    def _minv(self) -> FloatArray:
        q = self.W_.shape[1]
        out: FloatArray = np.linalg.inv(self.W_.T @ self.W_ + self.noise_variance_ * np.eye(q)).astype(np.float64)
        return out

    def transform(self, X: Any) -> FloatArray:
        """Posterior means ``E[z | x] = M^-1 W^T (x - mean)``, shape (N, q) (eq. (ch3-eq-posterior-q))."""
        X_arr = self._check_fitted(X)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            out: FloatArray = (X_arr - self.mean_) @ self.W_ @ self._minv()
        check_finite_result(out, "transform overflowed (inf or NaN): X is too large for this model")
        return out

    def inverse_transform(self, Z: Any) -> FloatArray:
        """Map latents back to data space: ``W z + mean``, shape (N, D)."""
        self._require_fitted()
        Za = as_float_array(Z, "Z", shape=(None, self.W_.shape[1]))
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            out: FloatArray = Za @ self.W_.T + self.mean_
        check_finite_result(
            out, "inverse_transform overflowed (inf or NaN): Z is too large for this model"
        )
        return out

    def get_covariance(self) -> FloatArray:
        """The model covariance ``W W^T + sigma2 I`` (D x D; only for small D)."""
        self._require_fitted()
        d = self.W_.shape[0]
        out: FloatArray = self.W_ @ self.W_.T + self.noise_variance_ * np.eye(d)
        return out

    def score_samples(self, X: Any) -> FloatArray:
        """Per-sample log-likelihood ``log N(x_i; mean, W W^T + sigma2 I)``, in O(N D q)."""
        X_arr = self._check_fitted(X)
        d, q = self.W_.shape
        s2 = self.noise_variance_
        Minv = self._minv()
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            Xc = X_arr - self.mean_
            A = Xc @ self.W_
            quad = (np.einsum("ij,ij->i", Xc, Xc) - np.einsum("ij,jk,ik->i", A, Minv, A)) / s2
        logdet = (d - q) * np.log(s2) - np.linalg.slogdet(Minv)[1]
        out: FloatArray = -0.5 * (d * _LOG_2PI + logdet + quad)
        check_finite_result(
            out, "the log-likelihood overflowed (inf or NaN): X is too large for this model"
        )
        return out

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample, as scikit-learn's ``PCA.score``."""
        return float(np.mean(self.score_samples(X)))
