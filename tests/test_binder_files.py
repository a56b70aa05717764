"""``binder/`` is current: its requirements are the lock's pins for what the notebooks need.

The slow check, building the environment and running every notebook in it, is
``tests/publish/test_binder.py`` (``make test-binder``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import binder_requirements  # noqa: E402


def test_requirements_match_the_lock() -> None:
    expected = binder_requirements.render(binder_requirements.read_lock())
    assert binder_requirements.OUT.read_text(encoding="utf-8") == expected, (
        "binder/requirements.txt is stale: run .venv/bin/python tools/binder_requirements.py"
    )


def test_requirements_install_hw4lib_from_the_checkout() -> None:
    lines = binder_requirements.OUT.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "."
    pins = dict(line.split("==") for line in lines if "==" in line)
    lock = binder_requirements.read_lock()
    assert all(lock[binder_requirements.canonical(n)] == v for n, v in pins.items())
    assert {"sympy", "numpy", "scipy", "matplotlib", "scikit-learn", "ipykernel"} <= set(pins)


def test_runtime_is_the_lock_python() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime == "python-3.11"  # requirements.lock is resolved for Python 3.11
