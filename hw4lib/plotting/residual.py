"""Figures for chapter 2: the residual block's computation graph and gradient norms.

The computation graph is drawn from a description, :data:`RESIDUAL_GRAPH`: a list of nodes,
each naming its parents. The layout is computed from the description (values on one row,
ordered by their depth in the graph; parameters above the value they feed), and every edge
that jumps over a value on the main row is drawn as an arc below it: those are the skip
connections. Nothing is placed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from .._validation import FloatArray, as_float_array

__all__ = [
    "GraphNode",
    "RESIDUAL_GRAPH",
    "graph_layout",
    "skip_edges",
    "draw_computation_graph",
    "plot_gradient_norms",
]


class GraphNode(NamedTuple):
    """One node of a computation graph.

    Attributes
    ----------
    name
        Identifier, used in ``parents`` of other nodes.
    label
        What is written in the node (matplotlib mathtext).
    kind
        ``"input"``, ``"param"`` or ``"target"`` (both drawn above the node they feed),
        ``"value"`` or ``"loss"``.
    parents
        Names of the nodes this one is computed from.
    op
        The operation that computes the node (mathtext), written above it when
        ``draw_computation_graph(..., show_ops=True)``.
    """

    name: str
    label: str
    kind: str
    parents: tuple[str, ...] = ()
    op: str = ""


#: The residual block of chapter 2, eq. (ch2-eq-forward), followed by the loss; each
#: activation and each sum is a node of its own, so the two skips are visible as edges.
RESIDUAL_GRAPH: tuple[GraphNode, ...] = (
    GraphNode("x", r"$x$", "input"),
    GraphNode("W", r"$W$", "param"),
    GraphNode("b", r"$b$", "param"),
    GraphNode("z", r"$z$", "value", ("W", "x", "b"), r"$Wx+b$"),
    GraphNode("phi_z", r"$\phi(z)$", "value", ("z",), r"$\phi$ elementwise"),
    GraphNode("h", r"$h$", "value", ("phi_z", "x"), r"$\phi(z)+x$"),
    GraphNode("V", r"$V$", "param"),
    GraphNode("c", r"$c$", "param"),
    GraphNode("r", r"$r$", "value", ("V", "h", "c"), r"$Vh+c$"),
    GraphNode("phi_r", r"$\phi(r)$", "value", ("r",), r"$\phi$ elementwise"),
    GraphNode("y", r"$y$", "value", ("phi_r", "h"), r"$\phi(r)+h$"),
    GraphNode("t", r"$t$", "target"),
    GraphNode("loss", r"$\ell$", "loss", ("y", "t"), r"$\ell(y,t)$"),
)

_COLORS = {
    "input": "#dbe9f6",
    "target": "#dbe9f6",
    "param": "#fde9c9",
    "value": "#ffffff",
    "loss": "#e3f1dc",
}
_ABOVE = {"param", "target"}  # kinds drawn above the node they feed
_SKIP_COLOR = "#c0392b"


def _by_name(graph: Sequence[GraphNode]) -> dict[str, GraphNode]:
    nodes = {node.name: node for node in graph}
    for node in graph:
        if node.kind not in _COLORS:
            raise ValueError(f"graph node {node.name!r} has unknown kind {node.kind!r}")
    if len(nodes) != len(graph):
        raise ValueError("graph has duplicate node names")
    for node in graph:
        missing = [p for p in node.parents if p not in nodes]
        if missing:
            raise ValueError(f"graph node {node.name!r} has unknown parents {missing}")
    return nodes


def _columns(graph: Sequence[GraphNode]) -> dict[str, int]:
    """Column of every non-parameter node: its longest path from an input."""
    nodes = _by_name(graph)
    column: dict[str, int] = {}

    def visit(name: str, stack: tuple[str, ...]) -> int:
        if name in stack:
            raise ValueError(f"graph has a cycle through {name!r}")
        if name not in column:
            parents = [p for p in nodes[name].parents if nodes[p].kind not in _ABOVE]
            column[name] = 1 + max((visit(p, stack + (name,)) for p in parents), default=-1)
        return column[name]

    for node in graph:
        if node.kind not in _ABOVE:
            visit(node.name, ())
    return column


def graph_layout(graph: Sequence[GraphNode] = RESIDUAL_GRAPH) -> dict[str, tuple[float, float]]:
    """Positions of the nodes: the main row at height 0, parameters above their consumer.

    Parameters
    ----------
    graph : sequence of GraphNode
        The description of the graph; parameters and targets must feed exactly one node.

    Returns
    -------
    dict
        ``name -> (x, y)`` in data coordinates (one unit per column).

    Raises
    ------
    ValueError
        For duplicate or unknown names, a cycle, or a parameter without exactly one consumer,
        or an unknown kind.
    """
    column = _columns(graph)
    pos: dict[str, tuple[float, float]] = {n: (float(col), 0.0) for n, col in column.items()}
    for node in graph:
        if node.kind not in _ABOVE:
            continue
        users = [other for other in graph if node.name in other.parents]
        if len(users) != 1:
            raise ValueError(f"{node.kind} {node.name!r} must feed exactly one node")
        user = users[0]
        params = [p for p in user.parents if p in {n.name for n in graph if n.kind in _ABOVE}]
        k, m = params.index(node.name), len(params)
        pos[node.name] = (column[user.name] - 0.35 + 0.45 * (k - (m - 1) / 2), 0.85)
    return pos


def skip_edges(graph: Sequence[GraphNode] = RESIDUAL_GRAPH) -> list[tuple[str, str]]:
    """The edges ``(parent, child)`` that jump over at least one column of the main row.

    In :data:`RESIDUAL_GRAPH` these are the two skip connections ``x -> h`` and ``h -> y``.
    """
    column = _columns(graph)
    return [
        (p, node.name)
        for node in graph
        for p in node.parents
        if p in column and node.name in column and column[node.name] - column[p] > 1
    ]


def draw_computation_graph(
    graph: Sequence[GraphNode] = RESIDUAL_GRAPH, ax: Axes | None = None, *, show_ops: bool = False
) -> Figure:
    """Draw a computation graph from its description (chapter 2, figure of section (a)).

    Parameters
    ----------
    graph : sequence of GraphNode
        Description of the graph, by default the residual block of chapter 2.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made if omitted.
    show_ops : bool
        Whether to write each node's operation above it.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; skip connections are red arcs under the main row, labelled "skip".
    """
    nodes = _by_name(graph)
    pos = graph_layout(graph)
    skips = set(skip_edges(graph))
    if ax is None:
        width = 1.6 * (max(x for x, _ in pos.values()) + 1)
        fig, ax = plt.subplots(figsize=(width, 2.9))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    for node in graph:
        for parent in node.parents:
            is_skip = (parent, node.name) in skips
            arrow = FancyArrowPatch(
                pos[parent],
                pos[node.name],
                arrowstyle="-|>",
                mutation_scale=14,
                shrinkA=17,
                shrinkB=17,
                lw=2.0 if is_skip else 1.2,
                color=_SKIP_COLOR if is_skip else "0.25",
                connectionstyle="arc3,rad=0.55" if is_skip else "arc3,rad=0",
                zorder=1,
            )
            ax.add_patch(arrow)
            if is_skip:
                (x0, _), (x1, _) = pos[parent], pos[node.name]
                label_y = -0.26 * (x1 - x0) - 0.1  # just below the arc
                ax.text((x0 + x1) / 2, label_y, "skip (identity)", color=_SKIP_COLOR,
                        ha="center", va="top", fontsize=9)
    for node in graph:
        x, y = pos[node.name]
        ax.text(x, y, nodes[node.name].label, ha="center", va="center", fontsize=12, zorder=2,
                bbox={"boxstyle": "round,pad=0.35", "fc": _COLORS[node.kind], "ec": "0.2"})
        if show_ops and node.op:
            ax.text(x, y + 0.3, node.op, ha="center", va="bottom", fontsize=8, color="0.3")
    xs = [x for x, _ in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(-1.2, 1.15)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_gradient_norms(
    panels: Mapping[str, Mapping[str, FloatArray]], *, ylabel: str = "input-gradient norm"
) -> Figure:
    """Gradient norm at the input of a stack of ``L`` blocks against ``L``, one panel each.

    Parameters
    ----------
    panels : mapping
        ``panel title -> {curve label -> norms}``, where ``norms`` has shape
        ``(n_trials, depth)`` as returned by :func:`hw4lib.residual.input_gradient_norms`.
        The median over trials is drawn, with the range of the trials shaded.
    ylabel : str
        Label of the (logarithmic) vertical axis.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If a curve is not a finite, positive 2-D array.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for label, norms in curves.items():
            arr = as_float_array(norms, f"norms[{label!r}]", ndim=2)
            if (arr <= 0).any():
                raise ValueError(f"norms[{label!r}] must be positive for a log scale")
            depth = np.arange(1, arr.shape[1] + 1)
            (line,) = ax.plot(depth, np.median(arr, axis=0), label=label, lw=1.8)
            ax.fill_between(depth, arr.min(axis=0), arr.max(axis=0), alpha=0.2,
                            color=line.get_color(), lw=0)
        ax.set_yscale("log")
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_title(title)
        ax.set_xlabel("number of blocks $L$")
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig
