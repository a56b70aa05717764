"""Figures for chapter 3 (EM for probabilistic PCA) and the linear-Gaussian appendix.

Every function draws from arrays computed by :mod:`hw4lib.ppca` (or by the
notebook with it) and returns the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

#: Larger type than the book's default: every figure here is at most 6 inches
#: (600 CSS pixels) wide, so on a 390 px phone its labels stay about 10 px.
PHONE_RC: dict[str, Any] = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
}

_F = TypeVar("_F", bound=Callable[..., Figure])


def _readable(func: _F) -> _F:
    """Draw ``func``'s figure under :data:`PHONE_RC`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with plt.rc_context(cast(Any, PHONE_RC)):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = [
    "PHONE_RC",
    "plot_posterior_one_x",
    "plot_log_likelihood",
    "plot_norm_vs_noise",
    "plot_images",
    "plot_embedding",
    "plot_reconstructions",
    "plot_joint_and_conditional",
    "plot_noise_variance_vs_n",
    "plot_cv_scores",
]


@_readable
def plot_log_likelihood(
    histories: Mapping[str, ArrayLike], ll_max: float
) -> Figure:
    """Top: log-likelihood per EM iteration; bottom: the gap to the maximum.

    The two panels are stacked (not side by side) so that each keeps the
    full width of a phone screen.

    Parameters
    ----------
    histories
        Label -> log-likelihood history (e.g. ``EMResult.log_likelihood``).
    ll_max
        The maximum log-likelihood (closed form), drawn as a dashed line.
    """
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.6, 6.2), sharex=True)
    for label, hist in histories.items():
        h = np.asarray(hist, dtype=float)
        it = np.arange(h.size)
        ax1.plot(it, h, marker=".", ms=3, label=label)
        gap = np.maximum(ll_max - h, 1e-14)
        ax2.semilogy(it, gap, marker=".", ms=3, label=label)
    ax1.axhline(ll_max, color="k", ls="--", lw=1, label="closed-form maximum")
    ax1.set(ylabel="log-likelihood", title="never decreases")
    ax2.set(xlabel="EM iteration", ylabel="maximum - log-lik.",
            title="gap to the maximum (log scale)")
    ax1.legend()
    ax2.legend()
    fig.tight_layout()
    return fig


@_readable
def plot_norm_vs_noise(sigma2: ArrayLike, norm2_em: ArrayLike, lam1: float) -> Figure:
    """``||u||^2`` found by EM against the fixed ``sigma2``, with the closed form ``max(lambda_1 - sigma2, 0)``."""
    s = np.asarray(sigma2, dtype=float)
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    grid = np.linspace(0.0, s.max(), 200)
    ax.plot(grid, np.maximum(lam1 - grid, 0.0), "k-", lw=1, label=r"closed form $\max(\lambda_1-\sigma^2,0)$")
    ax.plot(s, np.asarray(norm2_em, dtype=float), "o", ms=5, label=r"EM limit $\|u\|^2$")
    ax.axvline(lam1, color="C3", ls=":", lw=1, label=r"$\sigma^2=\lambda_1$")
    ax.set(xlabel=r"fixed noise variance $\sigma^2$", ylabel=r"$\|u\|^2$")
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@_readable
def plot_images(
    images: ArrayLike,
    shape: tuple[int, int],
    titles: Sequence[str] | None = None,
    ncols: int = 5,
) -> Figure:
    """Rows of ``images`` (each ``shape[0] * shape[1]`` pixels) as a grid.

    Diverging colours, symmetric about 0 for each image.
    """
    imgs = np.atleast_2d(np.asarray(images, dtype=float))
    n = imgs.shape[0]
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.45 * nrows),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            lim = float(np.abs(imgs[k]).max()) or 1.0
            ax.imshow(imgs[k].reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim)
            if titles is not None:
                ax.set_title(titles[k], fontsize=11)
    fig.tight_layout()
    return fig


@_readable
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
    ax.legend(title="digit", fontsize=9, markerscale=2, ncols=2, loc="best")
    fig.tight_layout()
    return fig


@_readable
def plot_reconstructions(
    originals: ArrayLike,
    reconstructions: Mapping[str, ArrayLike],
    shape: tuple[int, int],
    ncols: int = 5,
) -> Figure:
    """The originals and, below each, one row per entry of ``reconstructions``.

    With more than ``ncols`` images the grid is cut into blocks of ``ncols``
    columns stacked vertically (each block: a "data" row, then one row per
    label), so that the figure stays narrow enough for a phone.
    """
    rows = {"data": np.asarray(originals, dtype=float)}
    rows.update({k: np.asarray(v, dtype=float)
                 for k, v in reconstructions.items()})
    n = rows["data"].shape[0]
    ncols = min(ncols, n)
    blocks = int(np.ceil(n / ncols))
    nrows = blocks * len(rows)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(1.05 * ncols + 0.9, 1.0 * nrows))
    for b in range(blocks):
        for r, (label, imgs) in enumerate(rows.items()):
            for c in range(ncols):
                ax, k = axes[b * len(rows) + r, c], b * ncols + c
                ax.set_xticks([])
                ax.set_yticks([])
                for spine in ax.spines.values():
                    spine.set_visible(False)
                if k < n:
                    ax.imshow(imgs[k].reshape(shape), cmap="gray_r",
                              vmin=0, vmax=16)
                if c == 0:
                    ax.set_ylabel(label, fontsize=11)
    fig.tight_layout()
    return fig


@_readable
def plot_joint_and_conditional(z: ArrayLike, x: ArrayLike, slope: float, intercept: float) -> Figure:
    """Samples of a scalar ``(x, z)`` with the line ``E[z | x] = slope * x + intercept``."""
    xs = np.asarray(x, dtype=float)
    fig, ax = plt.subplots(figsize=(5.4, 3.8))
    ax.scatter(xs, np.asarray(z, dtype=float), s=3, alpha=0.25, label="samples of $(x, z)$")
    grid = np.linspace(xs.min(), xs.max(), 2)
    ax.plot(grid, slope * grid + intercept, "C3", lw=2, label=r"$E[z \mid x]$ (identity)")
    ax.set(xlabel="$x$", ylabel="$z$")
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@_readable
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
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@_readable
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
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@_readable
def plot_posterior_one_x(
    z: ArrayLike,
    prior: ArrayLike,
    likelihood: ArrayLike,
    posterior: ArrayLike,
    product: ArrayLike,
) -> Figure:
    """Prior, likelihood and posterior of a scalar latent for one observation.

    All five arrays are on the grid ``z``: the prior density ``p(z)``, the
    likelihood ``p(x | z)`` rescaled to unit area, the posterior density of
    the identity and ``p(z) p(x | z)`` normalised by quadrature (markers).
    """
    zs = np.asarray(z, dtype=float)
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    ax.plot(zs, np.asarray(prior, dtype=float), "C0--", label="prior $p(z)$")
    ax.plot(zs, np.asarray(likelihood, dtype=float), "C1:", lw=2,
            label=r"$p(x \mid z)$, rescaled")
    ax.plot(zs, np.asarray(posterior, dtype=float), "C3-", lw=2,
            label=r"posterior $p(z \mid x)$")
    step = max(1, zs.size // 25)
    ax.plot(zs[::step], np.asarray(product, dtype=float)[::step], "ko",
            ms=4, mfc="none", label="$p(z)p(x \\mid z)$ / quadrature")
    ax.set(xlabel="$z$", ylabel="density")
    ax.legend()
    fig.tight_layout()
    return fig
