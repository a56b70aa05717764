"""Figures for chapter 3 (EM for probabilistic PCA) and the linear-Gaussian appendix.

Every function draws from arrays computed by :mod:`hw4lib.ppca` (or by the
notebook with it) and returns the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

__all__ = [
    "plot_log_likelihood",
    "plot_norm_vs_noise",
    "plot_images",
    "plot_embedding",
    "plot_reconstructions",
    "plot_joint_and_conditional",
    "plot_noise_variance_vs_n",
    "plot_cv_scores",
]


def plot_log_likelihood(histories: Mapping[str, ArrayLike], ll_max: float) -> Figure:
    """Left: log-likelihood per EM iteration; right: the gap to the maximum, log scale.

    Parameters
    ----------
    histories
        Label -> log-likelihood history (e.g. ``EMResult.log_likelihood``).
    ll_max
        The maximum log-likelihood (closed form), drawn as a dashed line.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    for label, hist in histories.items():
        h = np.asarray(hist, dtype=float)
        it = np.arange(h.size)
        ax1.plot(it, h, marker=".", ms=3, label=label)
        gap = np.maximum(ll_max - h, 1e-14)
        ax2.semilogy(it, gap, marker=".", ms=3, label=label)
    ax1.axhline(ll_max, color="k", ls="--", lw=1, label="closed-form maximum")
    ax1.set(xlabel="EM iteration", ylabel="log-likelihood", title="never decreases")
    ax2.set(xlabel="EM iteration", ylabel="maximum - log-likelihood", title="gap to the maximum")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_norm_vs_noise(sigma2: ArrayLike, norm2_em: ArrayLike, lam1: float) -> Figure:
    """``||u||^2`` found by EM against the fixed ``sigma2``, with the closed form ``max(lambda_1 - sigma2, 0)``."""
    s = np.asarray(sigma2, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    grid = np.linspace(0.0, s.max(), 200)
    ax.plot(grid, np.maximum(lam1 - grid, 0.0), "k-", lw=1, label=r"closed form $\max(\lambda_1-\sigma^2,0)$")
    ax.plot(s, np.asarray(norm2_em, dtype=float), "o", ms=5, label=r"EM limit $\|u\|^2$")
    ax.axvline(lam1, color="C3", ls=":", lw=1, label=r"$\sigma^2=\lambda_1$")
    ax.set(xlabel=r"fixed noise variance $\sigma^2$", ylabel=r"$\|u\|^2$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_images(
    images: ArrayLike, shape: tuple[int, int], titles: Sequence[str] | None = None, ncols: int = 8
) -> Figure:
    """Rows of ``images`` (each of ``shape[0] * shape[1]`` pixels) as a grid, diverging colours."""
    imgs = np.atleast_2d(np.asarray(images, dtype=float))
    n = imgs.shape[0]
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.35 * nrows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            lim = float(np.abs(imgs[k]).max()) or 1.0
            ax.imshow(imgs[k].reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def plot_embedding(Z: ArrayLike, labels: ArrayLike) -> Figure:
    """Scatter of the first two posterior-mean coordinates, coloured by class label."""
    z = np.asarray(Z, dtype=float)
    y = np.asarray(labels)
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    cmap = plt.get_cmap("tab10")
    for k, c in enumerate(np.unique(y)):
        sel = y == c
        ax.scatter(z[sel, 0], z[sel, 1], s=6, color=cmap(k % 10), label=str(c), alpha=0.7)
    ax.set(xlabel=r"$E[z_1 \mid x]$", ylabel=r"$E[z_2 \mid x]$")
    ax.legend(title="digit", fontsize=7, markerscale=2, ncols=2, loc="best")
    fig.tight_layout()
    return fig


def plot_reconstructions(
    originals: ArrayLike, reconstructions: Mapping[str, ArrayLike], shape: tuple[int, int]
) -> Figure:
    """First row: the originals; one row per entry of ``reconstructions`` (label -> images)."""
    rows = {"data": np.asarray(originals, dtype=float)}
    rows.update({k: np.asarray(v, dtype=float) for k, v in reconstructions.items()})
    n = rows["data"].shape[0]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.0 * n, 1.1 * len(rows)), squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for k in range(n):
            ax = axes[r, k]
            ax.imshow(imgs[k].reshape(shape), cmap="gray_r", vmin=0, vmax=16)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if k == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig


def plot_joint_and_conditional(z: ArrayLike, x: ArrayLike, slope: float, intercept: float) -> Figure:
    """Samples of a scalar ``(x, z)`` with the line ``E[z | x] = slope * x + intercept``."""
    xs = np.asarray(x, dtype=float)
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    ax.scatter(xs, np.asarray(z, dtype=float), s=3, alpha=0.25, label="samples of $(x, z)$")
    grid = np.linspace(xs.min(), xs.max(), 2)
    ax.plot(grid, slope * grid + intercept, "C3", lw=2, label=r"$E[z \mid x]$ (identity)")
    ax.set(xlabel="$x$", ylabel="$z$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_noise_variance_vs_n(
    n_samples: ArrayLike, values: Mapping[str, ArrayLike], n_features: int
) -> Figure:
    """Noise-variance estimates against the number of samples (log-log), ``N = D`` marked."""
    ns = np.asarray(n_samples, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    styles = [("o", "-"), ("s", "--"), ("^", ":")]
    for k, (label, vals) in enumerate(values.items()):
        marker, ls = styles[k % len(styles)]
        ax.loglog(ns, np.asarray(vals, dtype=float), marker=marker, ls=ls, ms=5, label=label)
    ax.axvline(n_features, color="k", ls=":", lw=1, label="$N = D$")
    ax.set(xlabel="number of samples $N$", ylabel=r"estimated $\sigma^2$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cv_scores(n_components: ArrayLike, scores: Mapping[str, ArrayLike]) -> Figure:
    """Cross-validated mean log-likelihood per sample against the latent dimension ``q``.

    Each model's best ``q`` is marked with a filled marker.
    """
    qs = np.asarray(n_components, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    styles = [("o", "-"), ("s", "--"), ("^", ":")]
    for k, (label, vals) in enumerate(scores.items()):
        v = np.asarray(vals, dtype=float)
        marker, ls = styles[k % len(styles)]
        (line,) = ax.plot(qs, v, marker=marker, ls=ls, ms=5, mfc="none", label=label)
        best = int(np.argmax(v))
        ax.plot(qs[best], v[best], marker=marker, ms=7, color=line.get_color())
    ax.set(xlabel="latent dimension $q$", ylabel="held-out log-likelihood per sample")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
