"""Chapters 1 and 4: proofs that a ReLU network computes a function on all of ``R^n``.

A pre-activation of the networks of chapter 1 is a difference of two inputs or plus or minus
one input, so its sign is fixed once the order of ``x_1, ..., x_n`` and a number ``zero``
(0, or the bias level) is known. Each of the ``(n + 1)!`` orders is a cone; together they
cover ``R^n``. On a cone the values are written as ``zero`` plus or minus sums of
nonnegative gaps ``p_k``, SymPy decides every ``max(0, .)``, and the network's output becomes
a polynomial identity that ``simplify`` settles (section ch1-network-proof).

SymPy is imported here, not by ``import hw4lib``: only the chapters' proofs need it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sympy as sp

from .mlp import MLP

__all__ = ["symbolic_forward", "ordering_cones", "assert_on_cones"]

#: A substitution ``{x_k: value}`` for the symbols of one cone.
Substitution = dict[Any, Any]


def symbolic_forward(net: MLP, x: Sequence[Any]) -> Any:
    """The network ``net`` of eq. (ch1-eq-mlp) on SymPy expressions ``x``: a column matrix.

    Weights become exact rationals (``sp.Rational`` of a double is exact), ReLU is
    ``Max(0, .)``, and every affine map is expanded, so an undecided sign shows as a ``Max``.
    """
    if not isinstance(net, MLP):
        raise TypeError(f"net must be an hw4lib.MLP, got {type(net).__name__}")
    if len(x) != net.n_in:
        raise ValueError(f"x must hold net.n_in = {net.n_in} expressions, got {len(x)}")
    h = sp.Matrix(list(x))
    for k, (W, bias) in enumerate(zip(net.weights, net.biases)):
        Wq = sp.Matrix(*W.shape, [sp.Rational(w) for w in W.flat])
        bq = sp.Matrix([sp.Rational(c) for c in bias])
        h = (Wq * h + bq).applyfunc(sp.expand)
        if k < net.depth:
            h = h.applyfunc(lambda e: sp.Max(0, e))
    return h


def ordering_cones(xs: Sequence[Any], zero: Any = 0) -> Iterator[tuple[Substitution, list[Any], tuple[Any, ...]]]:
    """Every ordering of the symbols ``xs`` and the number ``zero``, as a cone of ``R^n``.

    Yields ``(substitution, values in increasing order, order)``; in ``order`` the entry
    ``None`` stands for ``zero``. The gaps are nonnegative SymPy symbols ``p1, ..., pn``.
    """
    p = sp.symbols(f"p1:{len(xs) + 1}", nonnegative=True)
    for order in itertools.permutations(list(xs) + [None]):
        z = order.index(None)
        v = [sp.S(zero)] * (len(xs) + 1)
        for k in range(z + 1, len(v)):  # above zero: add a gap per step
            v[k] = v[k - 1] + p[k - 1]
        for k in range(z - 1, -1, -1):  # below zero: subtract one
            v[k] = v[k + 1] - p[k]
        keep = [k for k, item in enumerate(order) if item is not None]
        yield {order[k]: v[k] for k in keep}, [v[k] for k in keep], order


def assert_on_cones(
    net: MLP,
    xs: Sequence[Any],
    target: Callable[[Substitution, list[Any]], Sequence[Any]],
    *,
    zero: Any = 0,
    keep: Callable[[tuple[Any, ...]], bool] | None = None,
    inputs: Sequence[Any] | None = None,
) -> int:
    """Prove ``net(inputs) == target`` on every cone of ``xs``; return the number of cones.

    ``target(substitution, ordered)`` gives the wanted outputs on a cone (``ordered``: the
    values of ``xs`` in increasing order); ``keep(order)`` selects cones (default: all);
    ``inputs`` (default ``xs``) are expressions in ``xs``, for a change of variables. Raises
    ``AssertionError`` naming the cone where a sign stays undecided or an output differs,
    like the ``numpy.testing.assert_*`` functions.
    """
    n_cones = 0
    for sub, ordered, order in ordering_cones(xs, zero):
        if keep is not None and not keep(order):
            continue
        y = symbolic_forward(net, [sp.S(e).subs(sub) for e in (inputs or xs)])
        if y.has(sp.Max):
            raise AssertionError(f"a sign is undecided on the cone {order}")
        want = target(sub, ordered)
        if not all(sp.simplify(yi - ti) == 0 for yi, ti in zip(y, want, strict=True)):
            raise AssertionError(f"the outputs differ from the target on the cone {order}")
        n_cones += 1
    return n_cones
