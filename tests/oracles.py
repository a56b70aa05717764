"""Oracles and data shared by the PPCA test modules: scipy's densities, exact spectra."""

from __future__ import annotations

import numpy as np
from scipy.stats import multivariate_normal


def observed_loglik(X: np.ndarray, mean: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Each row's log-density of its observed entries, by scipy (0 for a row with none)."""
    out = np.zeros(len(X))
    for i, x in enumerate(X):
        o = ~np.isnan(x)
        if o.any():
            out[i] = multivariate_normal(mean[o], C[np.ix_(o, o)]).logpdf(x[o])
    return out


def spectrum_data(n: int, spectrum: np.ndarray | list[float], seed: int = 0) -> np.ndarray:
    """Centred data whose sample covariance has exactly the given eigenvalues."""
    rng = np.random.default_rng(seed)
    d = len(spectrum)
    Q = np.linalg.qr(rng.standard_normal((n, d)))[0]
    Q = np.linalg.qr(Q - Q.mean(axis=0))[0]
    Q -= Q.mean(axis=0)
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return np.sqrt(n) * Q * np.sqrt(spectrum) @ V.T
