"""hw4lib.cones: the proofs on ordering cones accept true claims and reject false ones."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

import hw4lib
from hw4lib.cones import assert_on_cones, ordering_cones, symbolic_forward

x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)


def min_max(sub, ordered):
    return [sp.Min(x1, x2).subs(sub), sp.Max(x1, x2).subs(sub)]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_cones_cover_every_order_once(n: int) -> None:
    """(n + 1)! cones, and each puts the symbols and zero in its own increasing order."""
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    cones = list(ordering_cones(xs))
    assert len(cones) == sp.factorial(n + 1)
    gaps = sp.symbols(f"p1:{n + 1}", nonnegative=True)
    for sub, ordered, order in cones:
        values = [sp.S(0) if s is None else sub[s] for s in order]
        for lo, hi in itertools.pairwise(values):
            assert (hi - lo) in gaps  # consecutive values differ by one nonnegative gap
        assert ordered == [sub[s] for s in order if s is not None]
    assert len({o for _, _, o in cones}) == len(cones)


def test_minmax_network_is_proven_on_all_six_cones() -> None:
    assert assert_on_cones(hw4lib.minmax_mlp(), [x1, x2], min_max) == 6


def test_a_wrong_network_is_rejected() -> None:
    """Swapping the outputs of minmax_mlp gives (max, min): some cone must fail."""
    net = hw4lib.minmax_mlp()
    swapped = hw4lib.MLP([net.weights[0], net.weights[1][::-1]], list(net.biases))
    with pytest.raises(AssertionError, match="differ from the target"):
        assert_on_cones(swapped, [x1, x2], min_max)


def test_an_undecided_sign_is_reported() -> None:
    """A unit on x1 + x2 has no fixed sign on the cone 0 <= x1 ... with x2 < 0."""
    net = hw4lib.MLP([[[1.0, 1.0]], [[1.0]]], [np.zeros(1), np.zeros(1)])
    with pytest.raises(AssertionError, match="undecided"):
        assert_on_cones(net, [x1, x2], lambda sub, o: [sp.Max(0, x1 + x2).subs(sub)])


def test_symbolic_forward_agrees_with_the_network_at_rational_points() -> None:
    net = hw4lib.sorting_mlp(3)
    y = symbolic_forward(net, [x1, x2, x3])
    point = {x1: sp.Rational(3, 2), x2: -2, x3: sp.Rational(1, 4)}
    exact = [float(e.subs(point)) for e in y]
    assert exact == net([1.5, -2.0, 0.25]).tolist() == [-2.0, 0.25, 1.5]
