"""Figures for chapters 2 and 5: the residual block's computation graph and gradient norms.

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
    "BACKWARD_SIGNALS",
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


#: The backward signal on each edge ``(parent, child)`` of :data:`RESIDUAL_GRAPH`: what
#: flows back from ``child`` into ``parent`` (chapter 2, eqs. (ch2-eq-ybar) to
#: (ch2-eq-xbar)). An add node copies its gradient to both inputs; a node with two
#: children receives the sum of the two signals. The target gets none.
BACKWARD_SIGNALS: dict[tuple[str, str], str] = {
    ("y", "loss"): r"$\bar y$",
    ("phi_r", "y"): r"$\bar y$",
    ("h", "y"): r"$\bar y$",
    ("r", "phi_r"): r"$\bar r=\phi'(r)\odot\bar y$",
    ("V", "r"): r"$\bar V=\bar r\,h^\top$",
    ("c", "r"): r"$\bar c=\bar r$",
    ("h", "r"): r"$V^\top\bar r$",
    ("phi_z", "h"): r"$\bar h$",
    ("x", "h"): r"$\bar h$",
    ("z", "phi_z"): r"$\bar z=\phi'(z)\odot\bar h$",
    ("W", "z"): r"$\bar W=\bar z\,x^\top$",
    ("b", "z"): r"$\bar b=\bar z$",
    ("x", "z"): r"$W^\top\bar z$",
}

_BACK_COLOR = "#1f5fa8"
_RAD = 0.8  # curvature of the skip arcs


def draw_computation_graph(
    graph: Sequence[GraphNode] = RESIDUAL_GRAPH,
    ax: Axes | None = None,
    *,
    show_ops: bool = False,
    backward: Mapping[tuple[str, str], str] | None = None,
) -> Figure:
    """Draw a computation graph from its description, top to bottom (chapter 2, (a)).

    Parameters
    ----------
    graph : sequence of GraphNode
        Description of the graph, by default the residual block of chapter 2.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made if omitted.
    show_ops : bool
        Whether to write each node's operation beside it.
    backward : mapping, optional
        ``(parent, child) -> label``, e.g. :data:`BACKWARD_SIGNALS`: draw the backward
        pass instead, every edge reversed and labelled with the signal it carries.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; skip connections are red arcs left of the main column.
    """
    nodes = _by_name(graph)
    # graph_layout's row becomes a column: column k at height -k, parameters to the right
    pos = {n: (1.5 * y, -1.3 * x) for n, (x, y) in graph_layout(graph).items()}
    skips = set(skip_edges(graph))
    if ax is None:
        height = max(-y for _, y in pos.values()) + 1.2
        fig, ax = plt.subplots(figsize=(4.6 if backward else 3.6, 0.8 * height))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    for node in graph:
        for parent in node.parents:
            is_skip = (parent, node.name) in skips
            label = None if backward is None else backward.get((parent, node.name))
            if backward is not None and label is None:
                continue  # no signal flows back along this edge (the target)
            ends = (pos[parent], pos[node.name])
            color = _SKIP_COLOR if is_skip else (_BACK_COLOR if backward else "0.25")
            ax.add_patch(FancyArrowPatch(
                *(ends[::-1] if backward else ends), arrowstyle="-|>",
                mutation_scale=14, shrinkA=14, shrinkB=14, lw=2.0 if is_skip else 1.2,
                color=color, zorder=1,
                connectionstyle=f"arc3,rad={-_RAD if backward else _RAD}"
                if is_skip else "arc3,rad=0"))
            (x0, y0), (x1, y1) = ends
            if is_skip:  # the arc bulges left by rad * length / 2
                text = "skip (identity)" if label is None else label + " (skip)"
                ax.text(-_RAD * (y0 - y1) / 2 - 0.08, (y0 + y1) / 2, text, color=color,
                        ha="right", va="center", fontsize=11)
            elif label is not None and nodes[parent].kind in _ABOVE:
                ax.text(x0 + 0.32, y0, label, color=color, ha="left", va="center",
                        fontsize=11)
            elif label is not None:
                ax.text(x0 + 0.12, (y0 + y1) / 2, label, color=color, ha="left",
                        va="center", fontsize=11)
    for node in graph:
        x, y = pos[node.name]
        ax.text(x, y, nodes[node.name].label, ha="center", va="center", fontsize=13,
                zorder=2,
                bbox={"boxstyle": "round,pad=0.3", "fc": _COLORS[node.kind], "ec": "0.2"})
        if show_ops and node.op:
            ax.text(x + 0.3, y, node.op, ha="left", va="center", fontsize=10, color="0.3")
    ax.set_xlim(-2.0, 3.3 if backward else 1.9)
    ax.set_ylim(min(y for _, y in pos.values()) - 0.5, 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_gradient_norms(
    panels: Mapping[str, Mapping[str, FloatArray]], *, ylabel: str = "input-gradient norm"
) -> Figure:
    """Gradient norm at the input of a stack of ``L`` blocks against ``L``, panels stacked.

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
    # panels stacked, so that each stays readable on a phone
    fig, axes = plt.subplots(len(panels), 1, figsize=(4.8, 3.0 * len(panels)), squeeze=False,
                             sharex=True)
    for ax, (title, curves) in zip(axes[:, 0], panels.items()):
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
        ax.set_ylabel(ylabel)
    axes[-1][0].set_xlabel("number of blocks $L$")
    axes[0][0].legend(fontsize=9, loc="upper left", framealpha=0.9)
    fig.tight_layout()
    return fig
