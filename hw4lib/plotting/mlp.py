"""Figures for chapters 1 and 4, computed from the networks' actual weights (never drawn by hand).

* :func:`plot_network` -- the computational graph with the weights on its edges;
* :func:`plot_linear_regions` -- the hidden units' activation regions and each output over
  the plane, coloured by the output's own linear regions;
* :func:`plot_width_experiment` -- final training loss of every restart, per hidden width;
* :func:`plot_comparator_network` -- a sorting network in Knuth's notation;
  :func:`plot_comparator_networks` stacks several of them;
* :func:`md_table` -- a Markdown table for the notebook (a display helper, not a figure).

Figures are at most 6.4 inches wide with fonts of 9 points or more, so that they stay
readable when a phone shrinks them to about 360 pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .._validation import FloatArray, as_int, as_positive_float
from ..mlp import MLP, TrainResult, comparator_stages

__all__ = [
    "md_table",
    "plot_network",
    "plot_linear_regions",
    "plot_width_experiment",
    "plot_comparator_network",
    "plot_comparator_networks",
]

_POS, _NEG = "tab:blue", "tab:red"
_PASTEL = ListedColormap(
    ["#cfe2f3", "#fce5cd", "#d9ead3", "#f4cccc", "#d9d2e9", "#fff2cc", "#d0e0e3", "#ead1dc"]
)


def md_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> object:
    """A Markdown table (``IPython.display.Markdown``) from a header and rows of cells."""
    from IPython.display import Markdown

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return Markdown("\n".join(lines))  # type: ignore[no-untyped-call]


def _check_mlp(mlp: object) -> MLP:
    if not isinstance(mlp, MLP):
        raise TypeError(f"mlp must be an hw4lib.MLP, got {type(mlp).__name__}")
    return mlp


def _labels(given: Sequence[str] | None, default: list[str], name: str) -> list[str]:
    if given is None:
        return default
    out = [str(s) for s in given]
    if len(out) != len(default):
        raise ValueError(f"{name} must have {len(default)} entries, got {len(out)}")
    return out


def _fmt(w: float) -> str:
    return f"{w:.3g}"


def plot_network(
    mlp: MLP,
    *,
    ax: Axes | None = None,
    input_labels: Sequence[str] | None = None,
    output_labels: Sequence[str] | None = None,
    annotate: bool = True,
) -> Axes:
    """Draw ``mlp`` as a layered graph: one edge per nonzero weight, labelled with it.

    Edges are blue for positive and red for negative weights; nonzero biases are written
    under their node. Hidden nodes are ReLU units ``u``, outputs are linear.

    Parameters
    ----------
    mlp : MLP
        The network to draw.
    ax : matplotlib Axes, optional
        Where to draw (a new figure otherwise).
    input_labels, output_labels : sequence of str, optional
        Node names (default ``x1, x2, ...`` and ``y1, y2, ...``).
    annotate : bool
        Write the weights on the edges (turn off for large networks).

    Returns
    -------
    matplotlib Axes
    """
    net = _check_mlp(mlp)
    sizes = [net.n_in, *net.widths, net.n_out]
    names = [_labels(input_labels, [f"$x_{i + 1}$" for i in range(net.n_in)], "input_labels")]
    for k, width in enumerate(net.widths):
        sup = f"^{{({k + 1})}}" if net.depth > 1 else ""
        names.append([f"$u{sup}_{i + 1}$" for i in range(width)])
    names.append(_labels(output_labels, [f"$y_{i + 1}$" for i in range(net.n_out)], "output_labels"))
    if ax is None:
        height = max(2.6, 0.55 * max(sizes))
        _, ax = plt.subplots(figsize=(min(1.6 * len(sizes) + 0.8, 6.4), height))
    span = max(sizes) - 1.0  # every layer is spread over the same height
    pos = [
        [(float(k), span / 2.0 - i * span / max(n - 1, 1)) if n > 1 else (float(k), 0.0)
         for i in range(n)]
        for k, n in enumerate(sizes)
    ]
    placed: list[tuple[float, float]] = []  # label positions so far, to avoid overlaps
    for k, W in enumerate(net.weights):
        rows, cols = np.nonzero(W)
        for dst, src in zip(rows.tolist(), cols.tolist()):
            (xa, ya), (xb, yb) = pos[k][src], pos[k + 1][dst]
            wt = float(W[dst, src])
            ax.plot([xa, xb], [ya, yb], color=_POS if wt > 0 else _NEG,
                    lw=0.8 + 0.8 * min(abs(wt), 2.0), alpha=0.75, zorder=1)
            if annotate:  # greedy: the point along the edge farthest from earlier labels
                cands = [(xa + t * (xb - xa), ya + t * (yb - ya)) for t in (0.3, 0.42, 0.54, 0.66)]
                best = max(cands, key=lambda p: min(
                    [np.hypot(2.5 * (p[0] - q[0]), p[1] - q[1]) for q in placed] + [9.0]))
                placed.append(best)
                ax.text(best[0], best[1], _fmt(wt), fontsize=9, ha="center", va="center",
                        zorder=3, bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))
    for k, layer in enumerate(pos):
        is_hidden = 0 < k < len(sizes) - 1
        for i, (x, y) in enumerate(layer):
            face = "#fff2cc" if is_hidden else ("#d9ead3" if k == 0 else "#cfe2f3")
            ax.scatter([x], [y], s=650, color=face, edgecolor="black", zorder=2)
            ax.text(x, y, names[k][i], ha="center", va="center", fontsize=11, zorder=4)
            if k > 0 and net.biases[k - 1][i] != 0:
                ax.text(x, y - 0.38, f"b={_fmt(float(net.biases[k - 1][i]))}", ha="center",
                        va="top", fontsize=9, zorder=4)
    titles = ["input"] + [f"ReLU {k + 1}" if net.depth > 1 else "ReLU layer"
                          for k in range(net.depth)] + ["linear output"]
    top = span / 2.0 + 0.7
    for k, title in enumerate(titles):
        ax.text(k, top, title, ha="center", va="bottom", fontsize=10)
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-top, top + 0.45)
    ax.set_axis_off()
    return ax


def _pixel_affine_maps(net: MLP, pts: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Activation pattern, output Jacobian and output offset at every point (exact, per region)."""
    hidden = net.hidden_activations(pts)
    pattern = np.concatenate([h > 0 for h in hidden], axis=-1) if hidden else np.zeros((len(pts), 0), bool)
    J = np.broadcast_to(net.weights[0], (len(pts), *net.weights[0].shape))
    start = 0
    for k, W in enumerate(net.weights[1:]):
        on = pattern[:, start : start + W.shape[1]]
        start += W.shape[1]
        J = np.einsum("oi,pin->pon", W, on[:, :, None] * J)
    offset = net(pts) - np.einsum("pon,pn->po", J, pts)
    return pattern, J, offset


