"""Figures for chapter 7 (PPCA with missing data)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

__all__ = ["plot_imputed_digits"]


def plot_imputed_digits(
    original: ArrayLike, holed: ArrayLike, filled: ArrayLike, keep: ArrayLike, n_show: int = 4
) -> Figure:
    """Rows: digits with missing pixels (grey), their imputation, the originals.

    ``original``, ``holed`` (NaN = missing) and ``filled`` hold the kept pixels
    of each image; ``keep`` is the boolean mask of those pixels in the 8 x 8
    frame. Pixels outside ``keep`` are drawn white.
    """
    keep = np.asarray(keep, dtype=bool)
    rows = {"missing (grey)": np.asarray(holed), "PPCA fill": np.asarray(filled),
            "original": np.asarray(original)}
    fig, axes = plt.subplots(3, n_show, figsize=(1.3 * n_show, 4.4), squeeze=False)
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#b0b0b0")
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_show):
            frame = np.zeros(64)
            frame[keep] = images[c]
            ax = axes[r, c]
            ax.imshow(frame.reshape(8, 8), cmap=cmap, vmin=0.0, vmax=16.0)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
        axes[r, 0].set_ylabel(label, fontsize=9)
    fig.tight_layout()
    return fig
