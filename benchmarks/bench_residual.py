"""Benchmark: forward + backward of the residual block, hw4lib against an autodiff library.

Times ``hw4lib.residual_forward`` followed by ``hw4lib.residual_backward`` on a float64
batch (default 4096 x 512) and the same computation with PyTorch's CPU autograd in the same
run, when ``torch`` is importable, otherwise with ``autograd``. Prints the median times and
the ratio ``hw4lib / reference`` (target: at most 1.0 against PyTorch). Before timing, the
gradients of the two implementations are compared, so a fast wrong answer cannot pass.

Not part of the test suite. Run from the repository root::

    .venv/bin/python benchmarks/bench_residual.py                 # about 10-20 s
    .venv/bin/python benchmarks/bench_residual.py --rounds 8 --n 1024
    .venv/bin/python benchmarks/bench_residual.py --reference autograd --activation tanh
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import hw4lib

KEYS = ("x", "W", "b", "V", "c")


def make_inputs(n: int, d: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(d)
    return {
        "x": rng.standard_normal((n, d)),
        "W": scale * rng.standard_normal((d, d)),
        "b": 0.1 * rng.standard_normal(d),
        "V": scale * rng.standard_normal((d, d)),
        "c": 0.1 * rng.standard_normal(d),
        "dy": rng.standard_normal((n, d)),
    }


def hw4lib_step(data: dict[str, np.ndarray], activation: str) -> Callable[[], dict[str, Any]]:
    def step() -> dict[str, Any]:
        _, cache = hw4lib.residual_forward(
            data["x"], data["W"], data["b"], data["V"], data["c"], activation
        )
        return hw4lib.residual_backward(data["dy"], cache)

    return step


def torch_step(data: dict[str, np.ndarray], activation: str) -> Callable[[], dict[str, Any]]:
    import torch

    phi = {
        "relu": torch.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": torch.nn.functional.softplus,
    }[activation]
    tensors = {k: torch.from_numpy(data[k]).requires_grad_(True) for k in KEYS}
    dy = torch.from_numpy(data["dy"])

    def step() -> dict[str, Any]:
        for t in tensors.values():
            t.grad = None
        x, W, b, V, c = (tensors[k] for k in KEYS)
        h = phi(x @ W.T + b) + x
        y = phi(h @ V.T + c) + h
        y.backward(dy)
        return {k: tensors[k].grad for k in KEYS}

    return step


def autograd_step(data: dict[str, np.ndarray], activation: str) -> Callable[[], dict[str, Any]]:
    import autograd
    import autograd.numpy as anp

    phi = {
        "relu": lambda z: anp.maximum(z, 0.0),
        "tanh": anp.tanh,
        "sigmoid": lambda z: 0.5 * (anp.tanh(0.5 * z) + 1.0),
        "softplus": lambda z: anp.logaddexp(0.0, z),
    }[activation]
    dy = data["dy"]

    def pullback(x: Any, W: Any, b: Any, V: Any, c: Any) -> Any:
        h = phi(anp.dot(x, W.T) + b) + x
        y = phi(anp.dot(h, V.T) + c) + h
        return anp.sum(y * dy)

    grad = autograd.grad(pullback, argnum=list(range(5)))

    def step() -> dict[str, Any]:
        return dict(zip(KEYS, grad(*(data[k] for k in KEYS))))

    return step


def block_times(
    steps: tuple[Callable[[], Any], Callable[[], Any]], rounds: int, repeat: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Time the two steps in alternating blocks of ``warmup`` untimed and ``repeat`` timed runs.

    Alternating blocks spread any change of machine load over both implementations, and the
    untimed runs at the start of each block keep the idle-spinning threads of one library's
    thread pool (OpenBLAS, OpenMP) from slowing down the first timed runs of the other.
    """
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for step, out in zip(steps, times):
            for _ in range(warmup):
                step()
            for _ in range(repeat):
                t0 = time.perf_counter()
                step()
                out.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4096, help="batch size N (default 4096)")
    parser.add_argument("--d", type=int, default=512, help="width D (default 512)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per block (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per block (default 1)")
    parser.add_argument("--activation", default="relu", choices=sorted(hw4lib.ACTIVATIONS))
    parser.add_argument(
        "--reference",
        default="auto",
        choices=["auto", "torch", "autograd"],
        help="auto: torch if importable, else autograd",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    reference = args.reference
    if reference == "auto":
        try:
            import torch  # noqa: F401

            reference = "torch"
        except ImportError:
            reference = "autograd"
    make_ref = torch_step if reference == "torch" else autograd_step

    data = make_inputs(args.n, args.d, args.seed)
    ours, ref = hw4lib_step(data, args.activation), make_ref(data, args.activation)

    got, want = ours(), ref()
    for k in KEYS:
        expected = np.asarray(want[k].detach() if reference == "torch" else want[k])
        np.testing.assert_allclose(got[k], expected, rtol=1e-10, atol=1e-10, err_msg=k)

    times_ours, times_ref = block_times((ours, ref), args.rounds, args.repeat, args.warmup)
    t_ours, t_ref = statistics.median(times_ours), statistics.median(times_ref)
    version = ""
    if reference == "torch":
        import torch

        version = f" {torch.__version__}, {torch.get_num_threads()} threads"
    print(f"residual block forward+backward, N={args.n}, D={args.d}, float64, {args.activation}")
    print(f"  hw4lib (NumPy {np.__version__}) median: {t_ours * 1e3:8.1f} ms")
    print(f"  {reference}{version} median: {t_ref * 1e3:8.1f} ms")
    print(f"  median time ratio hw4lib / {reference}: {t_ours / t_ref:.2f}"
          f"  ({len(times_ours)} timed runs each, in {args.rounds} alternating rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