def _region_ids(keys: FloatArray) -> FloatArray:
    rounded = np.round(keys.reshape(len(keys), -1), 9) + 0.0  # + 0.0 merges -0.0 and 0.0
    _, ids = np.unique(rounded, axis=0, return_inverse=True)
    return ids.astype(float).ravel()


def plot_linear_regions(
    mlp: MLP,
    *,
    lim: float = 2.0,
    n_grid: int = 241,
    output_labels: Sequence[str] | None = None,
) -> Figure:
    """Activation regions of a two-input network and its outputs over ``[-lim, lim]^2``.

    The first panel colours the plane by the hidden units' activation pattern (which units
    are positive) and draws each first-layer unit's kink line ``w.x + b = 0``. Each further
    panel shows one output: colours mark the regions where that output is affine (points
    whose exact local affine map ``y = J x + c`` agrees), lines are its level sets. Kinks of
    the hidden units that cancel in an output do not separate its regions.

    Parameters
    ----------
    mlp : MLP
        A network with ``n_in == 2``.
    lim : float
        Half-width of the square drawn.
    n_grid : int
        Pixels per side (``>= 11``).
    output_labels : sequence of str, optional
        Panel titles for the outputs.

    Returns
    -------
    matplotlib Figure
    """
    net = _check_mlp(mlp)
    if net.n_in != 2:
        raise ValueError(f"mlp must have 2 inputs to be drawn over the plane, got n_in={net.n_in}")
    lim = as_positive_float(lim, "lim")
    n_grid = as_int(n_grid, "n_grid", minimum=11)
    labels = _labels(output_labels, [f"output $y_{i + 1}$" for i in range(net.n_out)], "output_labels")
    # Pixel centres; x2 is shifted by a quarter pixel more, so that no centre lies exactly on
    # the lines x1 = x2, x1 = -x2 or x2 = 0, where some unit would sit at its kink.
    step = 2.0 * lim / n_grid
    g1 = -lim + (np.arange(n_grid) + 0.5) * step
    X1, X2 = np.meshgrid(g1, g1 + 0.25 * step)
    pts = np.stack([X1.ravel(), X2.ravel()], axis=-1)
    pattern, J, offset = _pixel_affine_maps(net, pts)
    Y = net(pts)
    # At most two panels side by side: the activation regions on top (centred), then the
    # outputs two per row.
    names = [chr(ord("B") + o) for o in range(net.n_out)]  # "A" is the first panel
    rows = [".AA."] + [2 * names[k] + 2 * (names[k + 1 : k + 2] or ["."])[0]
                       for k in range(0, net.n_out, 2)]
    fig = plt.figure(figsize=(5.2, 2.7 * len(rows)), constrained_layout=True)
    mosaic = fig.subplot_mosaic(";".join(rows))
    axes = [mosaic["A"], *(mosaic[name] for name in names)]
    extent = (-lim, lim, -lim, lim)
    ids = _region_ids(pattern.astype(float))
    ax0 = axes[0]
    ax0.imshow(ids.reshape(X1.shape) % _PASTEL.N, origin="lower", extent=extent, cmap=_PASTEL,
               vmin=0, vmax=_PASTEL.N - 1, interpolation="nearest")
    W1, b1 = net.weights[0], net.biases[0]
    for i, (w, b) in enumerate(zip(W1, b1)):
        if not w.any():
            continue
        t = np.linspace(-2 * lim, 2 * lim, 3)
        d = np.array([-w[1], w[0]]) / np.hypot(*w)  # direction of the line w.x + b = 0
        p0 = -b * w / (w @ w)
        ax0.plot(p0[0] + t * d[0], p0[1] + t * d[1], color="0.25", lw=1.0)
        tip = p0 + d * (0.55 + 0.12 * i) * lim
        ax0.text(tip[0], tip[1], f"$u_{i + 1}$", fontsize=10, ha="center", va="center",
                 bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    ax0.set_title(f"activation regions ({int(ids.max()) + 1})")
    for o, ax in enumerate(axes[1:]):
        keys = np.concatenate([J[:, o, :], offset[:, o : o + 1]], axis=1)
        rid = _region_ids(keys)
        ax.imshow(rid.reshape(X1.shape) % _PASTEL.N, origin="lower", extent=extent, cmap=_PASTEL,
                  vmin=0, vmax=_PASTEL.N - 1, interpolation="nearest")
        cs = ax.contour(X1, X2, Y[:, o].reshape(X1.shape), levels=np.linspace(-lim, lim, 9),
                        colors="0.2", linewidths=0.8)
        ax.clabel(cs, fontsize=9, fmt="%.1f")
        ax.set_title(f"{labels[o]}: {int(rid.max()) + 1} linear regions")
    for ax in axes:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.grid(False)
    return fig


def plot_width_experiment(
    results: Mapping[str, Mapping[int, TrainResult]],
    *,
    floor: float = 1e-32,
) -> Figure:
    """Final loss of every restart (dots) and the best one (bar) per hidden width.

    Parameters
    ----------
    results : mapping
        ``{panel title: {width: TrainResult}}``, one panel per entry.
    floor : float
        Losses below ``floor`` are drawn at ``floor`` (log scale).

    Returns
    -------
    matplotlib Figure
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty mapping {title: {width: TrainResult}}")
    floor = as_positive_float(floor, "floor")
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * min(len(results), 2), 3.4),
                             sharey=True, constrained_layout=True, squeeze=False)
    for ax, (title, by_width) in zip(axes[0], results.items()):
        for width, res in sorted(by_width.items()):
            if not isinstance(res, TrainResult):
                raise TypeError(f"results[{title!r}][{width}] must be a TrainResult")
            losses = np.maximum(res.final_losses, floor)
            jitter = np.linspace(-0.18, 0.18, len(losses))
            ax.scatter(width + jitter, losses, s=9, color="0.45", alpha=0.6, zorder=2)
            best = float(losses.min())
            ax.bar([width], [best], width=0.55, bottom=floor, color="tab:orange", alpha=0.5, zorder=1)
            ax.text(width, best * 4.0, f"{best:.0e}" if best > floor else f"<{floor:.0e}",
                    ha="center", va="bottom", fontsize=9)
        ax.set_yscale("log")
        ax.set_xticks(sorted(by_width))
        ax.set_xlabel("hidden units")
        ax.set_title(title, fontsize=10)
    axes[0][0].set_ylabel("final loss of each start")
    return fig


def plot_comparator_network(n: int, network: str = "transposition", *, ax: Axes | None = None) -> Axes:
    """Draw the comparators of :func:`hw4lib.mlp.comparator_stages` in Knuth's notation.

    Lanes run left to right (lane 0 at the bottom); a vertical segment joining two lanes is a
    comparator, which sends the minimum to the lower lane. Shaded columns are stages, i.e.
    hidden layers of :func:`hw4lib.sorting_mlp`.

    Returns
    -------
    matplotlib Axes
    """
    stages = comparator_stages(n, network)
    n = int(n)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.6 * len(stages) + 1.5, 0.4 * n + 0.8))
    for lane in range(n):
        ax.plot([-0.6, len(stages) - 0.4], [lane, lane], color="0.3", lw=1.0, zorder=1)
    for s, stage in enumerate(stages):
        ax.axvspan(s - 0.4, s + 0.4, color="0.93" if s % 2 else "0.87", zorder=0)
        slots: list[list[tuple[int, int]]] = []  # comparators drawn side by side if they overlap
        for i, j in stage:
            free = [k for k, sl in enumerate(slots) if all(b < i or a > j for a, b in sl)]
            if free:
                slots[free[0]].append((i, j))
            else:
                slots.append([(i, j)])
        for k, sl in enumerate(slots):
            x = s + 0.16 * (k - (len(slots) - 1) / 2.0)
            for i, j in sl:
                ax.plot([x, x], [i, j], color="black", lw=1.3, zorder=2)
                ax.scatter([x, x], [i, j], s=22, color="black", zorder=3)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"lane {k}" for k in range(n)], fontsize=9)
    ax.set_xticks(range(len(stages)))
    ax.set_xticklabels([str(s + 1) for s in range(len(stages))], fontsize=9)
    ax.set_xlabel("stage = hidden layer")
    ax.set_xlim(-0.7, len(stages) - 0.3)
    ax.grid(False)
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{network} network, n = {n}: {len(stages)} stages, "
                 f"{sum(len(st) for st in stages)} comparators", fontsize=10)
    return ax


def plot_comparator_networks(specs: Sequence[tuple[int, str]]) -> Figure:
    """Several :func:`plot_comparator_network` panels stacked in one column.

    ``specs`` is a sequence of ``(n, network)`` pairs, one panel each (top to bottom).
    """
    specs = [(as_int(n, "n", minimum=1), str(network)) for n, network in specs]
    if not specs:
        raise ValueError("specs must hold at least one (n, network) pair, got none")
    heights = [0.3 * n + 1.0 for n, _ in specs]
    fig, axes = plt.subplots(len(specs), 1, figsize=(6.4, sum(heights)), squeeze=False,
                             constrained_layout=True, gridspec_kw={"height_ratios": heights})
    for ax, (n, network) in zip(axes[:, 0], specs):
        plot_comparator_network(n, network, ax=ax)
    return fig
