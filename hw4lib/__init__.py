"""hw4lib: the executable companion to the CSC2515 HW4 book.

One public module per homework question, each function's docstring citing the chapter equation
it implements: :mod:`hw4lib.mlp` (chapters 1 and 4, exact ReLU networks for min, max and
sorting; :mod:`hw4lib.cones` holds their proofs on ordering cones), :mod:`hw4lib.residual`
(chapters 2 and 5, backprop through a residual block and stacks of them) and :mod:`hw4lib.ppca`
(chapter 3, EM for probabilistic PCA, and the estimator :class:`PPCA` of chapter 6, which also
fits data with missing entries, chapter 7). ``PPCA``'s EM engines are private modules, one per
chapter: ``_ppca_complete`` (chapter 6) and ``_ppca_missing`` (chapter 7), both on ``_ppca_common``
(the start, the pass over the data, the stopping test, the rank check); imports run only
downwards, to ``_validation`` at the bottom. Figures live in :mod:`hw4lib.plotting`, imported
on demand so that ``import hw4lib`` does not import matplotlib.
"""

from __future__ import annotations

from . import mlp
from .mlp import MLP, TrainResult, comparator_stages, minmax_mlp, relu, sorting_mlp, train_mlp
from .ppca import (PPCA, EMResult, UnboundedLikelihoodWarning, ppca_closed_form, ppca_em,
                   ppca_log_likelihood, ppca_m_step, ppca_posterior)
from .residual import ACTIVATIONS, block_jacobian, input_gradient_norms, residual_backward, residual_forward

__version__ = "0.1.0"

__all__ = [
    *mlp.__all__,  # chapters 1 and 4
    "ACTIVATIONS", "residual_forward", "residual_backward", "block_jacobian",  # chapters 2 and 5
    "input_gradient_norms",
    "ppca_posterior", "ppca_m_step", "ppca_log_likelihood", "ppca_em", "EMResult",  # chapter 3
    "PPCA", "ppca_closed_form", "UnboundedLikelihoodWarning",
]
