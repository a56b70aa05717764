"""Chapter 3: EM for probabilistic PCA.

The functions ``ppca_*`` are the homework's model as stated, ``z ~ N(0, 1)``,
``x | z ~ N(z u, sigma2 I)`` (chapter 3, eq. (ch3-eq-model)), with no mean (they
do not center the data); :func:`ppca_em` is the homework's loop. The estimator
:class:`PPCA` is Tipping and Bishop's model ``x = W z + mean + noise``, a
scikit-learn transformer of chapter 6 that also fits data with missing entries (chapter 7):
it validates its input and hands it to an engine, :mod:`hw4lib._ppca_complete`
(chapter 6) or :mod:`hw4lib._ppca_missing` (chapter 7), both built on
:mod:`hw4lib._ppca_common`. All stop within ``tol`` (relative) of a fixed point
of EM. Entries of ``X`` must have squares that float64 holds (about 1e-75 to
1e75 for the ``ppca_*`` functions, 1e-150 to 1e150 for :class:`PPCA`).

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

from ._ppca_common import (LOG_2PI, EMSettings, check_rank, fixed_point_residual, reached_tol,
                           sumsq)
from ._ppca_complete import fit_complete
from ._ppca_missing import fit_missing, posterior_observed
from ._validation import FloatArray, as_bool, as_float_array, as_int, as_positive_float

__all__ = ["ConvergenceWarning", "NotFittedError", "EMResult", "PPCA", "ppca_posterior",
           "ppca_m_step", "ppca_log_likelihood", "ppca_em", "ppca_closed_form"]

_S_ROUNDOFF = 1e-12  # relative: ppca_m_step accepts s a little below m**2, from round-off


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


def ppca_em(X: Any, sigma2: Any, u0: Any = None, max_iter: int = 10_000, tol: float = 1e-4,
            parameter_expansion: bool = False) -> EMResult:
    """EM for the homework model: alternate eqs. (ch3-eq-posterior) and (ch3-eq-mstep).

    Each iteration is one E-step (:func:`ppca_posterior`), one M-step
    (:func:`ppca_m_step`) and, with ``parameter_expansion=True``, the PX-EM
    rescaling ``u <- u * sqrt(mean_i s_i)`` of chapter 6, eq. (ch6-eq-px)
    (Liu, Rubin and Wu, 1998). It stops within ``tol`` of a fixed point
    (:func:`~hw4lib._ppca_common.fixed_point_residual`,
    :func:`~hw4lib._ppca_common.reached_tol`); where plain EM is slow
    (small ``sigma2``, eq. (ch6-eq-em-rate); ``sigma2`` near ``lambda_1``; a
    tiny ``u0``; nearly equal top eigenvalues) it may reach ``max_iter`` and
    warn. A ``u0`` with no component along the top eigenvector converges to a
    saddle, a fixed point that no test on the iterates can tell apart.

    ``X`` (N >= 2 rows) is not centered; ``sigma2 > 0`` is fixed. ``u0`` must
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
    residuals: list[float] = []
    converged = False
    for _ in range(max_iter):
        m, s = _posterior(Xa, u, s2)  # E-step
        u_new = _m_step(Xa, m, s)  # M-step
        norm = np.linalg.norm(u)
        Su = u_new * ((s2 + norm**2) * s.sum() / (n * norm))  # S u/||u||, from X^T m
        r = float(Su @ u) / norm  # the data's variance along u
        residuals.append(fixed_point_residual(
            np.array([norm**2]), np.array([[r]]), (Su - r * u / norm)[:, None], s2, None))
        if reached_tol(residuals, tol):
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
    (not centered). ``W`` has orthogonal columns of decreasing norm, the
    largest-magnitude entry of each non-negative. A learned ``sigma2`` is 0 (a
    ``ValueError``) when ``X`` has rank at most ``q = n_components < D``.

    Examples
    --------
    >>> W, s2 = ppca_closed_form(np.sqrt(3 * np.diag([5.0, 1.0, 1.0])), 1)
    >>> W.ravel().round(6).tolist(), round(s2, 6)
    ([2.0, 0.0, 0.0], 1.0)
    """
    Xa = _check_X(X, min_samples=2)
    n, d = Xa.shape
    q = as_int(n_components, "n_components", minimum=1, maximum=d - 1)
    _, sv, Vt = np.linalg.svd(Xa, full_matrices=False)
    lam = np.zeros(max(d, q))
    lam[: sv.size] = sv**2 / n
    U = np.zeros((d, q))
    U[:, : min(q, sv.size)] = Vt[:q].T
    if noise_variance is None:
        # numpy's rank test (matrix_rank) on the singular values: is_roundoff's, not squared
        check_rank(q, deficient=sv.size <= q or sv[q] <= sv[0] * max(n, d) * np.finfo(float).eps)
        s2 = float(lam[q:d].sum() / (d - q))
    else:
        s2 = as_positive_float(noise_variance, "noise_variance")
    return _flip_signs(U * np.sqrt(np.clip(lam[:q] - s2, 0.0, None))), s2


class PPCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Probabilistic PCA fitted by EM, a scikit-learn transformer.

    The model (chapter 6, eq. (ch6-eq-general)) is ``x = W z + mean + eps``,
    ``z ~ N(0, I_q)``, ``eps ~ N(0, sigma2 I_D)``. ``fit`` starts from the
    closed form on a randomized subspace
    (:func:`~hw4lib._ppca_common.randomized_start`), then runs the EM of
    Tipping and Bishop (1999; eqs. (ch6-eq-em-W), (ch6-eq-em-sigma2)) or PX-EM
    (eq. (ch6-eq-px)), O(N D q) per iteration, rotating ``W`` to orthogonal
    columns after each update (the same model, eq. (ch6-eq-rotation)). It
    stops within ``tol`` of a fixed point: each column along an eigenvector of
    the sample covariance, ``||w_j||^2 + sigma2`` the data's variance along
    it, a learned ``sigma2`` the mean variance outside the columns, each
    relative (unit-free) and extrapolated by its rate
    (:func:`~hw4lib._ppca_common.reached_tol`). If
    ``max_iter`` comes first, ``fit`` warns and sets ``converged_ = False``.

    Parameters
    ----------
    n_components : int, default 1
        ``q``, the latent dimension, ``1 <= q < D``.
    noise_variance : float or None, default None
        A fixed ``sigma2 > 0``, or ``None`` to learn it.
    max_iter : int, default 1000
    tol : float, default 1e-4
        The relative distance to a fixed point at which EM stops.
    algorithm : {"px-em", "em"}, default "px-em"
        ``"em"`` is the EM of Tipping and Bishop; ``"px-em"`` adds the
        parameter-expansion step of Liu, Rubin and Wu (1998), which removes the
        slow convergence of the scale of ``W`` when ``sigma2`` is small.
    n_init : int, default 1
        With missing entries, the number of starts (chapter 7, "Several maxima"): the
        likelihood can then have local maxima; the best fit is kept, as in scikit-learn's
        ``GaussianMixture``; ``log_likelihood_``, ``n_iter_`` and ``converged_`` are its.
        Complete data have one maximum and use one start.
    random_state : int, RandomState instance or None, default None
        Seeds the random columns of the start (scikit-learn's convention).

    Attributes
    ----------
    mean_ : ndarray of shape (D,)
    W_ : ndarray of shape (D, q)
        The loadings: orthogonal columns of decreasing norm, the
        largest-magnitude entry of each column positive.
    noise_variance_ : float
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
        tol: float = 1e-4,
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
        :func:`~hw4lib._ppca_missing.fit_missing` with NaN.
        """
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2, ensure_min_features=2,
                          ensure_all_finite="allow-nan")
        q, d = self.n_components, X.shape[1]
        if q >= d:
            raise ValueError(f"n_components={q} must be < n_features={d}")
        observed = ~np.isnan(X)
        empty = np.flatnonzero(~observed.any(axis=0))
        if empty.size:
            raise ValueError(f"X column {empty[0]} has no observed value")
        settings = EMSettings(n_components=q, noise_variance=self.noise_variance,
                              max_iter=self.max_iter, tol=self.tol,
                              parameter_expansion=self.algorithm == "px-em")
        rng = check_random_state(self.random_state)
        if observed.all():
            fit = fit_complete(X, settings, rng)
        else:
            fit = fit_missing(X, observed, settings, rng, n_init=self.n_init)
        if not fit.converged:
            warnings.warn(f"PPCA.fit did not reach tol={self.tol:g} in max_iter="
                          f"{self.max_iter} iterations", ConvergenceWarning, stacklevel=2)
        self.mean_ = fit.mean
        self.W_ = _flip_signs(fit.W)
        self.noise_variance_ = float(fit.noise_variance)
        self.log_likelihood_ = np.asarray(fit.log_likelihood)
        self.n_iter_ = len(fit.log_likelihood) - 1
        self.converged_ = fit.converged
        return self

    @property
    def _n_features_out(self) -> int:
        return int(self.W_.shape[1])

    def _centered(self, X: Any) -> FloatArray:
        check_is_fitted(self)
        Xa = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite="allow-nan")
        out: FloatArray = Xa - self.mean_
        return out

    def _observed(self, Xc: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Posterior mean (N, q) and log-density of each row's observed entries."""
        obs = (~np.isnan(Xc)).astype(np.float64)
        m, _, ll, _ = posterior_observed(np.nan_to_num(Xc), obs, self.W_,
                                         np.zeros_like(self.mean_), self.noise_variance_)
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
        M = self.W_.T @ self.W_ + self.noise_variance_ * np.eye(self.W_.shape[1])
        out: FloatArray = np.asarray(np.linalg.solve(M, (Xc @ self.W_).T).T, dtype=np.float64)
        return out

    def inverse_transform(self, X: Any) -> FloatArray:
        """Map latents back to data space: ``W z + mean``, shape (N, D)."""
        check_is_fitted(self)
        Z = check_array(X, dtype=np.float64, input_name="X")
        if Z.shape[1] != self.W_.shape[1]:
            raise ValueError(f"X has {Z.shape[1]} columns; inverse_transform expects "
                             f"n_components={self.W_.shape[1]}")
        out: FloatArray = Z @ self.W_.T + self.mean_
        return out

    def get_covariance(self) -> FloatArray:
        """The model covariance ``W W^T + sigma2 I`` (D x D; only for small D)."""
        check_is_fitted(self)
        out: FloatArray = self.W_ @ self.W_.T + self.noise_variance_ * np.eye(self.W_.shape[0])
        return out

    def score_samples(self, X: Any) -> FloatArray:
        """Per-sample ``log N(x_i; mean, W W^T + sigma2 I)``, in O(N D q) (eq. (ch3-eq-loglik)).

        With ``W = U diag(w)`` (orthonormal ``U``), ``C^-1 = U diag(1 / (w**2 +
        sigma2)) U^T + (I - U U^T) / sigma2``; the part of ``x`` outside span(U)
        is computed directly, which keeps the value accurate for any ``sigma2``.
        """
        Xc = self._centered(X)
        if np.isnan(Xc).any():  # the density of the observed entries, eq. (ch7-eq-loglik)
            return self._observed(Xc)[1]
        d, q = self.W_.shape
        s2 = self.noise_variance_
        U, w, _ = np.linalg.svd(self.W_, full_matrices=False)
        A = Xc @ U
        R = Xc - A @ U.T  # the part of each x outside span(W)
        outside = np.einsum("ij,ij->i", R, R)
        quad = outside / s2 + (A * A) @ (1.0 / (w * w + s2))
        logdet = np.log(w * w + s2).sum() + (d - q) * np.log(s2)
        out: FloatArray = -0.5 * (d * LOG_2PI + logdet + quad)
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # NaN = missing (chapter 7)
        return tags

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood per sample, as scikit-learn's ``PCA.score``."""
        return float(np.mean(self.score_samples(X)))
