"""Chapter 3: EM for probabilistic PCA.

The functions ``ppca_*`` are the homework's model as stated, ``z ~ N(0, 1)``,
``x | z ~ N(z u, sigma2 I)`` (chapter 3, eq. (ch3-eq-model)), with no mean (they
do not center the data); :func:`ppca_em` is the homework's loop. The estimator
:class:`PPCA` is Tipping and Bishop's model ``x = W z + mean + noise``, a
scikit-learn transformer of chapter 6 that also fits data with missing entries (chapter 7):
it validates its input and hands it to an engine, :mod:`hw4lib._ppca_complete`
(chapter 6) or :mod:`hw4lib._ppca_missing` (chapter 7), both built on
:mod:`hw4lib._ppca_common`. All stop within ``tol`` nats per sample of the
maximum of the likelihood. :class:`PPCA` and :func:`ppca_closed_form` fit any
finite ``X``: they divide it by a power of two at the boundary (exact) and
multiply the results back, so a variance (``noise_variance_``, ``sigma2``)
overflows to ``inf`` or underflows to 0 only where float64 cannot hold it (data
spread beyond about 1e154 or below 1e-154). The homework's ``ppca_*`` functions
take ``sigma2`` as given and compute sums of squares and fourth powers of the
entries directly: entries within about 1e-75 to 1e75.

References
----------
.. [TB99] M. E. Tipping and C. M. Bishop, "Probabilistic principal component
   analysis", J. R. Statist. Soc. B 61(3):611-622, 1999.
.. [PRML] C. M. Bishop, *Pattern Recognition and Machine Learning*, 2006,
   section 12.2.
.. [LRW98] C. Liu, D. B. Rubin and Y. N. Wu, "Parameter expansion to
   accelerate EM: the PX-EM algorithm", Biometrika 85(4):755-770, 1998.
.. [HMT11] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure
   with randomness", SIAM Review 53(2):217-288, 2011.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import (BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                           _fit_context)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._ppca_common import (LOG_2PI, EMSettings, ScaledModel, check_rank, gap_to_maximum,
                           scale_exponent, sumsq)
from ._ppca_complete import fit_complete
from ._ppca_missing import fit_missing, posterior_observed
from ._validation import FloatArray, as_bool, as_float_array, as_int, as_positive_float

__all__ = ["ConvergenceWarning", "UnboundedLikelihoodWarning", "NotFittedError", "EMResult",
           "PPCA", "ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em",
           "ppca_closed_form"]

_S_ROUNDOFF = 1e-12  # relative: ppca_m_step accepts s a little below m**2, from round-off


class UnboundedLikelihoodWarning(ConvergenceWarning):  # type: ignore[misc]
    """``PPCA.fit`` found ``sigma2`` falling towards 0: the likelihood is unbounded there.

    With missing entries some starts (``n_init``) can head for such a singularity
    while others stop at a local maximum; the fit keeps the likeliest of those and
    warns with this (a :class:`~sklearn.exceptions.ConvergenceWarning`). When
    every start collapses, ``fit`` raises the rank ``ValueError`` instead.
    """


@dataclass(frozen=True)
class EMResult:
    """The outcome of :func:`ppca_em`.

    ``u`` is the last iterate; ``log_likelihood[k]`` the log-likelihood after
    ``k`` of the ``n_iter`` EM updates (the first at ``u0``, never decreasing);
    ``converged`` whether ``u`` is within ``tol`` of a fixed point of EM.
    """

    u: FloatArray
    log_likelihood: FloatArray
    n_iter: int
    converged: bool


def _flip_signs(W: FloatArray) -> FloatArray:
    """Make the largest-magnitude entry of every column of ``W`` non-negative."""
    signs = np.sign(W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])])
    out: FloatArray = W * np.where(signs == 0, 1.0, signs)
    return out


# --------------------------------------------------------------------------- scalar latent
def _posterior(X: FloatArray, u: FloatArray, sigma2: float) -> tuple[FloatArray, FloatArray]:
    M = sigma2 + float(u @ u)  # eq. (ch3-eq-posterior)
    m = (X @ u) / M
    return m, sigma2 / M + m * m


def _m_step(X: FloatArray, m: FloatArray, s: FloatArray) -> FloatArray:
    out: FloatArray = (X.T @ m) / s.sum()  # eq. (ch3-eq-mstep)
    return out


def _log_likelihood(X: FloatArray, u: FloatArray, sigma2: float) -> float:
    """Eq. (ch3-eq-loglik), with the part of each x orthogonal to u computed directly.

    ``x^T C^-1 x = ||x_perp||^2 / sigma2 + (u^T x)^2 / (||u||^2 M)``: no
    difference of two large numbers when the data lie close to span(u).
    """
    n, d = X.shape
    uu = float(u @ u)
    M = sigma2 + uu
    a = X @ u
    if uu > 0.0:
        quad = sumsq(X - np.outer(a / uu, u)) / sigma2 + float(a @ a) / (uu * M)
    else:
        quad = sumsq(X) / sigma2
    return float(-0.5 * (n * (d * LOG_2PI + (d - 1) * np.log(sigma2) + np.log(M)) + quad))


def _check_X(X: Any, min_samples: int = 1) -> FloatArray:
    Xa = as_float_array(X, "X", ndim=2)
    if Xa.shape[0] < min_samples:
        raise ValueError(f"X must have at least {min_samples} rows, got shape {Xa.shape}")
    return Xa


def ppca_posterior(X: Any, u: Any, sigma2: Any) -> tuple[FloatArray, FloatArray]:
    """E-step of the homework model: the posterior moments of ``z`` given each ``x``.

    Chapter 3, eq. (ch3-eq-posterior): ``p(z | x) = N(u^T x / M, sigma2 / M)``
    with ``M = sigma2 + u^T u``; returns ``m = E[z | x] = u^T x / M`` and ``s =
    E[z^2 | x] = sigma2 / M + m**2`` for each row of ``X`` (N, D) (Bishop, PRML
    eqs. 12.42 and 12.55 with ``W = u``).

    Examples
    --------
    >>> m, s = ppca_posterior([[2.0, 0.0]], [1.0, 0.0], 1.0)
    >>> float(m[0]), float(s[0])
    (1.0, 1.5)
    """
    Xa = _check_X(X)
    ua = as_float_array(u, "u", shape=(Xa.shape[1],))
    return _posterior(Xa, ua, as_positive_float(sigma2, "sigma2"))


def ppca_m_step(X: Any, m: Any, s: Any) -> FloatArray:
    """M-step of the homework model: ``u = sum_i m_i x_i / sum_i s_i``.

    Chapter 3, eq. (ch3-eq-mstep), the maximiser of the expected complete-data
    log-likelihood (Bishop, PRML eq. 12.56 with ``W = u``); ``m`` and ``s``
    come from :func:`ppca_posterior` (``s`` positive and at least ``m**2``).

    Examples
    --------
    >>> ppca_m_step([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0], [2.0, 2.0]).tolist()
    [1.0, 1.5]
    """
    Xa = _check_X(X)
    ma = as_float_array(m, "m", shape=(Xa.shape[0],))
    sa = as_float_array(s, "s", shape=(Xa.shape[0],))
    if np.any(sa <= 0) or np.any(sa < ma * ma * (1.0 - _S_ROUNDOFF)):
        raise ValueError(
            f"s = E[z^2 | x] must be > 0 and >= m^2 everywhere; got min(s) = {sa.min():.3g}, "
            f"min(s - m^2) = {np.min(sa - ma * ma):.3g}"
        )
    return _m_step(Xa, ma, sa)


def ppca_log_likelihood(X: Any, u: Any, sigma2: Any) -> float:
    """``sum_i log N(x_i; 0, u u^T + sigma2 I)`` in O(N D), without a D x D matrix.

    Chapter 3, eq. (ch3-eq-loglik), the total (not the mean): ``log det C = (D -
    1) log sigma2 + log M`` (determinant lemma) and ``x^T C^-1 x`` by Woodbury,
    evaluated as ``||x_perp||^2 / sigma2 + (u^T x)^2 / (||u||^2 M)``, with
    ``x_perp`` the part of ``x`` orthogonal to ``u``, accurate for any
    ``sigma2`` (Tipping and Bishop, 1999, eq. (4); Bishop, 2006, eq. 12.44).

    Examples
    --------
    >>> round(ppca_log_likelihood([[0.0, 0.0]], [0.0, 0.0], 1.0), 6)  # -log(2 pi)
    -1.837877
    """
    Xa = _check_X(X)
    ua = as_float_array(u, "u", shape=(Xa.shape[1],))
    return _log_likelihood(Xa, ua, as_positive_float(sigma2, "sigma2"))


def ppca_em(X: Any, sigma2: Any, u0: Any = None, max_iter: int = 10_000, tol: float = 1e-8,
            parameter_expansion: bool = False) -> EMResult:
    """EM for the homework model: alternate eqs. (ch3-eq-posterior) and (ch3-eq-mstep).

    Each iteration is one E-step (:func:`ppca_posterior`), one M-step
    (:func:`ppca_m_step`) and, with ``parameter_expansion=True``, the PX-EM
    rescaling ``u <- u * sqrt(mean_i s_i)`` of chapter 6, eq. (ch6-eq-px)
    (Liu, Rubin and Wu, 1998). It stops once the log-likelihood is within ``tol``
    nats per sample (``tol * N`` in all) of the maximum, by the bound of
    :func:`~hw4lib._ppca_common.gap_to_maximum`: the best length for the current
    direction is known exactly, and the top eigenvalue is at most the residual
    ``||S u_hat - r u_hat||`` above the direction's variance ``r`` (chapter 6,
    "When to stop"). Where plain EM is slow (small ``sigma2``, eq.
    (ch6-eq-em-rate); ``sigma2`` near ``lambda_1``; a tiny ``u0``; nearly equal
    top eigenvalues with a large gain between them) it may reach ``max_iter``
    and warn. A ``u0`` with no component along the top eigenvector converges to
    a saddle, a fixed point that no test on the iterates can tell apart; the
    bound also assumes ``u`` within 45 degrees of the top eigenvector.

    ``X`` (N >= 2 rows) is not centered; ``sigma2 > 0`` is fixed; ``tol`` is in
    nats per sample. ``u0`` must
    be nonzero (``u = 0`` is a fixed point); by default it is a standard
    normal draw from ``np.random.default_rng(0)`` rescaled to the norm
    ``sqrt(sum_i ||x_i||^2 / N)``. ``parameter_expansion=True`` runs PX-EM.
    Returns an :class:`EMResult` (``u``'s largest-magnitude entry made
    positive); warns ``ConvergenceWarning`` if ``max_iter`` comes first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 1)) * [3.0, 0.0] + rng.standard_normal((500, 2))
    >>> res = ppca_em(X, sigma2=1.0)
    >>> bool(res.converged), bool(np.all(np.diff(res.log_likelihood) > -1e-9))
    (True, True)
    """
    Xa = _check_X(X, min_samples=2)
    n, d = Xa.shape
    s2 = as_positive_float(sigma2, "sigma2")
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol = as_positive_float(tol, "tol")
    expand = as_bool(parameter_expansion, "parameter_expansion")
    u: FloatArray
    if u0 is None:
        u = np.random.default_rng(0).standard_normal((d,))
        u *= np.sqrt(sumsq(Xa) / n) / np.linalg.norm(u)
    else:
        u = as_float_array(u0, "u0", shape=(d,))
    if not np.any(u):
        raise ValueError("u0 must be nonzero: u = 0 is a fixed point of EM")
    history = [_log_likelihood(Xa, u, s2)]
    trace = sumsq(Xa) / n  # tr S
    converged = False
    for k in range(max_iter):
        m, s = _posterior(Xa, u, s2)  # E-step
        u_new = _m_step(Xa, m, s)  # M-step
        norm = np.linalg.norm(u)
        Su = u_new * ((s2 + norm**2) * s.sum() / (n * norm))  # S u/||u||, from X^T m
        r = float(Su @ u) / norm  # the data's variance along u
        gap = gap_to_maximum(n, d, history[-1], np.array([[r]]), (Su - r * u / norm)[:, None],
                             trace - r, s2)
        if k > 0 and gap <= tol * n:  # after one update at least
            converged = True
            break
        if expand:  # PX-EM, eq. (ch6-eq-px)
            u_new *= np.sqrt(s.mean())
        u = u_new
        history.append(_log_likelihood(Xa, u, s2))
    if not converged:
        warnings.warn(f"ppca_em did not reach tol={tol:g} in max_iter={max_iter} updates",
                      ConvergenceWarning, stacklevel=2)
    return EMResult(_flip_signs(u[:, None])[:, 0], np.array(history), len(history) - 1, converged)


# --------------------------------------------------------------------------- closed form
def ppca_closed_form(
    X: Any, n_components: Any, noise_variance: Any = None
) -> tuple[FloatArray, float]:
    """The maximum-likelihood ``W`` (and ``sigma2``) of Tipping and Bishop, no mean term.

    ``W = U_q (Lambda_q - sigma2 I)^{1/2}`` from the top eigenpairs of ``S = X^T
    X / N`` (columns with ``lambda_j <= sigma2`` zero) and, when learned, ``sigma2
    = sum_{j > q} lambda_j / (D - q)`` (Tipping and Bishop, 1999, eqs. (7)-(8);
    chapters 3 and 6, eqs. (ch3-eq-closed-form), (ch6-eq-closed-sigma2)), from an SVD of X
    (not centered; divided first by a power of two when its entries lie outside
    ``2^-64 .. 2^64``, exact). ``W`` has orthogonal columns of decreasing norm,
    the largest-magnitude entry of each non-negative. A learned ``sigma2`` is 0
    (a ``ValueError``) when ``X`` has rank at most ``q = n_components < D``; it
    is ``inf`` or 0 where it exceeds float64's range (entries beyond about
    ``1e154`` or below ``1e-154``).

    Examples
    --------
    >>> W, s2 = ppca_closed_form(np.sqrt(3 * np.diag([5.0, 1.0, 1.0])), 1)
    >>> W.ravel().round(6).tolist(), round(s2, 6)
    ([2.0, 0.0, 0.0], 1.0)
    """
    Xa = _check_X(X, min_samples=2)
    n, d = Xa.shape
    q = as_int(n_components, "n_components", minimum=1, maximum=d - 1)
    fixed = None if noise_variance is None else as_positive_float(noise_variance, "noise_variance")
    exponent = scale_exponent(float(max(Xa.max(), -Xa.min())))
    if exponent:  # in units of 2^exponent (exact), so that sv**2 stays in range
        Xa = np.ldexp(Xa, -exponent)
    _, sv, Vt = np.linalg.svd(Xa, full_matrices=False)
    lam = np.zeros(max(d, q))
    lam[: sv.size] = sv**2 / n
    U = np.zeros((d, q))
    U[:, : min(q, sv.size)] = Vt[:q].T
    if fixed is None:
        # numpy's rank test (matrix_rank) on the singular values: is_roundoff's, not squared
        check_rank(q, deficient=sv.size <= q or sv[q] <= sv[0] * max(n, d) * np.finfo(float).eps)
        s2 = float(lam[q:d].sum() / (d - q))
    else:
        with np.errstate(over="ignore", under="ignore"):
            s2 = float(np.ldexp(fixed, -2 * exponent))
    W = _flip_signs(U * np.sqrt(np.clip(lam[:q] - s2, 0.0, None)))
    if not exponent:
        return W, s2 if fixed is None else fixed
    with np.errstate(over="ignore", under="ignore"):  # a variance beyond float64 is inf or 0
        return np.ldexp(W, exponent), float(np.ldexp(s2, 2 * exponent)) if fixed is None else fixed


class PPCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Probabilistic PCA fitted by EM, a scikit-learn transformer.

    The model (chapter 6, eq. (ch6-eq-general)) is ``x = W z + mean + eps``,
    ``z ~ N(0, I_q)``, ``eps ~ N(0, sigma2 I_D)``. ``fit`` starts from the
    closed form on a randomized subspace
    (:func:`~hw4lib._ppca_common.randomized_start`), then runs the EM of
    Tipping and Bishop (1999; eqs. (ch6-eq-em-W), (ch6-eq-em-sigma2)) or PX-EM
    (eq. (ch6-eq-px)), O(N D q) per iteration, rotating ``W`` to orthogonal
    columns after each update (the same model, eq. (ch6-eq-rotation)). With
    at most 1000 features the start is the maximum itself (the top eigenvectors
    of the D x D covariance, as scikit-learn's ``covariance_eigh`` solver), and
    EM confirms it in one update. It stops once it is within ``tol`` nats per
    sample of the maximum (:func:`~hw4lib._ppca_common.gap_to_maximum`: exact in
    the span of the columns, first order in their directions). If ``max_iter``
    comes first, ``fit`` warns and sets ``converged_ = False``. Any finite ``X``
    is accepted: it is divided by a power of two at the boundary, exactly, and
    the attributes are multiplied back.

    Parameters
    ----------
    n_components : int, default 1
        ``q``, the latent dimension, ``1 <= q < D``.
    noise_variance : float or None, default None
        A fixed ``sigma2 > 0``, or ``None`` to learn it.
    max_iter : int, default 1000
    tol : float, default 1e-8
        EM stops within ``tol`` nats per sample (``tol * N`` in all) of the
        maximum of the log-likelihood: estimated by a first-order bound for
        complete data, extrapolated from the steps with missing entries
        (chapter 7). ``converged_`` means that it got there.
    algorithm : {"px-em", "em"}, default "px-em"
        ``"em"`` is the EM of Tipping and Bishop; ``"px-em"`` adds the
        parameter-expansion step of Liu, Rubin and Wu (1998), which removes the
        slow convergence of the scale of ``W`` when ``sigma2`` is small.
    n_init : int, default 1
        With missing entries, the number of starts (chapter 7, "Several maxima"): the
        likelihood can then have local maxima; the best fit is kept, as in scikit-learn's
        ``GaussianMixture``; ``log_likelihood_``, ``n_iter_`` and ``converged_`` are its.
        A start whose ``sigma2`` falls towards 0 (an unbounded likelihood) is set aside
        with an :class:`UnboundedLikelihoodWarning`; if every start does, ``fit`` raises
        the rank ``ValueError``. Complete data have one maximum and use one start.
    random_state : int, RandomState instance or None, default None
        Seeds the random columns of the start (scikit-learn's convention).

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
    W_ : ndarray of shape (D, q)
        The loadings: orthogonal columns of decreasing norm, the
        largest-magnitude entry of each column positive.
    noise_variance_ : float
        ``sigma2`` in the data's units: ``inf`` (``0``) when it exceeds (falls
        below) float64's range, for data spread beyond about 1e154 (below 1e-154);
        ``transform``, ``score_samples`` and ``score`` use the fitted model in
        internal units and are accurate at every scale.
    log_likelihood_ : ndarray of shape (n_iter_ + 1,)
        Total log-likelihood of the training data at the start and after each
        EM update (like ``FactorAnalysis.loglike_``); never decreasing.
    n_iter_ : int
    converged_ : bool
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` has feature names that are all strings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 1)) @ [[2.0, 1.0, 0.0]] + 0.5 * rng.standard_normal((1000, 3))
    >>> model = PPCA(n_components=1, random_state=0).fit(X)
    >>> model.W_.shape, bool(model.converged_)
    ((3, 1), True)
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "algorithm": [StrOptions({"px-em", "em"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        noise_variance: float | None = None,
        max_iter: int = 1000,
        tol: float = 1e-8,
        algorithm: str = "px-em",
        n_init: int = 1,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.noise_variance = noise_variance
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.n_init = n_init
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)  # type: ignore[untyped-decorator]
    def fit(self, X: Any, y: Any = None) -> PPCA:
        """Fit by EM; returns ``self``. ``y`` is ignored (scikit-learn convention).

        NaN entries of ``X`` are missing: ``fit`` then maximises the
        likelihood of the observed entries (chapter 7); a row with none is
        ignored, a column with none is a ``ValueError``. The EM itself is
        :func:`~hw4lib._ppca_complete.fit_complete` on complete data and
        :func:`~hw4lib._ppca_missing.fit_missing` with NaN, on ``X / 2^e``
        (:func:`~hw4lib._ppca_common.scale_exponent`).
        """
        with np.errstate(over="ignore", invalid="ignore"):  # its finiteness test sums X
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2,
                              ensure_min_features=2, ensure_all_finite="allow-nan")
        q, d = self.n_components, X.shape[1]
        if q >= d:
            raise ValueError(f"n_components={q} must be < n_features={d}")
        observed = ~np.isnan(X)
        empty = np.flatnonzero(~observed.any(axis=0))
        if empty.size:
            raise ValueError(f"X column {empty[0]} has no observed value")
        exponent = scale_exponent(float(max(np.nanmax(X), -np.nanmin(X))))
        if exponent:  # in units of 2^exponent, exactly
            X = np.ldexp(X, -exponent)
        noise_variance = self.noise_variance
        if noise_variance is not None:
            with np.errstate(over="ignore", under="ignore"):
                noise_variance = float(np.ldexp(noise_variance, -2 * exponent))
            if not 0.0 < noise_variance < np.inf:
                raise ValueError(f"noise_variance={self.noise_variance!r} is outside float64's "
                                 "range in the units of X's largest entry")
        settings = EMSettings(n_components=q, noise_variance=noise_variance,
                              max_iter=self.max_iter, tol=self.tol,
                              parameter_expansion=self.algorithm == "px-em")
        rng = check_random_state(self.random_state)
        if observed.all():
            fit = fit_complete(X, settings, rng)
        else:
            fit = fit_missing(X, observed, settings, rng, n_init=self.n_init)
        if fit.collapsed_starts:
            warnings.warn(f"the likelihood is unbounded: sigma2 fell towards 0 from "
                          f"{fit.collapsed_starts} of n_init={self.n_init} starts; kept the "
                          "likeliest of the others, a local maximum", UnboundedLikelihoodWarning,
                          stacklevel=2)
        if not fit.converged:
            warnings.warn(f"PPCA.fit did not reach tol={self.tol:g} in max_iter="
                          f"{self.max_iter} iterations", ConvergenceWarning, stacklevel=2)
        W = _flip_signs(fit.W)
        lo = np.zeros(d) if fit.mean_lo is None else fit.mean_lo
        self._model = ScaledModel(exponent, fit.mean, lo, W, float(fit.noise_variance))
        with np.errstate(over="ignore", under="ignore"):  # inf or 0 beyond float64's range
            self.mean_ = np.ldexp(fit.mean + lo, exponent)
            self.W_ = np.ldexp(W, exponent)
            self.noise_variance_ = float(np.ldexp(fit.noise_variance, 2 * exponent))
        self._as_fitted = (self.mean_.copy(), self.W_.copy(), self.noise_variance_)
        entries = observed[observed.any(axis=1)].sum()  # each observed entry's density: 2^-e
        self.log_likelihood_ = np.asarray(fit.log_likelihood) - entries * exponent * np.log(2.0)
        self.n_iter_ = len(fit.log_likelihood) - 1
        self.converged_ = fit.converged
        return self

    @property
    def _n_features_out(self) -> int:
        return int(self.W_.shape[1])

    def _units(self) -> ScaledModel:
        """The fitted model in the fit's internal units, or in those of attributes set since.

        As fitted, it keeps what the attributes cannot: ``sigma2`` beyond float64's
        range in the data's units, and the mean's rounding remainder. If ``mean_``,
        ``W_`` or ``noise_variance_`` have been changed, the model is theirs.
        """
        check_is_fitted(self)
        mean, W, noise_variance = self._as_fitted
        if (np.array_equal(self.mean_, mean) and np.array_equal(self.W_, W)
                and self.noise_variance_ == noise_variance):
            return self._model
        return ScaledModel.from_attributes(self._model.exponent, self.mean_, self.W_,
                                           self.noise_variance_)

    def _centered(self, X: Any) -> FloatArray:
        """``X`` minus the mean, in the fit's internal units (:meth:`_units`)."""
        check_is_fitted(self)
        with np.errstate(over="ignore", invalid="ignore"):  # its finiteness test sums X
            Xa = validate_data(self, X, dtype=np.float64, reset=False,
                               ensure_all_finite="allow-nan")
        return self._units().centred(Xa)

    def _observed(self, Xc: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Posterior mean (N, q) and log-density (internal units) of each row's observed entries."""
        obs = (~np.isnan(Xc)).astype(np.float64)
        model = self._units()
        m, _, ll, _ = posterior_observed(np.nan_to_num(Xc), obs, model.W, np.zeros(len(model.W)),
                                         model.noise_variance)
        return np.ascontiguousarray(m.T), ll

    def transform(self, X: Any) -> FloatArray:
        """Posterior means ``E[z | x] = M^-1 W^T (x - mean)``, shape (N, q) (eq. (ch6-eq-posterior-q)).

        With NaN entries, ``E[z | x_o]`` given the observed ones (eq.
        (ch7-eq-estep)); ``inverse_transform`` of it is ``E[x | x_o]`` on the
        missing entries (on the observed ones, the model's smoothed value), so
        ``np.where(np.isnan(X), model.inverse_transform(model.transform(X)), X)``
        imputes each missing entry by its conditional mean.
        """
        Xc = self._centered(X)
        if np.isnan(Xc).any():
            return self._observed(Xc)[0]
        W, s2 = self._units().W, self._units().noise_variance
        M = W.T @ W + s2 * np.eye(W.shape[1])
        out: FloatArray = np.asarray(np.linalg.solve(M, (Xc @ W).T).T, dtype=np.float64)
        return out

    def inverse_transform(self, X: Any) -> FloatArray:
        """Map latents back to data space: ``W z + mean``, shape (N, D)."""
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float64, input_name="X")
        if Z.shape[1] != self.W_.shape[1]:
            raise ValueError(f"X has {Z.shape[1]} columns; inverse_transform expects "
                             f"n_components={self.W_.shape[1]}")
        model = self._units()
        out: FloatArray = np.ldexp((Z @ model.W.T + model.mean_lo) + model.mean, model.exponent)
        return out

    def get_covariance(self) -> FloatArray:
        """The model covariance ``W W^T + sigma2 I`` (D x D; only for small D).

        In the data's units, so ``inf`` (0) where a variance exceeds (falls below)
        float64's range, as ``noise_variance_``.
        """
        model = self._units()
        with np.errstate(over="ignore", under="ignore"):
            out: FloatArray = np.ldexp(model.W @ model.W.T + model.noise_variance
                                       * np.eye(model.W.shape[0]), 2 * model.exponent)
        return out

    def score_samples(self, X: Any) -> FloatArray:
        """Per-sample ``log N(x_i; mean, W W^T + sigma2 I)``, in O(N D q) (eq. (ch3-eq-loglik)).

        With ``W = U diag(w)`` (orthonormal ``U``), ``C^-1 = U diag(1 / (w**2 +
        sigma2)) U^T + (I - U U^T) / sigma2``; the part of ``x`` outside span(U)
        is computed directly, which keeps the value accurate for any ``sigma2``.
        With NaN entries, each row's density of its observed entries (eq.
        (ch7-eq-loglik)); 0 for a row with none. Computed in the fit's internal
        units and shifted by ``-|o_i| e log 2`` (the density of ``x = 2^e x'``).
        """
        Xc = self._centered(X)
        shift = self._model.exponent * np.log(2.0)  # the units of X, which attributes don't change
        if np.isnan(Xc).any():  # the density of the observed entries, eq. (ch7-eq-loglik)
            ll = self._observed(Xc)[1]
            out_nan: FloatArray = ll - (~np.isnan(Xc)).sum(axis=1) * shift
            return out_nan
        W, s2 = self._units().W, self._units().noise_variance
        d, q = W.shape
        U, w, _ = np.linalg.svd(W, full_matrices=False)
        A = Xc @ U
        R = Xc - A @ U.T  # the part of each x outside span(W)
        outside = np.einsum("ij,ij->i", R, R)
        quad = outside / s2 + (A * A) @ (1.0 / (w * w + s2))
        logdet = np.log(w * w + s2).sum() + (d - q) * np.log(s2)
        out: FloatArray = -0.5 * (d * LOG_2PI + logdet + quad) - d * shift
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing (chapter 7)
        return tags

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample, as scikit-learn's ``PCA.score``.

        With NaN entries: the total log-density of the observed entries
        (``score_samples(X).sum()``) per observed entry, times ``D`` -- per sample
        had every row all ``D`` entries, and for complete data the mean per
        sample. (The plain mean of ``score_samples`` would average densities of
        different dimensions: rows with more holes would score higher.) Models
        compared on the same ``X`` rank the same by either; this one is also
        comparable across inputs with different missing fractions, and it is what
        ``GridSearchCV`` and ``cross_val_score`` use.
        """
        ll = self.score_samples(X)
        Xa = np.asarray(X, dtype=np.float64)
        entries = int(np.count_nonzero(~np.isnan(Xa)))
        if entries == 0:
            raise ValueError("X has no observed entry to score")
        return float(ll.sum() / entries * Xa.shape[1])
